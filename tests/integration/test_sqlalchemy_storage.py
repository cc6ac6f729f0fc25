"""SQL storage behaviour beyond the contract: money as minor units, PII at rest, time zones,
error translation, busy handling and retries."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from multistore import money as m
from multistore.adapters.sqlalchemy import (
    KEY_ENV,
    AesGcmCipher,
    RetryPolicy,
    SqlStorage,
    create_storage,
    is_transient,
    new_key,
    translate,
)
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.errors import (
    ConflictError,
    InsufficientStockError,
    IntegrityStorageError,
    StorageError,
    TransientStorageError,
    ValidationError,
)
from multistore.inventory.model import MovementKind, Reservation, ReservationLine, StockMovement
from multistore.testing.builders import (
    T0,
    sample_member,
    sample_order,
    sample_product,
    sample_store,
)

SH = timezone(timedelta(hours=8))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "shop.db"


@pytest.fixture
def storage(db_path: Path) -> Iterator[SqlStorage]:
    s = create_storage(f"sqlite:///{db_path}", cipher=AesGcmCipher(new_key()))
    yield s
    s.close()


@pytest.fixture
def pg(postgres_url: str) -> Iterator[SqlStorage]:
    schema = f"ms_int_{uuid.uuid4().hex[:10]}"
    s = create_storage(postgres_url, schema=schema)
    yield s
    s.close()
    engine = create_engine(parse_url(postgres_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def _raw(storage: SqlStorage, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with storage.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


# --- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "currency", "minor"),
    [("12.30", "CNY", 1230), ("1200", "JPY", 1200), ("1.234", "BHD", 1234), ("0.05", "CNY", 5)],
)
def test_prices_are_stored_as_minor_units_and_round_trip(
    storage: SqlStorage, price: str, currency: str, minor: int
) -> None:
    product = sample_product("P1", ["K1"], price=price, currency=currency)
    with storage.unit_of_work() as uow:
        uow.products.add(product)
        uow.commit()
    assert [(minor, currency)] == _raw(storage, "SELECT list_price_minor, currency FROM skus")
    with storage.unit_of_work() as uow:
        back = uow.products.get_sku("K1")
    assert product.skus[0] == back
    assert m.money(price, currency) == back.list_price


def test_large_order_totals_fit_in_bigint(storage: SqlStorage) -> None:
    order = sample_order("O1", lines=[("K1", 3, "9999999999.99")])
    with storage.unit_of_work() as uow:
        uow.orders.add(order, fingerprint="fp")
        uow.commit()
    assert [(2999999999997, "CNY")] == _raw(storage, "SELECT total_minor, currency FROM orders")
    assert [(999999999999, 3)] == _raw(
        storage, "SELECT unit_price_minor, quantity FROM order_lines"
    )
    with storage.unit_of_work() as uow:
        assert order == uow.orders.get("O1")


# --- time zones -------------------------------------------------------------------------------


def test_timestamps_come_back_as_the_same_instant_in_utc(storage: SqlStorage) -> None:
    at = datetime(2026, 11, 25, 20, 30, 15, 123456, tzinfo=SH)
    move = StockMovement(
        store_id="S1", sku="K1", kind=MovementKind.RECEIPT, quantity=3, occurred_at=at
    )
    with storage.unit_of_work() as uow:
        uow.stock.record(move)
        uow.commit()
    with storage.unit_of_work() as uow:
        (back,) = uow.stock.movements("S1", "K1")
    assert at == back.occurred_at
    assert UTC == back.occurred_at.tzinfo
    assert datetime(2026, 11, 25, 12, 30, 15, 123456, tzinfo=UTC) == back.occurred_at


# --- personal information ---------------------------------------------------------------------


def test_member_pii_is_encrypted_at_rest(storage: SqlStorage) -> None:
    member = sample_member("M1", phone="+8613900001111", name="李四")
    with storage.unit_of_work() as uow:
        uow.members.add(member)
        uow.commit()
    ((name_enc, phone_enc),) = _raw(storage, "SELECT name_enc, phone_enc FROM members")
    assert "李四" not in name_enc
    assert "13900001111" not in phone_enc
    assert name_enc.startswith("v1:")
    with storage.unit_of_work() as uow:
        assert member == uow.members.get("M1")


def test_a_wrong_key_or_a_moved_ciphertext_does_not_decrypt(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    key = new_key()
    with create_storage(url, cipher=AesGcmCipher(key)) as s:
        with s.unit_of_work() as uow:
            uow.members.add(sample_member("M1", phone="13900001111"))
            uow.members.add(sample_member("M2", phone="13900002222"))
            uow.commit()
        with s.engine.begin() as conn:  # an attacker swaps the phone columns of two rows
            conn.execute(
                text(
                    "UPDATE members SET phone_enc = "
                    "(SELECT phone_enc FROM members WHERE id = 'M2') WHERE id = 'M1'"
                )
            )
        with s.unit_of_work() as uow, pytest.raises(StorageError) as moved:
            uow.members.get("M1")
        assert "storage.decrypt_failed" == moved.value.code
    with create_storage(url, cipher=AesGcmCipher(new_key())) as s:
        with s.unit_of_work() as uow, pytest.raises(StorageError) as wrong:
            uow.members.get("M2")
        assert "storage.decrypt_failed" == wrong.value.code


def test_default_key_comes_from_the_environment(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    monkeypatch.setenv(KEY_ENV, key)
    with create_storage(f"sqlite:///{db_path}") as s:
        with s.unit_of_work() as uow:
            uow.members.add(sample_member("M1"))
            uow.commit()
    monkeypatch.delenv(KEY_ENV)
    with create_storage(f"sqlite:///{db_path}", cipher=AesGcmCipher(key)) as s:
        with s.unit_of_work() as uow:
            assert sample_member("M1") == uow.members.get("M1")
    assert not (db_path.parent / "shop.db.key").exists()


def test_without_a_key_sqlite_keeps_one_in_a_private_file(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with create_storage(f"sqlite:///{db_path}") as s, s.unit_of_work() as uow:
        uow.members.add(sample_member("M1"))
        uow.commit()
    with create_storage(f"sqlite:///{db_path}") as s, s.unit_of_work() as uow:
        assert sample_member("M1") == uow.members.get("M1")
    key_file = db_path.parent / "shop.db.key"
    assert 0o600 == key_file.stat().st_mode & 0o777


def test_invalid_keys_are_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        AesGcmCipher("not-a-key")
    assert "storage.invalid_key" == info.value.code


@pytest.mark.postgres
def test_postgres_without_a_key_keeps_pii_readable(
    pg: SqlStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pg.unit_of_work() as uow:
        uow.members.add(sample_member("M1", name="王五"))
        uow.commit()
    with pg.unit_of_work() as uow:
        assert sample_member("M1", name="王五") == uow.members.get("M1")
    ((name_enc,),) = _raw(pg, "SELECT name_enc FROM members")
    assert "王五" not in name_enc


# --- constraints and error translation ---------------------------------------------------------


def test_the_database_refuses_negative_stock_even_from_raw_sql(storage: SqlStorage) -> None:
    with storage.unit_of_work() as uow:
        uow.stock.record(
            StockMovement(
                store_id="S1", sku="K1", kind=MovementKind.RECEIPT, quantity=2, occurred_at=T0
            )
        )
        uow.commit()
    for sql in (
        "UPDATE stock_levels SET on_hand = -1",
        "UPDATE stock_levels SET reserved = 3",
        "UPDATE stock_movements SET quantity = 5",
        "DELETE FROM stock_movements",
    ):
        with storage.unit_of_work() as uow, pytest.raises(sa_exc.IntegrityError) as info:
            uow.connection().execute(text(sql))
        assert isinstance(translate(info.value), IntegrityStorageError)


def test_audit_log_is_append_only(storage: SqlStorage) -> None:
    with storage.unit_of_work() as uow:
        uow.audit.append(
            occurred_at=T0, actor_id="u1", action="stores.create", target="store:S1", outcome="ok"
        )
        uow.commit()
    for sql in ("UPDATE audit_log SET outcome = 'denied'", "DELETE FROM audit_log"):
        with storage.unit_of_work() as uow, pytest.raises(sa_exc.IntegrityError):
            uow.connection().execute(text(sql))
    with storage.unit_of_work() as uow:
        assert ["ok"] == [e.outcome for e in uow.audit.entries()]


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"simulated {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "family", "code"),
    [
        (
            sa_exc.OperationalError("x", {}, sqlite3.OperationalError("database is locked")),
            TransientStorageError,
            "storage.transient",
        ),
        (sa_exc.OperationalError("x", {}, _PgError("40P01")), TransientStorageError, None),
        (sa_exc.OperationalError("x", {}, _PgError("40001")), TransientStorageError, None),
        (sa_exc.IntegrityError("x", {}, _PgError("23505")), ConflictError, "storage.duplicate"),
        (
            sa_exc.IntegrityError("x", {}, sqlite3.IntegrityError("UNIQUE constraint failed: t")),
            ConflictError,
            "storage.duplicate",
        ),
        (
            sa_exc.IntegrityError("x", {}, _PgError("23503")),
            IntegrityStorageError,
            "storage.foreign_key",
        ),
        (
            sa_exc.IntegrityError("x", {}, sqlite3.IntegrityError("CHECK constraint failed: c")),
            IntegrityStorageError,
            "storage.check_violation",
        ),
        (
            sa_exc.ProgrammingError("x", {}, sqlite3.ProgrammingError("syntax")),
            StorageError,
            "storage.error",
        ),
    ],
)
def test_driver_errors_are_translated(
    error: sa_exc.DBAPIError, family: type[Exception], code: str | None
) -> None:
    translated = translate(error, action="testing")
    assert type(translated) is family
    if code is not None:
        assert code == translated.code
    assert is_transient(error) == (family is TransientStorageError)


def _locker(db_path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_busy_sqlite_database_raises_a_typed_transient_error(db_path: Path) -> None:
    s = create_storage(f"sqlite:///{db_path}", busy_timeout_ms=50)
    other = _locker(db_path)
    try:
        with pytest.raises(TransientStorageError) as info, s.unit_of_work() as uow:
            uow.stores.list()
        assert info.value.retryable
    finally:
        other.rollback()
        other.close()
        s.close()


def test_run_in_transaction_retries_then_gives_up(db_path: Path) -> None:
    slept: list[float] = []
    policy = RetryPolicy(attempts=3, base_delay=0.01, sleep=slept.append)
    s = create_storage(f"sqlite:///{db_path}", busy_timeout_ms=20, retry=policy)
    other = _locker(db_path)
    calls: list[int] = []
    try:
        with pytest.raises(TransientStorageError) as info:
            s.run_in_transaction(lambda uow: calls.append(len(uow.stores.list())))
        assert "storage.retries_exhausted" == info.value.code
        assert 2 == len(slept)
        assert all(0.005 <= d < 0.03 for d in slept)
    finally:
        other.rollback()
        other.close()
        s.close()


def test_run_in_transaction_succeeds_once_the_lock_is_gone(db_path: Path) -> None:
    s0 = create_storage(f"sqlite:///{db_path}")
    s0.close()
    other = _locker(db_path)

    def release_lock(_: float) -> None:
        other.rollback()

    policy = RetryPolicy(attempts=5, sleep=release_lock)
    s = create_storage(f"sqlite:///{db_path}", busy_timeout_ms=20, retry=policy)
    try:
        product = sample_product("P1", ["K1"])
        s.run_in_transaction(lambda uow: uow.products.add(product))
        with s.unit_of_work() as uow:
            assert product == uow.products.get("P1")
    finally:
        other.close()
        s.close()


def test_run_in_transaction_does_not_retry_business_errors(storage: SqlStorage) -> None:
    calls: list[int] = []

    def reserve(uow: Any) -> None:
        calls.append(1)
        uow.stock.reserve(Reservation("R1", (ReservationLine("S1", "K1", 1),)))

    with pytest.raises(InsufficientStockError):
        storage.run_in_transaction(reserve)
    assert [1] == calls


def test_retry_policy_rejects_zero_attempts() -> None:
    with pytest.raises(ValidationError):
        RetryPolicy(attempts=0)


# --- unit of work -----------------------------------------------------------------------------


def test_repositories_refuse_work_outside_the_with_block(storage: SqlStorage) -> None:
    uow = storage.unit_of_work()
    with pytest.raises(StorageError) as info:
        uow.stores.list()
    assert "storage.no_transaction" == info.value.code


def test_a_second_unit_in_the_same_thread_reads_without_waiting(db_path: Path) -> None:
    s = create_storage(f"sqlite:///{db_path}", busy_timeout_ms=200)
    try:
        with s.unit_of_work() as writer:
            writer.stock.record(
                StockMovement(
                    store_id="S1", sku="K1", kind=MovementKind.RECEIPT, quantity=4, occurred_at=T0
                )
            )
            with s.unit_of_work() as reader:
                assert 0 == reader.stock.get("S1", "K1").on_hand
            writer.commit()
        with s.unit_of_work(read_only=True) as reader:
            assert 4 == reader.stock.get("S1", "K1").on_hand
    finally:
        s.close()


def test_unsupported_urls_are_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        create_storage("mysql://u@h/db")
    assert "storage.invalid_url" == info.value.code
    with pytest.raises(ValidationError):
        create_storage("sqlite://", schema="x")


@pytest.mark.postgres
def test_a_dropped_postgres_connection_is_transient_and_retried(
    postgres_url: str, pg: SqlStorage
) -> None:
    slept: list[float] = []
    pg.retry = RetryPolicy(attempts=3, sleep=slept.append)
    with pg.unit_of_work() as uow:
        pid = uow.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    killer = create_engine(parse_url(postgres_url))
    with killer.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    assert [] == pg.run_in_transaction(lambda uow: list(uow.stores.list()))
    assert 1 == len(slept)  # the dead connection failed once, the retry used a fresh one


def _long_ids(storage: SqlStorage) -> None:
    long_id = "店" * 150 + "-" + "x" * 150
    store = sample_store(long_id, name="很长的名字" * 100)
    hold = Reservation(long_id, (ReservationLine(long_id, long_id, 1),))
    with storage.unit_of_work() as uow:
        uow.stores.add(store)
        uow.stock.record(
            StockMovement(
                store_id=long_id, sku=long_id, kind=MovementKind.RECEIPT, quantity=1, occurred_at=T0
            )
        )
        uow.stock.reserve(hold)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert store == uow.stores.get(long_id)
        assert hold == uow.stock.get_reservation(long_id)


def test_long_ids_and_texts_round_trip_on_sqlite(storage: SqlStorage) -> None:
    _long_ids(storage)


@pytest.mark.postgres
def test_long_ids_and_texts_round_trip_on_postgres(pg: SqlStorage) -> None:
    _long_ids(pg)


def test_too_old_sqlite_is_refused_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    with pytest.raises(StorageError) as info:
        create_storage("sqlite://")
    assert "storage.sqlite_too_old" == info.value.code
