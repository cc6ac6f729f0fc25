"""Turn a year of sales in three stores into purchase orders and inter-store transfers.

Run: python examples/replenishment_plan.py
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from multistore.geo import GeoPoint
from multistore.money import money
from multistore.replenishment import (
    LeadTime,
    ReplenishmentPolicy,
    SalesRecord,
    StockPosition,
    SupplyTerms,
    TransferCosts,
    build_histories,
    plan,
)

START, END = date(2024, 1, 1), date(2024, 12, 31)
STORES = {
    "SH-01": GeoPoint(31.2304, 121.4737),  # Shanghai
    "HZ-01": GeoPoint(30.2741, 120.1551),  # Hangzhou
    "SZ-01": GeoPoint(31.2989, 120.5853),  # Suzhou
}
# Mean daily sales per store and SKU; the gift box sells only now and then.
RATES = {
    ("SH-01", "TEA-LJ"): 12.0,
    ("HZ-01", "TEA-LJ"): 9.0,
    ("SZ-01", "TEA-LJ"): 6.0,
    ("SH-01", "GIFT-BOX"): 0.3,
    ("HZ-01", "GIFT-BOX"): 0.2,
    ("SZ-01", "GIFT-BOX"): 0.25,
}


def sales_history(rng: random.Random) -> list[SalesRecord]:
    records = []
    day = START
    while day <= END:
        weekend = 1.4 if day.weekday() >= 5 else 1.0
        for (store, sku), rate in RATES.items():
            if sku == "GIFT-BOX":
                qty = rng.choice([1, 2, 2, 3, 6]) if rng.random() < rate else 0
            else:
                qty = max(0, round(rng.gauss(rate * weekend, rate * 0.3)))
            if qty:
                records.append(SalesRecord(store_id=store, sku=sku, day=day, quantity=qty))
        day += timedelta(days=1)
    return records


def main() -> None:
    rng = random.Random(2024)
    histories = build_histories(records=sales_history(rng), start=START, end=END)
    supply = [
        SupplyTerms(
            sku="TEA-LJ",
            supplier_id="westlake-tea",
            lead_time=LeadTime(mean_days=5, std_days=1.5),
            store_lead_times={"SZ-01": LeadTime(mean_days=6, std_days=2)},
            unit_cost=money("38.00"),
            order_cost=money("120.00"),
            order_multiple=12,
            min_order_quantity=24,
        ),
        SupplyTerms(
            sku="GIFT-BOX",
            supplier_id="jiangnan-gifts",
            lead_time=LeadTime(mean_days=10, std_days=3),
            unit_cost=money("168.00"),
            order_multiple=1,
        ),
    ]
    positions = [
        StockPosition(store_id="SH-01", sku="TEA-LJ", on_hand=40, on_order=0),
        StockPosition(store_id="HZ-01", sku="TEA-LJ", on_hand=900, on_order=0),
        StockPosition(store_id="SZ-01", sku="TEA-LJ", on_hand=30, on_order=24),
        StockPosition(store_id="SH-01", sku="GIFT-BOX", on_hand=1),
        StockPosition(store_id="HZ-01", sku="GIFT-BOX", on_hand=6),
        StockPosition(store_id="SZ-01", sku="GIFT-BOX", on_hand=0),
    ]
    policy = ReplenishmentPolicy.load(
        {"kind": "rq", "service_level": 0.95, "holding_cost_rate": "0.25", "max_transfer_km": 300}
    )
    result = plan(
        histories=histories,
        positions=positions,
        supply=supply,
        policy=policy,
        locations=STORES,
        transfer_costs=TransferCosts(fixed_cost=money("30.00"), cost_per_unit_km=Decimal("0.004")),
    )
    for line in result.explanation:
        print(line)
    print("\nTransfers:")
    for t in result.transfers:
        print(f"  {t.sku}: {t.from_store} -> {t.to_store} x{t.quantity} ({t.distance_km:.0f} km)")
        for sentence in t.explanation:
            print(f"      {sentence}")
    print("\nPurchase orders:")
    for po in result.purchase_orders:
        print(f"  {po.supplier_id}: {po.explanation[0]}")
        for line in po.lines:
            print(f"    {line.store_id} {line.sku} x{line.quantity}")
            for sentence in line.explanation:
                print(f"      {sentence}")


if __name__ == "__main__":
    main()
