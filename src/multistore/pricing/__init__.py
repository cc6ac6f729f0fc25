"""Pricing and promotions: every promotion type, declarative stacking, best combination.

:func:`price_cart` prices a cart under a set of promotion definitions and a stacking policy:
it finds the valid combination that saves the customer most, allocates every discount to the
lines exactly (largest remainder, in fen), and explains what applied, what did not and why.

Examples:
    >>> from datetime import datetime, timezone
    >>> from multistore.money import money
    >>> cart = Cart(lines=[CartLine(line_id="L1", sku="tea", store_id="S1", quantity=2,
    ...                             unit_price=money("150.00"))])
    >>> promos = load_promotions('''
    ... - {id: FULL, type: spend_tiers, tiers: [{threshold: 300, amount: 50}]}
    ... ''')
    >>> ctx = PricingContext(now=datetime(2026, 11, 11, tzinfo=timezone.utc))
    >>> str(price_cart(cart=cart, promotions=promos, context=ctx).total.amount)
    '250.00'
"""

from __future__ import annotations

from multistore.pricing.allocation import allocate_capped
from multistore.pricing.cart import Cart, CartLine, PricingContext, UsageState
from multistore.pricing.compliance import (
    ComplianceFinding,
    ComplianceReport,
    SaleHistory,
    SalePoint,
    check_reference_prices,
)
from multistore.pricing.conditions import Eligibility, check_eligibility
from multistore.pricing.engine import (
    Adjustment,
    AppliedPromotion,
    Hint,
    NotApplied,
    PricedCart,
    PricedLine,
    PricedShipping,
    price_cart,
)
from multistore.pricing.errors import (
    CouponSpentError,
    InvalidCartError,
    PromotionCurrencyMismatchError,
    PromotionValidationError,
    UnknownCouponCodeError,
)
from multistore.pricing.promotions import (
    LANE_NAMES,
    AmountOff,
    BuyXGetY,
    Coupon,
    FixedPrice,
    FlashSale,
    GroupBuy,
    LimitedTime,
    MemberPrice,
    MemberTierDiscount,
    PercentOff,
    PointsRedemption,
    Promotion,
    QuantityPercent,
    Scope,
    ShippingDiscount,
    SpendEvery,
    SpendPercent,
    SpendTiers,
    load_promotion,
    load_promotions,
)
from multistore.pricing.stacking import (
    DEFAULT_POLICY,
    DiscountCap,
    LanePolicy,
    StackingPolicy,
    load_policy,
)

__all__ = [
    "DEFAULT_POLICY",
    "LANE_NAMES",
    "Adjustment",
    "AmountOff",
    "AppliedPromotion",
    "BuyXGetY",
    "Cart",
    "CartLine",
    "ComplianceFinding",
    "ComplianceReport",
    "Coupon",
    "CouponSpentError",
    "DiscountCap",
    "Eligibility",
    "FixedPrice",
    "FlashSale",
    "GroupBuy",
    "Hint",
    "InvalidCartError",
    "LanePolicy",
    "LimitedTime",
    "MemberPrice",
    "MemberTierDiscount",
    "NotApplied",
    "PercentOff",
    "PointsRedemption",
    "PricedCart",
    "PricedLine",
    "PricedShipping",
    "PricingContext",
    "Promotion",
    "PromotionCurrencyMismatchError",
    "PromotionValidationError",
    "QuantityPercent",
    "SaleHistory",
    "SalePoint",
    "Scope",
    "ShippingDiscount",
    "SpendEvery",
    "SpendPercent",
    "SpendTiers",
    "StackingPolicy",
    "UnknownCouponCodeError",
    "UsageState",
    "allocate_capped",
    "check_eligibility",
    "check_reference_prices",
    "load_policy",
    "load_promotion",
    "load_promotions",
    "price_cart",
]
