from __future__ import annotations

import pytest
import shapely

from multistore.errors import ValidationError
from multistore.routing import CandidateStore, RoutingPolicy, ShipmentCosts, route

from .conftest import PEOPLE_SQUARE


def _code(fn) -> str:
    with pytest.raises(ValidationError) as info:
        fn()
    return info.value.code


def test_unknown_sku_in_pin(shanghai):
    assert "routing.unknown_sku" == _code(
        lambda: route(
            lines={"TEA": 1}, candidates=shanghai, destination=PEOPLE_SQUARE, pins={"RICE": "PD"}
        )
    )


def test_pin_to_store_without_stock(shanghai):
    assert "routing.pin_without_stock" == _code(
        lambda: route(
            lines={"TEA": 2}, candidates=shanghai, destination=PEOPLE_SQUARE, pins={"TEA": "PD"}
        )
    )


def test_pin_to_unknown_store(shanghai):
    assert "routing.unknown_store" == _code(
        lambda: route(
            lines={"TEA": 2}, candidates=shanghai, destination=PEOPLE_SQUARE, pins={"TEA": "NOPE"}
        )
    )


def test_pin_to_excluded_store(shanghai):
    assert "routing.pin_conflict" == _code(
        lambda: route(
            lines={"TEA": 2},
            candidates=shanghai,
            destination=PEOPLE_SQUARE,
            pins={"TEA": "JA"},
            excluded=["JA"],
        )
    )


@pytest.mark.parametrize(
    ("qty", "code"),
    [
        (-1, "routing.negative_quantity"),
        (0, "routing.invalid_quantity"),
        (1.5, "routing.invalid_quantity"),
    ],
)
def test_bad_quantities(shanghai, qty, code):
    assert code == _code(
        lambda: route(lines={"TEA": qty}, candidates=shanghai, destination=PEOPLE_SQUARE)
    )


def test_negative_stock():
    assert "routing.negative_quantity" == _code(
        lambda: CandidateStore(store_id="S", location=(31, 121), stock={"A": -2})
    )


def test_empty_order(shanghai):
    assert "routing.empty_order" == _code(
        lambda: route(lines={}, candidates=shanghai, destination=PEOPLE_SQUARE)
    )


@pytest.mark.parametrize("dest", [(91.0, 121.0), (31.0, 181.0), (float("nan"), 1.0), "here"])
def test_bad_destination(shanghai, dest):
    assert "routing.invalid_coordinate" == _code(
        lambda: route(lines={"TEA": 1}, candidates=shanghai, destination=dest)
    )


def test_bad_store_location():
    assert "routing.invalid_coordinate" == _code(
        lambda: CandidateStore(store_id="S", location=(-95.0, 10.0))
    )


def test_missing_destination(shanghai):
    assert "routing.missing_destination" == _code(
        lambda: route(lines={"TEA": 1}, candidates=shanghai)
    )


def test_empty_candidates():
    assert "routing.no_candidates" == _code(
        lambda: route(lines={"TEA": 1}, candidates=[], destination=PEOPLE_SQUARE)
    )


def test_duplicate_store_ids():
    stores = [
        CandidateStore(store_id="S", location=(31, 121)),
        CandidateStore(store_id="S", location=(31, 122)),
    ]
    assert "routing.duplicate_store" == _code(
        lambda: route(lines={"TEA": 1}, candidates=stores, destination=PEOPLE_SQUARE)
    )


@pytest.mark.parametrize(
    "zone",
    [
        "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))",  # bow-tie: self-intersection
        "POINT (121 31)",
        "not a polygon",
        {"type": "Polygon", "coordinates": [[[500, 0], [501, 0], [501, 1], [500, 0]]]},
        shapely.Polygon(),
        42,
    ],
)
def test_invalid_zones(zone):
    assert "routing.invalid_zone" == _code(
        lambda: CandidateStore(store_id="S", location=(31, 121), zone=zone)
    )


def test_float_and_negative_costs():
    assert "routing.invalid_cost" == _code(lambda: ShipmentCosts(base=6.0))
    assert "routing.invalid_cost" == _code(lambda: ShipmentCosts(per_km="-1"))
    assert "routing.invalid_cost" == _code(lambda: ShipmentCosts(per_unit_km="0.0000000001"))


def test_currency_mismatch_between_stores():
    stores = [
        CandidateStore(store_id="A", location=(31, 121)),
        CandidateStore(
            store_id="B", location=(31, 121), costs=ShipmentCosts(currency="USD", base="1")
        ),
    ]
    assert "routing.currency_mismatch" == _code(
        lambda: route(lines={"TEA": 1}, candidates=stores, destination=PEOPLE_SQUARE)
    )


def test_policy_reports_every_invalid_field():
    with pytest.raises(ValidationError) as info:
        RoutingPolicy.load({"mode": "magic", "max_shipments": 0, "split_penalty": 1.5})
    assert "routing.invalid_policy" == info.value.code
    assert ["mode", "split_penalty", "max_shipments"] == sorted(
        (e["field"] for e in info.value.details["errors"]),
        key=["mode", "split_penalty", "max_shipments"].index,
    )


def test_pickup_store_without_pickup(shanghai):
    assert "routing.pickup_unavailable" == _code(
        lambda: route(lines={"TEA": 1}, candidates=shanghai, pickup_store="PD")
    )
