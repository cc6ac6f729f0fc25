"""The replenishment service (``ms.replenishment``) and the below-reorder-point alerts.

Every test runs on memory (the reference) and on a SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

import multistore
from multistore.adapters.memory import MemoryStorage
from multistore.adapters.registry import register, unregister
from multistore.app import Multistore
from multistore.errors import (
    InsufficientStockError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    ValidationError,
)
from multistore.ports.events import OutboxRecord
from multistore.ports.replenishment import BELOW_REORDER_POINT, ReorderPoint
from multistore.ports.security import SYSTEM_ACTOR as HQ
from multistore.ports.security import Actor, Scope
from multistore.ports.storage import Storage
from multistore.replenishment import LeadTime, SupplyTerms
from multistore.replenishment.history import build_histories
from multistore.replenishment.service import demand_histories
from multistore.replenishment.suggestions import StockPosition, plan
from multistore.testing.builders import sample_product, sample_store
from multistore.testing.fakes import FixedClock, SequentialIdFactory

START = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
TERMS = [SupplyTerms(sku="K", supplier_id="SUP", lead_time=LeadTime(3))]
MOVING_AVERAGE = {"forecaster": "moving_average"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture(params=["memory", "sqlite"])
def ms(request: pytest.FixtureRequest, clock: FixedClock, tmp_path: Path) -> Iterator[Multistore]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'ms.db'}"
    with multistore.connect(url, clock=clock, id_factory=SequentialIdFactory()) as app:
        app.stores.add(actor=HQ, store=sample_store("A", region="east"))
        app.stores.add(actor=HQ, store=sample_store("B", region="east", lat=31.30, lon=121.50))
        app.stores.add(actor=HQ, store=sample_store("W", region="west", lat=30.66, lon=104.06))
        app.catalog.add_product(actor=HQ, product=sample_product("P", ["K", "J"]))
        yield app


def _alerts(ms: Multistore) -> list[OutboxRecord]:
    with ms.unit_of_work() as uow:
        return [r for r in uow.outbox.pending(limit=10_000) if r.event.type == BELOW_REORDER_POINT]


def _sell(ms: Multistore, quantity: int, *, store: str = "A", sku: str = "K") -> None:
    ms.inventory.record_movement(actor=HQ, store_id=store, sku=sku, kind="sale", quantity=-quantity)


def _point(ms: Multistore, rop: float, up_to: float, *, store: str = "A") -> ReorderPoint:
    return ms.replenishment.set_reorder_point(
        actor=HQ, store_id=store, sku="K", reorder_point=rop, order_up_to=up_to
    )


# --- alerts ------------------------------------------------------------------------------------


def test_one_alert_per_crossing_and_a_second_after_restocking(ms: Multistore) -> None:
    """Crossing once -> one event; sales below -> none; receipt above, sale below -> another."""
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=10)
    _point(ms, 4.5, 20)
    _sell(ms, 3)  # 7: above
    assert [] == _alerts(ms)
    _sell(ms, 3)  # 4: crossed
    _sell(ms, 1)  # 3: still below
    _sell(ms, 3)  # 0
    first = _alerts(ms)
    assert [(4, "stock_change")] == [
        (r.event.payload["on_hand"], r.event.payload["cause"]) for r in first
    ]
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=4)  # 4: not above 4.5
    _sell(ms, 1)
    assert 1 == len(_alerts(ms))
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=9)  # 12: re-armed
    _sell(ms, 8)  # 4: crossed again
    assert [4, 4] == [r.event.payload["on_hand"] for r in _alerts(ms)]


def test_the_alert_payload_carries_the_numbers(ms: Multistore, clock: FixedClock) -> None:
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=10)
    _point(ms, 5, 20)
    _sell(ms, 6)
    (record,) = _alerts(ms)
    assert "stock:A/K" == record.event.aggregate
    assert START == record.event.occurred_at
    assert {
        "store_id": "A",
        "sku": "K",
        "on_hand": 4,
        "reorder_point": 5,
        "order_up_to": 20,
        "safety_stock": 0.0,
        "demand_mean": 0.0,
        "policy": "manual",
        "suggested_quantity": 16,
        "cause": "stock_change",
    } == {k: v for k, v in record.event.payload.items() if k != "explanation"}
    assert "on hand 4 is at or below the reorder point 5.00" in record.event.payload["explanation"]


def test_landing_exactly_on_the_reorder_point_is_a_crossing(ms: Multistore) -> None:
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=10)
    _point(ms, 5, 20)
    _sell(ms, 5)
    assert [5] == [r.event.payload["on_hand"] for r in _alerts(ms)]


def test_no_point_no_alert_and_receipts_never_alert(ms: Multistore) -> None:
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=10)
    _sell(ms, 9)
    ms.inventory.receive(actor=HQ, store_id="B", sku="K", quantity=2)
    _point(ms, 3, 5, store="B")  # B at 2: below from the start (one alert, set by hand)
    ms.inventory.receive(actor=HQ, store_id="B", sku="K", quantity=1)
    ms.inventory.receive(actor=HQ, store_id="B", sku="K", quantity=5)
    assert [("B", "reorder_point_changed")] == [
        (r.event.payload["store_id"], r.event.payload["cause"]) for r in _alerts(ms)
    ]


def test_committing_a_reservation_crosses_once_per_pair(ms: Multistore) -> None:
    """A committed sale lowers on hand: one alert per (store, sku) that crossed."""
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=10)
    ms.inventory.receive(actor=HQ, store_id="B", sku="K", quantity=10)
    _point(ms, 5, 20)
    _point(ms, 1, 20, store="B")
    lines = [("A", "K", 3), ("B", "K", 2)]
    ms.inventory.reserve(actor=HQ, key="o-1", lines=lines)
    assert [] == _alerts(ms)  # a hold does not move on hand
    ms.inventory.commit(actor=HQ, key="o-1")
    ms.inventory.reserve(actor=HQ, key="o-2", lines=[("A", "K", 4)])
    ms.inventory.commit(actor=HQ, key="o-2")
    ms.inventory.commit(actor=HQ, key="o-2")  # a replay changes nothing
    assert [("A", 3)] == [
        (r.event.payload["store_id"], r.event.payload["on_hand"]) for r in _alerts(ms)
    ]


def test_shipping_a_transfer_out_can_cross(ms: Multistore) -> None:
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=10)
    _point(ms, 5, 20)
    ms.inventory.transfer(
        actor=HQ, transfer_id="T1", from_store="A", to_store="B", sku="K", quantity=6
    )
    assert [("A", 4)] == [
        (r.event.payload["store_id"], r.event.payload["on_hand"]) for r in _alerts(ms)
    ]


def test_a_failed_sale_writes_no_alert(ms: Multistore) -> None:
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=10)
    _point(ms, 5, 20)
    ms.inventory.reserve(actor=HQ, key="o-1", lines=[("A", "K", 8)])
    with pytest.raises(ValidationError):
        _sell(ms, 0)
    with pytest.raises(InsufficientStockError) as raised:
        _sell(ms, 6)  # would leave 4 on hand under 8 reserved
    assert "stock.negative" == raised.value.code
    assert [] == _alerts(ms)


def test_a_new_point_above_the_stock_alerts_once(ms: Multistore) -> None:
    """Setting a point at or above on hand is a crossing too (cause reorder_point_changed)."""
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=10)
    _point(ms, 5, 20)
    _point(ms, 12, 30)
    _point(ms, 11, 30)  # still below: no new alert
    _sell(ms, 1)
    assert [(10, "reorder_point_changed")] == [
        (r.event.payload["on_hand"], r.event.payload["cause"]) for r in _alerts(ms)
    ]


# --- set_reorder_point ---------------------------------------------------------------------------


def test_set_reorder_point_validates_and_writes_nothing_on_bad_input(ms: Multistore) -> None:
    audit_before = len(ms.audit.entries())
    with pytest.raises(ValidationError) as raised:
        _point(ms, 10, 5)
    assert "replenishment.invalid_reorder_point" == raised.value.code
    with pytest.raises(ValidationError) as negative:
        _point(ms, -1, 5)
    assert "replenishment.invalid_reorder_point" == negative.value.code
    with pytest.raises(NotFoundError) as unknown:
        ms.replenishment.set_reorder_point(
            actor=HQ, store_id="A", sku="NOPE", reorder_point=1, order_up_to=2
        )
    assert "catalog.sku_not_found" == unknown.value.code
    assert (None, audit_before) == (
        ms.replenishment.reorder_point(store_id="A", sku="K"),
        len(ms.audit.entries()),
    )


def test_set_reorder_point_is_authorised_and_audited(ms: Multistore) -> None:
    other_manager = Actor.with_role("li", "store_manager", Scope.of_store("B", region="east"))
    with pytest.raises(PermissionDeniedError):
        ms.replenishment.set_reorder_point(
            actor=other_manager, store_id="A", sku="K", reorder_point=1, order_up_to=2
        )
    stored = _point(ms, 1, 2)
    assert stored == ms.replenishment.reorder_point(store_id="A", sku="K")
    assert [
        ("li", "replenishment.set_reorder_point", "denied"),
        ("system", "replenishment.set_reorder_point", "ok"),
    ] == [(e.actor_id, e.action, e.outcome) for e in ms.audit.entries()[-2:]]
    assert ms.audit.verify()


# --- recompute ---------------------------------------------------------------------------------


def _four_weeks(ms: Multistore, clock: FixedClock) -> None:
    """A sells 2 a day for 28 days from 200; B holds 10 and sells nothing."""
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=200)
    ms.inventory.receive(actor=HQ, store_id="B", sku="K", quantity=10)
    for _ in range(28):
        _sell(ms, 2)
        clock.advance(timedelta(days=1))


def test_recompute_stores_the_levels_of_the_pure_core(ms: Multistore, clock: FixedClock) -> None:
    """Constant demand 2/day, lead time 3: r = 6, Q = 2 * 14 days, S = 34, no safety stock."""
    _four_weeks(ms, clock)
    done = ms.replenishment.recompute(actor=HQ, supply=TERMS, days=28, policy=MOVING_AVERAGE)
    now = START + timedelta(days=28)
    assert (date(2026, 3, 1), date(2026, 3, 28), (), 0) == (
        done.start,
        done.end,
        done.skipped,
        done.alerts,
    )
    assert (
        ReorderPoint("A", "K", 6.0, 34.0, 0.0, "rq", now, 2.0, "moving_average"),
        ReorderPoint("B", "K", 0.0, 0.0, 0.0, "rq", now, 0.0, "moving_average"),
    ) == done.points
    assert list(done.points) == list(ms.replenishment.reorder_points(skus=["K"]))
    entry = ms.audit.entries()[-1]
    assert ("replenishment.recompute", "ok") == (entry.action, entry.outcome)
    assert {"window": ["2026-03-01", "2026-03-28"], "points": 2, "skipped": 0, "alerts": 0} == dict(
        entry.details
    )


def test_recompute_matches_the_pure_plan_on_the_same_history(
    ms: Multistore, clock: FixedClock
) -> None:
    """Irregular demand: the stored levels equal plan() run on the ledger's history by hand."""
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=500)
    sales = [0, 3, 0, 0, 7, 1, 0, 0, 0, 12, 2, 0, 5, 0, 0, 1, 0, 9, 0, 0, 4]
    records = []
    for qty in sales:
        if qty:
            _sell(ms, qty)
            records.append(
                {"store_id": "A", "sku": "K", "day": clock.now().date(), "quantity": qty}
            )
        clock.advance(timedelta(days=1))
    end = START.date() + timedelta(days=len(sales) - 1)
    done = ms.replenishment.recompute(actor=HQ, supply=TERMS, end=end, days=len(sales))
    expected = plan(
        histories=build_histories(records=records, start=START.date(), end=end),
        positions=[StockPosition(store_id="A", sku="K", on_hand=500 - sum(sales))],
        supply=TERMS,
    ).items[0]
    (point,) = done.points
    assert (
        expected.levels.reorder_point,
        expected.levels.order_up_to,
        expected.levels.safety_stock,
        expected.forecast.method,
    ) == (point.reorder_point, point.order_up_to, point.safety_stock, point.forecaster)
    assert expected.forecast.method in {"croston", "sba", "tsb"}


def test_recompute_excludes_stock_out_days(ms: Multistore, clock: FixedClock) -> None:
    """Days with no stock to sell are not observations; days that sold out are, and count."""
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=4)
    _sell(ms, 4)  # day 1 closes at 0
    clock.advance(timedelta(days=1))  # day 2 closes at 0 with no sale
    clock.advance(timedelta(days=1))
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=10)
    _sell(ms, 2)  # day 3 sells 2 and closes at 8
    clock.advance(timedelta(days=1))
    _sell(ms, 2)  # day 4 sells 2
    clock.advance(timedelta(days=1))
    ms.inventory.receive(actor=HQ, store_id="B", sku="K", quantity=1)
    _sell(ms, 1, store="B")  # B: day 5 sold out, its only day with stock
    ms.inventory.receive(actor=HQ, store_id="W", sku="K", quantity=1)
    ms.inventory.record_movement(
        actor=HQ, store_id="W", sku="K", kind="adjustment", quantity=-1
    )  # W: stock but no sale, every day empty at the open -> skipped
    history = ms.replenishment.history(
        actor=HQ, start=START.date(), end=START.date() + timedelta(days=4)
    )
    assert ((4.0, 0.0, 2.0, 2.0, 0.0), (False, True, False, False, False)) == (
        history["A", "K"].quantities,
        history["A", "K"].stock_out,
    )
    assert (True, True, True, True, False) == history["B", "K"].stock_out
    done = ms.replenishment.recompute(
        actor=HQ, supply=TERMS, end=START.date() + timedelta(days=4), days=5, policy=MOVING_AVERAGE
    )
    # A: the mean of the days with stock to sell (4, 2, 2, 0); B: its one day that sold out.
    assert ((("W", "K"),), [("A", (4 + 2 + 2 + 0) / 4), ("B", 1.0)]) == (
        done.skipped,
        [(p.store_id, p.demand_mean) for p in done.points],
    )


def test_an_item_that_sells_out_every_day_gets_a_reorder_point(
    ms: Multistore, clock: FixedClock
) -> None:
    """Bread: 10 received each morning, all 10 sold by night, 14 days -> demand 10 a day."""
    for _ in range(14):  # from 1 Mar 02:00 UTC
        ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=10)
        clock.advance(timedelta(hours=10))
        _sell(ms, 10)
        clock.advance(timedelta(hours=14))
    end = date(2026, 3, 14)
    history = ms.replenishment.history(actor=HQ, start=date(2026, 3, 1), end=end)["A", "K"]
    assert ((10.0,) * 14, (False,) * 14) == (history.quantities, history.stock_out)
    done = ms.replenishment.recompute(
        actor=HQ, supply=TERMS, end=end, days=14, policy=MOVING_AVERAGE
    )
    assert ((), [("A", "K", 10.0)]) == (
        done.skipped,
        [(p.store_id, p.sku, p.demand_mean) for p in done.points],
    )
    assert 30.0 == done.points[0].reorder_point  # 10 a day over the 3-day lead time


def test_history_outside_the_representable_dates_raises_a_typed_error(ms: Multistore) -> None:
    """date.min at +08:00 starts before datetime.min; date.max at -01:00 ends after the max."""
    for start, end, offset in (
        (date.min, date.min, timedelta(hours=8)),
        (date.max, date.max, timedelta(hours=-1)),
    ):
        with pytest.raises(ValidationError) as raised:
            ms.replenishment.history(actor=HQ, start=start, end=end, utc_offset=offset)
        assert ("replenishment.invalid_parameter", "end") == (
            raised.value.code,
            raised.value.details["field"],
        )


def test_recompute_alerts_pairs_the_new_point_puts_below(ms: Multistore, clock: FixedClock) -> None:
    _four_weeks(ms, clock)
    _sell(ms, 140)  # A: 4 on hand, below the coming point of 6
    first = ms.replenishment.recompute(actor=HQ, supply=TERMS, days=28, policy=MOVING_AVERAGE)
    again = ms.replenishment.recompute(actor=HQ, supply=TERMS, days=28, policy=MOVING_AVERAGE)
    assert (1, 0) == (first.alerts, again.alerts)
    assert [("A", 4, "reorder_point_changed")] == [
        (r.event.payload["store_id"], r.event.payload["on_hand"], r.event.payload["cause"])
        for r in _alerts(ms)
    ]


def test_recompute_is_authorised_per_store_and_audits_denials(
    ms: Multistore, clock: FixedClock
) -> None:
    _four_weeks(ms, clock)
    cashier = Actor.with_role("li", "cashier", Scope.of_store("A", region="east"))
    with pytest.raises(PermissionDeniedError):
        ms.replenishment.recompute(actor=cashier, supply=TERMS, store_ids=["A"])
    assert [] == list(ms.replenishment.reorder_points())
    entry = ms.audit.entries()[-1]
    assert ("li", "replenishment.recompute", "denied") == (
        entry.actor_id,
        entry.action,
        entry.outcome,
    )
    regional = Actor.with_role("wu", "hq_admin", Scope.of_region("east"))
    done = ms.replenishment.recompute(
        actor=regional, supply=TERMS, days=28, store_ids=["A"], policy=MOVING_AVERAGE
    )
    assert [("A", "K")] == [p.key for p in done.points]
    with pytest.raises(PermissionDeniedError):
        ms.replenishment.recompute(actor=regional, supply=TERMS)  # the whole chain is HQ's


def test_recompute_rejects_bad_input_without_writing(ms: Multistore, clock: FixedClock) -> None:
    _four_weeks(ms, clock)
    with pytest.raises(NotFoundError) as unknown:
        ms.replenishment.recompute(actor=HQ, supply=TERMS, store_ids=["NOPE"])
    assert "store.not_found" == unknown.value.code
    for bad in (
        {"days": 0},
        {"utc_offset": timedelta(hours=25)},
        {"store_ids": "A"},
        {"days": 10**6, "end": date(2026, 1, 1)},
        {"end": date.max, "utc_offset": timedelta(hours=-1)},
        {"end": date.min, "days": 1, "utc_offset": timedelta(hours=8)},
    ):
        with pytest.raises(ValidationError) as raised:
            ms.replenishment.recompute(actor=HQ, supply=TERMS, **bad)
        assert "replenishment.invalid_parameter" == raised.value.code
        with pytest.raises(ValidationError) as planned:
            ms.replenishment.plan(actor=HQ, supply=TERMS, **bad)
        assert "replenishment.invalid_parameter" == planned.value.code
    with pytest.raises(ValidationError) as policy:
        ms.replenishment.recompute(actor=HQ, supply=TERMS, policy={"service_level": 1.5})
    assert "replenishment.invalid_policy" == policy.value.code
    with pytest.raises(ValidationError) as no_terms:
        ms.replenishment.recompute(actor=HQ, supply=TERMS, skus=["K", "J"], days=28)
    assert "replenishment.missing_supply_terms" == no_terms.value.code
    assert [] == list(ms.replenishment.reorder_points())


# --- plan ----------------------------------------------------------------------------------------


def test_plan_orders_and_transfers_from_current_stock(ms: Multistore, clock: FixedClock) -> None:
    """A runs low; B, next door, holds excess: a transfer B -> A, then a purchase for the rest."""
    _four_weeks(ms, clock)
    ms.inventory.receive(actor=HQ, store_id="B", sku="K", quantity=40)
    _sell(ms, 141)  # A: 3 on hand
    result = ms.replenishment.plan(actor=HQ, supply=TERMS, days=28, policy=MOVING_AVERAGE)
    by_store = {i.store_id: i for i in result.items}
    assert (3, True) == (by_store["A"].position.on_hand, by_store["A"].below_reorder_point)
    assert [("B", "A", 31)] == [(t.from_store, t.to_store, t.quantity) for t in result.transfers]
    assert [] == [line.quantity for po in result.purchase_orders for line in po.lines]


def test_plan_counts_stock_in_transit_and_reserved(ms: Multistore, clock: FixedClock) -> None:
    _four_weeks(ms, clock)
    _sell(ms, 143)  # A: 1 on hand
    ms.inventory.receive(actor=HQ, store_id="W", sku="K", quantity=5)
    ms.inventory.transfer(
        actor=HQ, transfer_id="T1", from_store="W", to_store="A", sku="K", quantity=5
    )
    ms.inventory.reserve(actor=HQ, key="o-1", lines=[("A", "K", 1)])
    result = ms.replenishment.plan(
        actor=HQ, supply=TERMS, days=28, store_ids=["A"], policy=MOVING_AVERAGE, transfers=False
    )
    (item,) = result.items
    assert (1, 5, 1, 1 + 5 - 1) == (
        item.position.on_hand,
        item.position.on_order,
        item.position.backorders,
        item.position.inventory_position,
    )
    # at or below r = 6: order one batch of Q = 2/day * 14 days
    assert [("A", 28)] == [
        (line.store_id, line.quantity) for po in result.purchase_orders for line in po.lines
    ]


def test_reads_need_the_read_permission_in_each_store(ms: Multistore, clock: FixedClock) -> None:
    _four_weeks(ms, clock)
    cashier = Actor.with_role("wang", "cashier", Scope.of_store("A", region="east"))
    mine = ms.replenishment.history(
        actor=cashier, start=START.date(), end=START.date(), store_ids=["A"]
    )
    assert [("A", "K")] == list(mine)
    with pytest.raises(PermissionDeniedError):
        ms.replenishment.plan(actor=cashier, supply=TERMS, store_ids=["A", "B"])
    entry = ms.audit.entries()[-1]
    assert ("wang", "replenishment.read", "denied") == (entry.actor_id, entry.action, entry.outcome)
    with pytest.raises(PermissionDeniedError) as no_actor:
        ms.replenishment.history(actor="hq", start=START.date(), end=START.date())  # type: ignore[arg-type]
    assert "permission.no_actor" == no_actor.value.code


# --- storages without the ports, plain helpers ----------------------------------------------


class _PlainUnit:
    """A unit of work exposing only the UnitOfWork port (no replenishment attributes)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        for name in (
            "stores",
            "products",
            "stock",
            "assortment",
            "orders",
            "members",
            "outbox",
            "audit",
        ):
            setattr(self, name, getattr(inner, name))

    def __enter__(self) -> _PlainUnit:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    def commit(self) -> None:
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()


class _PlainStorage:
    def __init__(self) -> None:
        self.inner = MemoryStorage()

    def unit_of_work(self, *, read_only: bool = False) -> _PlainUnit:
        return _PlainUnit(self.inner.unit_of_work())

    def close(self) -> None:
        self.inner.close()


def test_a_storage_without_the_ports_sells_without_alerts_and_says_why() -> None:
    register("plainrp", lambda url, *, migrate=True: cast("Storage", _PlainStorage()))
    try:
        plain = multistore.connect("plainrp://x")
    finally:
        unregister("plainrp")
    with plain:
        plain.stores.add(actor=HQ, store=sample_store("A"))
        plain.catalog.add_product(actor=HQ, product=sample_product("P", ["K"]))
        plain.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=3)
        assert (
            2
            == plain.inventory.record_movement(
                actor=HQ, store_id="A", sku="K", kind="sale", quantity=-1
            ).on_hand
        )
        with pytest.raises(StorageError) as raised:
            plain.replenishment.recompute(actor=HQ, supply=TERMS)
        assert "replenishment.unsupported_storage" == raised.value.code


def test_demand_histories_fill_gaps_with_the_previous_closing_stock() -> None:
    from multistore.ports.replenishment import DailySales

    rows = [
        DailySales("S", "K", date(2026, 3, 3), 2, 0, -2, 0),
        DailySales("S", "K", date(2026, 3, 5), 1, 1, 5, 5),
    ]
    hist = demand_histories(rows, start=date(2026, 3, 1), end=date(2026, 3, 6), keys=[("T", "K")])
    assert [("S", "K"), ("T", "K")] == list(hist)
    # 3 Mar sold out (an observation); 4 Mar had nothing to sell; 5 Mar opened empty but sold.
    assert ((0.0, 0.0, 2.0, 0.0, 0.0, 0.0), (False, False, False, True, False, False)) == (
        hist["S", "K"].quantities,
        hist["S", "K"].stock_out,
    )
    assert ((0.0,) * 6, ()) == (hist["T", "K"].quantities, hist["T", "K"].stock_out)
