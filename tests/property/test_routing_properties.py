"""Properties of multistore.routing, checked against a brute-force oracle on tiny instances."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multistore.geo import GeoPoint
from multistore.routing import (
    CandidateStore,
    RoutingPlan,
    ShipmentCosts,
    route,
    route_batch,
    shipment_cost,
)
from multistore.routing.candidates import distance_m
from multistore.routing.cost import NANO

DEST = GeoPoint(31.23, 121.47)
SKUS = ["A", "B", "C", "D"]


@st.composite
def instances(draw, max_stores=6):
    n = draw(st.integers(1, max_stores))
    stores = []
    for i in range(n):
        stock = {}
        for sku in SKUS:
            if draw(st.booleans()):
                stock[sku] = draw(st.integers(1, 4))
        costs = ShipmentCosts(
            base=Decimal(draw(st.integers(0, 800))) / 100,
            per_km=Decimal(draw(st.integers(0, 30))) / 1000,
            per_unit=Decimal(draw(st.integers(0, 80))) / 100,
            per_unit_km=Decimal(draw(st.integers(0, 20))) / 10000,
        )
        loc = (31.0 + draw(st.integers(0, 500)) / 1000, 121.2 + draw(st.integers(0, 600)) / 1000)
        stores.append(
            CandidateStore(
                store_id=f"S{i}",
                location=loc,
                stock=stock,
                costs=costs,
                priority=draw(st.none() | st.integers(1, 3)),
            )
        )
    k = draw(st.integers(1, len(SKUS)))
    lines = {sku: draw(st.integers(1, 4)) for sku in SKUS[:k]}
    penalty = Decimal(draw(st.integers(0, 300))) / 100
    max_ship = draw(st.none() | st.integers(1, 3))
    return stores, lines, penalty, max_ship


def _dist(store):
    lat = math.radians(DEST.lat)
    return distance_m(store.geo, lat, math.radians(DEST.lon), math.cos(lat))


def exact_of(store, units, d_m):
    b, pkm, pu, pukm = store.costs.nano
    return b + pkm * d_m + units * (pu + pukm * d_m)


def oracle(stores, lines, penalty_nano, max_ship):
    """(max units shipped, then min exact objective) over every subset of stores."""
    best = None
    for r in range(len(stores) + 1):
        if max_ship is not None and r > max_ship:
            break
        for subset in itertools.combinations(stores, r):
            shipped = 0
            per_store = {s.store_id: 0 for s in subset}
            unit_cost = 0
            for sku, qty in lines.items():
                offers = sorted(
                    (
                        exact_of(s, 1, _dist(s)) - exact_of(s, 0, _dist(s)),
                        s.store_id,
                        s.stock.get(sku, 0),
                    )
                    for s in subset
                )
                rem = qty
                for c, sid, q in offers:
                    t = min(q, rem)
                    if t:
                        unit_cost += t * c
                        per_store[sid] += t
                        rem -= t
                shipped += qty - rem
            used = [s for s in subset if per_store[s.store_id]]
            if len(used) != len(subset):
                continue
            cost = sum(exact_of(s, 0, _dist(s)) for s in used) + unit_cost
            cost += penalty_nano * max(0, len(used) - 1)
            key = (-shipped, cost)
            if best is None or key < best:
                best = key
    return best


def plan_key(plan: RoutingPlan, stores, penalty_nano):
    by_id = {s.store_id: s for s in stores}
    cost = 0
    for sh in plan.shipments:
        s = by_id[sh.store_id]
        cost += exact_of(s, sh.units, round(sh.distance_km * 1000))
    cost += penalty_nano * max(0, len(plan.shipments) - 1)
    return (-plan.units_shipped, cost)


def check_plan(plan, stores, lines):
    by_id = {s.store_id: s for s in stores}
    shipped = plan.shipped()
    missing = {u.sku: u.quantity for u in plan.unfulfilled}
    for sku, qty in lines.items():
        assert qty == shipped.get(sku, 0) + missing.get(sku, 0)
    for sh in plan.shipments:
        for line in sh.lines:
            assert line.quantity <= by_id[sh.store_id].stock.get(line.sku, 0)
        recomputed = shipment_cost(
            store=by_id[sh.store_id],
            distance_km=sh.distance_km,
            lines={line.sku: line.quantity for line in sh.lines},
        )
        assert recomputed == sh.cost
    total = sum(int(sh.cost.amount * 100) for sh in plan.shipments)
    assert Decimal(total) / 100 == plan.shipping_cost.amount


SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances())
def test_exact_equals_brute_force(inst):
    stores, lines, penalty, max_ship = inst
    policy = {"mode": "exact", "split_penalty": penalty, "max_shipments": max_ship}
    plan = route(lines=lines, candidates=stores, destination=DEST, policy=policy)
    pen = int(penalty * 100) * NANO
    assert oracle(stores, lines, pen, max_ship) == plan_key(plan, stores, pen)
    assert plan.optimal
    check_plan(plan, stores, lines)


@SETTINGS
@given(instances())
def test_heuristic_never_beats_exact_and_is_valid(inst):
    stores, lines, penalty, max_ship = inst
    pen = int(penalty * 100) * NANO
    exact = route(
        lines=lines,
        candidates=stores,
        destination=DEST,
        policy={"mode": "exact", "split_penalty": penalty, "max_shipments": max_ship},
    )
    fast = route(
        lines=lines,
        candidates=stores,
        destination=DEST,
        policy={"mode": "fast", "split_penalty": penalty, "max_shipments": max_ship},
    )
    check_plan(fast, stores, lines)
    assert plan_key(exact, stores, pen) <= plan_key(fast, stores, pen)


@settings(max_examples=60, deadline=None)
@given(instances())
def test_deterministic_and_forbidding_partial_ships_all_or_nothing(inst):
    stores, lines, _penalty, _max = inst
    a = route(lines=lines, candidates=stores, destination=DEST, policy={"allow_partial": False})
    b = route(
        lines=lines, candidates=list(stores), destination=DEST, policy={"allow_partial": False}
    )
    assert a.shipments == b.shipments
    assert a.explanation == b.explanation
    if a.shipments:
        assert a.status == "complete"
        assert a.unfulfilled == ()
    else:
        assert sum(u.quantity for u in a.unfulfilled) == sum(lines.values())


@st.composite
def pinned_instances(draw):
    stores, lines, penalty, _max = draw(instances())
    sku = draw(st.sampled_from(sorted(lines)))
    holders = [s for s in stores if s.stock.get(sku, 0) >= lines[sku]]
    pins = {sku: draw(st.sampled_from(holders)).store_id} if holders else {}
    excluded = draw(
        st.lists(st.sampled_from([s.store_id for s in stores]), max_size=2, unique=True)
    )
    excluded = [e for e in excluded if e not in pins.values()]
    return stores, lines, penalty, pins, excluded


@SETTINGS
@given(pinned_instances())
def test_pins_and_exclusions_hold_and_exact_is_optimal_among_such_plans(inst):
    stores, lines, penalty, pins, excluded = inst
    policy = {"mode": "exact", "split_penalty": penalty}
    plan = route(
        lines=lines,
        candidates=stores,
        destination=DEST,
        pins=pins,
        excluded=excluded,
        policy=policy,
    )
    check_plan(plan, stores, lines)
    for sku, store_id in pins.items():
        ship = next(s for s in plan.shipments if s.store_id == store_id)
        assert lines[sku] == ship.quantity(sku)
        assert sum(s.quantity(sku) for s in plan.shipments) == lines[sku]
    assert not set(excluded) & set(plan.store_ids)
    # brute force over the allowed stores, with the pinned stores always open
    pen = int(penalty * 100) * NANO
    allowed = [s for s in stores if s.store_id not in excluded]
    pinned_ids = set(pins.values())
    best = None
    for r in range(len(allowed) + 1):
        for subset in itertools.combinations(allowed, r):
            ids = {s.store_id for s in subset}
            if not pinned_ids <= ids:
                continue
            key = _subset_key(subset, lines, pins, pen)
            if key is not None and (best is None or key < best):
                best = key
    assert best == plan_key(plan, stores, pen)


def _subset_key(subset, lines, pins, pen):
    per_store = {s.store_id: 0 for s in subset}
    by_id = {s.store_id: s for s in subset}
    unit_cost = 0
    shipped = 0
    for sku, qty in lines.items():
        if sku in pins:
            s = by_id[pins[sku]]
            unit_cost += qty * (exact_of(s, 1, _dist(s)) - exact_of(s, 0, _dist(s)))
            per_store[s.store_id] += qty
            shipped += qty
            continue
        offers = sorted(
            (exact_of(s, 1, _dist(s)) - exact_of(s, 0, _dist(s)), s.store_id, s.stock.get(sku, 0))
            for s in subset
        )
        rem = qty
        for c, sid, q in offers:
            t = min(q, rem)
            if t:
                unit_cost += t * c
                per_store[sid] += t
                rem -= t
        shipped += qty - rem
    if any(v == 0 for v in per_store.values()):
        return None
    cost = sum(exact_of(s, 0, _dist(s)) for s in subset) + unit_cost
    return (-shipped, cost + pen * max(0, len(subset) - 1))


@settings(max_examples=60, deadline=None)
@given(st.lists(instances(max_stores=4), min_size=1, max_size=1), st.integers(1, 4))
def test_batch_never_promises_a_unit_twice(wrapped, n_orders):
    stores, lines, _penalty, _max = wrapped[0]
    orders = [{"order_id": str(i), "lines": lines, "destination": DEST} for i in range(n_orders)]
    result = route_batch(orders=orders, candidates=stores)
    used: dict[tuple[str, str], int] = {}
    for plan in result.plans.values():
        for sh in plan.shipments:
            for line in sh.lines:
                used[sh.store_id, line.sku] = used.get((sh.store_id, line.sku), 0) + line.quantity
    for s in stores:
        for sku, qty in s.stock.items():
            assert used.get((s.store_id, sku), 0) + result.remaining_stock[s.store_id][sku] == qty


@settings(max_examples=80, deadline=None)
@given(
    instances(),
    st.lists(st.tuples(st.integers(0, 2), st.integers(1, 30)), min_size=6, max_size=6),
    st.sampled_from(["exact", "fast"]),
)
def test_zones_and_radius_are_respected(inst, limits, mode):
    stores, lines, _penalty, _max = inst
    limited = []
    for base, (kind, size) in zip(stores, limits, strict=False):
        s = base
        if kind == 1:
            s = CandidateStore(
                base.store_id,
                base.location,
                base.stock,
                costs=base.costs,
                max_radius_km=float(size),
            )
        elif kind == 2:
            half = size / 200
            zone = shapely.box(
                s.location.lon - half,
                s.location.lat - half,
                s.location.lon + half,
                s.location.lat + half,
            )
            s = CandidateStore(
                base.store_id, base.location, base.stock, costs=base.costs, zone=zone
            )
        limited.append(s)
    plan = route(lines=lines, candidates=limited, destination=DEST, policy={"mode": mode})
    check_plan(plan, limited, lines)
    by_id = {s.store_id: s for s in limited}
    for sh in plan.shipments:
        s = by_id[sh.store_id]
        if s.max_radius_km is not None:
            assert sh.distance_km <= s.max_radius_km
        if s.zone is not None:
            assert shapely.intersects_xy(s.zone, DEST.lon, DEST.lat)


@given(
    lat=st.floats(min_value=-60, max_value=60),
    lon=st.floats(min_value=-170, max_value=170),
    dlat=st.floats(min_value=-0.3, max_value=0.3),
    dlon=st.floats(min_value=-0.3, max_value=0.3),
    radius_km=st.floats(min_value=0.5, max_value=40),
)
@settings(max_examples=300, deadline=None)
def test_radius_admits_a_store_exactly_when_the_great_circle_distance_allows(
    lat: float, lon: float, dlat: float, dlon: float, radius_km: float
) -> None:
    from multistore.geo import haversine_km

    store_at = GeoPoint(lat, lon)
    dest = GeoPoint(lat + dlat, lon + dlon)
    distance = haversine_km(store_at, dest)
    if abs(distance - radius_km) < 0.01:  # too close to the boundary for metre rounding
        return
    store = CandidateStore(
        store_id="S1",
        location=(lat, lon),
        stock={"A": 1},
        costs=ShipmentCosts(base="6", per_km="0.01", per_unit="0.2", per_unit_km="0.002"),
        max_radius_km=radius_km,
    )
    plan = route(lines={"A": 1}, candidates=[store], destination=dest)
    expected = "complete" if distance < radius_km else "unfulfilled"
    assert expected == plan.status
