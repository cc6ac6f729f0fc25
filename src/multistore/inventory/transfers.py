"""Shared rules of transfers between stores, used by every storage adapter alike.

The adapters differ in how they store a :class:`~multistore.inventory.model.Transfer`; the
movements a transfer books and the errors it raises are the same everywhere, so they live here.
"""

from __future__ import annotations

from datetime import datetime

from multistore.errors import ConflictError, InsufficientStockError, NotFoundError
from multistore.inventory.model import (
    MovementKind,
    Quota,
    StockMovement,
    Transfer,
    TransferStatus,
)

__all__ = [
    "quota_short",
    "transfer_closed",
    "transfer_conflict",
    "transfer_movement",
    "transfer_not_found",
    "transfer_short",
]


def transfer_movement(
    transfer: Transfer, kind: MovementKind, at: datetime, actor_id: str
) -> StockMovement:
    """Return the ledger movement a transfer books when it ships, lands or is cancelled.

    ``transfer_out`` takes the units out of the source; ``transfer_in`` puts them into the
    destination when ``transfer.status`` is ``received``, or back into the source when it is
    ``cancelled``.
    """
    if kind is MovementKind.TRANSFER_OUT:
        store_id, quantity, reason = transfer.from_store, -transfer.quantity, "transfer shipped"
    elif transfer.status is TransferStatus.CANCELLED:
        store_id, quantity, reason = transfer.from_store, transfer.quantity, "transfer cancelled"
    else:
        store_id, quantity, reason = transfer.to_store, transfer.quantity, "transfer received"
    return StockMovement(
        store_id=store_id,
        sku=transfer.sku,
        kind=kind,
        quantity=quantity,
        occurred_at=at,
        reason=reason,
        reference=transfer.id,
        actor_id=actor_id,
    )


def transfer_conflict(transfer_id: str) -> ConflictError:
    """The error for a transfer id reused with other stores, SKU or quantity."""
    return ConflictError(
        f"transfer id {transfer_id!r} is already used for another shipment; use a new id "
        "for a different transfer",
        code="stock.transfer_conflict",
        details={"transfer_id": transfer_id},
    )


def transfer_short(transfer: Transfer, available: int) -> InsufficientStockError:
    """The error for a transfer that asks for more units than the source has free."""
    return InsufficientStockError(
        f"store {transfer.from_store!r} has {max(0, available)} unreserved unit(s) of "
        f"{transfer.sku!r}, transfer {transfer.id!r} asks for {transfer.quantity}; ship fewer "
        "units or release reservations first. Nothing was shipped",
        code="stock.insufficient",
        details={
            "transfer_id": transfer.id,
            "store_id": transfer.from_store,
            "sku": transfer.sku,
            "requested": transfer.quantity,
            "available": max(0, available),
        },
    )


def transfer_not_found(transfer_id: str) -> NotFoundError:
    """The error for an unknown transfer id."""
    return NotFoundError(
        f"transfer {transfer_id!r} does not exist; ship it first",
        code="stock.transfer_not_found",
        details={"transfer_id": transfer_id},
    )


def transfer_closed(transfer: Transfer, wanted: TransferStatus) -> ConflictError:
    """The error for receiving a cancelled transfer or cancelling a received one."""
    verb = "received" if wanted is TransferStatus.RECEIVED else "cancelled"
    return ConflictError(
        f"transfer {transfer.id!r} is already {transfer.status.value} and cannot be {verb}",
        code="stock.transfer_closed",
        details={"transfer_id": transfer.id, "status": transfer.status.value},
    )


def quota_short(quota: Quota, extra: int, available: int) -> InsufficientStockError:
    """The error for raising a quota by more units than are available."""
    return InsufficientStockError(
        f"cannot fence {extra} more unit(s) of {quota.sku!r} in {quota.store_id!r} for "
        f"{quota.channel!r}: only {max(0, available)} available (after reservations and the "
        "safety buffer); set a smaller quota or receive stock first",
        code="stock.insufficient",
        details={
            "store_id": quota.store_id,
            "sku": quota.sku,
            "channel": quota.channel,
            "requested": extra,
            "available": max(0, available),
        },
    )
