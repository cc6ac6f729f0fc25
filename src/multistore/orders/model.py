"""The order model: lines, destination and the delivery status machine."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

import attrs
from money.money import Money

from multistore import money as m
from multistore._validation import (
    check_enum,
    check_line_amount,
    check_lines_total,
    check_positive_int,
    valid_id,
)
from multistore.errors import ConflictError, FloatMoneyError, ValidationError
from multistore.geo import GeoPoint

__all__ = ["Order", "OrderLine", "OrderStatus"]


class OrderStatus(enum.StrEnum):
    """Where an order is in its life (配送状态).

    pending -> accepted -> out of warehouse -> in delivery -> delivered; cancelled from any state
    before it leaves the warehouse.
    """

    PENDING = "pending"
    ACCEPTED = "accepted"
    OUT_OF_WAREHOUSE = "out_of_warehouse"
    IN_DELIVERY = "in_delivery"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    def can_become(self, target: OrderStatus) -> bool:
        """Whether the status machine allows moving from this status to ``target``."""
        return target in _TRANSITIONS[self]


_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.ACCEPTED, OrderStatus.CANCELLED}),
    OrderStatus.ACCEPTED: frozenset({OrderStatus.OUT_OF_WAREHOUSE, OrderStatus.CANCELLED}),
    OrderStatus.OUT_OF_WAREHOUSE: frozenset({OrderStatus.IN_DELIVERY, OrderStatus.DELIVERED}),
    OrderStatus.IN_DELIVERY: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


@attrs.frozen
class OrderLine:
    """One line of an order: a quantity of one SKU at a unit price.

    Raises:
        ValidationError: for an empty SKU, a non-positive quantity, or a negative price;
            ``validation.invalid`` for a quantity above ``2**63 - 1``; ``order.invalid_price``
            for a unit price or line amount above ``2**63 - 1`` minor units.
        FloatMoneyError: for a float price.
    """

    sku: str = attrs.field(validator=valid_id("line.sku"))
    quantity: int = attrs.field()
    unit_price: Money = attrs.field()

    def __attrs_post_init__(self) -> None:
        check_positive_int(self.quantity, "line.quantity")
        if isinstance(self.unit_price, float):
            raise FloatMoneyError(f"unit price of {self.sku!r} is a float; pass Money")
        if not isinstance(self.unit_price, Money) or self.unit_price.amount < 0:
            raise ValidationError(
                f"unit price of {self.sku!r} must be a non-negative Money",
                code="order.invalid_price",
            )
        # also bounds the unit price: the quantity is at least 1
        check_line_amount(self.unit_price, self.quantity, "line.amount", code="order.invalid_price")

    @property
    def amount(self) -> Money:
        """Quantity x unit price."""
        return m.from_minor(m.to_minor(self.unit_price) * self.quantity, self.unit_price.currency)


def _line_tuple(lines: Iterable[OrderLine]) -> tuple[OrderLine, ...]:
    return tuple(lines)


def _order_status(value: object) -> OrderStatus:
    return check_enum(OrderStatus, value, "order.status")


@attrs.frozen
class Order:
    """A customer order as received from a sales channel.

    Attributes:
        id: multistore's order id.
        channel: Sales channel code (``"wechat_mini"``, ``"web"``, ``"meituan"``).
        external_id: The channel's own order number; ``(channel, external_id)`` is unique.
        lines: Ordered lines; at least one, SKUs distinct, one currency.
        destination: Delivery point, or ``None`` for pickup.
        pickup_store_id: Store where the customer collects, for pickup orders.
        member_id: The member who ordered, if known.
        status: Delivery status.
        created_at: When the order was received (UTC).

    Raises:
        ValidationError: for empty ids, no lines, duplicate SKUs, neither destination nor
            pickup store, or a destination that is not a GeoPoint; ``order.invalid_price``
            for a total above ``2**63 - 1`` minor units.
        CurrencyMismatchError: when lines are priced in different currencies.
    """

    id: str = attrs.field(validator=valid_id("order.id"))
    channel: str = attrs.field(validator=valid_id("order.channel"))
    external_id: str = attrs.field(validator=valid_id("order.external_id"))
    lines: tuple[OrderLine, ...] = attrs.field(converter=_line_tuple)
    destination: GeoPoint | None = None
    pickup_store_id: str | None = None
    member_id: str | None = None
    status: OrderStatus = attrs.field(default=OrderStatus.PENDING, converter=_order_status)
    created_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if not self.lines:
            raise ValidationError(
                f"order {self.id!r} has no lines; add at least one", code="validation.empty_lines"
            )
        skus = [line.sku for line in self.lines]
        if len(set(skus)) != len(skus):
            raise ValidationError(
                f"order {self.id!r} lists a SKU twice; merge the quantities into one line",
                code="order.duplicate_sku",
            )
        m.ensure_same_currency(*(line.unit_price for line in self.lines))
        check_lines_total(
            [(line.unit_price, line.quantity) for line in self.lines],
            "order.total",
            code="order.invalid_price",
        )
        if self.destination is None and self.pickup_store_id is None:
            raise ValidationError(
                f"order {self.id!r} needs a destination or a pickup store",
                code="order.no_destination",
            )
        if self.destination is not None and not isinstance(self.destination, GeoPoint):
            raise ValidationError(
                "order.destination must be a GeoPoint(lat, lon)", code="geo.invalid_coordinate"
            )

    @property
    def total(self) -> Money:
        """Sum of the line amounts."""
        return m.sum((line.amount for line in self.lines), self.lines[0].unit_price.currency)

    def with_status(self, target: OrderStatus) -> Order:
        """Return a copy in status ``target``.

        Raises:
            ConflictError: ``order.invalid_transition`` when the status machine forbids it.
        """
        if not self.status.can_become(target):
            raise ConflictError(
                f"order {self.id!r} cannot go from {self.status.value} to {target.value}",
                code="order.invalid_transition",
            )
        return attrs.evolve(self, status=target)
