"""The inventory model: stock levels, the movement ledger and reservations (holds for orders)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

import attrs

from multistore._validation import (
    check_enum,
    check_int_range,
    check_non_negative_int,
    check_positive_int,
    valid_id,
)
from multistore.errors import ValidationError

__all__ = [
    "MovementKind",
    "Quota",
    "Reservation",
    "ReservationLine",
    "ReservationStatus",
    "StockLevel",
    "StockMovement",
    "Transfer",
    "TransferStatus",
]


@attrs.frozen
class StockLevel:
    """Stock of one SKU in one store.

    Attributes:
        store_id: The store.
        sku: The SKU code.
        on_hand: Units physically in the store.
        reserved: Units held for orders not yet fulfilled (never more than ``on_hand``).
        safety_buffer: Units never sold online (the last N units stay for walk-in customers).

    Raises:
        ValidationError: for empty ids, negative quantities or ``reserved > on_hand``.
    """

    store_id: str = attrs.field(validator=valid_id("store_id"))
    sku: str = attrs.field(validator=valid_id("sku"))
    on_hand: int = attrs.field(default=0)
    reserved: int = attrs.field(default=0)
    safety_buffer: int = attrs.field(default=0)

    def __attrs_post_init__(self) -> None:
        check_non_negative_int(self.on_hand, "on_hand")
        check_non_negative_int(self.reserved, "reserved")
        check_non_negative_int(self.safety_buffer, "safety_buffer")
        if self.reserved > self.on_hand:
            raise ValidationError(
                f"reserved ({self.reserved}) exceeds on hand ({self.on_hand}) for "
                f"{self.store_id}/{self.sku}",
                code="stock.invalid_level",
            )

    @property
    def available(self) -> int:
        """Units that can still be reserved: on hand - reserved - safety buffer (never < 0)."""
        return max(0, self.on_hand - self.reserved - self.safety_buffer)


class MovementKind(enum.StrEnum):
    """Why on-hand stock changed; the ledger of movements explains every unit."""

    RECEIPT = "receipt"
    SALE = "sale"
    RETURN = "return"
    ADJUSTMENT = "adjustment"
    COUNT_CORRECTION = "count_correction"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"


def _movement_kind(value: object) -> MovementKind:
    return check_enum(MovementKind, value, "kind")


@attrs.frozen
class StockMovement:
    """One append-only entry of the stock ledger: on hand = the sum of its movements.

    Attributes:
        store_id: The store.
        sku: The SKU code.
        kind: Why the stock moved.
        quantity: Signed change of on-hand units (receipts positive, sales negative).
        reason: Free text for people reading the ledger.
        reference: The document behind the movement (order id, transfer id, count sheet).
        actor_id: Who caused it.
        occurred_at: When it happened (UTC).
    """

    store_id: str = attrs.field(validator=valid_id("store_id"))
    sku: str = attrs.field(validator=valid_id("sku"))
    kind: MovementKind = attrs.field(converter=_movement_kind)
    quantity: int
    occurred_at: datetime
    reason: str = ""
    reference: str = ""
    actor_id: str = "system"

    def __attrs_post_init__(self) -> None:
        if (
            isinstance(self.quantity, bool)
            or not isinstance(self.quantity, int)
            or self.quantity == 0
        ):
            raise ValidationError(
                f"movement quantity must be a non-zero int, got {self.quantity!r}",
                code="validation.non_positive_quantity",
            )
        check_int_range(self.quantity, "quantity")


@attrs.frozen
class ReservationLine:
    """Units of one SKU held in one store.

    Raises:
        ValidationError: for empty ids or a quantity that is not a positive int.
    """

    store_id: str = attrs.field(validator=valid_id("store_id"))
    sku: str = attrs.field(validator=valid_id("sku"))
    quantity: int = attrs.field()

    def __attrs_post_init__(self) -> None:
        check_positive_int(self.quantity, "quantity")


class ReservationStatus(enum.StrEnum):
    """A reservation is active until committed (sold), released or expired."""

    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


def _sorted_lines(lines: Iterable[ReservationLine]) -> tuple[ReservationLine, ...]:
    return tuple(sorted(lines, key=lambda line: (line.store_id, line.sku)))


@attrs.frozen
class Reservation:
    """An all-or-nothing hold of stock for one order, identified by an idempotency key.

    Attributes:
        key: Idempotency key (usually the order id); reserving twice with it is a no-op.
        lines: The held units, in sorted (store, sku) order.
        status: Lifecycle status.
        created_at: When the hold was taken (UTC).
        expires_at: When an active hold lapses and its stock returns (UTC), if ever.
    """

    key: str = attrs.field(validator=valid_id("reservation key"))
    lines: tuple[ReservationLine, ...] = attrs.field(converter=_sorted_lines)
    status: ReservationStatus = ReservationStatus.ACTIVE
    created_at: datetime | None = None
    expires_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if not self.lines:
            raise ValidationError(
                f"reservation {self.key!r} holds nothing; give at least one line",
                code="validation.empty_lines",
            )
        pairs = [(line.store_id, line.sku) for line in self.lines]
        if len(set(pairs)) != len(pairs):
            raise ValidationError(
                f"reservation {self.key!r} names the same (store, sku) twice; merge the lines",
                code="stock.duplicate_line",
            )


class TransferStatus(enum.StrEnum):
    """A transfer is in transit from the moment it ships until it is received or cancelled."""

    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"


def _transfer_status(value: object) -> TransferStatus:
    return check_enum(TransferStatus, value, "status")


@attrs.frozen
class Transfer:
    """Units of one SKU sent from one store to another, identified by an idempotency id.

    Shipping books a ``transfer_out`` movement at the source; the units are then *in transit*
    (in neither store's on hand) until receiving books a ``transfer_in`` at the destination, or a
    cancellation books it back at the source.

    Attributes:
        id: Idempotency id (the transfer document number).
        from_store: The store that ships.
        to_store: The store that receives.
        sku: The SKU code.
        quantity: Units shipped (positive).
        status: Lifecycle status.
        shipped_at: When it shipped (UTC).
        closed_at: When it was received or cancelled (UTC), if it was.

    Raises:
        ValidationError: ``stock.transfer_same_store`` when both stores are the same, and the
            usual codes for empty ids or a quantity that is not a positive int.
    """

    id: str = attrs.field(validator=valid_id("transfer id"))
    from_store: str = attrs.field(validator=valid_id("from_store"))
    to_store: str = attrs.field(validator=valid_id("to_store"))
    sku: str = attrs.field(validator=valid_id("sku"))
    quantity: int = attrs.field()
    shipped_at: datetime
    status: TransferStatus = attrs.field(
        default=TransferStatus.IN_TRANSIT, converter=_transfer_status
    )
    closed_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        check_positive_int(self.quantity, "quantity")
        if self.from_store == self.to_store:
            raise ValidationError(
                f"transfer {self.id!r} ships from {self.from_store!r} to itself; name two "
                "different stores",
                code="stock.transfer_same_store",
                details={"store_id": self.from_store},
            )

    def same_shipment(self, other: Transfer) -> bool:
        """Whether ``other`` names the same stores, SKU and quantity (an idempotent repeat)."""
        return (self.from_store, self.to_store, self.sku, self.quantity) == (
            other.from_store,
            other.to_store,
            other.sku,
            other.quantity,
        )


@attrs.frozen
class Quota:
    """Units of a store's stock ring-fenced for one channel or campaign (e.g. a flash sale).

    The fenced units count as reserved in the :class:`StockLevel`, so ordinary reservations
    cannot take them; reservations that name the channel draw from the quota instead.

    Attributes:
        store_id: The store.
        sku: The SKU code.
        channel: The channel or campaign the units are held for (``"flash-1111"``, ``"meituan"``).
        units: Fenced units still unsold.
    """

    store_id: str = attrs.field(validator=valid_id("store_id"))
    sku: str = attrs.field(validator=valid_id("sku"))
    channel: str = attrs.field(validator=valid_id("channel"))
    units: int = attrs.field(default=0)

    def __attrs_post_init__(self) -> None:
        check_non_negative_int(self.units, "units")
