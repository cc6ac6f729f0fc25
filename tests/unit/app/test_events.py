from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from multistore.adapters.events import InProcessEventBus
from multistore.adapters.memory import MemoryStorage
from multistore.app import connect
from multistore.ports.events import Event
from multistore.ports.security import SYSTEM_ACTOR
from multistore.services.relay import relay_outbox
from multistore.testing.builders import sample_product, sample_store

T = datetime(2026, 1, 1, tzinfo=UTC)


def event(n: int, kind: str = "stock.moved") -> Event:
    return Event(id=f"e{n}", type=kind, occurred_at=T, aggregate="x", payload={"n": n})


def test_handlers_by_type_and_wildcard() -> None:
    bus = InProcessEventBus()
    typed: list[str] = []
    every: list[str] = []
    bus.subscribe("stock.moved", lambda e: typed.append(e.id))
    bus.subscribe("*", lambda e: every.append(e.id))
    bus.publish(event(1))
    bus.publish(event(2, "order.received"))
    assert (["e1"], ["e1", "e2"]) == (typed, every)


def test_a_failing_handler_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    bus = InProcessEventBus()
    seen: list[str] = []

    def boom(e: Event) -> None:
        raise RuntimeError("consumer bug")

    bus.subscribe("*", boom)
    bus.subscribe("*", lambda e: seen.append(e.id))
    with caplog.at_level(logging.ERROR):
        bus.publish(event(1))
    assert ["e1"] == seen
    assert 1 == bus.failures
    assert "consumer bug" in caplog.text


def test_relay_publishes_committed_events_once() -> None:
    storage = MemoryStorage()
    bus = InProcessEventBus()
    seen: list[str] = []
    bus.subscribe("*", lambda e: seen.append(e.id))
    with storage.unit_of_work() as uow:
        for i in range(5):
            uow.outbox.add(event(i))
        uow.commit()
    with storage.unit_of_work() as uow:
        uow.outbox.add(event(99))  # rolled back: never relayed
    assert 3 == relay_outbox(storage.unit_of_work, bus, limit=3)
    assert 2 == relay_outbox(storage.unit_of_work, bus, limit=3)
    assert 0 == relay_outbox(storage.unit_of_work, bus)
    assert ["e0", "e1", "e2", "e3", "e4"] == seen


def test_handlers_may_call_services_during_relay() -> None:
    with connect("memory://") as ms:
        ms.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P", ["K"]))

        def open_store(e: Event) -> None:
            ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store("FROM-EVENT"))

        ms.events.subscribe("catalog.product_added", open_store)
        assert 1 == ms.relay_events()
        assert ["FROM-EVENT"] == [s.id for s in ms.stores.list()]
        assert 1 == ms.relay_events()  # the store.created event the handler caused
        assert 0 == ms.relay_events()


def test_relay_events_respects_the_limit() -> None:
    with connect("memory://") as ms:
        for i in range(7):
            ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store(f"S{i}"))
        assert 5 == ms.relay_events(limit=5, batch=2)
        assert 2 == ms.relay_events()
