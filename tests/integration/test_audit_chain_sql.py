"""The audit chain sealed by the database: the same hashes as Python, on SQLite and PostgreSQL.

On PostgreSQL an append takes the chain lock, reads the last entry and inserts the sealed next
one in one statement, the hash computed by the database from ``hash_template``; these tests
check that the text it hashes is exactly the canonical document, including non-ASCII text,
nested details and values JSON cannot hold.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert

from multistore.adapters.sqlalchemy import AesGcmCipher, SqlStorage, create_storage, new_key
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.adapters.sqlalchemy.tables import audit_log as audit_log_table
from multistore.errors import StorageError, TransientStorageError
from multistore.security.audit_chain import chain_entry, entry_hash, hash_template, verify_chain

_TEXT = st.text(max_size=12)
_DETAILS = st.dictionaries(
    _TEXT,
    st.recursive(
        st.none() | st.booleans() | st.integers() | _TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
        max_leaves=6,
    ),
    max_size=4,
)


@given(
    actor=_TEXT,
    action=_TEXT,
    target=_TEXT,
    outcome=_TEXT,
    details=_DETAILS,
    sequence=st.integers(min_value=1, max_value=10**12),
    prev=st.text(alphabet="0123456789abcdef", max_size=64),
    minutes=st.integers(min_value=-(10**6), max_value=10**6),
)
def test_the_template_rebuilds_exactly_the_hashed_text(
    actor: str,
    action: str,
    target: str,
    outcome: str,
    details: dict[str, Any],
    sequence: int,
    prev: str,
    minutes: int,
) -> None:
    at = datetime(2026, 11, 25, tzinfo=timezone(timedelta(hours=8))) + timedelta(minutes=minutes)
    fields: dict[str, Any] = {
        "occurred_at": at,
        "actor_id": actor,
        "action": action,
        "target": target,
        "outcome": outcome,
        "details": details,
    }
    before, middle, after = hash_template(**fields)
    text = before + prev + middle + str(sequence) + after

    expected = entry_hash(sequence=sequence, prev_hash=prev, **fields)
    assert expected == hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStorage]:
    if request.param == "sqlite":
        s = create_storage(f"sqlite:///{tmp_path / 'audit.db'}", cipher=AesGcmCipher(new_key()))
        yield s
        s.close()
        return
    url: str = request.getfixturevalue("postgres_url")
    schema = f"ms_audit_{uuid.uuid4().hex[:10]}"
    s = create_storage(url, schema=schema, cipher=AesGcmCipher(new_key()))
    yield s
    s.close()
    engine = create_engine(parse_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def test_entries_sealed_in_the_database_verify_and_read_back_as_returned(
    storage: SqlStorage,
) -> None:
    shanghai = timezone(timedelta(hours=8))
    appended = []
    with storage.unit_of_work() as uow:
        for n, details in enumerate(
            [
                {},
                {"门店": "上海-陆家嘴", "lines": [{"sku": "茶-250G", "q": 2}], "note": 'a "quote"'},
                {"amount": Decimal("12.30"), "at": datetime(2026, 1, 1, tzinfo=UTC), "n": None},
                {"emoji": "🍵", "nested": {"b": 1, "a": [True, False, 1.5]}},
            ]
        ):
            appended.append(
                uow.audit.append(
                    occurred_at=datetime(2026, 11, 25, 9, n, 7, 123456, tzinfo=shanghai),
                    actor_id="店长-01",
                    action="inventory.reserve",
                    target=f"reservation:订单-{n}",
                    outcome="ok",
                    details=details,
                )
            )
        uow.commit()

    with storage.unit_of_work(read_only=True) as uow:
        stored = list(uow.audit.entries())

    assert appended == stored
    assert [1, 2, 3, 4] == [e.sequence for e in stored]
    assert verify_chain(stored, prev_hash="")


def test_a_rolled_back_append_leaves_no_gap(storage: SqlStorage) -> None:
    at = datetime(2026, 11, 25, tzinfo=UTC)
    with storage.unit_of_work() as uow:
        uow.audit.append(occurred_at=at, actor_id="u", action="a", target="t:1", outcome="ok")
        uow.commit()
    with storage.unit_of_work() as uow:
        uow.audit.append(occurred_at=at, actor_id="u", action="a", target="t:2", outcome="ok")
    with storage.unit_of_work() as uow:
        uow.audit.append(occurred_at=at, actor_id="u", action="a", target="t:3", outcome="ok")
        uow.commit()

    with storage.unit_of_work(read_only=True) as uow:
        stored = list(uow.audit.entries())

    assert [(1, "t:1"), (2, "t:3")] == [(e.sequence, e.target) for e in stored]
    assert verify_chain(stored, prev_hash="")


def test_append_and_commit_commits_the_unit_of_work_with_its_entry(storage: SqlStorage) -> None:
    at = datetime(2026, 11, 25, tzinfo=UTC)
    with storage.unit_of_work() as uow:
        uow.stock.set_safety_buffer("S1", "K1", 3)
        first = uow.audit.append_and_commit(  # type: ignore[attr-defined]
            occurred_at=at, actor_id="u", action="a", target="t:1", outcome="ok", details={"n": 1}
        )
        second = uow.audit.append_and_commit(  # type: ignore[attr-defined]
            occurred_at=at, actor_id="u", action="a", target="t:2", outcome="ok"
        )

    with storage.unit_of_work(read_only=True) as uow:
        stored = list(uow.audit.entries())
        buffer = uow.stock.get("S1", "K1").safety_buffer

    assert ([first, second], 3) == (stored, buffer)
    assert verify_chain(stored, prev_hash="")


@pytest.mark.postgres
def test_a_lost_chain_head_commits_nothing_and_is_rebuilt(postgres_url: str) -> None:
    schema = f"ms_audit_{uuid.uuid4().hex[:10]}"
    storage = create_storage(postgres_url, schema=schema, cipher=AesGcmCipher(new_key()))
    at = datetime(2026, 11, 25, tzinfo=UTC)
    try:
        for target in ("t:1", "t:2"):  # the second one sees the head row committed
            with storage.unit_of_work() as uow:
                uow.audit.append(
                    occurred_at=at, actor_id="u", action="a", target=target, outcome="ok"
                )
                uow.commit()
        with storage.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM multistore_settings WHERE name = 'audit_head'")

        with storage.unit_of_work() as uow:
            uow.stock.set_safety_buffer("S1", "K1", 3)
            with pytest.raises(TransientStorageError):
                uow.audit.append_and_commit(  # type: ignore[attr-defined]
                    occurred_at=at, actor_id="u", action="a", target="t:3", outcome="ok"
                )
        with storage.unit_of_work() as uow:
            uow.stock.set_safety_buffer("S1", "K1", 4)
            uow.audit.append_and_commit(  # type: ignore[attr-defined]
                occurred_at=at, actor_id="u", action="a", target="t:4", outcome="ok"
            )
        with storage.unit_of_work(read_only=True) as uow:
            stored = list(uow.audit.entries())
            buffer = uow.stock.get("S1", "K1").safety_buffer
    finally:
        storage.close()
        engine = create_engine(parse_url(postgres_url))
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()

    assert ([(1, "t:1"), (2, "t:2"), (3, "t:4")], 4) == (
        [(e.sequence, e.target) for e in stored],
        buffer,
    )
    assert verify_chain(stored, prev_hash="")


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["append", "append_and_commit"])
def test_a_driver_error_in_the_append_is_not_reported_as_a_lost_head(
    postgres_url: str, how: str
) -> None:
    # The wrapped error's text holds the SQL, which holds the no-head marker: only the driver's
    # own error may decide that the head row is missing.
    schema = f"ms_audit_{uuid.uuid4().hex[:10]}"
    storage = create_storage(postgres_url, schema=schema, cipher=AesGcmCipher(new_key()))
    at = datetime(2026, 11, 25, tzinfo=UTC)
    try:
        with storage.unit_of_work() as uow:
            with pytest.raises(StorageError) as raised:
                getattr(uow.audit, how)(
                    occurred_at=at, actor_id="u", action="a", target="bad\x00target", outcome="ok"
                )
        with storage.unit_of_work(read_only=True) as uow:
            stored = list(uow.audit.entries())
    finally:
        storage.close()
        engine = create_engine(parse_url(postgres_url))
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()

    assert ("storage.error", False, []) == (
        raised.value.code,
        isinstance(raised.value, TransientStorageError),
        stored,
    )


@pytest.mark.postgres
def test_a_head_behind_the_log_is_rebuilt_and_later_appends_succeed(postgres_url: str) -> None:
    # An entry written without moving the head row (an older writer during a rolling deploy,
    # a restore or a backfill of audit_log) must not block every later append for ever.
    schema = f"ms_audit_{uuid.uuid4().hex[:10]}"
    storage = create_storage(postgres_url, schema=schema, cipher=AesGcmCipher(new_key()))
    at = datetime(2026, 11, 25, tzinfo=UTC)
    kw: dict[str, Any] = {
        "occurred_at": at,
        "actor_id": "u",
        "action": "a",
        "outcome": "ok",
        "details": {},
    }
    outcomes: list[str] = []
    try:
        with storage.unit_of_work() as uow:
            first = uow.audit.append_and_commit(target="t:1", **kw)  # type: ignore[attr-defined]
        backfilled = chain_entry(sequence=2, prev_hash=first.hash, target="t:2", **kw)
        with storage.engine.begin() as conn:
            conn.execute(
                insert(audit_log_table),
                {
                    **{f: getattr(backfilled, f) for f in ("sequence", "occurred_at", "hash")},
                    **{f: getattr(backfilled, f) for f in ("actor_id", "action", "target")},
                    "outcome": backfilled.outcome,
                    "details": dict(backfilled.details),
                    "prev_hash": backfilled.prev_hash,
                },
            )
        for target, how in (("t:3", "append_and_commit"), ("t:4", "append"), ("t:5", "append")):
            for _ in range(3):
                try:
                    with storage.unit_of_work() as uow:
                        if how == "append":
                            uow.audit.append(target=target, **kw)
                            uow.commit()
                        else:
                            uow.audit.append_and_commit(target=target, **kw)  # type: ignore[attr-defined]
                except TransientStorageError as exc:
                    outcomes.append(f"{target}:{exc.code}")
                else:
                    outcomes.append(f"{target}:ok")
                    break
        with storage.unit_of_work(read_only=True) as uow:
            stored = list(uow.audit.entries())
    finally:
        storage.close()
        engine = create_engine(parse_url(postgres_url))
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()

    assert (
        ["t:3:storage.transient", "t:3:ok", "t:4:ok", "t:5:ok"],
        [(1, "t:1"), (2, "t:2"), (3, "t:3"), (4, "t:4"), (5, "t:5")],
    ) == (outcomes, [(e.sequence, e.target) for e in stored])
    assert verify_chain(stored, prev_hash="")
