"""Route orders across a small chain of Shanghai stores and print each plan.

Run with ``python examples/routing_shanghai.py``.
"""

from __future__ import annotations

from multistore.routing import (
    CandidateStore,
    OrderRequest,
    RoutingPlan,
    ShipmentCosts,
    StoreNetwork,
    reroute,
    route,
    route_batch,
)

# Courier costs: ¥6 per parcel + ¥0.01/km, plus ¥0.20 per unit + ¥0.002 per unit-km.
COURIER = ShipmentCosts(base="6", per_km="0.01", per_unit="0.20", per_unit_km="0.002")
# The flagship has its own riders: a cheaper parcel, but only within 5 km.
RIDERS = ShipmentCosts(base="4", per_km="0.30", per_unit="0.10")

# Delivery zone of the Pudong store: (lon, lat) corners around Lujiazui and Century Park.
PUDONG_ZONE = "POLYGON ((121.49 31.21, 121.58 31.21, 121.58 31.26, 121.49 31.26, 121.49 31.21))"

STORES = [
    CandidateStore(
        store_id="SH-JA",
        name="Jing'an Temple",
        location=(31.2235, 121.4453),
        stock={"TEA-250G": 6, "MILK-1L": 12, "KETTLE-17": 1},
        costs=RIDERS,
        max_radius_km=5.0,
        priority=1,
        pickup=True,
    ),
    CandidateStore(
        store_id="SH-PD",
        name="Pudong Lujiazui",
        location=(31.2397, 121.4998),
        stock={"TEA-250G": 12, "RICE-5KG": 40, "MILK-1L": 60},
        costs=COURIER,
        zone=PUDONG_ZONE,
    ),
    CandidateStore(
        store_id="SH-XH",
        name="Xuhui Xujiahui",
        location=(31.1940, 121.4368),
        stock={"TEA-250G": 3, "TEA-500G": 5, "MILK-1L": 25, "RICE-5KG": 8},
        costs=COURIER,
        pickup=True,
    ),
    CandidateStore(
        store_id="SH-HK",
        name="Hongkou Football Stadium",
        location=(31.2707, 121.4818),
        stock={"KETTLE-17": 4, "RICE-5KG": 6, "TEA-500G": 2},
        costs=COURIER,
    ),
    CandidateStore(
        store_id="SH-MH",
        name="Minhang Xinzhuang",
        location=(31.1128, 121.3817),
        stock={"TEA-250G": 30, "TEA-500G": 20, "RICE-5KG": 30, "MILK-1L": 30, "KETTLE-17": 10},
        costs=COURIER,
    ),
]

NETWORK = StoreNetwork(STORES)  # validate once, route many orders


def show(title: str, plan: RoutingPlan) -> None:
    print(f"\n== {title}: {plan.status}, objective {plan.objective.amount} CNY")
    for s in plan.shipments:
        lines = ", ".join(f"{line.sku} x{line.quantity}" for line in s.lines)
        where = "pickup" if s.pickup else f"{s.distance_km:.2f} km"
        print(f"  {s.store_id:6} {lines:40} {where:>9}  {s.cost.amount} CNY")
    for u in plan.unfulfilled:
        print(f"  unfulfilled: {u.sku} x{u.quantity} ({u.reason})")
    for sentence in plan.explanation:
        print(f"  - {sentence}")


def main() -> None:
    the_bund = (31.2400, 121.4900)
    people_square = (31.2304, 121.4737)
    century_park = (31.2196, 121.5447)

    show(
        "Tea and milk to People's Square",
        route(lines={"TEA-250G": 2, "MILK-1L": 3}, candidates=NETWORK, destination=people_square),
    )

    big = route(
        lines={"TEA-500G": 4, "RICE-5KG": 2, "KETTLE-17": 2, "MILK-1L": 2},
        candidates=NETWORK,
        destination=the_bund,
        policy={"split_penalty": "2.00"},
    )
    show("A mixed basket to the Bund (¥2 penalty per extra parcel)", big)

    show(
        "Century Park, tea pinned to Minhang by the operator",
        route(
            lines={"TEA-250G": 2, "RICE-5KG": 1},
            candidates=NETWORK,
            destination=century_park,
            pins={"TEA-250G": "SH-MH"},
        ),
    )

    show(
        "Pickup at Xuhui, other stores may transfer",
        route(
            lines={"TEA-500G": 2, "KETTLE-17": 1},
            candidates=NETWORK,
            pickup_store="SH-XH",
            policy={"pickup_transfers": True},
        ),
    )

    rejected = big.shipments[0].store_id
    show(
        f"The Bund basket after {rejected} rejects its parcel",
        reroute(
            plan=big, rejected_store=rejected, candidates=NETWORK, policy={"split_penalty": "2.00"}
        ),
    )

    batch = route_batch(
        orders=[
            OrderRequest(order_id=f"o{n}", lines={"KETTLE-17": 4}, destination=people_square)
            for n in range(1, 5)
        ],
        candidates=NETWORK,
    )
    print("\n== Four kettle orders against shared stock")
    for order_id, plan in batch.plans.items():
        print(
            f"  {order_id}: {plan.status:9} from {', '.join(plan.store_ids) or '-'}; "
            f"unfulfilled {sum(u.quantity for u in plan.unfulfilled)}"
        )
    print(f"  {batch.explanation[0]}")


if __name__ == "__main__":
    main()
