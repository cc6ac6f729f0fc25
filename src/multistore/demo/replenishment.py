"""Demo section ``replenishment``: a year of seeded sales -> purchase orders and transfers.

The demo chain's stores (Shanghai, Hangzhou, Beijing, Guangzhou, Shenzhen) sell milk every day
(reviewed every two days, order-up-to), rice most days ((r, Q) with EOQ), tea now and then
(min/max) and kettles rarely. Their current stock is the chain's demo
stock; the section prints the plan's top transfers and purchase lines with the forecast, safety
stock, reorder point, on-hand and on-order figures behind each.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from multistore.demo.chain import STOCK, STORES
from multistore.money import money
from multistore.replenishment import (
    LeadTime,
    Plan,
    ReplenishmentPolicy,
    SalesRecord,
    StockPosition,
    SupplyTerms,
    TransferCosts,
    build_histories,
    plan,
)

__all__ = ["demo_plan", "run"]

_START, _END = date(2025, 11, 1), date(2026, 10, 31)

# (mean units per selling day, chance of a sale on a day): milk sells daily, kettles rarely.
_PATTERN = {
    "MILK-1L": (14.0, 1.0),
    "RICE-5KG": (2.5, 0.8),
    "TEA-250G": (1.6, 0.35),
    "TEA-500G": (1.3, 0.2),
    "KETTLE-17": (1.2, 0.08),
}
_SIZE = {"supermarket": 1.0, "convenience": 0.6}

_SUPPLY = (
    SupplyTerms(
        sku="MILK-1L",
        supplier_id="bright-dairy",
        lead_time=LeadTime(mean_days=1, std_days=0.3),
        unit_cost=money("9.80"),
        order_cost=money("40.00"),
        order_multiple=12,
    ),
    SupplyTerms(
        sku="RICE-5KG",
        supplier_id="wuchang-grain",
        lead_time=LeadTime(mean_days=7, std_days=2),
        store_lead_times={"GZ-TH": LeadTime(mean_days=9, std_days=2.5)},
        unit_cost=money("52.00"),
        order_cost=money("120.00"),
        order_multiple=4,
        min_order_quantity=20,
    ),
    SupplyTerms(
        sku="TEA-250G",
        supplier_id="westlake-tea",
        lead_time=LeadTime(mean_days=5, std_days=1.5),
        unit_cost=money("98.00"),
        order_cost=money("80.00"),
        order_multiple=6,
    ),
    SupplyTerms(
        sku="TEA-500G",
        supplier_id="westlake-tea",
        lead_time=LeadTime(mean_days=5, std_days=1.5),
        unit_cost=money("176.00"),
        order_cost=money("80.00"),
        order_multiple=6,
    ),
    SupplyTerms(
        sku="KETTLE-17",
        supplier_id="midea",
        lead_time=LeadTime(mean_days=10, std_days=3),
        unit_cost=money("82.00"),
        order_cost=money("150.00"),
        order_multiple=2,
    ),
)


def _sales(rng: random.Random) -> list[SalesRecord]:
    fmt = {s.id: s.format for s in STORES}
    records: list[SalesRecord] = []
    day = _START
    while day <= _END:
        weekend = 1.3 if day.weekday() >= 5 else 1.0
        for store_id, sku in sorted(STOCK):
            mean, chance = _PATTERN[sku]
            if rng.random() >= chance:
                continue
            size = mean * _SIZE.get(fmt[store_id], 1.0) * weekend
            qty = max(0, round(rng.gauss(size, size * 0.35)))
            if qty:
                records.append(SalesRecord(store_id=store_id, sku=sku, day=day, quantity=qty))
        day += timedelta(days=1)
    return records


def demo_plan(seed: int = 11) -> Plan:
    """The demo chain's replenishment plan for a seeded year of sales."""
    rng = random.Random(seed)
    histories = build_histories(records=_sales(rng), start=_START, end=_END, keys=STOCK)
    positions = [
        StockPosition(store_id=store_id, sku=sku, on_hand=units)
        for (store_id, sku), units in sorted(STOCK.items())
    ]
    policy = ReplenishmentPolicy(kind="rq", service_level=0.95, max_transfer_km=300)
    tea = {"kind": "min_max", "service_level": 0.95, "cover_days": 21, "max_transfer_km": 300}
    return plan(
        histories=histories,
        positions=positions,
        supply=_SUPPLY,
        policy=policy,
        sku_policies={
            # Fresh milk: order up to two days' cover at every daily review.
            "MILK-1L": {"kind": "rs", "review_period_days": 2, "service_level": 0.98},
            "TEA-250G": tea,
            "TEA-500G": tea,
        },
        locations={s.id: s.location for s in STORES},
        transfer_costs=TransferCosts(fixed_cost=money("25.00"), cost_per_unit_km=Decimal("0.003")),
    )


def run(out: Callable[[str], None]) -> None:
    """Print the top transfer and purchase suggestions with the numbers behind them."""
    result = demo_plan()
    city = {s.id: s.address.city for s in STORES}
    out("Smart replenishment (智能补货) for a seeded year of sales at the demo chain:")
    for sentence in result.explanation:
        out(sentence)
    out("")
    out("Top transfers between stores:")
    for t in sorted(result.transfers, key=lambda t: -t.quantity)[:5]:
        out(
            f"  {t.sku}: {t.from_store} ({city[t.from_store]}) -> {t.to_store} "
            f"({city[t.to_store]}) x{t.quantity}, {t.distance_km:.0f} km"
        )
        for sentence in t.explanation:
            out(f"      {sentence}")
    if not result.transfers:
        out("  (none)")
    out("")
    out("Top purchase lines:")
    lines = [(po.supplier_id, line) for po in result.purchase_orders for line in po.lines]
    lines.sort(key=lambda pair: -(pair[1].value.amount if pair[1].value else Decimal(0)))
    for supplier, line in lines[:5]:
        worth = f" ({line.value.amount} {line.value.currency.value})" if line.value else ""
        out(f"  {supplier}: {line.store_id} {line.sku} x{line.quantity}{worth}")
        for sentence in line.explanation:
            out(f"      {sentence}")
    out("")
    out("Purchase orders by supplier:")
    for po in result.purchase_orders:
        out(f"  {po.supplier_id}: {po.explanation[0]}")
