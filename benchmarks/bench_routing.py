"""Order routing: multistore's exact / auto / fast modes against HiGHS and greedy baselines.

Suites (fixed seeds, ``scale`` shrinks the instance counts):

* ``random``: 300 orders, 50 stores x 10 lines, stock at 30% of (store, SKU) pairs (1-5 units),
  quantities 1-3, shipment cost 6 + 0.01/km, unit cost 0.2 + 0.002/km (yuan).
* ``mixed``: 300 realistic orders (1-12 lines) on 60 stores clustered in four cities of the
  Yangtze delta, some with a delivery radius; one prebuilt StoreNetwork.
* ``network``: a 2,000-store network where every store has a polygon delivery zone; 10-line
  orders; the median time per order.

Speeds are per CPU-second of this process (``time.process_time``), so that other work on a
shared machine does not distort the ratios; every subject (multistore and baselines alike) is
timed over up to three passes of the same instances and its fastest pass counts (no further pass
once a subject has used 2 CPU-seconds, so the slow HiGHS baseline runs once). Baselines
measured in the same run: the HiGHS MILP optimum (``multistore.routing.milp``, on a sample when
the suite is large), a Magento-MSI-style per-SKU nearest-source fill, and a Shopify-style
"fewest splits, then closest" ranking.
"""

from __future__ import annotations

import gc
import itertools
import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypeVar

import shapely

from benchmarks.harness import Row, percentile
from multistore.geo import GeoPoint, haversine_km
from multistore.routing import (
    CandidateStore,
    RoutingPlan,
    ShipmentCosts,
    StoreNetwork,
    route,
    shipment_cost,
)

NAME = "routing"

T = TypeVar("T")

COSTS = ShipmentCosts(base="6", per_km="0.01", per_unit="0.2", per_unit_km="0.002")
Order = tuple[dict[str, int], GeoPoint]


def _random_suite(n: int, seed: int = 20261125) -> list[tuple[list[CandidateStore], Order]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        skus = [f"SKU{j}" for j in range(10)]
        stores = []
        for s in range(50):
            stock = {k: rng.randint(1, 5) for k in skus if rng.random() < 0.3}
            loc = (31.0 + rng.random() * 0.5, 121.2 + rng.random() * 0.6)
            stores.append(
                CandidateStore(store_id=f"S{s:02d}", location=loc, stock=stock, costs=COSTS)
            )
        lines = {k: rng.randint(1, 3) for k in skus}
        dest = GeoPoint(31.0 + rng.random() * 0.5, 121.2 + rng.random() * 0.6)
        out.append((stores, (lines, dest)))
    return out


CITIES = {
    "Shanghai": (31.2304, 121.4737),
    "Hangzhou": (30.2741, 120.1551),
    "Suzhou": (31.2989, 120.5853),
    "Nanjing": (32.0603, 118.7969),
}


def _mixed_suite(n: int, seed: int = 7) -> tuple[list[CandidateStore], list[Order]]:
    rng = random.Random(seed)
    catalogue = [f"P{j:03d}" for j in range(40)]
    popularity = [1.0 / (j + 1) for j in range(len(catalogue))]
    stores = []
    for c, (name, (lat, lon)) in enumerate(CITIES.items()):
        for s in range(15):
            stock = {k: rng.randint(1, 12) for k in catalogue if rng.random() < 0.45}
            loc = (lat + rng.gauss(0, 0.06), lon + rng.gauss(0, 0.07))
            costs = ShipmentCosts(
                base=Decimal(rng.choice(["5", "6", "8"])),
                per_km="0.01",
                per_unit="0.2",
                per_unit_km="0.002",
            )
            stores.append(
                CandidateStore(
                    store_id=f"{name[:2].upper()}{s:02d}",
                    name=f"{name} #{s}",
                    location=loc,
                    stock=stock,
                    costs=costs,
                    max_radius_km=rng.choice([None, None, 15.0, 25.0]),
                    priority=rng.choice([None, 1, 2]) if c == 0 else None,
                )
            )
    orders = []
    for _ in range(n):
        lat, lon = rng.choice(list(CITIES.values()))
        dest = GeoPoint(lat + rng.gauss(0, 0.05), lon + rng.gauss(0, 0.06))
        k = rng.randint(1, 12)
        skus = set()
        while len(skus) < k:
            skus.add(rng.choices(catalogue, popularity)[0])
        orders.append(({s: rng.randint(1, 3) for s in sorted(skus)}, dest))
    return stores, orders


def _zone(lat: float, lon: float, radius_km: float) -> shapely.Polygon:
    dlat = radius_km / 111.2
    dlon = radius_km / (111.2 * math.cos(math.radians(lat)))
    return shapely.Polygon(
        [
            (lon + dlon * math.cos(a * math.pi / 8), lat + dlat * math.sin(a * math.pi / 8))
            for a in range(16)
        ]
    )


def _network_suite(n_orders: int, seed: int = 2000) -> tuple[StoreNetwork, list[Order]]:
    rng = random.Random(seed)
    catalogue = [f"Q{j:03d}" for j in range(200)]
    stores = []
    centres = [*list(CITIES.values()), (22.54, 114.06), (23.13, 113.26), (39.9, 116.4)]
    for s in range(2000):
        lat, lon = rng.choice(centres)
        lat += rng.gauss(0, 0.08)
        lon += rng.gauss(0, 0.09)
        stock = {k: rng.randint(1, 8) for k in rng.sample(catalogue, 80)}
        stores.append(
            CandidateStore(
                store_id=f"N{s:04d}",
                location=(lat, lon),
                stock=stock,
                zone=_zone(lat, lon, rng.uniform(3.0, 6.0)),
                costs=COSTS,
            )
        )
    net = StoreNetwork(stores)
    orders = []
    for _ in range(n_orders):
        lat, lon = rng.choice(centres)
        dest = GeoPoint(lat + rng.gauss(0, 0.05), lon + rng.gauss(0, 0.05))
        orders.append(({k: rng.randint(1, 2) for k in rng.sample(catalogue, 10)}, dest))
    return net, orders


# ---------------------------------------------------------------- baselines (plain data)


def _eligible(
    stores: Sequence[CandidateStore], dest: GeoPoint
) -> list[tuple[float, CandidateStore]]:
    out = []
    for s in stores:
        d = haversine_km(s.location, dest)
        if s.max_radius_km is not None and d > s.max_radius_km:
            continue
        if s.zone is not None and not shapely.intersects_xy(s.zone, dest.lon, dest.lat):
            continue
        out.append((round(d * 1000) / 1000, s))
    out.sort(key=lambda x: (x[0], x[1].store_id))
    return out


def _price(
    assign: dict[str, dict[str, int]], elig: list[tuple[float, CandidateStore]]
) -> tuple[int, int]:
    by_id = {s.store_id: (d, s) for d, s in elig}
    total = 0
    for sid, lines in assign.items():
        d, s = by_id[sid]
        total += int(shipment_cost(store=s, distance_km=d, lines=lines).amount * 100)
    return total, len(assign)


def magento_nearest(stores: Sequence[CandidateStore], order: Order) -> tuple[int, int, int]:
    """Per-SKU fill from sources sorted by distance (Magento MSI distance priority)."""
    lines, dest = order
    elig = _eligible(stores, dest)
    assign: dict[str, dict[str, int]] = {}
    short = 0
    for sku, qty in lines.items():
        rem = qty
        for _d, s in elig:
            t = min(rem, s.stock.get(sku, 0))
            if t:
                assign.setdefault(s.store_id, {})[sku] = t
                rem -= t
            if rem == 0:
                break
        short += rem
    cost, n = _price(assign, elig)
    return cost, n, short


def shopify_fewest(stores: Sequence[CandidateStore], order: Order) -> tuple[int, int, int]:
    """Fewest locations that can fulfil the order, then the closest such set (up to 3 splits)."""
    lines, dest = order
    elig = [(d, s) for d, s in _eligible(stores, dest) if any(k in s.stock for k in lines)]
    for k in (1, 2, 3):
        best = None
        for combo in itertools.combinations(elig, k):
            if all(sum(s.stock.get(sku, 0) for _d, s in combo) >= q for sku, q in lines.items()):
                dist = sum(d for d, _s in combo)
                if best is None or dist < best[0]:
                    best = (dist, combo)
        if best is not None:
            assign: dict[str, dict[str, int]] = {}
            for sku, qty in lines.items():
                rem = qty
                for _d, s in best[1]:
                    t = min(rem, s.stock.get(sku, 0))
                    if t:
                        assign.setdefault(s.store_id, {})[sku] = t
                        rem -= t
            cost, n = _price(assign, elig)
            return cost, n, 0
    return magento_nearest(stores, order)


# ---------------------------------------------------------------- measuring


def _minor(plan: RoutingPlan) -> int:
    return int(plan.shipping_cost.amount * 100)


def _gaps(costs: list[int], optimum: list[int]) -> list[float]:
    return [100.0 * (c - o) / o if o else 0.0 for c, o in zip(costs, optimum, strict=True)]


def _row(
    case: str,
    subject: str,
    costs: list[int],
    opt: list[int],
    ships: list[int],
    secs: float,
    note: str = "",
) -> Row:
    gaps = _gaps(costs, opt)
    return Row(
        case=case,
        subject=subject,
        metrics={
            "mean gap %": statistics.mean(gaps),
            "p95 gap %": percentile(gaps, 95),
            "at optimum %": 100.0 * sum(1 for g in gaps if g <= 1e-9) / len(gaps),
            "shipments/order": statistics.mean(ships),
            "orders/s": len(costs) / secs if secs else 0.0,
        },
        note=note,
    )


PASSES = 3
"""Timed passes per subject; the fastest counts (other work on a shared machine only slows)."""
PASS_BUDGET_S = 2.0
"""No further pass once a subject's passes have used this many CPU-seconds (slow baselines)."""


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Run ``fn`` up to PASSES times (same rule for every subject); its result and best CPU time.

    Every pass computes the same result from the same instances, so only the timing differs.
    """
    result: T | None = None
    best = math.inf
    spent = 0.0
    for _ in range(PASSES):
        gc.collect()
        start = time.process_time()
        out = fn()
        secs = time.process_time() - start
        if result is None:
            result = out
        best = min(best, secs)
        spent += secs
        if spent >= PASS_BUDGET_S:
            break
    assert result is not None
    return result, best


def _run_mode(
    instances: Sequence[tuple[Sequence[CandidateStore] | StoreNetwork, Order]],
    policy: dict[str, object],
) -> tuple[list[RoutingPlan], float]:
    return _timed(
        lambda: [
            route(lines=lines, candidates=cands, destination=dest, policy=policy)
            for cands, (lines, dest) in instances
        ]
    )


def _compare(
    case: str,
    instances: list[tuple[Sequence[CandidateStore] | StoreNetwork, Order]],
    milp_sample: int,
) -> list[Row]:
    rows: list[Row] = []
    exact, t_exact = _run_mode(instances, {"mode": "exact"})
    opt = [_minor(p) for p in exact]
    proven = sum(1 for p in exact if p.optimal)
    rows.append(
        _row(
            case,
            "multistore exact",
            opt,
            opt,
            [len(p.shipments) for p in exact],
            t_exact,
            note=f"proven optimal on {proven}/{len(exact)}; mean nodes "
            f"{statistics.mean(p.nodes for p in exact):.0f}",
        )
    )
    auto, t_auto = _run_mode(instances, {})
    rows.append(
        _row(
            case,
            "multistore auto (default)",
            [_minor(p) for p in auto],
            opt,
            [len(p.shipments) for p in auto],
            t_auto,
            note=f"proven optimal on {sum(p.optimal for p in auto)}/{len(auto)}",
        )
    )
    fast, t_fast = _run_mode(instances, {"mode": "fast"})
    rows.append(
        _row(
            case,
            "multistore fast",
            [_minor(p) for p in fast],
            opt,
            [len(p.shipments) for p in fast],
            t_fast,
        )
    )
    fast_quiet, t_fast_quiet = _run_mode(instances, {"mode": "fast", "explain": False})
    rows.append(
        _row(
            case,
            "multistore fast, explain=False",
            [_minor(p) for p in fast_quiet],
            opt,
            [len(p.shipments) for p in fast_quiet],
            t_fast_quiet,
        )
    )
    quiet, t_quiet = _run_mode(instances, {"mode": "exact", "explain": False})
    rows.append(
        _row(
            case,
            "multistore exact, explain=False",
            [_minor(p) for p in quiet],
            opt,
            [len(p.shipments) for p in quiet],
            t_quiet,
        )
    )
    sample = instances[:milp_sample]
    milp, t_milp = _run_mode(sample, {"mode": "milp", "explain": False})
    rows.append(
        _row(
            case,
            "baseline: HiGHS MILP",
            [_minor(p) for p in milp],
            opt[: len(sample)],
            [len(p.shipments) for p in milp],
            t_milp,
            note=f"measured on the first {len(sample)} orders",
        )
    )
    for name, fn in (
        ("baseline: Magento MSI nearest-source", magento_nearest),
        ("baseline: Shopify fewest-splits-then-closest", shopify_fewest),
    ):

        def baseline(
            fn: Callable[[Sequence[CandidateStore], Order], tuple[int, int, int]] = fn,
        ) -> list[tuple[int, int, int]]:
            return [
                fn(cands.stores if isinstance(cands, StoreNetwork) else cands, order)
                for cands, order in instances
            ]

        results, secs = _timed(baseline)
        short = sum(r[2] for r in results)
        rows.append(
            _row(
                case,
                name,
                [r[0] for r in results],
                opt,
                [r[1] for r in results],
                secs,
                note=f"{short} unit(s) left unfulfilled" if short else "",
            )
        )
    return rows


def run(scale: float) -> list[Row]:
    n = max(10, round(300 * scale))
    rows: list[Row] = []
    suite = _random_suite(n)
    rows += _compare(
        f"random: {n} orders, 50 stores x 10 lines",
        [(s, o) for s, o in suite],
        milp_sample=max(5, min(n, round(60 * scale) or 5)),
    )
    stores, orders = _mixed_suite(n)
    net = StoreNetwork(stores)
    rows += _compare(
        f"mixed: {n} orders (1-12 lines), 60 stores in 4 cities",
        [(net, o) for o in orders],
        milp_sample=max(5, min(n, round(60 * scale) or 5)),
    )
    n_net = max(20, round(200 * scale))
    network, net_orders = _network_suite(n_net)
    for subject, policy in (
        ("multistore auto", {}),
        ("multistore fast", {"mode": "fast"}),
        ("multistore auto, explain=False", {"explain": False}),
    ):
        times = [math.inf] * len(net_orders)
        plans: list[RoutingPlan] = []
        for _ in range(PASSES):  # the fastest of the passes per order, as for the suites
            gc.collect()
            plans = []
            for n_order, (lines, dest) in enumerate(net_orders):
                start = time.process_time()
                plans.append(
                    route(lines=lines, candidates=network, destination=dest, policy=policy)
                )
                times[n_order] = min(times[n_order], (time.process_time() - start) * 1000)
        rows.append(
            Row(
                case=f"network: 2,000 stores with zones, {n_net} orders x 10 lines",
                subject=subject,
                metrics={
                    "median ms": statistics.median(times),
                    "p95 ms": percentile(times, 95),
                    "shipments/order": statistics.mean(len(p.shipments) for p in plans),
                    "proven optimal %": 100.0 * sum(p.optimal for p in plans) / len(plans),
                },
            )
        )
    return rows
