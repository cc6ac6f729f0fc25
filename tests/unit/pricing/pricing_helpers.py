"""Small builders shared by the pricing unit tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from multistore.money import money
from multistore.pricing import (
    Cart,
    CartLine,
    PricedCart,
    PricingContext,
    StackingPolicy,
    load_promotions,
    price_cart,
)

NOW = datetime(2026, 11, 11, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a Wednesday


def line(
    line_id: str,
    price: str,
    qty: int = 1,
    *,
    sku: str | None = None,
    store: str = "S1",
    category: str | None = None,
    brand: str | None = None,
    floor: str | None = None,
) -> CartLine:
    return CartLine(
        line_id=line_id,
        sku=sku or line_id.lower(),
        store_id=store,
        quantity=qty,
        unit_price=money(price),
        category=category,
        brand=brand,
        floor_price=money(floor) if floor is not None else None,
    )


def cart(*lines: CartLine, shipping: dict[str, str] | None = None) -> Cart:
    return Cart(
        lines=lines,
        shipping_fees={k: money(v) for k, v in (shipping or {}).items()},
    )


def ctx(**kwargs: Any) -> PricingContext:
    kwargs.setdefault("now", NOW)
    return PricingContext(**kwargs)


def price(
    c: Cart,
    promos: Any,
    *,
    policy: StackingPolicy | None = None,
    oracle: bool = False,
    **context: Any,
) -> PricedCart:
    return price_cart(
        cart=c,
        promotions=load_promotions(promos),
        context=ctx(**context),
        policy=policy,
        oracle=oracle,
    )


def finals(priced: PricedCart) -> dict[str, str]:
    return {pl.line_id: str(pl.final_amount.amount) for pl in priced.lines}


def adjustments(priced: PricedCart) -> dict[str, list[tuple[str, str]]]:
    return {
        pl.line_id: [(a.promotion_id, str(a.amount.amount)) for a in pl.adjustments]
        for pl in priced.lines
    }


def reasons(priced: PricedCart) -> dict[str, str]:
    return {n.promotion_id: n.reason for n in priced.not_applied}
