"""Regression tests for the routing review: spatial index, pickup, input validation, explanations.

Each test reproduces a confirmed bug (scripts of the independent review) and fails without its fix.
"""

from __future__ import annotations

import math
import random

import pytest

from multistore.errors import ValidationError
from multistore.geo import GeoPoint
from multistore.routing import CandidateStore, ShipmentCosts, StoreNetwork, route
from multistore.routing import candidates as candidates_module

COSTS = ShipmentCosts(base="6", per_unit="0.2")
EARTH_KM = 6371.0088


def _code(fn) -> str:
    with pytest.raises(ValidationError) as info:
        fn()
    return info.value.code


def _point_at(lat: float, lon: float, km: float, bearing_deg: float) -> tuple[float, float]:
    """The point ``km`` from (lat, lon) along the initial bearing (great circle)."""
    d = km / EARTH_KM
    b = math.radians(bearing_deg)
    la, lo = math.radians(lat), math.radians(lon)
    la2 = math.asin(math.sin(la) * math.cos(d) + math.cos(la) * math.sin(d) * math.cos(b))
    lo2 = lo + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(la), math.cos(d) - math.sin(la) * math.sin(la2)
    )
    return math.degrees(la2), (math.degrees(lo2) + 540.0) % 360.0 - 180.0


def _widest(lat: float, lon: float, km: float) -> tuple[float, float]:
    """The point ``km`` from (lat, lon) furthest from it in longitude (tenth-degree bearings)."""
    points = [_point_at(lat, lon, km, b / 10) for b in range(3600)]
    return max(points, key=lambda p: abs((p[1] - lon + 540.0) % 360.0 - 180.0))


def _filler(n: int = 70) -> list[CandidateStore]:
    """Stores far away at (0, 0) that make a network big enough for the spatial index."""
    return [
        CandidateStore(
            store_id=f"F{i}", location=(0.0, 0.0), stock={"RICE": 1}, costs=COSTS, max_radius_km=1.0
        )
        for i in range(n)
    ]


# ------------------------------------------------------------------ bug 5: index radius boxes


@pytest.mark.parametrize(
    ("name", "location", "radius", "km"),
    [
        ("antimeridian from the east", (-17.0, 179.95), 50.0, 20.0),
        ("antimeridian from the west", (10.0, -179.99), 30.0, 25.0),
        ("lat 60", (60.0, 10.0), 1000.0, 999.0),
        ("lat 70", (70.0, 10.0), 1000.0, 999.0),
        ("lat 80", (80.0, 10.0), 2000.0, 1999.0),
        ("near the north pole", (88.0, 30.0), 800.0, 700.0),
        ("near the south pole", (-89.0, -150.0), 300.0, 290.0),
    ],
)
def test_index_finds_a_store_within_its_radius(name, location, radius, km):
    store = CandidateStore(
        store_id="S", location=location, stock={"X": 1}, costs=COSTS, max_radius_km=radius
    )
    dests = [
        _widest(*location, km),
        _point_at(*location, km, 90.0),
        _point_at(*location, km, 270.0),
    ]
    found = [
        (
            route(lines={"X": 1}, candidates=[store], destination=dest).store_ids,
            route(lines={"X": 1}, candidates=[store, *_filler()], destination=dest).store_ids,
        )
        for dest in dests
    ]
    assert [(("S",), ("S",))] * 3 == found, name


@pytest.mark.parametrize(
    ("lat", "lon"), [(-16.8, 179.7), (65.0, -179.6), (75.0, 20.0), (84.0, 179.9), (-80.0, 0.0)]
)
def test_index_and_linear_paths_find_the_same_stores(monkeypatch, lat, lon):
    rng = random.Random(f"{lat},{lon}")
    stores = []
    for i in range(80):
        loc_lat = max(-90.0, min(90.0, lat + rng.uniform(-3.0, 3.0)))
        loc_lon = (lon + rng.uniform(-6.0, 6.0) + 540.0) % 360.0 - 180.0
        stores.append(
            CandidateStore(
                store_id=f"S{i}",
                location=(loc_lat, loc_lon),
                stock={"X": 1},
                costs=COSTS,
                max_radius_km=rng.choice([5.0, 40.0, 150.0, 400.0]),
            )
        )
    indexed = StoreNetwork(stores)
    monkeypatch.setattr(candidates_module, "INDEX_THRESHOLD", 10**9)
    linear = StoreNetwork(stores)
    assert indexed._tree is not None
    assert linear._tree is None
    dests = [_widest(s.location.lat, s.location.lon, s.max_radius_km * 0.999) for s in stores]
    dests += [_point_at(s.location.lat, s.location.lon, s.max_radius_km, 200.0) for s in stores]
    dests += [(lat + rng.uniform(-4.0, 4.0), lon) for _ in range(50)]
    dests = [(max(-90.0, min(90.0, a)), (b + 540.0) % 360.0 - 180.0) for a, b in dests]
    mismatches = []
    for dest in dests:
        point = GeoPoint(*dest)
        found = [
            sorted(net.eligible(destination=point, excluded=frozenset(), skus={"X"}).stores)
            for net in (indexed, linear)
        ]
        if found[0] != found[1]:
            mismatches.append((dest, found))
    assert [] == mismatches


# ------------------------------------------------------------------ bug 6: pickup store and index


def test_pickup_store_is_a_candidate_for_its_own_pickup_with_transfers():
    zone = "POLYGON ((121.60 31.20, 121.70 31.20, 121.70 31.30, 121.60 31.30, 121.60 31.20))"
    home = CandidateStore(
        store_id="HOME",
        location=(31.23, 121.47),
        stock={"TEA": 3},
        pickup=True,
        zone=zone,
        costs=COSTS,
    )
    results = [
        route(
            lines={"TEA": 2},
            candidates=stores,
            pickup_store="HOME",
            policy={"pickup_transfers": True},
        )
        for stores in ([home], [home, *_filler()])
    ]
    assert [("complete", ("HOME",))] * 2 == [(p.status, p.store_ids) for p in results]


# ------------------------------------------------------------------ bug 9: priority type


@pytest.mark.parametrize("priority", ["1", "high", float("nan"), 1.5, True])
def test_priority_must_be_an_int_or_none(priority):
    with pytest.raises(ValidationError) as info:
        CandidateStore(store_id="A", location=(31.2, 121.4), priority=priority)
    assert ("routing.invalid_candidate", {"store_id": "A", "field": "priority"}) == (
        info.value.code,
        info.value.details,
    )


def test_int_priorities_still_rank_stores():
    a = CandidateStore(store_id="A", location=(31.23, 121.47), stock={"X": 1}, priority=2)
    b = CandidateStore(store_id="B", location=(31.23, 121.47), stock={"X": 1}, priority=1)
    c = CandidateStore(store_id="C", location=(31.23, 121.47), stock={"X": 1}, priority=None)
    plan = route(lines={"X": 1}, candidates=[a, b, c], destination=(31.235, 121.47))
    assert ("B",) == plan.store_ids


# ------------------------------------------------------------------ bug 11: explanations


def test_pinned_store_outside_its_zone_is_described_as_pinned():
    far_zone = "POLYGON ((122.0 31.0, 122.1 31.0, 122.1 31.1, 122.0 31.1, 122.0 31.0))"
    stores = [
        CandidateStore(
            store_id="P",
            location=(31.23, 121.47),
            stock={"X": 1, "Y": 1},
            zone=far_zone,
            costs=COSTS,
        ),
        CandidateStore(store_id="Q", location=(31.24, 121.47), stock={"Z": 1}, costs=COSTS),
    ]
    plan = route(
        lines={"X": 1, "Y": 1}, candidates=stores, destination=(31.235, 121.47), pins={"X": "P"}
    )
    assert [
        "P ships X: pinned by an operator.",
        "P is not eligible (outside its delivery zone) but ships because it is pinned.",
        "P takes all 2 line(s): no eligible store holds Y.",
    ] == list(plan.explanation[1:4])
    assert [] == [e for e in plan.explanation if "only eligible" in e or "Not considered" in e]


def test_pinned_store_out_of_index_range_is_not_counted_out_of_range():
    far_zone = "POLYGON ((122.0 31.0, 122.1 31.0, 122.1 31.1, 122.0 31.1, 122.0 31.0))"
    pinned = CandidateStore(
        store_id="P", location=(31.23, 121.47), stock={"X": 1}, zone=far_zone, costs=COSTS
    )
    plan = route(
        lines={"X": 1},
        candidates=[pinned, *_filler()],
        destination=(31.235, 121.47),
        pins={"X": "P"},
    )
    lines = list(plan.explanation)
    assert [
        (
            "P is not eligible (outside delivery range of the destination) but ships because it is "
            "pinned."
        ),
        "70 store(s) are outside delivery range of the destination.",
    ] == [e for e in lines if "outside delivery range" in e]


def _nearest_sentence(plan) -> str:
    return next(e for e in plan.explanation if e.startswith("Filling each line"))


def test_rounding_not_the_penalty_explains_a_dearer_plan():
    one = ShipmentCosts(base="0.1101")  # 11.01 fen: rounds to 11 fen
    half = ShipmentCosts(base="0.055")  # 5.5 fen: rounds to 6 fen per parcel
    stores = [
        CandidateStore(store_id="R", location=(31.23, 121.47), stock={"X": 1, "Y": 1}, costs=one),
        CandidateStore(store_id="P", location=(31.24, 121.47), stock={"X": 1}, costs=half),
        CandidateStore(store_id="Q", location=(31.24, 121.48), stock={"Y": 1}, costs=half),
    ]
    plan = route(lines={"X": 1, "Y": 1}, candidates=stores, destination=(31.23, 121.47))
    assert ("P", "Q") == plan.store_ids
    assert (
        "Filling each line from the nearest store holding it (R) would cost ¥0.11, ¥0.01 less in "
        "shipping, but before rounding it costs ¥0.1101 against ¥0.1100 for this plan; the "
        "router compares exact costs, and rounding each shipment to ¥0.01 reverses the order."
    ) == _nearest_sentence(plan)


def _split_stores() -> list[CandidateStore]:
    """A far store with both SKUs (¥6) and two near stores with one each (¥2 each)."""
    return [
        CandidateStore(
            store_id="R",
            location=(31.30, 121.47),
            stock={"X": 1, "Y": 1},
            costs=ShipmentCosts(base="6"),
        ),
        CandidateStore(
            store_id="P", location=(31.23, 121.47), stock={"X": 1}, costs=ShipmentCosts(base="2")
        ),
        CandidateStore(
            store_id="Q", location=(31.23, 121.48), stock={"Y": 1}, costs=ShipmentCosts(base="2")
        ),
    ]


def test_split_penalty_explains_a_dearer_single_shipment():
    plan = route(
        lines={"X": 1, "Y": 1},
        candidates=_split_stores(),
        destination=(31.23, 121.47),
        policy={"split_penalty": "5"},
    )
    assert ("R",) == plan.store_ids
    assert (
        "Filling each line from the nearest store holding it (P, Q) would cost ¥4.00, ¥2.00 less "
        "in shipping, but with the split penalty of ¥5.00 per extra shipment its 2 shipment(s) "
        "come to ¥9.00 against ¥6.00 for this plan."
    ) == _nearest_sentence(plan)


def test_shipment_limit_explains_a_dearer_single_shipment():
    plan = route(
        lines={"X": 1, "Y": 1},
        candidates=_split_stores(),
        destination=(31.23, 121.47),
        policy={"max_shipments": 1},
    )
    assert ("R",) == plan.store_ids
    assert (
        "Filling each line from the nearest store holding it (P, Q) would cost ¥4.00, ¥2.00 less "
        "in shipping, but it needs 2 shipment(s), more than the limit of 1."
    ) == _nearest_sentence(plan)


# ------------------------------------------------------------------ bug 13: SKU keys


@pytest.mark.parametrize("lines", [{1: 1, "1": 2}, {1: 1}, {("A",): 1}])
def test_order_skus_must_be_str(lines):
    store = CandidateStore(store_id="A", location=(31.2, 121.4), stock={"1": 10})
    assert "routing.invalid_order" == _code(
        lambda: route(lines=lines, candidates=[store], destination=(31.2, 121.4))
    )


def test_stock_sku_written_twice_is_refused():
    assert "routing.invalid_quantity" == _code(
        lambda: CandidateStore(store_id="A", location=(0, 0), stock={1: 1, "1": 2})
    )


def test_stock_with_int_skus_still_converts_them():
    store = CandidateStore(store_id="A", location=(0, 0), stock={1: 4, 2: 0})
    assert {"1": 4} == dict(store.stock)


# ------------------------------------------------------------------ spec: zone edge, pins, excluded


WEST = "POLYGON ((121.40 31.20, 121.45 31.20, 121.45 31.25, 121.40 31.25, 121.40 31.20))"
EAST = "POLYGON ((121.45 31.20, 121.50 31.20, 121.50 31.25, 121.45 31.25, 121.45 31.20))"


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("dest", [(31.22, 121.45), (31.25, 121.45), (31.20, 121.42)])
def test_destination_on_a_zone_edge_is_inside(big, dest):
    stores = [
        CandidateStore(
            store_id="W", location=(31.22, 121.42), stock={"TEA": 5}, zone=WEST, costs=COSTS
        ),
        CandidateStore(
            store_id="E", location=(31.22, 121.48), stock={"TEA": 5}, zone=EAST, costs=COSTS
        ),
    ]
    plan = route(lines={"TEA": 1}, candidates=stores + (_filler() if big else []), destination=dest)
    assert "complete" == plan.status


def test_excluded_none_means_no_exclusions(shanghai):
    kw = {"lines": {"TEA": 1}, "candidates": shanghai, "destination": (31.2304, 121.4737)}
    assert route(**kw).store_ids == route(**kw, excluded=None).store_ids


@pytest.mark.parametrize(
    ("pins", "excluded"),
    [
        ([("TEA", "JA")], ()),
        ({"TEA": 1}, ()),
        ({1: "JA"}, ()),
        ("TEA", ()),
        (None, 5),
    ],
)
def test_malformed_pins_or_exclusions_are_typed_errors(shanghai, pins, excluded):
    assert "routing.invalid_order" == _code(
        lambda: route(
            lines={"TEA": 1},
            candidates=shanghai,
            destination=(31.2304, 121.4737),
            pins=pins,
            excluded=excluded,
        )
    )
