"""The Redis Streams event bus against a real Redis (MULTISTORE_TEST_REDIS_URL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import redis

from multistore.adapters.redis import RedisStreamsEventBus, decode_event, encode_event
from multistore.errors import AdapterError, ValidationError
from multistore.ports.events import Event

pytestmark = pytest.mark.redis


def _event(n: int, type_: str = "stock.reserved") -> Event:
    return Event(
        id=f"evt-{uuid.uuid4().hex}-{n}",
        type=type_,
        occurred_at=datetime(2026, 11, 25, 8, 0, n % 60, tzinfo=UTC),
        aggregate=f"store:SH-{n}",
        payload={"sku": "TEA-250G", "quantity": n, "amount_minor": 1230, "currency": "CNY"},
    )


@pytest.fixture
def stream(redis_url: str):  # type: ignore[no-untyped-def]
    name = f"multistore:test:{uuid.uuid4().hex}"
    yield name
    redis.Redis.from_url(redis_url).delete(name)


def test_every_group_receives_every_event_once(redis_url: str, stream: str) -> None:
    events = [_event(i) for i in range(5)]
    publisher = RedisStreamsEventBus.from_url(redis_url, stream=stream, group="publisher")
    billing = RedisStreamsEventBus.from_url(redis_url, stream=stream, group="billing")
    sync = RedisStreamsEventBus.from_url(redis_url, stream=stream, group="channel-sync")
    seen_billing: list[Event] = []
    seen_sync: list[Event] = []
    billing.subscribe("stock.reserved", seen_billing.append)
    sync.subscribe("*", seen_sync.append)
    billing.poll()  # creates the groups before anything is published
    sync.poll()
    for e in events:
        publisher.publish(e)
    assert 5 == billing.poll()
    assert 5 == sync.poll()
    assert 0 == billing.poll()
    assert events == seen_billing
    assert events == seen_sync
    assert 0 == billing.pending_count()


def test_consumers_of_one_group_share_the_work(redis_url: str, stream: str) -> None:
    a = RedisStreamsEventBus.from_url(redis_url, stream=stream, group="g", consumer="a")
    b = RedisStreamsEventBus.from_url(redis_url, stream=stream, group="g", consumer="b")
    got: list[str] = []
    a.subscribe("*", lambda e: got.append(e.id))
    b.subscribe("*", lambda e: got.append(e.id))
    a.poll()
    events = [_event(i) for i in range(6)]
    for e in events:
        a.publish(e)
    assert 6 == a.poll(count=3) + b.poll(count=10)
    assert sorted(e.id for e in events) == sorted(got)


def test_a_failed_handler_leaves_the_event_pending_and_it_is_redelivered(
    redis_url: str, stream: str
) -> None:
    bus = RedisStreamsEventBus.from_url(redis_url, stream=stream, group="g", reclaim_idle_ms=0)
    attempts: list[str] = []

    def flaky(e: Event) -> None:
        attempts.append(e.id)
        if len(attempts) == 1:
            raise RuntimeError("downstream timeout")

    bus.subscribe("stock.reserved", flaky)
    bus.poll()
    event = _event(1)
    bus.publish(event)
    assert 0 == bus.poll()
    assert 1 == bus.pending_count()
    assert 1 == bus.poll()
    assert [event.id, event.id] == attempts
    assert 0 == bus.pending_count()


def test_encoding_round_trips_and_rejects_non_json_payloads() -> None:
    event = _event(3)
    assert event == decode_event(encode_event(event))
    bad = Event(id="e", type="t", occurred_at=datetime.now(UTC), aggregate="a", payload={"x": {1}})
    with pytest.raises(ValidationError) as err:
        encode_event(bad)
    assert "events.unserialisable_payload" == err.value.code
    with pytest.raises(AdapterError):
        decode_event({"id": "x"})


def test_unreachable_redis_is_a_typed_adapter_error() -> None:
    bus = RedisStreamsEventBus.from_url("redis://127.0.0.1:1/0", stream="s")
    with pytest.raises(AdapterError) as err:
        bus.publish(_event(1))
    assert "events.unavailable" == err.value.code
