"""Errors raised by the pricing engine, each a subclass of a :mod:`multistore.errors` family.

Codes are stable and dotted; match on ``err.code``:

* ``promotion.invalid`` and the field codes in ``details["errors"]`` (``promotion.invalid_tier``,
  ``promotion.unknown_type``, ``promotion.invalid_percentage``, ``promotion.invalid_window``,
  ``promotion.invalid_amount``, ...) -- a promotion or policy definition is wrong.
* ``promotion.currency_mismatch`` -- a promotion and the cart use different currencies.
* ``promotion.unknown_coupon_code`` -- a presented coupon code matches no coupon.
* ``promotion.coupon_spent`` -- a presented coupon has no redemptions left for this member.
* ``pricing.invalid_cart`` / ``pricing.invalid_context`` -- the cart or context is malformed.
"""

from __future__ import annotations

from multistore.errors import ConflictError, CurrencyMismatchError, NotFoundError, ValidationError

__all__ = [
    "CouponSpentError",
    "InvalidCartError",
    "PromotionCurrencyMismatchError",
    "PromotionValidationError",
    "UnknownCouponCodeError",
]


class PromotionValidationError(ValidationError):
    """A promotion definition or stacking policy is invalid; ``details["errors"]`` lists all."""

    default_code = "promotion.invalid"


class InvalidCartError(ValidationError):
    """The cart or pricing context is malformed (empty, duplicate line ids, bad quantities)."""

    default_code = "pricing.invalid_cart"


class PromotionCurrencyMismatchError(CurrencyMismatchError):
    """A promotion is defined in another currency than the cart."""

    default_code = "promotion.currency_mismatch"


class UnknownCouponCodeError(NotFoundError):
    """A coupon code presented with the cart matches no coupon promotion."""

    default_code = "promotion.unknown_coupon_code"


class CouponSpentError(ConflictError):
    """A presented coupon has no redemptions left (in total or for this member)."""

    default_code = "promotion.coupon_spent"
