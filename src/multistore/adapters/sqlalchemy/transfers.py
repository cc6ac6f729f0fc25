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
    _HOLD,
    _UNHOLD,
    SqlStockRepository,
    _movement_values,
    translated,
)
from multistore.errors import InsufficientStockError
from multistore.inventory.model import (
    MovementKind,
    Quota,
    Reservation,
    ReservationLine,
    ReservationStatus,
    Transfer,
    TransferStatus,
)
from multistore.inventory.transfers import (
    quota_short,
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


_Q = t.stock_quotas.c

_FENCE = (
    update(t.stock_levels)
    .where(
        _LEVEL.store_id == bindparam("s"),
        _LEVEL.sku == bindparam("k"),
        bindparam("q", type_=BigInteger())
        <= _LEVEL.on_hand - _LEVEL.reserved - _LEVEL.safety_buffer,
    )
    .values(reserved=_LEVEL.reserved + bindparam("q", type_=BigInteger()))
)
"""Fences ``q`` more units of one row if that many are available (as a reservation would)."""

_DRAW = (
    update(t.stock_quotas)
    .where(
        _Q.store_id == bindparam("s"),
        _Q.sku == bindparam("k"),
        _Q.channel == bindparam("c"),
        _Q.units >= bindparam("q", type_=BigInteger()),
    )
    .values(units=_Q.units - bindparam("q", type_=BigInteger()))
)
"""Moves ``q`` units out of a channel's quota, or matches nothing."""

_UNDRAW = (
    update(t.stock_quotas)
    .where(_Q.store_id == bindparam("s"), _Q.sku == bindparam("k"), _Q.channel == bindparam("c"))
    .values(units=_Q.units + bindparam("q", type_=BigInteger()))
)


class SqlStockWithTransfersRepository(SqlStockRepository):
    """:class:`SqlStockRepository` plus transfers and quotas (see the ``StockRepository`` port)."""

    # --- quotas --------------------------------------------------------------------------------

    def _quota_units(self, store_id: str, sku: str, channel: str, *, lock: bool) -> int | None:
        stmt = select(_Q.units).where(_Q.store_id == store_id, _Q.sku == sku, _Q.channel == channel)
        if lock and self._uow.dialect == "postgresql":
            stmt = stmt.with_for_update()
        found = self._conn.execute(stmt).scalar()
        return None if found is None else int(found)

    @translated("setting a quota")
    def set_quota(self, store_id: str, sku: str, channel: str, units: int) -> Quota:
        """Ring-fence ``units`` for ``channel``; fenced units count as reserved (see the port).

        The quota row is created (or locked) first, so concurrent changes of one quota queue;
        the extra units are fenced with one conditional UPDATE of the stock row.
        """
        quota = Quota(store_id, sku, channel, units)
        conn = self._conn
        created = self._inserted(
            self._insert(t.stock_quotas)
            .values(store_id=store_id, sku=sku, channel=channel, units=0)
            .on_conflict_do_nothing(index_elements=[_Q.store_id, _Q.sku, _Q.channel])
        )
        current = self._quota_units(store_id, sku, channel, lock=not created) or 0
        delta = units - current
        where = (_Q.store_id == store_id, _Q.sku == sku, _Q.channel == channel)
        params = {"s": store_id, "k": sku, "q": abs(delta)}
        if delta > 0 and conn.execute(_FENCE, params).rowcount != 1:
            if created:
                conn.execute(delete(t.stock_quotas).where(*where))
            raise quota_short(quota, delta, self.get(store_id, sku).available)
        if delta < 0:
            conn.execute(_UNHOLD, params)
        if units:
            conn.execute(update(t.stock_quotas).where(*where).values(units=units))
        else:
            conn.execute(delete(t.stock_quotas).where(*where))
        return quota

    @translated("reading quotas")
    def quotas(self, *, store_id: str | None = None, sku: str | None = None) -> list[Quota]:
        """Return the quotas (exhausted ones with 0 units), by (store, sku, channel)."""
        stmt = select(t.stock_quotas)
        if store_id is not None:
            stmt = stmt.where(_Q.store_id == store_id)
        if sku is not None:
            stmt = stmt.where(_Q.sku == sku)
        rows = self._conn.execute(stmt.order_by(_Q.store_id, _Q.sku, _Q.channel))
        return [Quota(r.store_id, r.sku, r.channel, int(r.units)) for r in rows]

    @translated("reserving stock for a channel")
    def reserve_for_channel(self, reservation: Reservation, *, channel: str) -> Reservation:
        """Hold every line or none, quota lines from ``channel``'s quota (see the port).

        Lines go in sorted (store, sku) order; each is one conditional UPDATE, of the quota
        row when the channel has a quota there, else of the stock row. The first that matches
        nothing undoes this call's draws and holds and its key claim.
        """
        conn = self._conn
        if not self._claim(reservation):
            existing = self._find_reservation(reservation.key)
            if existing is None:  # pragma: no cover - the claim lost to this very key
                return self.reserve(reservation)
            return self._replay(existing, reservation)
        drawn: list[ReservationLine] = []
        held: list[ReservationLine] = []
        for line in reservation.lines:
            params = {"s": line.store_id, "k": line.sku, "c": channel, "q": line.quantity}
            if conn.execute(_DRAW, params).rowcount == 1:
                drawn.append(line)
                continue
            fenced = self._quota_units(line.store_id, line.sku, channel, lock=False) is not None
            if not fenced and conn.execute(_HOLD, params).rowcount == 1:
                held.append(line)
                continue
            for done in drawn:
                conn.execute(
                    _UNDRAW,
                    {"s": done.store_id, "k": done.sku, "c": channel, "q": done.quantity},
                )
            self._undo_claim(reservation.key, held)
            raise self._channel_short(reservation, channel)
        return Reservation(
            key=reservation.key,
            lines=reservation.lines,
            status=ReservationStatus.ACTIVE,
            created_at=reservation.created_at,
            expires_at=reservation.expires_at,
        )

    def _channel_short(self, reservation: Reservation, channel: str) -> InsufficientStockError:
        short: list[dict[str, object]] = []
        for line in reservation.lines:
            quota = self._quota_units(line.store_id, line.sku, channel, lock=False)
            have = self.get(line.store_id, line.sku).available if quota is None else quota
            if have < line.quantity:
                short.append(
                    {
                        "store_id": line.store_id,
                        "sku": line.sku,
                        "requested": line.quantity,
                        "available": have,
                    }
                )
        return InsufficientStockError(
            f"not enough stock for reservation {reservation.key!r} on channel {channel!r}; "
            "nothing was held",
            code="stock.insufficient",
            details={"key": reservation.key, "channel": channel, "short_lines": short},
        )

    # --- transfers -----------------------------------------------------------------------------

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
