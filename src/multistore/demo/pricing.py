"""Demo section: price a few carts under a small promotion calendar (``multistore demo``).

Prints, for each cart, the promotions applied and rejected with their reasons, the 凑单 hints
and the per-line allocation of every discount.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from multistore.money import money
from multistore.pricing import (
    Cart,
    CartLine,
    PricedCart,
    PricingContext,
    load_promotions,
    price_cart,
)

__all__ = ["CALENDAR", "run"]

CALENDAR = """
- id: d11-full
  name: 双十一满减
  type: spend_tiers
  tiers: [{threshold: 200, amount: 20}, {threshold: 300, amount: 50}]
  starts_at: "2026-11-11T00:00:00+08:00"
  ends_at: "2026-11-12T00:00:00+08:00"
- id: d11-platform
  name: 跨店每满300减30
  type: spend_every
  level: platform
  every: 300
  amount: 30
  cap: 150
  starts_at: "2026-11-11T00:00:00+08:00"
  ends_at: "2026-11-12T00:00:00+08:00"
- id: phone-flash
  type: flash_sale
  price: "1799.00"
  quota: 20
  per_member_limit: 1
  scope: {skus: [phone-x]}
  starts_at: "2026-11-11T10:00:00+08:00"
  ends_at: "2026-11-11T12:00:00+08:00"
- id: tea-second-half
  type: buy_x_get_y
  buy: 1
  get: 1
  percent: 50
  scope: {categories: [tea]}
  exclusive_group: tea
- id: tea-90
  type: percent_off
  percent: 10
  scope: {categories: [tea]}
  exclusive_group: tea
- id: gold-member
  type: member_tier_discount
  percents: {gold: 5}
  exclusive_group: tea
- id: save20
  type: coupon
  codes: [SAVE20]
  amount: 20
  min_spend: 150
- id: welcome
  type: coupon
  codes: [WELCOME50]
  amount: 50
  min_spend: 99
  level: platform
  combines_with: []
  scope: {first_order_only: true}
- id: lunch
  type: coupon
  codes: [LUNCH]
  percent: 10
  max_off: 25
  scope: {channels: [app], weekdays: [1, 2, 3, 4, 5], hours: [11, 14]}
- id: points
  type: points
  points_per_unit: 100
  max_percent: 10
- id: free-shipping
  type: shipping
  min_spend: 99
"""


def _line(line_id: str, sku: str, store: str, qty: int, *, price: str, cat: str) -> CartLine:
    return CartLine(
        line_id=line_id,
        sku=sku,
        store_id=store,
        quantity=qty,
        unit_price=money(price),
        category=cat,
    )


def _show(out: Callable[[str], None], title: str, priced: PricedCart) -> None:
    out(f"-- {title}")
    for sentence in priced.explanation:
        out(f"   {sentence}")
    for pl in priced.lines:
        adj = ", ".join(f"{a.promotion_id} -{a.amount.amount}" for a in pl.adjustments) or "-"
        out(
            f"   {pl.line_id} {pl.sku:<10} {pl.list_amount.amount:>9} -> "
            f"{pl.final_amount.amount:>9}  [{adj}]"
        )
    for s in priced.shipping:
        out(f"   shipping {s.store_id}: {s.fee.amount} -> {s.final_amount.amount}")
    out("")


def run(out: Callable[[str], None]) -> None:
    """Price three carts under :data:`CALENDAR` and print what applied and why.

    Args:
        out: Where each line of output goes (``print`` in the CLI).
    """
    promotions = load_promotions(CALENDAR)
    out("Pricing: three carts under a Double-11 promotion calendar")
    out("")
    lunch = datetime(2026, 11, 11, 3, 30, tzinfo=UTC)  # Wednesday 11:30 in Shanghai

    tea_cart = Cart(
        lines=[
            _line("L1", "longjing", "S1", 2, price="88.00", cat="tea"),
            _line("L2", "cup", "S1", 1, price="45.50", cat="ware"),
        ],
        shipping_fees={"S1": money("8.00")},
    )
    _show(
        out,
        "tea lover, app, lunchtime, coupons SAVE20 and LUNCH",
        price_cart(
            cart=tea_cart,
            promotions=promotions,
            context=PricingContext(
                now=lunch,
                member_id="m1",
                member_tier="gold",
                channel="app",
                coupon_codes=("SAVE20", "LUNCH"),
                points_available=800,
            ),
        ),
    )

    cross = Cart(
        lines=[
            _line("L1", "phone-x", "S2", 2, price="1999.00", cat="phone"),
            _line("L2", "longjing", "S1", 1, price="88.00", cat="tea"),
            _line("L3", "case", "S2", 1, price="59.00", cat="accessory"),
        ],
        shipping_fees={"S1": money("8.00"), "S2": money("12.00")},
    )
    _show(
        out,
        "first order across two stores, flash sale running, WELCOME50 presented",
        price_cart(
            cart=cross,
            promotions=promotions,
            context=PricingContext(
                now=lunch,
                member_id="m2",
                first_order=True,
                channel="mini_program",
                coupon_codes=("WELCOME50", "SAVE20"),
            ),
        ),
    )

    evening = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    _show(
        out,
        "same tea cart in the evening (flash sale and lunch coupon over)",
        price_cart(
            cart=tea_cart,
            promotions=promotions,
            context=PricingContext(
                now=evening, member_id="m1", channel="app", coupon_codes=("LUNCH",)
            ),
        ),
    )
