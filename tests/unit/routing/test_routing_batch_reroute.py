from __future__ import annotations

import pytest

from multistore.errors import ValidationError
from multistore.routing import OrderRequest, reroute, route, route_batch

from .conftest import PEOPLE_SQUARE


def test_batch_consumes_shared_stock(shanghai):
    orders = [
        OrderRequest(order_id="o1", lines={"KETTLE": 6}, destination=PEOPLE_SQUARE),
        {"order_id": "o2", "lines": {"KETTLE": 6}, "destination": PEOPLE_SQUARE},
    ]
    result = route_batch(orders=orders, candidates=shanghai)
    assert ["o1", "o2"] == list(result.plans)
    first, second = result.plans["o1"], result.plans["o2"]
    assert 6 == first.shipped()["KETTLE"]
    assert 4 == second.shipped()["KETTLE"]
    assert [("KETTLE", 2)] == [(u.sku, u.quantity) for u in second.unfulfilled]
    assert 0 == sum(stock.get("KETTLE", 0) for stock in result.remaining_stock.values())
    assert 9 == result.remaining_stock["MH"]["TEA"]


def test_batch_validates_every_order_first(shanghai):
    orders = [
        {"order_id": "ok", "lines": {"TEA": 1}, "destination": PEOPLE_SQUARE},
        {"order_id": "bad", "lines": {"TEA": -1}, "destination": PEOPLE_SQUARE},
    ]
    with pytest.raises(ValidationError) as info:
        route_batch(orders=orders, candidates=shanghai)
    assert "routing.negative_quantity" == info.value.code
    assert "'bad'" in info.value.message


def test_batch_rejects_duplicate_order_ids(shanghai):
    orders = [{"order_id": "x", "lines": {"TEA": 1}, "destination": PEOPLE_SQUARE}] * 2
    with pytest.raises(ValidationError) as info:
        route_batch(orders=orders, candidates=shanghai)
    assert "routing.duplicate_order" == info.value.code


def test_reroute_keeps_other_shipments(shanghai):
    plan = route(
        lines={"TEA": 6, "KETTLE": 1, "RICE": 2},
        candidates=shanghai,
        destination=PEOPLE_SQUARE,
        excluded=["MH"],
    )
    assert 2 <= len(plan.shipments)
    rejected = plan.shipments[-1].store_id
    kept = [s for s in plan.shipments if s.store_id != rejected]
    new = reroute(plan=plan, rejected_store=rejected, candidates=shanghai)
    assert rejected not in new.store_ids
    assert {"TEA": 6, "KETTLE": 1, "RICE": 2} == {
        **new.shipped(),
        **{u.sku: new.shipped().get(u.sku, 0) + u.quantity for u in new.unfulfilled},
    }
    for s in kept:
        again = next(x for x in new.shipments if x.store_id == s.store_id)
        for line in s.lines:
            assert line.quantity <= again.quantity(line.sku)
    assert "rejected its shipment" in new.explanation[0]


def test_reroute_single_shipment_routes_again(shanghai):
    plan = route(lines={"TEA": 2, "MILK": 1}, candidates=shanghai, destination=PEOPLE_SQUARE)
    new = reroute(plan=plan, rejected_store=plan.store_ids[0], candidates=shanghai)
    assert plan.store_ids[0] not in new.store_ids
    assert {"TEA": 2, "MILK": 1} == new.shipped()


def test_reroute_unknown_store(shanghai):
    plan = route(lines={"TEA": 2}, candidates=shanghai, destination=PEOPLE_SQUARE)
    with pytest.raises(ValidationError) as info:
        reroute(plan=plan, rejected_store="XX", candidates=shanghai)
    assert "routing.unknown_store" == info.value.code
