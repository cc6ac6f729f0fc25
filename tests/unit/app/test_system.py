from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from multistore.adapters.system import SystemClock, UuidIdFactory
from multistore.errors import ValidationError
from multistore.ports.clock import Clock, IdFactory
from multistore.testing.fakes import FixedClock, SequentialIdFactory


def test_system_clock_is_utc_and_monotonic() -> None:
    clock = SystemClock()
    readings = [clock.now() for _ in range(100)]
    assert all(r.tzinfo is not None and r.utcoffset() == timedelta(0) for r in readings)
    assert sorted(readings) == readings
    assert isinstance(clock, Clock)


def test_uuid_ids_are_unique_and_prefixed() -> None:
    ids = UuidIdFactory()
    made = {ids.new_id("ord") for _ in range(1000)}
    assert 1000 == len(made)
    assert all(i.startswith("ord_") for i in made)
    assert isinstance(ids, IdFactory)
    with pytest.raises(ValidationError):
        ids.new_id("")


def test_fixed_clock() -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    clock = FixedClock(start, step=timedelta(seconds=1))
    assert [start, start + timedelta(seconds=1)] == [clock.now(), clock.now()]
    assert start + timedelta(hours=1, seconds=2) == clock.advance(timedelta(hours=1))
    with pytest.raises(ValidationError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValidationError):
        FixedClock(datetime(2026, 5, 1))


def test_sequential_ids_count_per_prefix() -> None:
    ids = SequentialIdFactory()
    assert ["ord_000001", "evt_000001", "ord_000002"] == [
        ids.new_id("ord"),
        ids.new_id("evt"),
        ids.new_id("ord"),
    ]
