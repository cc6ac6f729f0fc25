"""Inventory use cases: receive and move stock, and hold it for orders without overselling."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import timedelta
from typing import Protocol, runtime_checkable

from multistore._validation import (
    check_enum,
    check_id,
    check_int_range,
    check_non_negative_int,
    check_positive_int,
)
from multistore.errors import NotFoundError, ValidationError
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
from multistore.ports.replenishment import ReorderPointRepository
from multistore.ports.security import Actor, Scope
from multistore.ports.storage import UnitOfWork
from multistore.replenishment.service import below_reorder_point_event
from multistore.services.context import Outcome, ServiceContext
from multistore.services.scopes import (
    sku_not_found,
    store_scope,
    store_scopes,
    store_scopes_and_skus,
)

__all__ = ["DEFAULT_RESERVATION_TTL", "InventoryService"]

DEFAULT_RESERVATION_TTL = timedelta(minutes=15)
"""How long a hold lasts when the caller gives no ``ttl``."""

_INBOUND = frozenset({MovementKind.RECEIPT, MovementKind.RETURN, MovementKind.TRANSFER_IN})
_OUTBOUND = frozenset({MovementKind.SALE, MovementKind.TRANSFER_OUT})

LineInput = ReservationLine | tuple[str, str, int]


@runtime_checkable
class _HoldsWithLevels(Protocol):
    """A stock repository that reserves and reports, in the same reads, what happened.

    ``hold`` returns ``(reservation, replayed, levels)``: the levels of the lines' rows after
    the hold, sorted by (store, sku), so the service needs no read before or after the write.
    """

    def hold(self, reservation: Reservation) -> tuple[Reservation, bool, Sequence[StockLevel]]:
        """Reserve like ``StockRepository.reserve``; say whether it was a replay."""
        ...


def _level_payload(level: StockLevel) -> dict[str, object]:
    return {
        "store_id": level.store_id,
        "sku": level.sku,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
    }


def _levels_after(
    uow: UnitOfWork, reservations: Sequence[Reservation]
) -> Mapping[tuple[str, str], StockLevel]:
    """The levels of every line of ``reservations``, read once after the change."""
    if not reservations:
        return {}
    lines = [x for r in reservations for x in r.lines]
    return uow.stock.snapshot(skus={x.sku for x in lines}, store_ids={x.store_id for x in lines})


def _lines_payload(res: Reservation) -> list[dict[str, object]]:
    return [{"store_id": x.store_id, "sku": x.sku, "quantity": x.quantity} for x in res.lines]


def _line(value: LineInput) -> ReservationLine:
    if isinstance(value, ReservationLine):
        return value
    if isinstance(value, tuple) and len(value) == 3:
        return ReservationLine(value[0], value[1], value[2])
    raise ValidationError(
        f"reservation line must be a ReservationLine or (store_id, sku, quantity), got {value!r}",
        code="validation.invalid",
    )


def _check_quantity_sign(kind: MovementKind, quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
        raise ValidationError(
            f"movement quantity must be a non-zero int, got {quantity!r}",
            code="validation.non_positive_quantity",
        )
    check_int_range(quantity, "quantity")
    if kind in _INBOUND and quantity < 0:
        raise ValidationError(
            f"a {kind.value} adds stock: give a positive quantity, got {quantity}",
            code="stock.invalid_movement",
        )
    if kind in _OUTBOUND and quantity > 0:
        raise ValidationError(
            f"a {kind.value} removes stock: give a negative quantity, got {quantity}",
            code="stock.invalid_movement",
        )


class InventoryService:
    """Stock per store and SKU, its ledger, and reservations (``ms.inventory``).

    Actions (in the store touched): ``inventory.receive``, ``inventory.record_movement``,
    ``inventory.set_safety_buffer``, ``inventory.reserve``, ``inventory.release``,
    ``inventory.commit``, ``inventory.set_quota``, ``inventory.transfer`` (both stores),
    ``inventory.receive_transfer`` (destination), ``inventory.cancel_transfer`` (source);
    ``inventory.expire`` at headquarters.

    Every change writes a ``stock.*`` event to the outbox with the levels after the change.
    """

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    # --- ledger ----------------------------------------------------------------------------

    def receive(
        self,
        *,
        actor: Actor,
        store_id: str,
        sku: str,
        quantity: int,
        reason: str = "",
        reference: str = "",
    ) -> StockLevel:
        """Book a delivery of ``quantity`` units into a store.

        Raises:
            ValidationError: ``validation.non_positive_quantity`` for quantity <= 0.
            NotFoundError: ``store.not_found`` or ``catalog.sku_not_found``.
            PermissionDeniedError: when the actor may not receive stock in this store.
        """
        check_positive_int(quantity, "quantity")
        return self._move(
            actor=actor,
            action="inventory.receive",
            store_id=store_id,
            sku=sku,
            kind=MovementKind.RECEIPT,
            quantity=quantity,
            reason=reason or "goods received",
            reference=reference,
        )

    def record_movement(
        self,
        *,
        actor: Actor,
        store_id: str,
        sku: str,
        kind: MovementKind | str,
        quantity: int,
        reason: str = "",
        reference: str = "",
    ) -> StockLevel:
        """Append any movement to the ledger (signed: receipts positive, sales negative).

        Adjustments and count corrections may go either way; receipts, returns and transfers in
        must be positive; sales and transfers out negative.

        Raises:
            ValidationError: ``stock.invalid_movement`` for a quantity of the wrong sign,
                ``validation.invalid_choice`` for an unknown kind.
            InsufficientStockError: ``stock.negative`` when on hand would drop below zero or
                below what is reserved.
            NotFoundError: ``store.not_found`` or ``catalog.sku_not_found``.
            PermissionDeniedError: when the actor may not move stock in this store.
        """
        movement_kind = check_enum(MovementKind, kind, "kind")
        _check_quantity_sign(movement_kind, quantity)
        return self._move(
            actor=actor,
            action="inventory.record_movement",
            store_id=store_id,
            sku=sku,
            kind=movement_kind,
            quantity=quantity,
            reason=reason,
            reference=reference,
        )

    def _move(
        self,
        *,
        actor: Actor,
        action: str,
        store_id: str,
        sku: str,
        kind: MovementKind,
        quantity: int,
        reason: str,
        reference: str,
    ) -> StockLevel:
        store_id = check_id(store_id, "store_id")
        sku = check_id(sku, "sku")

        def work(uow: UnitOfWork) -> Outcome[StockLevel]:
            uow.products.get_sku(sku)
            movement = StockMovement(
                store_id=store_id,
                sku=sku,
                kind=kind,
                quantity=quantity,
                occurred_at=self._ctx.clock.now(),
                reason=reason,
                reference=reference,
                actor_id=actor.id,
            )
            level = uow.stock.record(movement)
            payload = {**_level_payload(level), "kind": kind.value, "quantity": quantity}
            return Outcome(
                level,
                [
                    ("stock.moved", f"stock:{store_id}/{sku}", payload),
                    *_reorder_alerts(uow, [(level, quantity)]),
                ],
                {"kind": kind.value, "quantity": quantity, "reference": reference},
            )

        return self._ctx.run(
            actor=actor,
            action=action,
            target=f"stock:{store_id}/{sku}",
            scopes=lambda uow: [store_scope(uow, store_id)],
            work=work,
        )

    def set_safety_buffer(self, *, actor: Actor, store_id: str, sku: str, units: int) -> StockLevel:
        """Keep the last ``units`` of a SKU in a store off online sale.

        Raises:
            ValidationError: ``validation.negative_quantity`` for units < 0.
            NotFoundError: ``store.not_found`` or ``catalog.sku_not_found``.
            PermissionDeniedError: when the actor may not manage stock in this store.
        """
        check_non_negative_int(units, "units")
        store_id = check_id(store_id, "store_id")
        sku = check_id(sku, "sku")

        def work(uow: UnitOfWork) -> Outcome[StockLevel]:
            uow.products.get_sku(sku)
            level = uow.stock.set_safety_buffer(store_id, sku, units)
            return Outcome(
                level,
                [("stock.buffer_set", f"stock:{store_id}/{sku}", _level_payload(level))],
                {"units": units},
            )

        return self._ctx.run(
            actor=actor,
            action="inventory.set_safety_buffer",
            target=f"stock:{store_id}/{sku}",
            scopes=lambda uow: [store_scope(uow, store_id)],
            work=work,
        )

    # --- reservations -------------------------------------------------------------------------

    def reserve(
        self,
        *,
        actor: Actor,
        key: str,
        lines: Sequence[LineInput],
        ttl: timedelta | None = DEFAULT_RESERVATION_TTL,
        channel: str | None = None,
    ) -> Reservation:
        """Hold stock for an order: every line or none, at most once per ``key``.

        Args:
            actor: Who acts; needs ``inventory.reserve`` in every store of the lines.
            key: Idempotency key, usually the order id. Repeating the call with the same key and
                lines returns the first reservation without holding more.
            lines: ``ReservationLine`` values or ``(store_id, sku, quantity)`` triples.
            ttl: How long the hold lasts before :meth:`expire` releases it (``None``: until
                committed or released).
            channel: The sales channel or campaign reserving. Lines whose (store, sku) has a
                quota for it (:meth:`set_quota`) draw from that quota, and only from it; the
                other lines hold available stock.

        Returns:
            The reservation, status ``active`` (or the stored one on a repeat).

        Raises:
            ValidationError: for empty/duplicate lines, non-positive quantities or ttl.
            NotFoundError: ``store.not_found`` or ``catalog.sku_not_found``.
            InsufficientStockError: ``stock.insufficient``; ``details["short_lines"]`` names
                every line that lacks stock. Nothing is held.
            ConflictError: ``stock.reservation_conflict`` when the key holds other lines.
            PermissionDeniedError: when the actor may not reserve in one of the stores.
        """
        if ttl is not None and (not isinstance(ttl, timedelta) or ttl <= timedelta(0)):
            raise ValidationError(
                f"ttl must be a positive timedelta or None, got {ttl!r}",
                code="stock.invalid_ttl",
            )
        if channel is not None:
            channel = check_id(channel, "channel")
        now = self._ctx.clock.now()
        reservation = Reservation(
            key=key,
            lines=tuple(_line(x) for x in lines),
            created_at=now,
            expires_at=None if ttl is None else now + ttl,
        )

        store_ids = sorted({x.store_id for x in reservation.lines})
        skus = sorted({x.sku for x in reservation.lines})
        pairs = [(x.store_id, x.sku) for x in reservation.lines]
        missing_skus: list[list[str] | None] = [None]

        def scopes(uow: UnitOfWork) -> list[Scope]:
            found, missing_skus[0] = store_scopes_and_skus(uow, store_ids, skus)
            return found

        def work(uow: UnitOfWork) -> Outcome[Reservation]:
            missing = missing_skus[0]
            if missing is None:
                for sku in skus:
                    uow.products.get_sku(sku)
            elif missing:
                raise sku_not_found(missing[0])
            stock = uow.stock
            levels: Sequence[StockLevel] | None = None
            if channel is None and isinstance(stock, _HoldsWithLevels):
                stored, replayed, levels = stock.hold(reservation)
            else:
                replayed = _find(uow, reservation.key) is not None
                if channel is None:
                    stored = stock.reserve(reservation)
                else:
                    stored = stock.reserve_for_channel(reservation, channel=channel)
            if replayed:
                return Outcome(stored, (), {"replayed": True})
            if levels is None:
                snap = stock.snapshot(skus=skus, store_ids=store_ids)
                levels = [snap[p] for p in sorted(pairs) if p in snap]
            lines_payload = _lines_payload(stored)
            payload = {
                "key": stored.key,
                "channel": channel,
                "lines": lines_payload,
                "expires_at": None if stored.expires_at is None else stored.expires_at.isoformat(),
                "levels": [_level_payload(level) for level in levels],
            }
            return Outcome(
                stored,
                [("stock.reserved", f"reservation:{stored.key}", payload)],
                {"lines": lines_payload},
            )

        return self._ctx.run(
            actor=actor,
            action="inventory.reserve",
            target=f"reservation:{reservation.key}",
            scopes=scopes,
            work=work,
        )

    def release(self, *, actor: Actor, key: str) -> Reservation:
        """Give a held reservation's units back (idempotent once released).

        Raises:
            NotFoundError: ``stock.reservation_not_found``.
            ConflictError: ``stock.reservation_closed`` for a committed or expired reservation.
            PermissionDeniedError: when the actor may not release in one of its stores.
        """
        return self._close(actor=actor, key=key, action="inventory.release")

    def commit(self, *, actor: Actor, key: str) -> Reservation:
        """Turn a held reservation into sale movements (idempotent once committed).

        Raises:
            NotFoundError: ``stock.reservation_not_found``.
            ConflictError: ``stock.reservation_closed`` for a released or expired reservation.
            PermissionDeniedError: when the actor may not commit in one of its stores.
        """
        return self._close(actor=actor, key=key, action="inventory.commit")

    def _close(self, *, actor: Actor, key: str, action: str) -> Reservation:
        key = check_id(key, "reservation key")
        committing = action == "inventory.commit"
        done_status = ReservationStatus.COMMITTED if committing else ReservationStatus.RELEASED
        event_type = "stock.committed" if committing else "stock.released"

        def work(uow: UnitOfWork) -> Outcome[Reservation]:
            before = uow.stock.get_reservation(key)
            if committing:
                after = uow.stock.commit(key, at=self._ctx.clock.now(), actor_id=actor.id)
            else:
                after = uow.stock.release(key)
            if before.status is done_status:
                return Outcome(after, (), {"replayed": True})
            levels = _levels_after(uow, [after])
            payload = {
                "key": key,
                "lines": _lines_payload(after),
                "levels": [_level_payload(level) for level in levels.values()],
            }
            events: list[tuple[str, str, Mapping[str, object]]] = [
                (event_type, f"reservation:{key}", payload)
            ]
            if committing:
                sold: dict[tuple[str, str], int] = {}
                for x in after.lines:
                    sold[(x.store_id, x.sku)] = sold.get((x.store_id, x.sku), 0) - x.quantity
                events += _reorder_alerts(
                    uow, [(levels[pair], delta) for pair, delta in sold.items() if pair in levels]
                )
            return Outcome(after, events)

        return self._ctx.run(
            actor=actor,
            action=action,
            target=f"reservation:{key}",
            scopes=lambda uow: store_scopes(
                uow, (x.store_id for x in uow.stock.get_reservation(key).lines)
            ),
            work=work,
        )

    def expire(self, *, actor: Actor) -> Sequence[Reservation]:
        """Release every hold whose time is up (``expires_at`` at or before the clock's now).

        Each expired hold writes a ``stock.expired`` event with its key, its lines and the
        levels of its lines after the whole sweep (``levels``, sorted by store and SKU).

        Returns:
            The reservations that expired in this call.

        Raises:
            PermissionDeniedError: when the actor may not run the sweep (``inventory.expire``
                at headquarters; the system actor may).
        """

        def work(uow: UnitOfWork) -> Outcome[Sequence[Reservation]]:
            expired = list(uow.stock.expire(now=self._ctx.clock.now()))
            levels = _levels_after(uow, expired)
            events = [
                (
                    "stock.expired",
                    f"reservation:{r.key}",
                    {
                        "key": r.key,
                        "lines": _lines_payload(r),
                        "levels": [
                            _level_payload(levels[p])
                            for p in sorted({(x.store_id, x.sku) for x in r.lines})
                            if p in levels
                        ],
                    },
                )
                for r in expired
            ]
            return Outcome(
                expired, events, {"expired": [r.key for r in expired]}, changed=bool(expired)
            )

        return self._ctx.run(
            actor=actor,
            action="inventory.expire",
            target="reservations",
            scopes=lambda uow: [Scope.hq()],
            work=work,
        )

    # --- ring-fenced quotas -------------------------------------------------------------------

    def set_quota(
        self, *, actor: Actor, store_id: str, sku: str, channel: str, units: int
    ) -> Quota:
        """Ring-fence ``units`` of a SKU in a store for a channel or campaign (0 removes it).

        Fenced units leave the general pool (they count as reserved), so other channels cannot
        sell them; reservations naming ``channel`` draw from them. The online safety buffer is
        never fenced. Setting a smaller quota gives the difference back.

        Raises:
            ValidationError: ``validation.negative_quantity`` or ``validation.empty_id``.
            InsufficientStockError: ``stock.insufficient`` when the extra units are not
                available; nothing is written.
            NotFoundError: ``store.not_found`` or ``catalog.sku_not_found``.
            PermissionDeniedError: when the actor may not manage stock in this store
                (``inventory.set_quota``).
        """
        check_non_negative_int(units, "units")
        quota = Quota(store_id=store_id, sku=sku, channel=channel, units=units)

        def work(uow: UnitOfWork) -> Outcome[Quota]:
            uow.products.get_sku(quota.sku)
            stored = uow.stock.set_quota(quota.store_id, quota.sku, quota.channel, quota.units)
            level = uow.stock.get(quota.store_id, quota.sku)
            payload = {**_level_payload(level), "channel": quota.channel, "quota": quota.units}
            return Outcome(
                stored,
                [("stock.quota_set", f"stock:{quota.store_id}/{quota.sku}", payload)],
                {"channel": quota.channel, "units": quota.units},
            )

        return self._ctx.run(
            actor=actor,
            action="inventory.set_quota",
            target=f"stock:{quota.store_id}/{quota.sku}",
            scopes=lambda uow: [store_scope(uow, quota.store_id)],
            work=work,
        )

    def quotas(self, *, store_id: str | None = None, sku: str | None = None) -> Sequence[Quota]:
        """Return the ring-fenced quotas (sold-out ones with 0 units), by (store, sku, channel)."""
        return self._ctx.read(lambda uow: list(uow.stock.quotas(store_id=store_id, sku=sku)))

    def available_for(self, *, store_id: str, sku: str, channel: str | None = None) -> int:
        """Return the units a reservation could take now.

        Without a channel, or for a channel without a quota here: on hand - reserved - safety
        buffer, where reserved includes every fenced quota. For a channel with a quota here:
        the quota's units left.
        """

        def read(uow: UnitOfWork) -> int:
            if channel is not None:
                for quota in uow.stock.quotas(store_id=store_id, sku=sku):
                    if quota.channel == channel:
                        return quota.units
            return uow.stock.get(store_id, sku).available

        return self._ctx.read(read)

    # --- transfers between stores ---------------------------------------------------------------

    def transfer(
        self,
        *,
        actor: Actor,
        transfer_id: str,
        from_store: str,
        to_store: str,
        sku: str,
        quantity: int,
    ) -> Transfer:
        """Ship units of a SKU from one store to another; they are in transit until received.

        Books a ``transfer_out`` movement at ``from_store``. Idempotent by ``transfer_id``: a
        repeat with the same stores, SKU and quantity returns the stored transfer and moves
        nothing more.

        Args:
            actor: Who acts; needs ``inventory.transfer`` in both stores.
            transfer_id: Idempotency id (the transfer document number).
            from_store: The store that ships.
            to_store: The store that will receive.
            sku: The SKU code.
            quantity: Units to ship (> 0); the source must hold them unreserved.

        Returns:
            The transfer, status ``in_transit`` (or the stored one on a repeat).

        Raises:
            ValidationError: ``stock.transfer_same_store``, ``validation.non_positive_quantity``
                or ``validation.empty_id``.
            NotFoundError: ``store.not_found`` or ``catalog.sku_not_found``.
            InsufficientStockError: ``stock.insufficient`` when the source has fewer unreserved
                units; nothing is written.
            ConflictError: ``stock.transfer_conflict`` when the id names another shipment.
            PermissionDeniedError: when the actor may not transfer in one of the stores.
        """
        transfer = Transfer(
            id=transfer_id,
            from_store=from_store,
            to_store=to_store,
            sku=sku,
            quantity=quantity,
            shipped_at=self._ctx.clock.now(),
        )

        def work(uow: UnitOfWork) -> Outcome[Transfer]:
            uow.products.get_sku(transfer.sku)
            replay = _find_transfer(uow, transfer.id)
            stored = uow.stock.ship_transfer(transfer, actor_id=actor.id)
            if replay is not None:
                return Outcome(stored, (), {"replayed": True})
            level = uow.stock.get(stored.from_store, stored.sku)
            payload = {**_transfer_payload(stored), "levels": [_level_payload(level)]}
            return Outcome(
                stored,
                [
                    ("stock.transfer_shipped", f"transfer:{stored.id}", payload),
                    *_reorder_alerts(uow, [(level, -stored.quantity)]),
                ],
                _transfer_payload(stored),
            )

        return self._ctx.run(
            actor=actor,
            action="inventory.transfer",
            target=f"transfer:{transfer.id}",
            scopes=lambda uow: store_scopes(uow, (transfer.from_store, transfer.to_store)),
            work=work,
        )

    def receive_transfer(self, *, actor: Actor, transfer_id: str) -> Transfer:
        """Land an in-transit transfer: a ``transfer_in`` movement at the destination.

        Idempotent once received.

        Raises:
            NotFoundError: ``stock.transfer_not_found``.
            ConflictError: ``stock.transfer_closed`` for a cancelled transfer.
            PermissionDeniedError: when the actor may not receive in the destination store
                (``inventory.receive_transfer``).
        """
        return self._close_transfer(
            actor=actor, transfer_id=transfer_id, to=TransferStatus.RECEIVED
        )

    def cancel_transfer(self, *, actor: Actor, transfer_id: str) -> Transfer:
        """Call back an in-transit transfer: a ``transfer_in`` movement back at the source.

        Idempotent once cancelled.

        Raises:
            NotFoundError: ``stock.transfer_not_found``.
            ConflictError: ``stock.transfer_closed`` for a received transfer.
            PermissionDeniedError: when the actor may not cancel in the source store
                (``inventory.cancel_transfer``).
        """
        return self._close_transfer(
            actor=actor, transfer_id=transfer_id, to=TransferStatus.CANCELLED
        )

    def _close_transfer(self, *, actor: Actor, transfer_id: str, to: TransferStatus) -> Transfer:
        transfer_id = check_id(transfer_id, "transfer id")
        receiving = to is TransferStatus.RECEIVED
        action = "inventory.receive_transfer" if receiving else "inventory.cancel_transfer"
        event_type = "stock.transfer_received" if receiving else "stock.transfer_cancelled"

        def scopes(uow: UnitOfWork) -> list[Scope]:
            found = uow.stock.get_transfer(transfer_id)
            return [store_scope(uow, found.to_store if receiving else found.from_store)]

        def work(uow: UnitOfWork) -> Outcome[Transfer]:
            before = uow.stock.get_transfer(transfer_id)
            now = self._ctx.clock.now()
            if receiving:
                after = uow.stock.receive_transfer(transfer_id, at=now, actor_id=actor.id)
            else:
                after = uow.stock.cancel_transfer(transfer_id, at=now, actor_id=actor.id)
            if before.status is to:
                return Outcome(after, (), {"replayed": True})
            landed = after.to_store if receiving else after.from_store
            level = uow.stock.get(landed, after.sku)
            payload = {**_transfer_payload(after), "levels": [_level_payload(level)]}
            return Outcome(after, [(event_type, f"transfer:{transfer_id}", payload)])

        return self._ctx.run(
            actor=actor,
            action=action,
            target=f"transfer:{transfer_id}",
            scopes=scopes,
            work=work,
        )

    def get_transfer(self, *, transfer_id: str) -> Transfer:
        """Return a transfer.

        Raises:
            NotFoundError: ``stock.transfer_not_found``.
        """
        return self._ctx.read(lambda uow: uow.stock.get_transfer(transfer_id))

    def transfers_in_transit(
        self, *, sku: str | None = None, store_id: str | None = None
    ) -> Sequence[Transfer]:
        """Return the transfers on the road (optionally of one SKU, or from/to one store)."""
        return self._ctx.read(
            lambda uow: list(uow.stock.transfers_in_transit(sku=sku, store_id=store_id))
        )

    def in_transit(self, *, sku: str, to_store: str | None = None) -> int:
        """Return the units of ``sku`` in transit (optionally only those bound for ``to_store``)."""
        return sum(
            x.quantity
            for x in self.transfers_in_transit(sku=sku, store_id=to_store)
            if to_store is None or x.to_store == to_store
        )

    # --- reads -------------------------------------------------------------------------------

    def level(self, *, store_id: str, sku: str) -> StockLevel:
        """Return the stock of one SKU in one store (zeros if never stocked)."""
        return self._ctx.read(lambda uow: uow.stock.get(store_id, sku))

    def movements(self, *, store_id: str, sku: str) -> Sequence[StockMovement]:
        """Return the ledger of one SKU in one store, oldest first."""
        return self._ctx.read(lambda uow: list(uow.stock.movements(store_id, sku)))

    def snapshot(
        self, *, skus: Collection[str], store_ids: Collection[str] | None = None
    ) -> Mapping[tuple[str, str], StockLevel]:
        """Return the levels of many SKUs across many stores in one read."""
        return self._ctx.read(lambda uow: dict(uow.stock.snapshot(skus=skus, store_ids=store_ids)))

    def get_reservation(self, *, key: str) -> Reservation:
        """Return a reservation.

        Raises:
            NotFoundError: ``stock.reservation_not_found``.
        """
        return self._ctx.read(lambda uow: uow.stock.get_reservation(key))


def _reorder_alerts(
    uow: UnitOfWork, changes: Sequence[tuple[StockLevel, int]]
) -> list[tuple[str, str, Mapping[str, object]]]:
    """Below-reorder-point events for the pairs whose on hand just crossed down to their point.

    ``changes`` holds each pair's level after the change and the signed change of on hand.
    A rise cannot cross down, so only drops cost a lookup: one keyed read of the stored point
    (none at all on a storage without reorder points). The event is written in the caller's
    unit of work, so it exists exactly when the stock change committed, once per crossing.
    """
    drops = [(level, delta) for level, delta in changes if delta < 0]
    points: ReorderPointRepository | None = getattr(uow, "reorder_points", None) if drops else None
    if points is None:
        return []
    events: list[tuple[str, str, Mapping[str, object]]] = []
    for level, delta in drops:
        point = points.get(level.store_id, level.sku)
        if point is not None and point.is_crossed(
            before=level.on_hand - delta, after=level.on_hand
        ):
            events.append(
                below_reorder_point_event(point, on_hand=level.on_hand, cause="stock_change")
            )
    return events


def _transfer_payload(transfer: Transfer) -> dict[str, object]:
    return {
        "transfer_id": transfer.id,
        "from_store": transfer.from_store,
        "to_store": transfer.to_store,
        "sku": transfer.sku,
        "quantity": transfer.quantity,
        "status": transfer.status.value,
    }


def _find_transfer(uow: UnitOfWork, transfer_id: str) -> Transfer | None:
    try:
        return uow.stock.get_transfer(transfer_id)
    except NotFoundError:
        return None


def _find(uow: UnitOfWork, key: str) -> Reservation | None:
    try:
        return uow.stock.get_reservation(key)
    except NotFoundError:
        return None
