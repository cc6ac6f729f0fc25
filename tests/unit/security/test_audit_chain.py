from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest

from multistore.errors import ValidationError
from multistore.security.audit_chain import chain_entry, first_break, verify_chain

T = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def build(n: int) -> list:  # type: ignore[type-arg]
    entries = []
    prev = ""
    for i in range(1, n + 1):
        e = chain_entry(
            sequence=i,
            occurred_at=T + timedelta(seconds=i),
            actor_id="u1",
            action="inventory.receive",
            target=f"stock:E1/K{i}",
            outcome="ok",
            details={"quantity": i, "note": "收货"},
            prev_hash=prev,
        )
        entries.append(e)
        prev = e.hash
    return entries


def test_intact_chain_verifies() -> None:
    entries = build(5)
    assert verify_chain(entries)
    assert first_break(entries) is None
    assert verify_chain(entries[2:])
    assert verify_chain([])


@pytest.mark.parametrize(
    "change",
    [
        {"outcome": "denied"},
        {"actor_id": "u2"},
        {"details": {"quantity": 99, "note": "收货"}},
        {"occurred_at": T},
        {"target": "stock:E1/other"},
    ],
)
def test_editing_any_field_breaks_the_chain(change: dict[str, object]) -> None:
    entries = build(5)
    entries[2] = attrs.evolve(entries[2], **change)
    assert 3 == first_break(entries)


def test_removing_or_reordering_breaks_the_chain() -> None:
    entries = build(5)
    assert 4 == first_break(entries[:2] + entries[3:])
    assert 3 == first_break([entries[0], entries[2], entries[1]])


def test_resealed_entry_still_breaks_the_link() -> None:
    entries = build(4)
    forged = chain_entry(
        sequence=2,
        occurred_at=T,
        actor_id="evil",
        action="x",
        target="y",
        outcome="ok",
        details=None,
        prev_hash=entries[0].hash,
    )
    assert 3 == first_break([entries[0], forged, *entries[2:]])


def test_first_entry_must_start_the_chain_when_anchored() -> None:
    entries = build(3)
    assert 2 == first_break(entries[1:], prev_hash="")
    assert first_break(entries[1:], prev_hash=entries[0].hash) is None


def test_timestamps_are_normalised_to_utc() -> None:
    cst = timezone(timedelta(hours=8))
    e = chain_entry(
        sequence=1,
        occurred_at=datetime(2026, 3, 1, 17, 30, tzinfo=cst),
        actor_id="a",
        action="b",
        target="c",
        outcome="ok",
        details={"t": (1, 2)},
        prev_hash="",
    )
    assert datetime(2026, 3, 1, 9, 30, tzinfo=UTC) == e.occurred_at
    assert {"t": [1, 2]} == e.details
    assert verify_chain([e])


def test_naive_timestamp_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        chain_entry(
            sequence=1,
            occurred_at=datetime(2026, 1, 1),
            actor_id="a",
            action="b",
            target="c",
            outcome="ok",
            details=None,
            prev_hash="",
        )
    assert "validation.naive_datetime" == info.value.code
