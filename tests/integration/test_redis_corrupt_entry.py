"""A malformed stream entry goes to ``<stream>:dead`` and never blocks the consumer group.

Runs against a real Redis (``MULTISTORE_TEST_REDIS_URL``; skipped when unset), on a stream of
its own that is deleted afterwards.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis

from multistore.adapters.redis import RedisStreamsEventBus
from multistore.ports.events import Event

pytestmark = pytest.mark.redis


def _event(n: int) -> Event:
    return Event(
        id=f"e{n}",
        type="stock.moved",
        occurred_at=datetime(2030, 1, 1, tzinfo=UTC),
        aggregate="store:S1",
        payload={"i": n},
    )


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def stream(raw: redis.Redis) -> Iterator[str]:
    name = f"multistore:test:corrupt:{uuid.uuid4().hex}"
    yield name
    raw.delete(name, f"{name}:dead")


@pytest.fixture
def bus(redis_url: str, stream: str) -> Iterator[RedisStreamsEventBus]:
    b = RedisStreamsEventBus.from_url(redis_url, stream=stream, group="g", reclaim_idle_ms=0)
    yield b
    b.close()


BAD_ENTRIES = [
    {"foo": "bar"},  # not written by encode_event at all
    {  # unreadable time
        "id": "x",
        "type": "t",
        "occurred_at": "yesterday",
        "aggregate": "a",
        "payload": "{}",
    },
    {  # unreadable payload
        "id": "x",
        "type": "t",
        "occurred_at": "2030-01-01T00:00:00+00:00",
        "aggregate": "a",
        "payload": "{not json",
    },
]


@pytest.mark.parametrize("bad", BAD_ENTRIES)
def test_corrupt_entry_is_dead_lettered_and_delivery_goes_on(
    bus: RedisStreamsEventBus,
    raw: redis.Redis,
    stream: str,
    bad: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    got: list[str] = []
    bus.subscribe("*", lambda e: got.append(e.id))
    bus.publish(_event(1))
    bad_id = raw.xadd(stream, bad)  # type: ignore[arg-type]
    bus.publish(_event(2))
    bus.publish(_event(3))

    with caplog.at_level(logging.WARNING, logger="multistore.adapters.redis.streams"):
        delivered = bus.poll()

    assert 3 == delivered
    assert ["e1", "e2", "e3"] == got
    assert 0 == bus.pending_count()
    assert f"{stream}:dead" == bus.dead_letter_stream
    dead = raw.xrange(f"{stream}:dead")
    assert 1 == len(dead)
    fields = dead[0][1]
    assert bad == {k: v for k, v in fields.items() if not k.startswith("dead_letter_")}
    assert (bad_id, "g") == (fields["dead_letter_entry_id"], fields["dead_letter_group"])
    assert fields["dead_letter_error"].startswith("[events.corrupt_entry]")
    assert [bad_id] == [r.args[0] for r in caplog.records if r.levelno == logging.WARNING]
    assert 0 == bus.poll()
    assert 1 == raw.xlen(f"{stream}:dead")


def test_a_corrupt_entry_left_pending_is_cleared_on_reclaim(
    bus: RedisStreamsEventBus, raw: redis.Redis, stream: str
) -> None:
    """An entry an earlier consumer read but never acknowledged is dead-lettered on reclaim."""
    bus.poll()  # creates the group
    bad_id = raw.xadd(stream, {"foo": "bar"})
    raw.xreadgroup("g", "old-consumer", {stream: ">"})  # now pending with the old consumer
    bus.publish(_event(1))
    got: list[str] = []
    bus.subscribe("*", lambda e: got.append(e.id))
    assert 1 == bus.poll()
    assert ["e1"] == got
    assert 0 == bus.pending_count()
    assert [bad_id] == [f["dead_letter_entry_id"] for _, f in raw.xrange(f"{stream}:dead")]


def test_every_group_dead_letters_its_own_copy(
    redis_url: str, raw: redis.Redis, stream: str
) -> None:
    a = RedisStreamsEventBus.from_url(redis_url, stream=stream, group="a")
    b = RedisStreamsEventBus.from_url(redis_url, stream=stream, group="b")
    try:
        a.poll()
        b.poll()
        raw.xadd(stream, {"foo": "bar"})
        assert (0, 0) == (a.poll(), b.poll())
        groups = sorted(f["dead_letter_group"] for _, f in raw.xrange(f"{stream}:dead"))
        assert ["a", "b"] == groups
        assert (0, 0) == (a.pending_count(), b.pending_count())
    finally:
        a.close()
        b.close()
