"""A year of ledger sales in three stores -> reorder points, alerts, purchase orders, transfers.

Everything goes through ``ms.replenishment`` on a SQLite file: last year's POS sales are imported
into the stock ledger, reorder points are recomputed from it, today's sales raise one
below-reorder-point alert per crossing, and the plan suggests transfers and purchase orders.

Run: python examples/replenishment_service.py
"""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import multistore
from multistore import SYSTEM_ACTOR as HQ
from multistore.inventory.model import MovementKind, StockMovement
from multistore.money import money
from multistore.replenishment import LeadTime, SupplyTerms, TransferCosts
from multistore.testing.builders import sample_product, sample_store
from multistore.testing.fakes import FixedClock

CHINA = timedelta(hours=8)
TODAY = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
STORES = {  # id -> (lat, lon)
    "SH-01": (31.2304, 121.4737),  # Shanghai
    "SZ-01": (31.2989, 120.5853),  # Suzhou
    "HZ-01": (30.2741, 120.1551),  # Hangzhou
}
RATES = {  # mean daily sales; the gift box sells now and then
    ("SH-01", "TEA-LJ"): 12.0,
    ("SZ-01", "TEA-LJ"): 6.0,
    ("HZ-01", "TEA-LJ"): 2.0,
    ("SH-01", "GIFT-BOX"): 0.3,
    ("SZ-01", "GIFT-BOX"): 0.2,
    ("HZ-01", "GIFT-BOX"): 0.25,
}
ON_HAND_TODAY = {
    ("SH-01", "TEA-LJ"): 70,
    ("SZ-01", "TEA-LJ"): 60,
    ("HZ-01", "TEA-LJ"): 300,
    ("SH-01", "GIFT-BOX"): 3,
    ("SZ-01", "GIFT-BOX"): 9,
    ("HZ-01", "GIFT-BOX"): 1,
}
SUPPLY = [
    SupplyTerms(
        sku="TEA-LJ",
        supplier_id="westlake-tea",
        lead_time=LeadTime(mean_days=5, std_days=1),
        unit_cost=money("38.00"),
        order_cost=money("120.00"),
        order_multiple=12,
    ),
    SupplyTerms(
        sku="GIFT-BOX",
        supplier_id="gift-co",
        lead_time=LeadTime(mean_days=10),
        unit_cost=money("168.00"),
        min_order_quantity=5,
    ),
]
POLICY = {"kind": "ss", "service_level": 0.95}


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def import_last_year(ms: multistore.Multistore) -> None:
    """Book a year of daily sales (and the deliveries that fed them) into the ledger at once."""
    rng = random.Random(7)
    with ms.unit_of_work() as uow:
        for (store_id, sku), rate in RATES.items():
            daily = [_poisson(rng, rate) for _ in range(365)]
            first = TODAY - timedelta(days=365)
            uow.stock.record(
                StockMovement(
                    store_id=store_id,
                    sku=sku,
                    kind=MovementKind.RECEIPT,
                    quantity=sum(daily) + ON_HAND_TODAY[store_id, sku],
                    occurred_at=first,
                    reason="opening stock",
                )
            )
            for day, sold in enumerate(daily):
                if sold:
                    uow.stock.record(
                        StockMovement(
                            store_id=store_id,
                            sku=sku,
                            kind=MovementKind.SALE,
                            quantity=-sold,
                            occurred_at=first + timedelta(days=day, hours=5),
                            reason="POS import",
                        )
                    )
        uow.commit()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'chain.db'}"
        with multistore.connect(url, clock=FixedClock(TODAY)) as ms:
            for store_id, (lat, lon) in STORES.items():
                ms.stores.add(actor=HQ, store=sample_store(store_id, lat=lat, lon=lon))
            ms.catalog.add_product(actor=HQ, product=sample_product("TEA", ["TEA-LJ"]))
            ms.catalog.add_product(actor=HQ, product=sample_product("GIFT", ["GIFT-BOX"]))
            import_last_year(ms)

            done = ms.replenishment.recompute(
                actor=HQ, supply=SUPPLY, days=365, utc_offset=CHINA, policy=POLICY
            )
            print(f"Reorder points from {done.start} to {done.end} ({done.alerts} already low):")
            for p in done.points:
                print(
                    f"  {p.store_id} {p.sku:<8} {p.forecaster:<8} {p.demand_mean:5.2f}/day  "
                    f"safety {p.safety_stock:5.1f}  reorder at {p.reorder_point:6.1f}  "
                    f"up to {p.order_up_to:6.1f}"
                )

            alerts: list[str] = []
            ms.events.subscribe(
                "replenishment.below_reorder_point",
                lambda event: alerts.append(str(event.payload["explanation"])),
            )
            ms.relay_events(limit=100_000)
            for _ in range(6):  # this morning's sales in Suzhou
                ms.inventory.record_movement(
                    actor=HQ, store_id="SZ-01", sku="TEA-LJ", kind="sale", quantity=-5
                )
            ms.relay_events(limit=100_000)
            print("Alerts:")
            for line in alerts:
                print("  " + line)

            result = ms.replenishment.plan(
                actor=HQ,
                supply=SUPPLY,
                days=365,
                utc_offset=CHINA,
                policy=POLICY,
                transfer_costs=TransferCosts(
                    fixed_cost=money("30.00"), cost_per_unit_km=Decimal("0.004")
                ),
            )
            print("Transfers:")
            for move in result.transfers:
                print(f"  {move.sku} {move.from_store} -> {move.to_store}: {move.quantity}")
            print("Purchase orders:")
            for order in result.purchase_orders:
                print(f"  {order.supplier_id}: {order.explanation[0]}")
                for line in order.lines:
                    print(f"    {line.store_id} {line.sku} x{line.quantity}  ({line.value})")


if __name__ == "__main__":
    main()
