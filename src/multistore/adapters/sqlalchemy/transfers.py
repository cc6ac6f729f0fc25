"""Transfers between stores on SQL: the stock repository extended with an in-transit state.

Every step is a single statement whose ``WHERE`` clause decides, like the reservations:

* shipping claims the transfer id (``INSERT ... ON CONFLICT DO NOTHING``), then takes the units
  out of the source with ``UPDATE stock_levels SET on_hand = on_hand - q WHERE ... AND
  on_hand - reserved >= q``; if no row matches, the claim is deleted and nothing is written;
* receiving and cancelling are ``UPDATE stock_transfers SET status = ... WHERE status =
  'in_transit'``, so of two concurrent calls exactly one books the ``transfer_in`` movement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Row, bindparam, delete, insert, select, update

from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.repositories import (
    SqlStockRepository,
    _movement_values,
    translated,
)
from multistore.inventory.model import MovementKind, Transfer, TransferStatus
from multistore.inventory.transfers import (
    transfer_closed,
    transfer_conflict,
    transfer_movement,
    transfer_not_found,
    transfer_short,
)

__all__ = ["SqlStockWithTransfersRepository"]

_T = t.stock_transfers.c
_LEVEL = t.stock_levels.c

_TAKE = (
    update(t.stock_levels)
    .where(
        _LEVEL.store_id == bindparam("s"),
        _LEVEL.sku == bindparam("k"),
        bindparam("q", type_=BigInteger()) <= _LEVEL.on_hand - _LEVEL.reserved,
    )
    .values(on_hand=_LEVEL.on_hand - bindparam("q", type_=BigInteger()))
)
"""Takes ``q`` unreserved units out of one (store, sku) row, or matches nothing."""


def _transfer_from_row(row: Row[Any]) -> Transfer:
    return Transfer(
        id=row.id,
        from_store=row.from_store_id,
        to_store=row.to_store_id,
        sku=row.sku,
        quantity=int(row.quantity),
        status=TransferStatus(row.status),
        shipped_at=row.shipped_at,
        closed_at=row.closed_at,
    )


class SqlStockWithTransfersRepository(SqlStockRepository):
    """:class:`SqlStockRepository` plus transfers (see the ``StockRepository`` port)."""

    @translated("shipping a transfer")
    def ship_transfer(self, transfer: Transfer, *, actor_id: str = "system") -> Transfer:
        """Ship a transfer: ``transfer_out`` at the source, units in transit (see the port)."""
        conn = self._conn
        claim = (
            self._insert(t.stock_transfers)
            .values(
                id=transfer.id,
                from_store_id=transfer.from_store,
                to_store_id=transfer.to_store,
                sku=transfer.sku,
                quantity=transfer.quantity,
                status=TransferStatus.IN_TRANSIT.value,
                shipped_at=transfer.shipped_at,
                closed_at=None,
            )
            .on_conflict_do_nothing(index_elements=[_T.id])
        )
        if not self._inserted(claim):
            existing = self.get_transfer(transfer.id)
            if existing.same_shipment(transfer):
                return existing
            raise transfer_conflict(transfer.id)
        params = {"s": transfer.from_store, "k": transfer.sku, "q": transfer.quantity}
        if conn.execute(_TAKE, params).rowcount != 1:
            conn.execute(delete(t.stock_transfers).where(_T.id == transfer.id))
            level = self.get(transfer.from_store, transfer.sku)
            raise transfer_short(transfer, level.on_hand - level.reserved)
        stored = Transfer(
            id=transfer.id,
            from_store=transfer.from_store,
            to_store=transfer.to_store,
            sku=transfer.sku,
            quantity=transfer.quantity,
            shipped_at=transfer.shipped_at,
        )
        movement = transfer_movement(
            stored, MovementKind.TRANSFER_OUT, transfer.shipped_at, actor_id
        )
        conn.execute(insert(t.stock_movements).values(_movement_values(movement)))
        return stored

    def _close_transfer(
        self, transfer_id: str, to: TransferStatus, at: datetime, actor_id: str
    ) -> Transfer:
        row = self._conn.execute(
            update(t.stock_transfers)
            .where(_T.id == transfer_id, _T.status == TransferStatus.IN_TRANSIT.value)
            .values(status=to.value, closed_at=at)
            .returning(*t.stock_transfers.c)
        ).first()
        if row is None:
            current = self.get_transfer(transfer_id)
            if current.status is to:
                return current
            raise transfer_closed(current, to)
        closed = _transfer_from_row(row)
        self.record(transfer_movement(closed, MovementKind.TRANSFER_IN, at, actor_id))
        return closed

    @translated("receiving a transfer")
    def receive_transfer(
        self, transfer_id: str, *, at: datetime, actor_id: str = "system"
    ) -> Transfer:
        """Land an in-transit transfer at its destination (idempotent once received)."""
        return self._close_transfer(transfer_id, TransferStatus.RECEIVED, at, actor_id)

    @translated("cancelling a transfer")
    def cancel_transfer(
        self, transfer_id: str, *, at: datetime, actor_id: str = "system"
    ) -> Transfer:
        """Return an in-transit transfer to its source (idempotent once cancelled)."""
        return self._close_transfer(transfer_id, TransferStatus.CANCELLED, at, actor_id)

    @translated("reading a transfer")
    def get_transfer(self, transfer_id: str) -> Transfer:
        """Return a transfer; ``stock.transfer_not_found`` if unknown."""
        row = self._conn.execute(select(t.stock_transfers).where(_T.id == transfer_id)).first()
        if row is None:
            raise transfer_not_found(transfer_id)
        return _transfer_from_row(row)

    @translated("reading transfers in transit")
    def transfers_in_transit(
        self, *, sku: str | None = None, store_id: str | None = None
    ) -> list[Transfer]:
        """Return the transfers still in transit, sorted by id."""
        stmt = select(t.stock_transfers).where(_T.status == TransferStatus.IN_TRANSIT.value)
        if sku is not None:
            stmt = stmt.where(_T.sku == sku)
        if store_id is not None:
            stmt = stmt.where((_T.from_store_id == store_id) | (_T.to_store_id == store_id))
        return [_transfer_from_row(r) for r in self._conn.execute(stmt.order_by(_T.id))]
