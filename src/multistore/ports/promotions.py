"""Ports for the stateful side of promotions.

Coupon wallets and redemptions, usage counters, flash-sale quotas, group buys and price history.

The pure engine (:func:`multistore.pricing.price_cart`) reads limits from a
:class:`~multistore.pricing.UsageState`; these ports own the counters behind it. Every
consuming call is atomic (no over-redemption or overselling of a quota however many workers
call at once) and idempotent per order id (repeating a call for the same order returns the
first outcome and consumes nothing more). A call that raises has changed nothing.

Errors are multistore's own: ``NotFoundError`` for unknown ids or codes, ``ConflictError`` when
a limit is exhausted or a state transition is not allowed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Protocol, runtime_checkable

import attrs

from multistore.errors import ValidationError
from multistore.pricing.cart import UsageState
from multistore.pricing.compliance import SalePoint

__all__ = [
    "CouponWallet",
    "FlashSaleQuotas",
    "GroupBuyGroup",
    "GroupBuyStatus",
    "GroupBuys",
    "PriceHistory",
    "Redemption",
    "SalePoint",
    "UsageCounters",
    "check_limit",
    "check_units",
]


def check_limit(value: int | None, what: str) -> None:
    """Check a limit or quota argument of these ports: a whole number >= 0, or ``None``.

    Every adapter calls it before it reads or writes anything, so they reject the same input
    with the same error.

    Raises:
        ValidationError: ``promotion.invalid_limit`` for a negative, fractional or bool value.
    """
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValidationError(
            f"{what} must be a whole number >= 0 or None, got {value!r}",
            code="promotion.invalid_limit",
        )


def check_units(units: int) -> None:
    """Check a unit count asked of :meth:`FlashSaleQuotas.consume`: a whole number >= 0.

    Raises:
        ValidationError: ``promotion.invalid_units`` for a negative, fractional or bool value.
    """
    if isinstance(units, bool) or not isinstance(units, int) or units < 0:
        raise ValidationError(
            f"units must be a whole number >= 0, got {units!r}", code="promotion.invalid_units"
        )


@attrs.frozen
class Redemption:
    """One coupon redemption by one order.

    Attributes:
        promotion_id: The coupon promotion.
        code: The code redeemed.
        member_id: The redeeming member (``None`` for guests).
        order_id: The order it was redeemed for (unique per coupon).
    """

    promotion_id: str
    code: str
    member_id: str | None
    order_id: str


class GroupBuyStatus(Enum):
    """Lifecycle of a group buy: open -> (joined...) -> succeeded or failed."""

    OPEN = "open"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@attrs.frozen
class GroupBuyGroup:
    """A group of a group-buy promotion.

    Attributes:
        group_id: The group.
        promotion_id: The group-buy promotion.
        min_participants: Members needed for success.
        deadline: When an unfilled group fails.
        members: ``(member_id, order_id)`` of each participant, leader first.
        status: Current status.
        released_orders: Orders whose holds were released (voided) when the group failed.
    """

    group_id: str
    promotion_id: str
    min_participants: int
    deadline: datetime
    members: tuple[tuple[str, str], ...]
    status: GroupBuyStatus
    released_orders: tuple[str, ...] = ()


@runtime_checkable
class CouponWallet(Protocol):
    """Coupons issued to members and their redemptions."""

    def issue(self, *, member_id: str, promotion_id: str, code: str) -> None:
        """Put a coupon code in a member's wallet. Idempotent: issuing it again is a no-op.

        Raises ``ConflictError`` (``coupon.code_taken``) when the code belongs to another
        member or promotion.
        """
        ...

    def codes(self, *, member_id: str) -> Sequence[str]:
        """Return the member's unredeemed codes, sorted."""
        ...

    def redeem(
        self,
        *,
        promotion_id: str,
        code: str,
        member_id: str | None,
        order_id: str,
        per_member_limit: int | None,
        total_limit: int | None,
    ) -> Redemption:
        """Redeem a code for an order, atomically within both limits.

        Idempotent per ``(promotion_id, order_id)``: the same order gets the same redemption
        back without consuming again. Raises ``ConflictError`` (``promotion.coupon_spent``) when
        a limit is reached, ``NotFoundError`` (``promotion.unknown_coupon_code``) when a wallet
        code was issued to someone else.
        """
        ...

    def release(self, *, promotion_id: str, order_id: str) -> bool:
        """Undo the order's redemption (order cancelled). Returns whether one was undone.

        Idempotent: releasing twice releases once.
        """
        ...


@runtime_checkable
class UsageCounters(Protocol):
    """Read side: the :class:`UsageState` the pure engine needs for one member."""

    def usage_state(self, *, member_id: str | None, promotion_ids: Collection[str]) -> UsageState:
        """Return remaining totals and the member's usage for the given promotions.

        Only promotions with a recorded total limit or quota appear in ``remaining``; a
        consistent snapshot (one read) of the counters.
        """
        ...


@runtime_checkable
class FlashSaleQuotas(Protocol):
    """Flash-sale quotas and per-member purchases."""

    def consume(
        self,
        *,
        promotion_id: str,
        member_id: str | None,
        order_id: str,
        units: int,
        quota: int,
        per_member_limit: int | None,
    ) -> int:
        """Take up to ``units`` from the quota for an order; return how many were granted.

        Atomic: the sum granted over all orders never exceeds ``quota``, nor a member's total
        ``per_member_limit``. Grants as many as both allow (possibly 0). Idempotent per
        ``(promotion_id, order_id)``: a repeat returns the first grant and takes nothing more.
        """
        ...

    def release(self, *, promotion_id: str, order_id: str) -> int:
        """Return an order's units to the quota (order cancelled); return how many.

        Idempotent: a second release returns 0.
        """
        ...


@runtime_checkable
class GroupBuys(Protocol):
    """Group-buy groups: open -> joined -> succeeded / failed (holds released on failure)."""

    def open(
        self,
        *,
        group_id: str,
        promotion_id: str,
        member_id: str,
        order_id: str,
        min_participants: int,
        deadline: datetime,
    ) -> GroupBuyGroup:
        """Open a group with its leader.

        Idempotent for the same leader and order; ``ConflictError`` (``group_buy.duplicate``)
        when the id is taken otherwise.
        """
        ...

    def join(self, *, group_id: str, member_id: str, order_id: str, now: datetime) -> GroupBuyGroup:
        """Add a member to an open group, atomically; the group succeeds when full.

        Idempotent per ``(group_id, member_id)``. ``ConflictError`` (``group_buy.closed``) when
        the group is not open or its deadline passed; ``NotFoundError`` for an unknown group.
        """
        ...

    def resolve(self, *, group_id: str, now: datetime) -> GroupBuyGroup:
        """Settle a group at ``now``.

        Past the deadline an unfilled group fails and every member's order is released.
        Idempotent; a settled group is returned unchanged.
        """
        ...

    def get(self, *, group_id: str) -> GroupBuyGroup:
        """Return the group. ``NotFoundError`` (``group_buy.not_found``)."""
        ...


@runtime_checkable
class PriceHistory(Protocol):
    """Actual sale prices, for the reference-price ("was" price) rule."""

    def record_sale(self, *, sku: str, at: datetime, unit_price: Decimal) -> None:
        """Record one sale at the unit price actually paid (major units)."""
        ...

    def sales(self, *, sku: str, since: datetime | None, until: datetime) -> Sequence[SalePoint]:
        """Return the sales of ``sku`` with ``since <= at < until``, oldest first.

        There is no lower bound when ``since`` is ``None``.
        """
        ...
