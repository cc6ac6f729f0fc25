"""Price a cart with 满减, a coupon and a flash-sale item, and show where every fen went.

Run: python examples/pricing_cart.py
"""

from __future__ import annotations

from datetime import UTC, datetime

from multistore.money import money
from multistore.pricing import Cart, CartLine, PricingContext, load_promotions, price_cart

PROMOTIONS = """
- id: full-300-50
  type: spend_tiers
  tiers: [{threshold: 200, amount: 20}, {threshold: 300, amount: 50}]
- id: coupon-20
  type: coupon
  codes: [SAVE20]
  amount: 20
  min_spend: 100
- id: phone-flash
  type: flash_sale
  price: "1799.00"
  quota: 20
  per_member_limit: 1
  scope: {skus: [phone-x]}
  starts_at: "2026-11-11T10:00:00+08:00"
  ends_at: "2026-11-11T12:00:00+08:00"
- id: free-shipping
  type: shipping
  min_spend: 99
"""


def main() -> None:
    cart = Cart(
        lines=[
            CartLine(
                line_id="L1",
                sku="tea",
                store_id="S1",
                quantity=2,
                unit_price=money("88.00"),
                category="tea",
            ),
            CartLine(
                line_id="L2",
                sku="cup",
                store_id="S1",
                quantity=1,
                unit_price=money("45.50"),
                category="ware",
            ),
            CartLine(
                line_id="L3", sku="phone-x", store_id="S2", quantity=2, unit_price=money("1999.00")
            ),
        ],
        shipping_fees={"S1": money("8.00"), "S2": money("12.00")},
    )
    context = PricingContext(
        now=datetime(2026, 11, 11, 3, 30, tzinfo=UTC),  # 11:30 in Shanghai
        member_id="m-1001",
        coupon_codes=("SAVE20",),
    )
    priced = price_cart(cart=cart, promotions=load_promotions(PROMOTIONS), context=context)

    for sentence in priced.explanation:
        print(sentence)
    print()
    print(f"{'line':<5}{'sku':<9}{'list':>10}  adjustments{'':<36}{'final':>10}")
    for pl in priced.lines:
        adj = ", ".join(f"{a.promotion_id} -{a.amount.amount}" for a in pl.adjustments)
        print(
            f"{pl.line_id:<5}{pl.sku:<9}{pl.list_amount.amount:>10}  {adj:<47}"
            f"{pl.final_amount.amount:>10}"
        )
    for s in priced.shipping:
        print(f"ship {s.store_id:<9}{s.fee.amount:>10}  {'':<47}{s.final_amount.amount:>10}")
    print(f"{'total':<14}{priced.subtotal.amount:>10}  {'':<47}{priced.total.amount:>10}")
    assert sum(pl.final_amount.amount for pl in priced.lines) + priced.shipping_total.amount == (
        priced.total.amount
    )


if __name__ == "__main__":
    main()
