from __future__ import annotations

from decimal import Decimal

import shapely

from multistore.money import money
from multistore.routing import (
    CandidateStore,
    CostTerms,
    ShipmentCosts,
    StoreNetwork,
    route,
    shipment_cost,
)

from .conftest import COSTS, PEOPLE_SQUARE


def _shipped(plan):
    return {s.store_id: {line.sku: line.quantity for line in s.lines} for s in plan.shipments}


def test_single_store_beats_split(shanghai):
    plan = route(lines={"TEA": 2, "MILK": 1}, candidates=shanghai, destination=PEOPLE_SQUARE)
    assert {"JA": {"TEA": 2, "MILK": 1}} == _shipped(plan)
    assert "complete" == plan.status
    assert plan.optimal
    assert Decimal(0) == plan.gap
    assert plan.lower_bound == plan.objective


def test_stock_never_exceeded_and_split_when_needed(shanghai):
    plan = route(lines={"TEA": 6, "KETTLE": 1}, candidates=shanghai, destination=PEOPLE_SQUARE)
    by_id = {s.store_id: s for s in shanghai}
    for s in plan.shipments:
        for line in s.lines:
            assert line.quantity <= by_id[s.store_id].stock[line.sku]
    assert {"TEA": 6, "KETTLE": 1} == plan.shipped()


def test_plan_cost_equals_recomputed_cost(shanghai):
    plan = route(
        lines={"TEA": 6, "RICE": 3, "KETTLE": 1},
        candidates=shanghai,
        destination=PEOPLE_SQUARE,
        policy={"split_penalty": "1.50"},
    )
    by_id = {s.store_id: s for s in shanghai}
    total = money("0")
    for s in plan.shipments:
        cost = shipment_cost(
            store=by_id[s.store_id],
            distance_km=s.distance_km,
            lines={line.sku: line.quantity for line in s.lines},
        )
        assert cost == s.cost
        total += cost
    assert total == plan.shipping_cost
    extra = len(plan.shipments) - 1
    assert money("1.50") * extra == plan.split_penalty
    assert plan.shipping_cost + plan.split_penalty == plan.objective


def test_shipment_cost_rounds_half_up_once():
    store = CandidateStore(
        store_id="S",
        location=(31, 121),
        stock={"A": 9},
        costs=ShipmentCosts(base="0", per_unit="0.005"),
    )
    assert money("0.01") == shipment_cost(store=store, distance_km=0.0, lines={"A": 1})
    assert money("0.01") == shipment_cost(store=store, distance_km=0.0, lines={"A": 2})
    assert money("0.02") == shipment_cost(store=store, distance_km=0.0, lines={"A": 3})


def test_radius_is_respected(shanghai):
    stores = [
        CandidateStore(
            store_id="NEAR",
            location=(31.2235, 121.4453),
            stock={"A": 1},
            costs=COSTS,
            max_radius_km=1.0,
        ),
        CandidateStore(store_id="FAR", location=(31.1128, 121.3817), stock={"A": 1}, costs=COSTS),
    ]
    plan = route(lines={"A": 1}, candidates=stores, destination=PEOPLE_SQUARE)
    assert ("FAR",) == plan.store_ids
    assert any("NEAR (beyond its 1 km delivery radius)" in e for e in plan.explanation)


def test_zone_is_respected_with_wkt_geojson_and_multipolygon():
    lon, lat = PEOPLE_SQUARE[1], PEOPLE_SQUARE[0]
    away = shapely.box(lon + 1, lat + 1, lon + 2, lat + 2)
    here = shapely.box(lon - 0.1, lat - 0.1, lon + 0.1, lat + 0.1)
    stores = [
        CandidateStore(
            store_id="OUT_WKT", location=PEOPLE_SQUARE, stock={"A": 1}, costs=COSTS, zone=away.wkt
        ),
        CandidateStore(
            store_id="OUT_GEOJSON",
            location=PEOPLE_SQUARE,
            stock={"A": 1},
            costs=COSTS,
            zone=shapely.geometry.mapping(away),
        ),
        CandidateStore(
            store_id="IN_MULTI",
            location=(31.0, 121.0),
            stock={"A": 1},
            costs=COSTS,
            zone=shapely.MultiPolygon([away, here]),
        ),
    ]
    plan = route(lines={"A": 1}, candidates=stores, destination=PEOPLE_SQUARE)
    assert ("IN_MULTI",) == plan.store_ids


def test_network_with_spatial_index_matches_plain_list():
    stores = []
    for i in range(120):
        lat = 31.0 + (i % 12) * 0.04
        lon = 121.2 + (i // 12) * 0.05
        zone = shapely.Point(lon, lat).buffer(0.06) if i % 3 else None
        radius = 8.0 if i % 3 == 0 and i % 2 else None
        stores.append(
            CandidateStore(
                store_id=f"S{i:03d}",
                location=(lat, lon),
                stock={"A": 1 + i % 3, "B": i % 2, "C": 1},
                zone=zone,
                max_radius_km=radius,
                costs=COSTS,
            )
        )
    net = StoreNetwork(stores)
    for dest in [(31.2, 121.4), (31.05, 121.25), (31.4, 121.6)]:
        a = route(lines={"A": 3, "B": 2, "C": 1}, candidates=net, destination=dest)
        b = route(lines={"A": 3, "B": 2, "C": 1}, candidates=stores[:], destination=dest)
        assert a.shipments == b.shipments


def test_pins_are_respected_even_against_cost(shanghai):
    plan = route(
        lines={"TEA": 2, "MILK": 1},
        candidates=shanghai,
        destination=PEOPLE_SQUARE,
        pins={"TEA": "MH"},
    )
    shipped = _shipped(plan)
    assert 2 == shipped["MH"]["TEA"]
    assert ("TEA",) == next(s for s in plan.shipments if s.store_id == "MH").pinned
    assert any("pinned by an operator" in e for e in plan.explanation)


def test_excluded_stores_are_not_used(shanghai):
    plan = route(
        lines={"TEA": 2, "MILK": 1}, candidates=shanghai, destination=PEOPLE_SQUARE, excluded=["JA"]
    )
    assert "JA" not in plan.store_ids
    assert any("JA (excluded)" in e for e in plan.explanation)


def test_pickup_only_uses_the_pickup_store(shanghai):
    plan = route(lines={"RICE": 2, "KETTLE": 1, "TEA": 1}, candidates=shanghai, pickup_store="XH")
    assert ("XH",) == plan.store_ids
    assert plan.shipments[0].pickup
    assert 0.0 == plan.shipments[0].distance_km
    assert [("TEA", 1)] == [(u.sku, u.quantity) for u in plan.unfulfilled]
    assert "partial" == plan.status


def test_pickup_with_transfers_brings_stock_to_the_store(shanghai):
    plan = route(
        lines={"RICE": 2, "TEA": 1},
        candidates=shanghai,
        pickup_store="XH",
        policy={"pickup_transfers": True},
    )
    assert {"RICE": 2, "TEA": 1} == plan.shipped()
    assert "complete" == plan.status


def test_partial_reports_unfulfilled_and_forbidding_ships_nothing(shanghai):
    plan = route(lines={"KETTLE": 20, "TEA": 1}, candidates=shanghai, destination=PEOPLE_SQUARE)
    assert "partial" == plan.status
    assert [("KETTLE", 10)] == [(u.sku, u.quantity) for u in plan.unfulfilled]
    strict = route(
        lines={"KETTLE": 20, "TEA": 1},
        candidates=shanghai,
        destination=PEOPLE_SQUARE,
        policy={"allow_partial": False},
    )
    assert () == strict.shipments
    assert "unfulfilled" == strict.status
    assert {"KETTLE": 20, "TEA": 1} == {u.sku: u.quantity for u in strict.unfulfilled}


def test_max_shipments(shanghai):
    lines = {"TEA": 5, "RICE": 4, "MILK": 6, "KETTLE": 1}
    capped = route(
        lines=lines,
        candidates=shanghai,
        destination=PEOPLE_SQUARE,
        excluded=["MH"],
        policy={"max_shipments": 1},
    )
    assert 1 == len(capped.shipments)
    assert capped.unfulfilled
    strict = route(
        lines=lines,
        candidates=shanghai,
        destination=PEOPLE_SQUARE,
        excluded=["MH"],
        policy={"max_shipments": 1, "allow_partial": False},
    )
    assert "unfulfilled" == strict.status


def test_split_penalty_prefers_fewer_parcels(shanghai):
    lines = {"TEA": 2, "MILK": 2, "RICE": 2}
    cheap = route(lines=lines, candidates=shanghai, destination=PEOPLE_SQUARE)
    assert 1 <= len(cheap.shipments)
    big = route(
        lines=lines, candidates=shanghai, destination=PEOPLE_SQUARE, policy={"split_penalty": "100"}
    )
    assert 1 == len(big.shipments)


def test_priority_breaks_ties_then_distance_then_id():
    same = {"stock": {"A": 1}, "costs": ShipmentCosts(base="5")}
    stores = [
        CandidateStore(store_id="B", location=PEOPLE_SQUARE, **same),
        CandidateStore(store_id="A", location=PEOPLE_SQUARE, **same),
        CandidateStore(store_id="C", location=PEOPLE_SQUARE, priority=2, **same),
    ]
    assert ("C",) == route(lines={"A": 1}, candidates=stores, destination=PEOPLE_SQUARE).store_ids
    assert ("A",) == route(
        lines={"A": 1}, candidates=stores[:2], destination=PEOPLE_SQUARE
    ).store_ids


def test_determinism_whatever_the_candidate_order(shanghai):
    lines = {"TEA": 6, "RICE": 3, "MILK": 7, "KETTLE": 1}
    a = route(lines=lines, candidates=shanghai, destination=PEOPLE_SQUARE)
    b = route(lines=lines, candidates=list(reversed(shanghai)), destination=PEOPLE_SQUARE)
    assert a.shipments == b.shipments
    assert a.objective == b.objective


def test_modes_agree_on_small_orders(shanghai):
    lines = {"TEA": 6, "RICE": 3, "MILK": 7, "KETTLE": 1}
    plans = [
        route(lines=lines, candidates=shanghai, destination=PEOPLE_SQUARE, policy={"mode": m})
        for m in ("exact", "auto", "fast", "milp")
    ]
    assert 1 == len({p.objective for p in plans})


def test_custom_cost_model(shanghai):
    class Flat:
        currency = "CNY"

        def terms(self, *, store, distance_km):
            return CostTerms(
                fixed=Decimal(100 if store.store_id == "MH" else 1000),
                per_unit=Decimal(10),
                per_sku={"TEA": Decimal("2.5")},
            )

    plan = route(
        lines={"TEA": 2, "MILK": 1},
        candidates=shanghai,
        destination=PEOPLE_SQUARE,
        cost_model=Flat(),
    )
    assert ("MH",) == plan.store_ids
    assert money("1.15") == plan.shipping_cost


def test_auto_mode_reports_gap_when_budget_runs_out():
    stores = []
    for i in range(40):
        stock = {
            f"K{j}": 1 + (i * j) % 3 for j in range(10) if (i + j) % 3 == 0 or (i * j) % 7 == 1
        }
        stores.append(
            CandidateStore(
                store_id=f"S{i}",
                location=(31.0 + i * 0.01, 121.3 + (i % 5) * 0.03),
                stock=stock,
                costs=COSTS,
            )
        )
    lines = {f"K{j}": 2 for j in range(10)}
    plan = route(
        lines=lines, candidates=stores, destination=PEOPLE_SQUARE, policy={"node_budget": 1}
    )
    exact = route(
        lines=lines, candidates=stores, destination=PEOPLE_SQUARE, policy={"mode": "exact"}
    )
    assert exact.optimal
    assert exact.objective <= plan.objective
    assert plan.lower_bound is not None
    assert plan.lower_bound <= exact.objective
    if not plan.optimal:
        assert plan.gap is not None
        assert plan.gap > 0
