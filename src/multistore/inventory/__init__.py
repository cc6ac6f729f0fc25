"""Inventory: stock per (store, SKU), reservations and the movement ledger."""

from multistore.inventory.model import (
    MovementKind,
    Quota,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
    Transfer,
    TransferStatus,
)

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
