"""Transfers between stores through the service: in transit, idempotent, typed bad input."""

from __future__ import annotations

import pytest

from multistore.app import Multistore
from multistore.errors import (
    ConflictError,
    InsufficientStockError,
    MultistoreError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from multistore.inventory.model import MovementKind, Transfer, TransferStatus
from multistore.ports.security import SYSTEM_ACTOR

from .conftest import Probe, manager_of


@pytest.fixture
def stocked(chain: Multistore) -> Multistore:
    chain.inventory.receive(actor=SYSTEM_ACTOR, store_id="E1", sku="K1", quantity=10)
    return chain


def _ship(ms: Multistore, transfer_id: str = "TR-1", quantity: int = 4) -> Transfer:
    return ms.inventory.transfer(
        actor=SYSTEM_ACTOR,
        transfer_id=transfer_id,
        from_store="E1",
        to_store="W1",
        sku="K1",
        quantity=quantity,
    )


def test_transfer_ships_then_receive_lands(stocked: Multistore) -> None:
    shipped = _ship(stocked)
    assert TransferStatus.IN_TRANSIT == shipped.status
    assert 6 == stocked.inventory.level(store_id="E1", sku="K1").on_hand
    assert 4 == stocked.inventory.in_transit(sku="K1")
    assert 4 == stocked.inventory.in_transit(sku="K1", to_store="W1")
    assert 0 == stocked.inventory.in_transit(sku="K1", to_store="E2")
    landed = stocked.inventory.receive_transfer(actor=SYSTEM_ACTOR, transfer_id="TR-1")
    assert TransferStatus.RECEIVED == landed.status
    assert 4 == stocked.inventory.level(store_id="W1", sku="K1").on_hand
    assert 0 == stocked.inventory.in_transit(sku="K1")
    [move] = stocked.inventory.movements(store_id="W1", sku="K1")
    assert (MovementKind.TRANSFER_IN, 4, "TR-1") == (move.kind, move.quantity, move.reference)
    assert landed == stocked.inventory.get_transfer(transfer_id="TR-1")


def test_cancel_returns_the_units(stocked: Multistore) -> None:
    _ship(stocked)
    cancelled = stocked.inventory.cancel_transfer(actor=SYSTEM_ACTOR, transfer_id="TR-1")
    assert TransferStatus.CANCELLED == cancelled.status
    assert 10 == stocked.inventory.level(store_id="E1", sku="K1").on_hand
    assert [] == list(stocked.inventory.transfers_in_transit())
    with pytest.raises(ConflictError) as info:
        stocked.inventory.receive_transfer(actor=SYSTEM_ACTOR, transfer_id="TR-1")
    assert "stock.transfer_closed" == info.value.code


def test_transfer_events_and_audit(stocked: Multistore, probe: Probe) -> None:
    before = probe.counts()
    _ship(stocked)
    stocked.inventory.receive_transfer(actor=SYSTEM_ACTOR, transfer_id="TR-1")
    assert (before[0] + 2, before[1] + 2) == probe.counts()
    with stocked.unit_of_work() as uow:
        types = [r.event.type for r in uow.outbox.pending(limit=1000)]
    assert ["stock.transfer_shipped", "stock.transfer_received"] == types[-2:]


def test_repeats_are_idempotent_and_write_nothing(stocked: Multistore, probe: Probe) -> None:
    first = _ship(stocked)
    stocked.inventory.receive_transfer(actor=SYSTEM_ACTOR, transfer_id="TR-1")
    before = probe.counts()
    again = _ship(stocked)
    assert first.id == again.id
    stocked.inventory.receive_transfer(actor=SYSTEM_ACTOR, transfer_id="TR-1")
    assert 6 == stocked.inventory.level(store_id="E1", sku="K1").on_hand
    assert 4 == stocked.inventory.level(store_id="W1", sku="K1").on_hand
    assert before[1] == probe.outbox_count()
    with pytest.raises(ConflictError) as info:
        _ship(stocked, quantity=5)
    assert "stock.transfer_conflict" == info.value.code


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"to_store": "E1"}, ValidationError, "stock.transfer_same_store"),
        ({"quantity": 0}, ValidationError, "validation.non_positive_quantity"),
        ({"quantity": -2}, ValidationError, "validation.non_positive_quantity"),
        ({"quantity": 11}, InsufficientStockError, "stock.insufficient"),
        ({"to_store": "NOPE"}, NotFoundError, "store.not_found"),
        ({"sku": "NOPE"}, NotFoundError, "catalog.sku_not_found"),
        ({"transfer_id": " "}, ValidationError, "validation.empty_id"),
    ],
)
def test_bad_transfers_raise_typed_errors_and_write_nothing(
    stocked: Multistore,
    probe: Probe,
    changes: dict[str, object],
    error: type[MultistoreError],
    code: str,
) -> None:
    args: dict[str, object] = {
        "transfer_id": "TR-X",
        "from_store": "E1",
        "to_store": "W1",
        "sku": "K1",
        "quantity": 3,
        **changes,
    }
    before = probe.counts()
    with pytest.raises(error) as info:
        stocked.inventory.transfer(actor=SYSTEM_ACTOR, **args)  # type: ignore[arg-type]
    assert code == info.value.code
    assert before == probe.counts()
    assert 10 == stocked.inventory.level(store_id="E1", sku="K1").on_hand
    assert [] == list(stocked.inventory.transfers_in_transit())


def test_reserved_units_cannot_be_shipped(stocked: Multistore) -> None:
    stocked.inventory.reserve(actor=SYSTEM_ACTOR, key="O1", lines=[("E1", "K1", 8)])
    with pytest.raises(InsufficientStockError) as info:
        _ship(stocked, quantity=3)
    assert 2 == info.value.details["available"]
    assert 2 == _ship(stocked, quantity=2).quantity


def test_store_manager_needs_both_stores(stocked: Multistore, probe: Probe) -> None:
    with pytest.raises(PermissionDeniedError):
        stocked.inventory.transfer(
            actor=manager_of("E1", "east"),
            transfer_id="TR-2",
            from_store="E1",
            to_store="W1",
            sku="K1",
            quantity=1,
        )
    assert 10 == stocked.inventory.level(store_id="E1", sku="K1").on_hand
    _ship(stocked, transfer_id="TR-3", quantity=1)
    with pytest.raises(PermissionDeniedError):
        stocked.inventory.receive_transfer(actor=manager_of("E1", "east"), transfer_id="TR-3")
    landed = stocked.inventory.receive_transfer(actor=manager_of("W1", "west"), transfer_id="TR-3")
    assert TransferStatus.RECEIVED == landed.status


def test_unknown_transfer(stocked: Multistore) -> None:
    with pytest.raises(NotFoundError) as info:
        stocked.inventory.receive_transfer(actor=SYSTEM_ACTOR, transfer_id="missing")
    assert "stock.transfer_not_found" == info.value.code
    with pytest.raises(NotFoundError):
        stocked.inventory.get_transfer(transfer_id="missing")
