"""The inputs of :func:`~multistore.pricing.price_cart`: cart lines, context and usage state.

All are frozen attrs values. Amounts are :class:`Money`; the engine converts them to integer
minor units (fen) once and works exactly from there.

Examples:
    >>> from multistore.money import money
    >>> line = CartLine(line_id="L1", sku="tea", store_id="S1", quantity=2,
    ...                 unit_price=money("35.00"))
    >>> Cart(lines=(line,)).currency.value
    'CNY'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs
from money.currency import Currency
from money.money import Money

from multistore.money import ensure_same_currency
from multistore.pricing.errors import InvalidCartError

__all__ = ["Cart", "CartLine", "PricingContext", "UsageState"]


def _money_map(value: Mapping[str, Money] | None) -> Mapping[str, Money]:
    return dict(value or {})


def _str_map(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return dict(value or {})


def _int_map(value: Mapping[str, int] | None) -> Mapping[str, int]:
    """The usage counters as a dict: promotion ids to non-negative ints.

    Raises:
        InvalidCartError: ``pricing.invalid_context`` when a key is not a string or a count
            is not a non-negative ``int`` (``bool``, ``float`` and ``str`` are refused).
    """
    out = dict(value or {})
    for pid, count in out.items():
        if not isinstance(pid, str):
            raise InvalidCartError(
                f"usage counters are keyed by promotion id (a string), got {pid!r}",
                code="pricing.invalid_context",
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidCartError(
                f"usage count of promotion {pid!r} must be a non-negative int, got {count!r}",
                code="pricing.invalid_context",
            )
    return out


def _lines(value: Iterable[CartLine]) -> tuple[CartLine, ...]:
    return tuple(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _idset(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen
class CartLine:
    """One line of a cart.

    Attributes:
        line_id: Unique id of the line within the cart.
        sku: The product.
        store_id: The store selling the line (carts may span stores).
        quantity: Units, at least 1.
        unit_price: List price of one unit.
        category: Product category, for category-scoped promotions.
        brand: Product brand, for brand-scoped promotions.
        floor_price: Lowest unit price the line may be discounted to (cost floor); ``None``
            means zero.
    """

    line_id: str
    sku: str
    store_id: str
    quantity: int
    unit_price: Money
    category: str | None = None
    brand: str | None = None
    floor_price: Money | None = None

    def __attrs_post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int):
            raise InvalidCartError(
                f"line {self.line_id!r}: quantity must be an int, got {self.quantity!r}"
            )
        if self.quantity < 1:
            raise InvalidCartError(
                f"line {self.line_id!r}: quantity must be at least 1, got {self.quantity}"
            )
        if not isinstance(self.unit_price, Money) or self.unit_price.amount < 0:
            raise InvalidCartError(
                f"line {self.line_id!r}: unit_price must be a non-negative Money, "
                f"got {self.unit_price!r}"
            )
        if self.floor_price is not None:
            ensure_same_currency(self.unit_price, self.floor_price)
            if self.floor_price.amount < 0:
                raise InvalidCartError(f"line {self.line_id!r}: floor_price must not be negative")


@attrs.frozen
class Cart:
    """A cart: lines (possibly from several stores) and each store's shipping fee.

    Attributes:
        lines: The lines; ids must be unique.
        shipping_fees: Shipping fee charged by each store id (stores absent pay none).
        store_regions: Region code of each store id, for region-scoped promotions.
    """

    lines: tuple[CartLine, ...] = attrs.field(converter=_lines)
    shipping_fees: Mapping[str, Money] = attrs.field(factory=dict, converter=_money_map)
    store_regions: Mapping[str, str] = attrs.field(factory=dict, converter=_str_map)

    def __attrs_post_init__(self) -> None:
        if not self.lines:
            raise InvalidCartError("the cart has no lines; add at least one line to price it")
        seen: set[str] = set()
        for line in self.lines:
            if line.line_id in seen:
                raise InvalidCartError(
                    f"line id {line.line_id!r} appears twice; give every line its own id"
                )
            seen.add(line.line_id)
        ensure_same_currency(
            *(line.unit_price for line in self.lines), *self.shipping_fees.values()
        )
        for store, fee in self.shipping_fees.items():
            if fee.amount < 0:
                raise InvalidCartError(f"shipping fee of store {store!r} must not be negative")

    @property
    def currency(self) -> Currency:
        """The cart's currency (that of its first line)."""
        return self.lines[0].unit_price.currency


@attrs.frozen
class UsageState:
    """Counters the stateful side owns, passed in so the pure engine can respect limits.

    Attributes:
        remaining: Promotion id -> what is left in total: units of a flash-sale quota, or
            redemptions of a coupon's ``total_limit``. Absent means the full quota or limit.
        member_used: Promotion id -> what this member already used: flash-sale units bought or
            coupon redemptions. Absent means zero.

    Raises:
        InvalidCartError: ``pricing.invalid_context`` when a count is not a non-negative
            ``int`` (``bool``, ``float`` and ``str`` are refused) or a key is not a string.
    """

    remaining: Mapping[str, int] = attrs.field(factory=dict, converter=_int_map)
    member_used: Mapping[str, int] = attrs.field(factory=dict, converter=_int_map)


@attrs.frozen
class PricingContext:
    """Everything about the moment and the buyer that promotions may depend on.

    Attributes:
        now: The pricing instant (timezone-aware); the engine never reads a clock.
        member_id: The identified member, or ``None`` for a guest.
        member_tier: The member's tier (``"gold"``).
        first_order: Whether this is the member's first order.
        channel: Sales channel (``"app"``, ``"mini_program"``, ``"pos"``).
        coupon_codes: Coupon codes presented (or held in the member's wallet).
        points_available: Points the member offers to redeem.
        group_buys: Ids of group-buy promotions whose group this cart belongs to.
        usage: Remaining quotas and the member's usage so far.
    """

    now: datetime
    member_id: str | None = None
    member_tier: str | None = None
    first_order: bool = False
    channel: str | None = None
    coupon_codes: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    points_available: int = 0
    group_buys: frozenset[str] = attrs.field(default=frozenset(), converter=_idset)
    usage: UsageState = attrs.field(factory=UsageState)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.now, datetime) or self.now.tzinfo is None:
            raise InvalidCartError(
                "context.now must be a timezone-aware datetime, e.g. "
                "datetime(2026, 11, 11, tzinfo=timezone.utc)",
                code="pricing.invalid_context",
            )
        points = self.points_available
        if isinstance(points, bool) or not isinstance(points, int) or points < 0:
            raise InvalidCartError(
                f"context.points_available must be a non-negative int, got {points!r}",
                code="pricing.invalid_context",
            )
