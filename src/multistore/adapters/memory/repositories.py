"""In-memory repositories: the reference behaviour of every port in :mod:`multistore.ports.storage`.

Each repository works on the :class:`~multistore.adapters.memory._state.Transaction` of its unit
of work, so nothing it writes is visible to others until the unit of work commits.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

import attrs

from multistore._validation import check_id, check_non_negative_int
from multistore.adapters.memory._state import Transaction
from multistore.catalog.model import Product, Sku
from multistore.errors import ConflictError, InsufficientStockError, NotFoundError
from multistore.inventory.model import (
    MovementKind,
    Quota,
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMovement,
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
from multistore.members.model import Member
from multistore.orders.model import Order, OrderStatus
from multistore.stores.model import Store, StoreStatus

__all__ = [
    "MemoryMemberRepository",
    "MemoryOrderRepository",
    "MemoryProductRepository",
    "MemoryStockRepository",
    "MemoryStoreRepository",
]

TxGetter = Callable[[], Transaction]


class _Repository:
    def __init__(self, tx: TxGetter) -> None:
        self._tx = tx


class MemoryStoreRepository(_Repository):
    """Stores kept in memory (see :class:`multistore.ports.storage.StoreRepository`)."""

    def add(self, store: Store) -> None:
        """Insert a new store; ``store.duplicate`` if the id exists."""
        tx = self._tx()
        if store.id in tx.stores:
            raise ConflictError(
                f"store {store.id!r} already exists; update it instead", code="store.duplicate"
            )
        tx.stores.set(store.id, store)

    def get(self, store_id: str) -> Store:
        """Return the store; ``store.not_found`` if unknown."""
        store = self._tx().stores.get(store_id)
        if store is None:
            raise NotFoundError(
                f"store {store_id!r} does not exist; create it first", code="store.not_found"
            )
        return store

    def update(self, store: Store) -> None:
        """Replace an existing store; ``store.not_found`` if unknown."""
        tx = self._tx()
        if store.id not in tx.stores:
            raise NotFoundError(
                f"store {store.id!r} does not exist; create it first", code="store.not_found"
            )
        tx.stores.set(store.id, store)

    def list(
        self,
        *,
        region: str | None = None,
        format: str | None = None,  # noqa: A002 - the port's parameter name (业态)
        status: StoreStatus | None = None,
    ) -> Sequence[Store]:
        """Return the stores matching every given filter, sorted by id."""
        found = [
            s
            for s in self._tx().stores.values()
            if (region is None or s.region == region)
            and (format is None or s.format == format)
            and (status is None or s.status == status)
        ]
        return sorted(found, key=lambda s: s.id)


class MemoryProductRepository(_Repository):
    """Products and SKUs kept in memory (see the port ``ProductRepository``)."""

    def add(self, product: Product) -> None:
        """Insert a product; conflicts on a duplicate product id or an SKU code already in use."""
        tx = self._tx()
        if product.id in tx.products:
            raise ConflictError(
                f"product {product.id!r} already exists", code="catalog.duplicate_product"
            )
        for sku in product.skus:
            owner = tx.sku_owner.get(sku.code)
            if owner is not None:
                raise ConflictError(
                    f"SKU code {sku.code!r} already belongs to product {owner!r}; "
                    "choose another code",
                    code="catalog.duplicate_sku",
                    details={"sku": sku.code, "product_id": owner},
                )
        tx.products.set(product.id, product)
        for sku in product.skus:
            tx.sku_owner.set(sku.code, product.id)

    def get(self, product_id: str) -> Product:
        """Return the product; ``catalog.product_not_found`` if unknown."""
        product = self._tx().products.get(product_id)
        if product is None:
            raise NotFoundError(
                f"product {product_id!r} does not exist", code="catalog.product_not_found"
            )
        return product

    def get_sku(self, code: str) -> Sku:
        """Return the SKU; ``catalog.sku_not_found`` if unknown."""
        tx = self._tx()
        owner = tx.sku_owner.get(code)
        product = tx.products.get(owner) if owner is not None else None
        if product is not None:
            for sku in product.skus:
                if sku.code == code:
                    return sku
        raise NotFoundError(f"SKU {code!r} does not exist", code="catalog.sku_not_found")

    def list(self) -> Sequence[Product]:
        """Return every product, sorted by id."""
        return sorted(self._tx().products.values(), key=lambda p: p.id)


def _short_line(store_id: str, sku: str, requested: int, available: int) -> dict[str, object]:
    return {"store_id": store_id, "sku": sku, "requested": requested, "available": available}


class MemoryStockRepository(_Repository):
    """Stock levels, ledger and reservations in memory.

    See :class:`multistore.ports.storage.StockRepository`. Atomicity comes from the unit of work,
    which holds the storage's lock for its whole life.
    """

    def get(self, store_id: str, sku: str) -> StockLevel:
        """Return the level; a pair never stocked reads as all zeros."""
        level = self._tx().levels.get((store_id, sku))
        return level if level is not None else StockLevel(store_id, sku)

    def snapshot(
        self, *, skus: Collection[str], store_ids: Collection[str] | None = None
    ) -> Mapping[tuple[str, str], StockLevel]:
        """Return the stocked levels of ``skus`` in ``store_ids`` (every store if ``None``)."""
        levels = self._tx().levels
        wanted = set(skus)
        if store_ids is not None:
            out: dict[tuple[str, str], StockLevel] = {}
            for store_id in sorted(set(store_ids)):
                for sku in sorted(wanted):
                    level = levels.get((store_id, sku))
                    if level is not None:
                        out[(store_id, sku)] = level
            return out
        found = {pair: level for pair, level in levels.items() if pair[1] in wanted}
        return dict(sorted(found.items()))

    def set_safety_buffer(self, store_id: str, sku: str, units: int) -> StockLevel:
        """Set the units never sold online for one pair; returns the new level."""
        check_non_negative_int(units, "safety buffer units")
        level = attrs.evolve(self.get(store_id, sku), safety_buffer=units)
        self._tx().levels.set((store_id, sku), level)
        return level

    def record(self, movement: StockMovement) -> StockLevel:
        """Apply a movement and append it to the ledger.

        Raises ``stock.negative`` when on hand would drop below zero or below what is reserved.
        """
        tx = self._tx()
        pair = (movement.store_id, movement.sku)
        level = self.get(*pair)
        new_on_hand = level.on_hand + movement.quantity
        if new_on_hand < level.reserved:
            raise InsufficientStockError(
                f"{movement.kind.value} of {movement.quantity} would leave {new_on_hand} on hand "
                f"for {pair[0]}/{pair[1]} with {level.reserved} reserved; record a smaller "
                "quantity or release reservations first",
                code="stock.negative",
                details={
                    "store_id": pair[0],
                    "sku": pair[1],
                    "on_hand": level.on_hand,
                    "reserved": level.reserved,
                    "quantity": movement.quantity,
                },
            )
        new_level = attrs.evolve(level, on_hand=new_on_hand)
        tx.levels.set(pair, new_level)
        tx.ledger.set(pair, (*(tx.ledger.get(pair) or ()), movement))
        return new_level

    def movements(self, store_id: str, sku: str) -> Sequence[StockMovement]:
        """Return the ledger of one pair, oldest first."""
        return list(self._tx().ledger.get((store_id, sku)) or ())

    def reserve(self, reservation: Reservation) -> Reservation:
        """Hold every line or none; idempotent by key (see the port)."""
        tx = self._tx()
        existing = tx.reservations.get(reservation.key)
        if existing is not None:
            if existing.lines == reservation.lines:
                return existing
            raise ConflictError(
                f"reservation key {reservation.key!r} is already used for other lines; "
                "use a new key for a different hold",
                code="stock.reservation_conflict",
                details={"key": reservation.key},
            )
        short: list[dict[str, object]] = []
        for line in reservation.lines:
            level = self.get(line.store_id, line.sku)
            if level.available < line.quantity:
                short.append(_short_line(line.store_id, line.sku, line.quantity, level.available))
        if short:
            names = ", ".join(
                f"{s['store_id']}/{s['sku']} (asked {s['requested']}, available {s['available']})"
                for s in short
            )
            raise InsufficientStockError(
                f"not enough stock for reservation {reservation.key!r}: {names}; nothing was held",
                code="stock.insufficient",
                details={"key": reservation.key, "short_lines": short},
            )
        for line in reservation.lines:
            level = self.get(line.store_id, line.sku)
            tx.levels.set(
                (line.store_id, line.sku),
                attrs.evolve(level, reserved=level.reserved + line.quantity),
            )
        stored = attrs.evolve(reservation, status=ReservationStatus.ACTIVE)
        tx.reservations.set(stored.key, stored)
        tx.active_reservations.set(stored.key, stored.key)
        return stored

    def get_reservation(self, key: str) -> Reservation:
        """Return a reservation; ``stock.reservation_not_found`` if unknown."""
        found = self._tx().reservations.get(key)
        if found is None:
            raise NotFoundError(
                f"reservation {key!r} does not exist", code="stock.reservation_not_found"
            )
        return found

    def _closed(self, res: Reservation, verb: str) -> ConflictError:
        return ConflictError(
            f"reservation {res.key!r} is {res.status.value} and cannot be {verb}",
            code="stock.reservation_closed",
            details={"key": res.key, "status": res.status.value},
        )

    def _unhold(self, res: Reservation, status: ReservationStatus) -> Reservation:
        tx = self._tx()
        for line in res.lines:
            level = self.get(line.store_id, line.sku)
            tx.levels.set(
                (line.store_id, line.sku),
                attrs.evolve(level, reserved=level.reserved - line.quantity),
            )
        closed = attrs.evolve(res, status=status)
        tx.reservations.set(res.key, closed)
        tx.active_reservations.delete(res.key)
        return closed

    def release(self, key: str) -> Reservation:
        """Return an active reservation's units to available stock (idempotent)."""
        res = self.get_reservation(key)
        if res.status is ReservationStatus.RELEASED:
            return res
        if res.status is not ReservationStatus.ACTIVE:
            raise self._closed(res, "released")
        return self._unhold(res, ReservationStatus.RELEASED)

    def commit(self, key: str, *, at: datetime, actor_id: str = "system") -> Reservation:
        """Turn an active reservation into sale movements (idempotent)."""
        res = self.get_reservation(key)
        if res.status is ReservationStatus.COMMITTED:
            return res
        if res.status is not ReservationStatus.ACTIVE:
            raise self._closed(res, "committed")
        tx = self._tx()
        for line in res.lines:
            pair = (line.store_id, line.sku)
            level = self.get(*pair)
            tx.levels.set(
                pair,
                attrs.evolve(
                    level,
                    on_hand=level.on_hand - line.quantity,
                    reserved=level.reserved - line.quantity,
                ),
            )
            sale = StockMovement(
                store_id=line.store_id,
                sku=line.sku,
                kind=MovementKind.SALE,
                quantity=-line.quantity,
                occurred_at=at,
                reason="reservation committed",
                reference=key,
                actor_id=actor_id,
            )
            tx.ledger.set(pair, (*(tx.ledger.get(pair) or ()), sale))
        closed = attrs.evolve(res, status=ReservationStatus.COMMITTED)
        tx.reservations.set(key, closed)
        tx.active_reservations.delete(key)
        return closed

    def expire(self, *, now: datetime) -> Sequence[Reservation]:
        """Expire every active reservation whose ``expires_at`` is at or before ``now``."""
        tx = self._tx()
        due: list[Reservation] = []
        for key in tx.active_reservations.iter_keys():
            res = tx.reservations.get(key)
            if res is not None and res.expires_at is not None and res.expires_at <= now:
                due.append(res)
        return [self._unhold(res, ReservationStatus.EXPIRED) for res in sorted(due, key=_by_key)]

    # --- quotas ------------------------------------------------------------------------------

    def set_quota(self, store_id: str, sku: str, channel: str, units: int) -> Quota:
        """Ring-fence ``units`` for ``channel``; fenced units count as reserved (see the port)."""
        quota = Quota(store_id, sku, channel, units)
        tx = self._tx()
        triple = (store_id, sku, channel)
        delta = units - (tx.quotas.get(triple) or 0)
        level = self.get(store_id, sku)
        if delta > level.available:
            raise quota_short(quota, delta, level.available)
        if delta:
            tx.levels.set((store_id, sku), attrs.evolve(level, reserved=level.reserved + delta))
        if units:
            tx.quotas.set(triple, units)
        else:
            tx.quotas.delete(triple)
        return quota

    def quotas(self, *, store_id: str | None = None, sku: str | None = None) -> Sequence[Quota]:
        """Return the quotas (exhausted ones with 0 units), by (store, sku, channel)."""
        return [
            Quota(s, k, c, units)
            for (s, k, c), units in sorted(self._tx().quotas.items())
            if (store_id is None or s == store_id) and (sku is None or k == sku)
        ]

    def reserve_for_channel(self, reservation: Reservation, *, channel: str) -> Reservation:
        """Hold every line or none, quota lines from ``channel``'s quota (see the port)."""
        tx = self._tx()
        existing = tx.reservations.get(reservation.key)
        if existing is not None:
            return self.reserve(reservation)
        fenced = {
            (line.store_id, line.sku): tx.quotas.get((line.store_id, line.sku, channel))
            for line in reservation.lines
        }
        short: list[dict[str, object]] = []
        for line in reservation.lines:
            pair = (line.store_id, line.sku)
            quota = fenced[pair]
            have = quota if quota is not None else self.get(*pair).available
            if have < line.quantity:
                short.append(_short_line(line.store_id, line.sku, line.quantity, have))
        if short:
            raise InsufficientStockError(
                f"not enough stock for reservation {reservation.key!r} on channel {channel!r}; "
                "nothing was held",
                code="stock.insufficient",
                details={"key": reservation.key, "channel": channel, "short_lines": short},
            )
        plain = [x for x in reservation.lines if fenced[(x.store_id, x.sku)] is None]
        for line in reservation.lines:
            quota = fenced[(line.store_id, line.sku)]
            if quota is None:
                continue
            tx.quotas.set((line.store_id, line.sku, channel), quota - line.quantity)
        for line in plain:
            level = self.get(line.store_id, line.sku)
            tx.levels.set(
                (line.store_id, line.sku),
                attrs.evolve(level, reserved=level.reserved + line.quantity),
            )
        stored = attrs.evolve(reservation, status=ReservationStatus.ACTIVE)
        tx.reservations.set(stored.key, stored)
        tx.active_reservations.set(stored.key, stored.key)
        return stored

    # --- transfers ---------------------------------------------------------------------------

    def ship_transfer(self, transfer: Transfer, *, actor_id: str = "system") -> Transfer:
        """Ship a transfer: ``transfer_out`` at the source, units in transit (see the port)."""
        tx = self._tx()
        existing = tx.transfers.get(transfer.id)
        if existing is not None:
            if existing.same_shipment(transfer):
                return existing
            raise transfer_conflict(transfer.id)
        level = self.get(transfer.from_store, transfer.sku)
        free = level.on_hand - level.reserved
        if free < transfer.quantity:
            raise transfer_short(transfer, free)
        stored = attrs.evolve(transfer, status=TransferStatus.IN_TRANSIT, closed_at=None)
        self.record(
            transfer_movement(stored, MovementKind.TRANSFER_OUT, stored.shipped_at, actor_id)
        )
        tx.transfers.set(stored.id, stored)
        tx.open_transfers.set(stored.id, stored.id)
        return stored

    def _close_transfer(
        self, transfer_id: str, to: TransferStatus, at: datetime, actor_id: str
    ) -> Transfer:
        tx = self._tx()
        current = self.get_transfer(transfer_id)
        if current.status is to:
            return current
        if current.status is not TransferStatus.IN_TRANSIT:
            raise transfer_closed(current, to)
        closed = attrs.evolve(current, status=to, closed_at=at)
        self.record(transfer_movement(closed, MovementKind.TRANSFER_IN, at, actor_id))
        tx.transfers.set(transfer_id, closed)
        tx.open_transfers.delete(transfer_id)
        return closed

    def receive_transfer(
        self, transfer_id: str, *, at: datetime, actor_id: str = "system"
    ) -> Transfer:
        """Land an in-transit transfer at its destination (idempotent once received)."""
        return self._close_transfer(transfer_id, TransferStatus.RECEIVED, at, actor_id)

    def cancel_transfer(
        self, transfer_id: str, *, at: datetime, actor_id: str = "system"
    ) -> Transfer:
        """Return an in-transit transfer to its source (idempotent once cancelled)."""
        return self._close_transfer(transfer_id, TransferStatus.CANCELLED, at, actor_id)

    def get_transfer(self, transfer_id: str) -> Transfer:
        """Return a transfer; ``stock.transfer_not_found`` if unknown."""
        found = self._tx().transfers.get(transfer_id)
        if found is None:
            raise transfer_not_found(transfer_id)
        return found

    def transfers_in_transit(
        self, *, sku: str | None = None, store_id: str | None = None
    ) -> Sequence[Transfer]:
        """Return the transfers still in transit, sorted by id."""
        tx = self._tx()
        out: list[Transfer] = []
        for transfer_id in sorted(tx.open_transfers.iter_keys()):
            found = tx.transfers.get(transfer_id)
            if found is None:
                continue
            if sku is not None and found.sku != sku:
                continue
            if store_id is not None and store_id not in (found.from_store, found.to_store):
                continue
            out.append(found)
        return out


def _by_key(res: Reservation) -> str:
    return res.key


class MemoryOrderRepository(_Repository):
    """Orders in memory, unique per ``(channel, external_id)``."""

    def add(self, order: Order, *, fingerprint: str) -> Order:
        """Insert ``order`` once per channel order number (see the port)."""
        check_id(fingerprint, "fingerprint")
        tx = self._tx()
        key = (order.channel, order.external_id)
        known = tx.order_keys.get(key)
        if known is not None:
            order_id, stored_fingerprint = known
            if stored_fingerprint == fingerprint:
                return self.get(order_id)
            raise ConflictError(
                f"order {order.external_id!r} from channel {order.channel!r} was already "
                "received with different content; send it under a new external id or as an "
                "explicit amendment",
                code="order.duplicate_conflict",
                details={"channel": order.channel, "external_id": order.external_id},
            )
        if order.id in tx.orders:
            raise ConflictError(
                f"order id {order.id!r} is already used by another order", code="order.duplicate_id"
            )
        tx.orders.set(order.id, order)
        tx.order_keys.set(key, (order.id, fingerprint))
        return order

    def get(self, order_id: str) -> Order:
        """Return the order; ``order.not_found`` if unknown."""
        order = self._tx().orders.get(order_id)
        if order is None:
            raise NotFoundError(f"order {order_id!r} does not exist", code="order.not_found")
        return order

    def find_by_external_id(self, channel: str, external_id: str) -> Order | None:
        """Return the order a channel knows by ``external_id``, or ``None``."""
        known = self._tx().order_keys.get((channel, external_id))
        return None if known is None else self.get(known[0])

    def set_status(self, order_id: str, status: OrderStatus) -> Order:
        """Move the order to ``status`` if the status machine allows it."""
        order = self.get(order_id).with_status(status)
        self._tx().orders.set(order_id, order)
        return order


class MemoryMemberRepository(_Repository):
    """Members in memory (nothing persists, so nothing needs encrypting)."""

    def add(self, member: Member) -> None:
        """Insert a member; ``member.duplicate`` if the id exists."""
        tx = self._tx()
        if member.id in tx.members:
            raise ConflictError(f"member {member.id!r} already exists", code="member.duplicate")
        tx.members.set(member.id, member)

    def get(self, member_id: str) -> Member:
        """Return the member; ``member.not_found`` if unknown."""
        member = self._tx().members.get(member_id)
        if member is None:
            raise NotFoundError(f"member {member_id!r} does not exist", code="member.not_found")
        return member
