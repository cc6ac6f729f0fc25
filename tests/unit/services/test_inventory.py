from __future__ import annotations

from datetime import timedelta

import pytest

from multistore.app import Multistore
from multistore.errors import (
    ConflictError,
    InsufficientStockError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from multistore.inventory.model import MovementKind, ReservationLine, ReservationStatus, StockLevel
from multistore.ports.security import SYSTEM_ACTOR
from multistore.testing.fakes import FixedClock

from .conftest import Probe, cashier_of, manager_of, region_manager


@pytest.fixture
def stocked(chain: Multistore) -> Multistore:
    for store in ("E1", "E2", "W1"):
        chain.inventory.receive(actor=SYSTEM_ACTOR, store_id=store, sku="K1", quantity=5)
    chain.inventory.receive(actor=SYSTEM_ACTOR, store_id="E1", sku="K2", quantity=2)
    return chain


def test_receive_records_the_ledger(chain: Multistore, clock: FixedClock) -> None:
    level = chain.inventory.receive(
        actor=manager_of("E1", "east"), store_id="E1", sku="K1", quantity=7, reference="PO-9"
    )
    assert StockLevel("E1", "K1", on_hand=7) == level
    [move] = chain.inventory.movements(store_id="E1", sku="K1")
    assert (MovementKind.RECEIPT, 7, "PO-9", "mgr-E1", clock.now()) == (
        move.kind,
        move.quantity,
        move.reference,
        move.actor_id,
        move.occurred_at,
    )


def test_record_movement_signs(stocked: Multistore, probe: Probe) -> None:
    level = stocked.inventory.record_movement(
        actor=SYSTEM_ACTOR, store_id="E1", sku="K1", kind="adjustment", quantity=-2, reason="broken"
    )
    assert 3 == level.on_hand
    assert 3 == sum(m.quantity for m in stocked.inventory.movements(store_id="E1", sku="K1"))
    before = probe.counts()
    for kind, qty in [("receipt", -1), ("sale", 1), ("transfer_in", -3), ("return", -1)]:
        with pytest.raises(ValidationError) as info:
            stocked.inventory.record_movement(
                actor=SYSTEM_ACTOR, store_id="E1", sku="K1", kind=kind, quantity=qty
            )
        assert info.value.code == "stock.invalid_movement"
    with pytest.raises(ValidationError):
        stocked.inventory.record_movement(
            actor=SYSTEM_ACTOR, store_id="E1", sku="K1", kind="theft", quantity=-1
        )
    with pytest.raises(InsufficientStockError) as info:
        stocked.inventory.record_movement(
            actor=SYSTEM_ACTOR, store_id="E1", sku="K1", kind="sale", quantity=-4
        )
    assert info.value.code == "stock.negative"
    assert before == probe.counts()


@pytest.mark.parametrize(
    ("store_id", "sku", "quantity", "error", "code"),
    [
        ("E1", "K1", 0, ValidationError, "validation.non_positive_quantity"),
        ("E1", "K1", -3, ValidationError, "validation.non_positive_quantity"),
        ("E1", "K1", 2.5, ValidationError, "validation.not_an_integer"),
        ("", "K1", 1, ValidationError, "validation.empty_id"),
        ("E1", "", 1, ValidationError, "validation.empty_id"),
        ("NOPE", "K1", 1, NotFoundError, "store.not_found"),
        ("E1", "NOPE", 1, NotFoundError, "catalog.sku_not_found"),
    ],
)
def test_receive_bad_input_writes_nothing(
    chain: Multistore,
    probe: Probe,
    store_id: str,
    sku: str,
    quantity: int,
    error: type[Exception],
    code: str,
) -> None:
    before = probe.counts()
    with pytest.raises(error) as info:
        chain.inventory.receive(actor=SYSTEM_ACTOR, store_id=store_id, sku=sku, quantity=quantity)
    assert code == info.value.code  # type: ignore[attr-defined]
    assert before == probe.counts()
    assert [] == list(chain.inventory.movements(store_id="E1", sku="K1"))


def test_reserve_commit_flow(stocked: Multistore, clock: FixedClock, probe: Probe) -> None:
    res = stocked.inventory.reserve(
        actor=SYSTEM_ACTOR, key="ord-1", lines=[("E2", "K1", 2), ReservationLine("E1", "K2", 2)]
    )
    assert (clock.now(), clock.now() + timedelta(minutes=15)) == (res.created_at, res.expires_at)
    assert [("E1", "K2"), ("E2", "K1")] == [(x.store_id, x.sku) for x in res.lines]
    assert StockLevel("E2", "K1", on_hand=5, reserved=2) == stocked.inventory.level(
        store_id="E2", sku="K1"
    )
    events_before = probe.outbox_count()
    again = stocked.inventory.reserve(
        actor=SYSTEM_ACTOR, key="ord-1", lines=[("E2", "K1", 2), ("E1", "K2", 2)]
    )
    assert res == again
    assert events_before == probe.outbox_count()
    assert 2 == stocked.inventory.level(store_id="E2", sku="K1").reserved
    done = stocked.inventory.commit(actor=SYSTEM_ACTOR, key="ord-1")
    assert ReservationStatus.COMMITTED == done.status
    assert StockLevel("E2", "K1", on_hand=3) == stocked.inventory.level(store_id="E2", sku="K1")
    assert StockLevel("E1", "K2", on_hand=0) == stocked.inventory.level(store_id="E1", sku="K2")
    assert done == stocked.inventory.commit(actor=SYSTEM_ACTOR, key="ord-1")
    with pytest.raises(ConflictError) as info:
        stocked.inventory.release(actor=SYSTEM_ACTOR, key="ord-1")
    assert info.value.code == "stock.reservation_closed"


def test_reserve_all_or_nothing(stocked: Multistore, probe: Probe) -> None:
    before = probe.counts()
    with pytest.raises(InsufficientStockError) as info:
        stocked.inventory.reserve(
            actor=SYSTEM_ACTOR, key="ord-2", lines=[("E1", "K1", 5), ("E1", "K2", 3)]
        )
    assert [{"store_id": "E1", "sku": "K2", "requested": 3, "available": 2}] == info.value.details[
        "short_lines"
    ]
    assert before == probe.counts()
    assert 0 == stocked.inventory.level(store_id="E1", sku="K1").reserved
    with pytest.raises(NotFoundError):
        stocked.inventory.get_reservation(key="ord-2")


def test_safety_buffer_blocks_the_last_units(stocked: Multistore) -> None:
    stocked.inventory.set_safety_buffer(
        actor=manager_of("E1", "east"), store_id="E1", sku="K1", units=4
    )
    with pytest.raises(InsufficientStockError):
        stocked.inventory.reserve(actor=SYSTEM_ACTOR, key="o", lines=[("E1", "K1", 2)])
    assert (
        1
        == stocked.inventory.reserve(actor=SYSTEM_ACTOR, key="o2", lines=[("E1", "K1", 1)])
        .lines[0]
        .quantity
    )
    with pytest.raises(ValidationError):
        stocked.inventory.set_safety_buffer(actor=SYSTEM_ACTOR, store_id="E1", sku="K1", units=-1)


def test_release_and_expire(stocked: Multistore, clock: FixedClock) -> None:
    stocked.inventory.reserve(
        actor=SYSTEM_ACTOR, key="a", lines=[("E1", "K1", 1)], ttl=timedelta(minutes=5)
    )
    stocked.inventory.reserve(
        actor=SYSTEM_ACTOR, key="b", lines=[("E1", "K1", 1)], ttl=timedelta(minutes=30)
    )
    stocked.inventory.reserve(actor=SYSTEM_ACTOR, key="c", lines=[("E1", "K1", 1)], ttl=None)
    assert (
        ReservationStatus.RELEASED == stocked.inventory.release(actor=SYSTEM_ACTOR, key="c").status
    )
    clock.advance(timedelta(minutes=10))
    assert ["a"] == [r.key for r in stocked.inventory.expire(actor=SYSTEM_ACTOR)]
    assert 1 == stocked.inventory.level(store_id="E1", sku="K1").reserved
    with pytest.raises(ConflictError):
        stocked.inventory.commit(actor=SYSTEM_ACTOR, key="a")
    with pytest.raises(PermissionDeniedError):
        stocked.inventory.expire(actor=manager_of("E1", "east"))


@pytest.mark.parametrize(
    ("lines", "ttl", "code"),
    [
        ([], timedelta(minutes=1), "validation.empty_lines"),
        ([("E1", "K1", 0)], timedelta(minutes=1), "validation.non_positive_quantity"),
        ([("E1", "K1", -1)], timedelta(minutes=1), "validation.non_positive_quantity"),
        ([("E1", "K1", 1), ("E1", "K1", 2)], timedelta(minutes=1), "stock.duplicate_line"),
        ([("E1", "K1", 1)], timedelta(0), "stock.invalid_ttl"),
        ([("E1", "K1")], timedelta(minutes=1), "validation.invalid"),
        ([("", "K1", 1)], timedelta(minutes=1), "validation.empty_id"),
    ],
)
def test_reserve_bad_input(
    stocked: Multistore, probe: Probe, lines: list[tuple[str, ...]], ttl: timedelta, code: str
) -> None:
    before = probe.counts()
    with pytest.raises(ValidationError) as info:
        stocked.inventory.reserve(actor=SYSTEM_ACTOR, key="k", lines=lines, ttl=ttl)  # type: ignore[arg-type]
    assert code == info.value.code
    assert before == probe.counts()


def test_reserve_unknown_store_or_sku(stocked: Multistore, probe: Probe) -> None:
    before = probe.counts()
    with pytest.raises(NotFoundError) as info:
        stocked.inventory.reserve(
            actor=SYSTEM_ACTOR, key="k", lines=[("E1", "K1", 1), ("X9", "K1", 1)]
        )
    assert info.value.code == "store.not_found"
    with pytest.raises(NotFoundError) as info:
        stocked.inventory.reserve(actor=SYSTEM_ACTOR, key="k", lines=[("E1", "NOPE", 1)])
    assert info.value.code == "catalog.sku_not_found"
    assert before == probe.counts()
    assert 0 == stocked.inventory.level(store_id="E1", sku="K1").reserved


def test_permissions_follow_the_stores_touched(stocked: Multistore, probe: Probe) -> None:
    east = region_manager("east")
    stocked.inventory.reserve(actor=east, key="r1", lines=[("E1", "K1", 1), ("E2", "K1", 1)])
    audit_before = probe.audit_count()
    with pytest.raises(PermissionDeniedError):
        stocked.inventory.reserve(actor=east, key="r2", lines=[("E1", "K1", 1), ("W1", "K1", 1)])
    with pytest.raises(PermissionDeniedError):
        stocked.inventory.reserve(actor=manager_of("E1", "east"), key="r3", lines=[("E2", "K1", 1)])
    with pytest.raises(PermissionDeniedError):
        stocked.inventory.receive(
            actor=cashier_of("E1", "east"), store_id="E1", sku="K1", quantity=1
        )
    with pytest.raises(PermissionDeniedError):
        stocked.inventory.commit(actor=manager_of("W1", "west"), key="r1")
    assert audit_before + 4 == probe.audit_count()
    denials = stocked.audit.entries(since_sequence=audit_before)
    assert ["denied"] * 4 == [e.outcome for e in denials]
    assert ["inventory.reserve", "inventory.reserve", "inventory.receive", "inventory.commit"] == [
        e.action for e in denials
    ]
    assert 0 == stocked.inventory.level(store_id="W1", sku="K1").reserved
    assert stocked.audit.verify()


def test_snapshot(stocked: Multistore) -> None:
    snap = stocked.inventory.snapshot(skus=["K1"], store_ids=["E1", "W1"])
    assert [("E1", "K1"), ("W1", "K1")] == sorted(snap)
    assert 5 == snap[("W1", "K1")].available
