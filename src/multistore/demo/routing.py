"""Demo section ``routing``: route a handful of orders across the demo chain.

Each plan is printed with its explanation and its cost against the nearest-store alternative
(every line filled from the nearest store holding it, as most order systems do).
"""

from __future__ import annotations

from collections.abc import Callable

from multistore.demo.chain import STOCK, STORES
from multistore.geo import GeoPoint, haversine_km
from multistore.money import money
from multistore.routing import (
    CandidateStore,
    RoutingPlan,
    ShipmentCosts,
    StoreNetwork,
    route,
    shipment_cost,
)

__all__ = ["run"]

_COURIER = ShipmentCosts(base="6", per_km="0.01", per_unit="0.20", per_unit_km="0.002")
_CONVENIENCE = ShipmentCosts(base="4", per_km="0.30", per_unit="0.10")

_ORDERS: tuple[tuple[str, dict[str, int], GeoPoint], ...] = (
    (
        "Tea and milk to the Bund, Shanghai",
        {"TEA-250G": 2, "MILK-1L": 2},
        GeoPoint(31.2400, 121.4900),
    ),
    (
        "A big basket to Xintiandi, Shanghai",
        {"TEA-500G": 4, "MILK-1L": 6, "KETTLE-17": 1, "RICE-5KG": 2},
        GeoPoint(31.2190, 121.4750),
    ),
    (
        "A kettle and rice to Wangfujing, Beijing",
        {"KETTLE-17": 1, "RICE-5KG": 2},
        GeoPoint(39.9150, 116.4110),
    ),
    ("Tea to Tianhe, Guangzhou", {"TEA-500G": 1, "TEA-250G": 1}, GeoPoint(23.1250, 113.3200)),
)


def _network() -> StoreNetwork:
    stores = []
    for s in STORES:
        stock = {sku: qty for (sid, sku), qty in STOCK.items() if sid == s.id}
        convenience = s.format == "convenience"
        stores.append(
            CandidateStore(
                store_id=s.id,
                name=s.name,
                location=s.location,
                stock=stock,
                costs=_CONVENIENCE if convenience else _COURIER,
                max_radius_km=8.0 if convenience else None,
                pickup=True,
            )
        )
    return StoreNetwork(stores)


def _nearest_fill(net: StoreNetwork, lines: dict[str, int], dest: GeoPoint) -> tuple[int, int]:
    """(shipping cost in fen, shipments) of filling each line from the nearest store holding it."""
    ranked = []
    for s in net.stores:
        d = round(haversine_km(s.location, dest) * 1000) / 1000
        if s.max_radius_km is None or d <= s.max_radius_km:
            ranked.append((d, s.store_id, s))
    ranked.sort(key=lambda x: (x[0], x[1]))
    parcels: dict[str, tuple[float, CandidateStore, dict[str, int]]] = {}
    for sku, qty in lines.items():
        left = qty
        for d, sid, s in ranked:
            take = min(left, s.stock.get(sku, 0))
            if take:
                parcels.setdefault(sid, (d, s, {}))[2][sku] = take
                left -= take
            if not left:
                break
    total = money("0")
    for d, s, parcel in parcels.values():
        total += shipment_cost(store=s, distance_km=d, lines=parcel)
    return int(total.amount * 100), len(parcels)


def _print_plan(
    out: Callable[[str], None], title: str, plan: RoutingPlan, alt: tuple[int, int]
) -> None:
    out(f"  {title}")
    for s in plan.shipments:
        lines = ", ".join(f"{line.sku} x{line.quantity}" for line in s.lines)
        out(f"    {s.store_id:6} {lines:48} {s.distance_km:7.2f} km  ¥{s.cost.amount}")
    for u in plan.unfulfilled:
        out(f"    unfulfilled: {u.sku} x{u.quantity} ({u.reason})")
    cost = int(plan.shipping_cost.amount * 100)
    saved = alt[0] - cost
    out(
        f"    total ¥{plan.shipping_cost.amount} in {len(plan.shipments)} parcel(s); nearest-store "
        f"fill: ¥{alt[0] / 100:.2f} in {alt[1]} parcel(s) (saves ¥{saved / 100:.2f})"
    )
    for sentence in plan.explanation:
        out(f"    - {sentence}")


def run(out: Callable[[str], None]) -> None:
    """Route the demo orders and print each plan, its explanation and the nearest-store cost."""
    out("Order routing: the cheapest set of stores for each order, with the reasons")
    net = _network()
    for title, lines, dest in _ORDERS:
        plan = route(lines=lines, candidates=net, destination=dest)
        _print_plan(out, title, plan, _nearest_fill(net, lines, dest))
