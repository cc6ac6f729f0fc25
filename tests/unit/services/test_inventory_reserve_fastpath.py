"""The one-read scope lookup and the reporting hold keep the service's guarantees."""

from __future__ import annotations

import pytest

from multistore.app import Multistore
from multistore.errors import InsufficientStockError, NotFoundError, PermissionDeniedError
from multistore.ports.security import SYSTEM_ACTOR

from .conftest import Probe, manager_of


@pytest.fixture
def stocked(chain: Multistore) -> Multistore:
    for store in ("E1", "E2", "W1"):
        for sku in ("K1", "K2"):
            chain.inventory.receive(actor=SYSTEM_ACTOR, store_id=store, sku=sku, quantity=5)
    return chain


def test_denial_comes_before_an_unknown_sku(stocked: Multistore, probe: Probe) -> None:
    audit_before = probe.audit_count()
    with pytest.raises(PermissionDeniedError):
        stocked.inventory.reserve(
            actor=manager_of("E1", "east"), key="r1", lines=[("W1", "NOPE", 1)]
        )
    assert audit_before + 1 == probe.audit_count()
    assert ["denied"] == [e.outcome for e in stocked.audit.entries(since_sequence=audit_before)]


def test_unknown_store_is_reported_before_unknown_sku(stocked: Multistore, probe: Probe) -> None:
    before = probe.counts()
    with pytest.raises(NotFoundError) as info:
        stocked.inventory.reserve(
            actor=SYSTEM_ACTOR, key="r1", lines=[("X1", "NOPE", 1), ("E1", "K1", 1)]
        )
    assert "store.not_found" == info.value.code
    with pytest.raises(NotFoundError) as info:
        stocked.inventory.reserve(
            actor=SYSTEM_ACTOR, key="r1", lines=[("E1", "K1", 1), ("E2", "NOPE", 1)]
        )
    assert "catalog.sku_not_found" == info.value.code
    assert before == probe.counts()


def test_event_levels_are_those_of_the_lines_after_the_hold(
    stocked: Multistore, probe: Probe
) -> None:
    before = probe.outbox_count()
    stocked.inventory.reserve(
        actor=SYSTEM_ACTOR, key="r1", lines=[("E2", "K1", 2), ("E1", "K2", 3)]
    )
    with stocked.unit_of_work() as uow:
        records = list(uow.outbox.pending(limit=10_000))[before:]
    assert ["stock.reserved"] == [r.event.type for r in records]
    levels = records[0].event.payload["levels"]
    assert [
        {"store_id": "E1", "sku": "K2", "on_hand": 5, "reserved": 3, "available": 2},
        {"store_id": "E2", "sku": "K1", "on_hand": 5, "reserved": 2, "available": 3},
    ] == levels


def test_replay_and_shortage_write_no_event(stocked: Multistore, probe: Probe) -> None:
    first = stocked.inventory.reserve(actor=SYSTEM_ACTOR, key="r1", lines=[("E1", "K1", 5)])
    before = probe.outbox_count()
    again = stocked.inventory.reserve(actor=SYSTEM_ACTOR, key="r1", lines=[("E1", "K1", 5)])
    assert first == again
    with pytest.raises(InsufficientStockError) as info:
        stocked.inventory.reserve(
            actor=SYSTEM_ACTOR, key="r2", lines=[("E1", "K1", 1), ("E1", "K2", 1)]
        )
    assert [{"store_id": "E1", "sku": "K1", "requested": 1, "available": 0}] == info.value.details[
        "short_lines"
    ]
    assert before == probe.outbox_count()
    assert 0 == stocked.inventory.level(store_id="E1", sku="K2").reserved
