"""Eligibility: whether a promotion applies in this context and to which cart lines.

A promotion is eligible when the context passes (window, weekday, hour, channel, member,
first order, coupon code, quota) and at least one line is in scope (store, region, SKU,
category, brand). Otherwise the result says why, in a plain sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from multistore.pricing.cart import Cart, CartLine, PricingContext
from multistore.pricing.promotions import (
    FlashSale,
    Promotion,
    Scope,
)

__all__ = ["Eligibility", "check_eligibility", "flash_sale_allowance", "line_in_scope"]


@attrs.frozen
class Eligibility:
    """The outcome of the eligibility check of one promotion.

    Attributes:
        lines: Indexes (into ``cart.lines``) of the lines the promotion may discount.
        reason: Why the promotion does not apply, or ``None`` when it may.
        code: A stable reason code (``outside_window``, ``not_in_scope``...) or ``""``.
        coupon_code: The presented code that activated a coupon.
    """

    lines: tuple[int, ...] = ()
    reason: str | None = None
    code: str = ""
    coupon_code: str | None = None


def _fail(code: str, reason: str) -> Eligibility:
    return Eligibility(reason=reason, code=code)


def line_in_scope(scope: Scope, line: CartLine, cart: Cart) -> bool:
    """Return whether ``line`` is covered by ``scope`` (stores, regions, products)."""
    if line.sku in scope.exclude_skus:
        return False
    if scope.stores is not None and line.store_id not in scope.stores:
        return False
    if scope.regions is not None and cart.store_regions.get(line.store_id) not in scope.regions:
        return False
    if scope.skus is not None and line.sku not in scope.skus:
        return False
    if scope.categories is not None and line.category not in scope.categories:
        return False
    return scope.brands is None or line.brand in scope.brands


def _lines_in_scope(scope: Scope, cart: Cart) -> list[int]:
    """Indexes of the lines :func:`line_in_scope` accepts, with the scope's lists as sets."""
    stores = None if scope.stores is None else frozenset(scope.stores)
    regions = None if scope.regions is None else frozenset(scope.regions)
    skus = None if scope.skus is None else frozenset(scope.skus)
    categories = None if scope.categories is None else frozenset(scope.categories)
    brands = None if scope.brands is None else frozenset(scope.brands)
    excluded = frozenset(scope.exclude_skus)
    if not excluded and stores is regions is skus is categories is brands is None:
        return list(range(len(cart.lines)))
    store_regions = cart.store_regions
    out: list[int] = []
    for i, line in enumerate(cart.lines):
        if (
            line.sku in excluded
            or (stores is not None and line.store_id not in stores)
            or (regions is not None and store_regions.get(line.store_id) not in regions)
            or (skus is not None and line.sku not in skus)
            or (categories is not None and line.category not in categories)
            or (brands is not None and line.brand not in brands)
        ):
            continue
        out.append(i)
    return out


def flash_sale_allowance(promo: FlashSale, context: PricingContext) -> int:
    """Units this member may still buy at the flash-sale price (quota and per-member limit)."""
    remaining = context.usage.remaining.get(promo.id, promo.quota)
    allowance = max(0, min(remaining, promo.quota))
    if promo.per_member_limit is not None:
        used = context.usage.member_used.get(promo.id, 0)
        allowance = min(allowance, max(0, promo.per_member_limit - used))
    return allowance


def _context_problem(  # noqa: PLR0911 - one early return per condition reads best
    promo: Promotion, context: PricingContext
) -> Eligibility | None:
    now = context.now
    if not promo.in_window(now):
        if promo.starts_at is not None and now < promo.starts_at:
            return _fail("outside_window", f"starts at {promo.starts_at.isoformat()}")
        return _fail(
            "outside_window", f"ended at {promo.ends_at.isoformat() if promo.ends_at else ''}"
        )
    scope = promo.scope
    if scope.weekdays is not None or scope.hours is not None:
        local = now.astimezone(scope.zone())
        if scope.weekdays is not None and local.isoweekday() not in scope.weekdays:
            return _fail("outside_window", f"only on weekdays {scope.weekdays} (1 = Monday)")
        if scope.hours is not None and not scope.hours[0] <= local.hour < scope.hours[1]:
            return _fail(
                "outside_window",
                f"only from {scope.hours[0]}:00 to {scope.hours[1]}:00 ({scope.timezone})",
            )
    if scope.channels is not None and context.channel not in scope.channels:
        return _fail("wrong_channel", f"only in channel(s) {', '.join(scope.channels)}")
    if (scope.members_only or scope.member_tiers is not None) and context.member_id is None:
        return _fail("members_only", "for members only; sign in as a member")
    if scope.member_tiers is not None and context.member_tier not in scope.member_tiers:
        return _fail("member_tier", f"only for member tier(s) {', '.join(scope.member_tiers)}")
    if scope.first_order_only and not context.first_order:
        return _fail("first_order_only", "only on a member's first order")
    return None


def _type_problem(  # noqa: PLR0911 - one early return per promotion type
    promo: Promotion, context: PricingContext
) -> Eligibility | None:
    # Dispatch on the ``type`` tag: isinstance on pydantic models is slow when it fails.
    if promo.type in {"member_price", "member_tier_discount"} and context.member_id is None:
        return _fail("members_only", "for members only; sign in as a member")
    if promo.type == "member_tier_discount" and context.member_tier not in promo.percents:
        tiers = ", ".join(sorted(promo.percents))
        if context.member_tier is None:
            return _fail("member_tier", f"only for member tier(s) {tiers}")
        return _fail("member_tier", f"no discount for tier {context.member_tier!r}; only {tiers}")
    if promo.type == "group_buy":
        if promo.id not in context.group_buys:
            return _fail("not_in_group", "the cart has not joined this group buy")
        if promo.deadline is not None and context.now >= promo.deadline:
            return _fail("outside_window", f"the group closed at {promo.deadline.isoformat()}")
    if promo.type == "flash_sale" and flash_sale_allowance(promo, context) == 0:
        return _fail("quota_exhausted", "flash-sale quota or per-member limit used up")
    if promo.type == "points" and context.points_available < promo.points_per_unit:
        return _fail("no_points", f"needs at least {promo.points_per_unit} points to redeem")
    return None


def check_eligibility(*, promotion: Promotion, cart: Cart, context: PricingContext) -> Eligibility:
    """Check whether ``promotion`` may apply to ``cart`` in ``context``.

    Coupon codes and usage limits are checked by the engine before this (unknown or spent
    codes are errors); here a coupon without a presented code is simply not eligible.

    Args:
        promotion: The promotion to check.
        cart: The cart.
        context: The pricing context (time, member, channel, codes, usage).

    Returns:
        The eligible line indexes, or the reason it does not apply.
    """
    coupon_code: str | None = None
    if promotion.type == "coupon":
        coupon_code = next((c for c in context.coupon_codes if c in promotion.codes), None)
        if coupon_code is None:
            return _fail("no_code", "coupon code not presented")
    problem = _context_problem(promotion, context) or _type_problem(promotion, context)
    if problem is not None:
        return problem
    lines: Sequence[int] = _lines_in_scope(promotion.scope, cart)
    if promotion.type == "member_price":
        lines = [i for i in lines if cart.lines[i].sku in promotion.prices]
    if promotion.type == "shipping" and not any(
        cart.shipping_fees.get(cart.lines[i].store_id) for i in lines
    ):
        return _fail("no_shipping_fee", "no shipping fee to discount")
    if not lines:
        return _fail("not_in_scope", "no line in the cart is covered")
    return Eligibility(lines=tuple(lines), coupon_code=coupon_code)
