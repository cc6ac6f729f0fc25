from datetime import date
from decimal import Decimal

import pytest

from multistore.errors import ValidationError
from multistore.geo import GeoPoint
from multistore.money import money
from multistore.replenishment import (
    DemandHistory,
    EmptyHistoryError,
    InvalidLeadTimeError,
    InvalidParameterError,
    LeadTime,
    StockPosition,
    StoreStock,
    SupplyTerms,
    TransferCosts,
    plan,
    suggest_transfers,
)

SITES = {
    "SH": GeoPoint(31.2304, 121.4737),
    "HZ": GeoPoint(30.2741, 120.1551),
    "BJ": GeoPoint(39.9042, 116.4074),
    "SZ": GeoPoint(31.2989, 120.5853),
}
FLAT = {"kind": "rq", "forecaster": "moving_average", "window": 28, "cover_days": 14}


def flat_history(store, sku, rate=10.0, days=56):
    return DemandHistory(store_id=store, sku=sku, start=date(2024, 1, 1), quantities=[rate] * days)


def terms(sku="A", supplier="sup-1", **kw):
    return SupplyTerms(sku=sku, supplier_id=supplier, lead_time=LeadTime(mean_days=5), **kw)


def test_purchase_order_numbers_and_rounding():
    result = plan(
        histories=[flat_history("SH", "A")],
        positions=[StockPosition(store_id="SH", sku="A", on_hand=30, on_order=10)],
        supply=[terms(order_multiple=12, min_order_quantity=200, unit_cost=money("2.50"))],
        policy=FLAT,
    )
    item = result.items[0]
    assert (10.0, 0.0) == (item.forecast.mean, item.forecast.std)
    assert (0.0, 50.0, 140.0) == (
        item.levels.safety_stock,
        item.levels.reorder_point,
        item.levels.order_quantity,
    )
    assert item.below_reorder_point
    (po,) = result.purchase_orders
    (line,) = po.lines
    assert 204 == line.quantity  # Q = 140 -> MOQ 200 -> 17 cases of 12
    assert money("510.00") == line.value
    assert money("510.00") == po.total_value
    text = " ".join(line.explanation)
    assert "On hand 30, on order 10: position 40" in text
    assert "reorder point 50.0" in text
    assert "Forecast 10.00/day" in text


def test_no_order_above_reorder_point():
    result = plan(
        histories=[flat_history("SH", "A")],
        positions=[StockPosition(store_id="SH", sku="A", on_hand=51)],
        supply=[terms()],
        policy=FLAT,
    )
    assert () == result.purchase_orders
    assert not result.items[0].below_reorder_point


def test_orders_are_grouped_by_supplier_and_use_store_lead_times():
    result = plan(
        histories=[flat_history("SH", "A"), flat_history("HZ", "A"), flat_history("SH", "B", 2)],
        positions=[],
        supply=[
            terms("A", "sup-1", store_lead_times={"HZ": LeadTime(mean_days=8)}),
            terms("B", "sup-2"),
        ],
        policy=FLAT,
    )
    assert ["sup-1", "sup-2"] == [po.supplier_id for po in result.purchase_orders]
    assert [("HZ", "A"), ("SH", "A")] == [
        (line.store_id, line.sku) for line in result.purchase_orders[0].lines
    ]
    rops = {(i.store_id, i.sku): i.levels.reorder_point for i in result.items}
    assert 80.0 == rops["HZ", "A"]
    assert 50.0 == rops["SH", "A"]


def test_transfer_from_nearest_excess_store_then_purchase_the_rest():
    histories = [flat_history(s, "A") for s in ("SH", "HZ", "BJ")]
    positions = [
        StockPosition(store_id="SH", sku="A", on_hand=0),
        StockPosition(store_id="HZ", sku="A", on_hand=250),  # up-to 190 -> 60 spare
        StockPosition(store_id="BJ", sku="A", on_hand=400),  # 210 spare but far away
    ]
    result = plan(
        histories=histories,
        positions=positions,
        supply=[terms()],
        policy={**FLAT, "max_transfer_km": 500},
        locations=SITES,
        transfer_costs=TransferCosts(fixed_cost=money("20.00"), cost_per_unit_km=Decimal("0.01")),
    )
    (move,) = result.transfers
    assert ("HZ", "SH", 60) == (move.from_store, move.to_store, move.quantity)
    assert 160 < move.distance_km < 170
    km = Decimal(str(round(move.distance_km, 3)))
    expected = (Decimal("20.00") + Decimal("0.01") * km * 60).quantize(Decimal("0.01"))
    assert money(expected) == move.cost
    # SH position 0 + 60 incoming is still <= 50? no: 60 > 50, so no purchase for SH.
    assert () == result.purchase_orders


def test_transfers_prefer_near_stores_and_respect_limits():
    stocks = [
        StoreStock(
            store_id="SH",
            on_hand=0,
            inventory_position=0,
            reorder_point=50,
            order_up_to=190,
            demand_mean=10,
        ),
        StoreStock(
            store_id="BJ",
            on_hand=400,
            inventory_position=400,
            reorder_point=50,
            order_up_to=190,
            demand_mean=10,
        ),
        StoreStock(
            store_id="SZ",
            on_hand=250,
            inventory_position=250,
            reorder_point=50,
            order_up_to=190,
            demand_mean=10,
        ),
    ]
    moves = suggest_transfers(sku="A", stocks=stocks, locations=SITES)
    assert [("SZ", 60), ("BJ", 130)] == [(m.from_store, m.quantity) for m in moves]
    near_only = suggest_transfers(sku="A", stocks=stocks, locations=SITES, max_km=200)
    assert [("SZ", 60)] == [(m.from_store, m.quantity) for m in near_only]
    pricey = suggest_transfers(
        sku="A",
        stocks=[
            StoreStock(
                store_id="SH",
                on_hand=0,
                inventory_position=0,
                reorder_point=50,
                order_up_to=190,
                demand_mean=10,
                unit_cost=money("0.50"),
            ),
            stocks[2],
        ],
        locations=SITES,
        costs=TransferCosts(fixed_cost=money("100.00")),
    )
    assert [] == pricey
    with pytest.raises(InvalidParameterError):
        suggest_transfers(sku="A", stocks=stocks, locations={"SH": SITES["SH"]})


def test_most_urgent_receiver_is_served_first():
    stocks = [
        StoreStock(
            store_id="HZ",
            on_hand=200,
            inventory_position=200,
            reorder_point=50,
            order_up_to=100,
            demand_mean=10,
        ),
        StoreStock(
            store_id="SH",
            on_hand=40,
            inventory_position=40,
            reorder_point=50,
            order_up_to=100,
            demand_mean=10,
        ),
        StoreStock(
            store_id="SZ",
            on_hand=0,
            inventory_position=0,
            reorder_point=50,
            order_up_to=100,
            demand_mean=10,
        ),
    ]
    moves = suggest_transfers(sku="A", stocks=stocks, locations=SITES)
    assert [("SZ", 100)] == [(m.to_store, m.quantity) for m in moves]


def test_stock_outs_excluded_from_forecast():
    hist = DemandHistory(
        store_id="SH",
        sku="A",
        start=date(2024, 1, 1),
        quantities=[10, 10, 0, 0, 10, 10],
        stock_out=[False, False, True, True, False, False],
    )
    kept = plan(histories=[hist], positions=[], supply=[terms()], policy=FLAT)
    assert 10.0 == kept.items[0].forecast.mean
    raw = plan(
        histories=[hist],
        positions=[],
        supply=[terms()],
        policy={**FLAT, "exclude_stockouts": False},
    )
    assert pytest.approx(40 / 6) == raw.items[0].forecast.mean


def test_plan_input_errors():
    with pytest.raises(InvalidParameterError) as info:
        plan(histories=[flat_history("SH", "A")], positions=[], supply=[])
    assert "replenishment.missing_supply_terms" == info.value.code
    with pytest.raises(EmptyHistoryError):
        plan(
            histories=[],
            positions=[StockPosition(store_id="SH", sku="A", on_hand=1)],
            supply=[terms()],
        )
    with pytest.raises(ValidationError) as bad:
        plan(histories=[], positions=[], supply=[], policy={"service_level": 2})
    assert "replenishment.invalid_policy" == bad.value.code
    with pytest.raises(InvalidLeadTimeError):
        LeadTime(mean_days=0)
    with pytest.raises(InvalidParameterError):
        StockPosition(store_id="SH", sku="A", on_hand=-1)
    with pytest.raises(InvalidParameterError):
        terms(order_multiple=0)


def test_sku_policy_override_and_rs_policy():
    result = plan(
        histories=[flat_history("SH", "A"), flat_history("SH", "B")],
        positions=[
            StockPosition(store_id="SH", sku="A", on_hand=100),
            StockPosition(store_id="SH", sku="B", on_hand=100),
        ],
        supply=[terms("A"), terms("B")],
        policy=FLAT,
        sku_policies={"B": {**FLAT, "kind": "rs", "review_period_days": 7}},
    )
    lines = {line.sku: line.quantity for po in result.purchase_orders for line in po.lines}
    # A: position 100 > reorder point 50 -> nothing; B: order up to 10 * (7 + 5) = 120 -> 20.
    assert {"B": 20} == lines
