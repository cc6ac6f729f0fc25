"""Repositories for the aggregates and the unit of work that makes their changes atomic.

Every adapter (memory, SQLite, PostgreSQL, third-party) passes the same contract suite in
:mod:`multistore.testing.contracts`. The guarantees below are what that suite checks.

Errors are always multistore's own: ``NotFoundError`` for unknown ids, ``ConflictError`` for
duplicates, ``InsufficientStockError`` when stock does not suffice, ``TransientStorageError``
when the backend stayed busy past the bounded retries, ``IntegrityStorageError`` for other
constraint violations. A repository method that raises has written nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from multistore.catalog.assortment import CatalogChange, ChangeKind, StorePrice
from multistore.catalog.model import Product, Sku
from multistore.inventory.model import Quota, Reservation, StockLevel, StockMovement, Transfer
from multistore.members.model import Member
from multistore.orders.model import Order, OrderStatus
from multistore.ports.events import Outbox
from multistore.ports.security import AuditLog
from multistore.stores.model import Store, StoreStatus

__all__ = [
    "AssortmentRepository",
    "MemberRepository",
    "OrderRepository",
    "ProductRepository",
    "StockRepository",
    "Storage",
    "StoreRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
]


@runtime_checkable
class StoreRepository(Protocol):
    """Stores of the chain."""

    def add(self, store: Store) -> None:
        """Insert a new store. Raises ``ConflictError`` (``store.duplicate``) if the id exists."""
        ...

    def get(self, store_id: str) -> Store:
        """Return the store. Raises ``NotFoundError`` (``store.not_found``)."""
        ...

    def update(self, store: Store) -> None:
        """Replace an existing store's fields. Raises ``NotFoundError`` (``store.not_found``)."""
        ...

    def list(
        self,
        *,
        region: str | None = None,
        format: str | None = None,  # noqa: A002 - "format" is the retail term (业态)
        status: StoreStatus | None = None,
    ) -> Sequence[Store]:
        """Return stores matching every given filter, sorted by id."""
        ...


@runtime_checkable
class ProductRepository(Protocol):
    """Products and SKUs of the central catalog."""

    def add(self, product: Product) -> None:
        """Insert a product with its SKUs.

        Raises ``ConflictError``: ``catalog.duplicate_product`` if the id exists,
        ``catalog.duplicate_sku`` if any SKU code is already used by another product.
        """
        ...

    def get(self, product_id: str) -> Product:
        """Return the product. Raises ``NotFoundError`` (``catalog.product_not_found``)."""
        ...

    def get_sku(self, code: str) -> Sku:
        """Return the SKU. Raises ``NotFoundError`` (``catalog.sku_not_found``)."""
        ...

    def list(self) -> Sequence[Product]:
        """Return every product, sorted by id."""
        ...


@runtime_checkable
class StockRepository(Protocol):
    """Stock levels, the movement ledger and reservations.

    Concurrency guarantee: whatever the number of concurrent units of work, ``reserved`` never
    exceeds ``on_hand - safety_buffer`` and ``on_hand`` never goes below zero. SQL adapters do it
    with one conditional UPDATE per row, rows locked in sorted ``(store, sku)`` order.
    """

    def get(self, store_id: str, sku: str) -> StockLevel:
        """Return the level; a pair never stocked reads as all zeros."""
        ...

    def snapshot(
        self, *, skus: Collection[str], store_ids: Collection[str] | None = None
    ) -> Mapping[tuple[str, str], StockLevel]:
        """Return the levels of ``skus`` in ``store_ids`` (every store if ``None``) in one read.

        Keyed by ``(store_id, sku)``; pairs never stocked are omitted.
        """
        ...

    def set_safety_buffer(self, store_id: str, sku: str, units: int) -> StockLevel:
        """Set the units never sold online for one pair; returns the new level."""
        ...

    def record(self, movement: StockMovement) -> StockLevel:
        """Apply a ledger movement to on-hand stock and append it to the ledger.

        Raises ``InsufficientStockError`` (``stock.negative``) when on hand would drop below zero
        or below what is reserved; nothing is written then.
        """
        ...

    def movements(self, store_id: str, sku: str) -> Sequence[StockMovement]:
        """Return the ledger of one pair, oldest first. ``on_hand`` equals the sum of quantities."""
        ...

    def reserve(self, reservation: Reservation) -> Reservation:
        """Hold every line of ``reservation`` or none of them.

        Idempotent by ``reservation.key``: a second call with the same key and lines returns the
        stored reservation without holding more; the same key with other lines raises
        ``ConflictError`` (``stock.reservation_conflict``). Raises ``InsufficientStockError``
        (``stock.insufficient``) when any line lacks available stock; its
        ``details["short_lines"]`` lists every short line, in the reservation's (store, sku)
        order, as ``{"store_id": str, "sku": str, "requested": int, "available": int}``.
        """
        ...

    def get_reservation(self, key: str) -> Reservation:
        """Return a reservation. Raises ``NotFoundError`` (``stock.reservation_not_found``)."""
        ...

    def release(self, key: str) -> Reservation:
        """Return an active reservation's units to available stock (status ``released``).

        Idempotent for an already released reservation; raises ``ConflictError``
        (``stock.reservation_closed``) for a committed or expired one.
        """
        ...

    def commit(self, key: str, *, at: datetime, actor_id: str = "system") -> Reservation:
        """Turn an active reservation into sale movements (on hand and reserved both drop).

        Idempotent for an already committed reservation; raises ``ConflictError``
        (``stock.reservation_closed``) for a released or expired one.
        """
        ...

    def expire(self, *, now: datetime) -> Sequence[Reservation]:
        """Expire every active reservation whose ``expires_at`` is at or before ``now``.

        Their units return to available stock, their status becomes ``expired``; returns them.
        """
        ...

    # --- transfers between stores (in transit between shipping and receiving) ---------------

    def ship_transfer(self, transfer: Transfer, *, actor_id: str = "system") -> Transfer:
        """Ship ``transfer``: a ``transfer_out`` movement at the source, units now in transit.

        The source must hold ``quantity`` units that are not reserved (``on_hand - reserved``;
        the online safety buffer does not stop a transfer). The check and the decrement are one
        conditional UPDATE on SQL storages, so concurrent reservations and transfers never
        oversell.

        Idempotent by ``transfer.id``: shipping the same id with the same stores, SKU and quantity
        returns the stored transfer without moving more stock (whatever its status now); the same
        id with other contents raises ``ConflictError`` (``stock.transfer_conflict``). Raises
        ``InsufficientStockError`` (``stock.insufficient``, ``details["available"]``) when the
        source lacks the units; nothing is written then.
        """
        ...

    def receive_transfer(
        self, transfer_id: str, *, at: datetime, actor_id: str = "system"
    ) -> Transfer:
        """Land an in-transit transfer: a ``transfer_in`` movement at the destination.

        Idempotent for a received transfer. Raises ``NotFoundError``
        (``stock.transfer_not_found``) or ``ConflictError`` (``stock.transfer_closed``) for a
        cancelled one.
        """
        ...

    def cancel_transfer(
        self, transfer_id: str, *, at: datetime, actor_id: str = "system"
    ) -> Transfer:
        """Return an in-transit transfer to its source: a ``transfer_in`` movement there.

        Idempotent for a cancelled transfer. Raises ``NotFoundError``
        (``stock.transfer_not_found``) or ``ConflictError`` (``stock.transfer_closed``) for a
        received one.
        """
        ...

    # --- ring-fenced quotas --------------------------------------------------------------------

    def set_quota(self, store_id: str, sku: str, channel: str, units: int) -> Quota:
        """Ring-fence ``units`` of one (store, sku) for ``channel`` (0 removes the quota).

        Fenced units count in ``StockLevel.reserved``: raising a quota takes the extra units
        from available stock with one conditional UPDATE (``InsufficientStockError``,
        ``stock.insufficient``, when they are not available; the safety buffer is never fenced);
        lowering it gives units back.
        """
        ...

    def quotas(self, *, store_id: str | None = None, sku: str | None = None) -> Sequence[Quota]:
        """Return the quotas by (store, sku, channel).

        A quota drawn down to 0 units stays (0 units: the channel's allotment is sold out and
        its reservations do not fall back to general stock) until ``set_quota(..., 0)``
        removes it.
        """
        ...

    def reserve_for_channel(self, reservation: Reservation, *, channel: str) -> Reservation:
        """Like :meth:`reserve`, but lines with a quota for ``channel`` draw from that quota.

        A quota line moves units from the fence to the reservation (``reserved`` does not
        change); the other lines hold available stock as :meth:`reserve` does.

        All or nothing, idempotent by key like :meth:`reserve`. A short quota line raises
        ``InsufficientStockError`` (``stock.insufficient``) whose short line reports the quota's
        units as ``available``. Released or expired, such a reservation returns its units to
        the general pool, not to the quota.
        """
        ...

    def get_transfer(self, transfer_id: str) -> Transfer:
        """Return a transfer. Raises ``NotFoundError`` (``stock.transfer_not_found``)."""
        ...

    def transfers_in_transit(
        self, *, sku: str | None = None, store_id: str | None = None
    ) -> Sequence[Transfer]:
        """Return the transfers still in transit, sorted by id.

        ``sku`` keeps one SKU; ``store_id`` keeps transfers from or to that store.
        """
        ...


@runtime_checkable
class AssortmentRepository(Protocol):
    """Which stores list which products (versioned for incremental sync) and store prices."""

    def record(
        self,
        *,
        product_id: str,
        store_ids: Sequence[str],
        kind: ChangeKind,
        at: datetime,
    ) -> int:
        """Take the next catalog version and record ``kind`` for each store under it.

        Versions are chain-wide, start at 1 and strictly increase in commit order of the units of
        work that take them (SQL storages take a row lock on the version counter, so concurrent
        publishers queue). Every store in ``store_ids`` gets one :class:`CatalogChange`, even if
        its listing already matched (a re-publish carries new copy). Returns the version.
        """
        ...

    def version(self) -> int:
        """Return the latest catalog version (0 before the first publish)."""
        ...

    def changes_since(
        self, version: int, *, store_id: str | None = None, limit: int | None = None
    ) -> Sequence[CatalogChange]:
        """Return changes with a version above ``version``, by (version, product, store).

        ``store_id`` keeps one store's changes; ``limit`` caps how many are returned (sync in
        pages by passing the last version seen). A page never splits a version: it ends before
        a version that does not fit whole, and a first version larger than ``limit`` is
        returned whole, so paging always progresses and never loses a change.
        """
        ...

    def listed(self, store_id: str) -> Sequence[str]:
        """Return the ids of the products currently published to a store, sorted."""
        ...

    def stores_listing(self, product_id: str) -> Sequence[str]:
        """Return the ids of the stores a product is currently published to, sorted."""
        ...

    def add_price(self, price: StorePrice) -> StorePrice:
        """Append a store price override (overrides are never edited; a newer one wins)."""
        ...

    def prices(self, store_id: str, sku: str) -> Sequence[StorePrice]:
        """Return the overrides of one (store, sku) in the order they were set."""
        ...


@runtime_checkable
class OrderRepository(Protocol):
    """Orders received from every channel, unique per ``(channel, external_id)``."""

    def add(self, order: Order, *, fingerprint: str) -> Order:
        """Insert ``order`` unless its ``(channel, external_id)`` is already stored.

        Returns the stored order: the new one, or the first one when a retry brings the same
        ``fingerprint`` (a hash of the normalised payload). Raises ``ConflictError``
        (``order.duplicate_conflict``) when the same external id arrives with another fingerprint.
        Uniqueness is enforced by the storage (a constraint), not by a read before the write.
        """
        ...

    def get(self, order_id: str) -> Order:
        """Return the order. Raises ``NotFoundError`` (``order.not_found``)."""
        ...

    def find_by_external_id(self, channel: str, external_id: str) -> Order | None:
        """Return the order a channel knows by ``external_id``, or ``None``."""
        ...

    def set_status(self, order_id: str, status: OrderStatus) -> Order:
        """Move the order to ``status`` if the status machine allows it.

        Raises ``NotFoundError`` or ``ConflictError`` (``order.invalid_transition``).
        """
        ...


@runtime_checkable
class MemberRepository(Protocol):
    """Members; adapters encrypt personal fields at rest where they persist them."""

    def add(self, member: Member) -> None:
        """Insert a member. Raises ``ConflictError`` (``member.duplicate``) if the id exists."""
        ...

    def get(self, member_id: str) -> Member:
        """Return the member. Raises ``NotFoundError`` (``member.not_found``)."""
        ...


@runtime_checkable
class UnitOfWork(Protocol):
    """One atomic business transaction over every repository.

    Use as a context manager: changes become durable only when :meth:`commit` is called inside
    the ``with`` block; leaving the block without committing (or by an exception) rolls back.

    Examples:
        >>> with uow_factory() as uow:  # doctest: +SKIP
        ...     uow.stores.add(store)
        ...     uow.commit()
    """

    stores: StoreRepository
    products: ProductRepository
    stock: StockRepository
    assortment: AssortmentRepository
    orders: OrderRepository
    members: MemberRepository
    outbox: Outbox
    audit: AuditLog

    def __enter__(self) -> Self:
        """Begin the transaction."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back anything not committed and release the connection."""
        ...

    def commit(self) -> None:
        """Make every change of this unit of work durable, atomically."""
        ...

    def rollback(self) -> None:
        """Discard every uncommitted change."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
"""Creates a fresh unit of work per business transaction."""


@runtime_checkable
class Storage(Protocol):
    """A storage backend as :func:`multistore.connect` uses it (memory, SQL, a plugin's)."""

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """Return a new, not yet entered, unit of work over this storage.

        ``read_only=True`` promises the unit will not write, so a backend may skip taking the
        write lock (SQLite's ``BEGIN DEFERRED`` instead of ``BEGIN IMMEDIATE``).
        """
        ...

    def close(self) -> None:
        """Release connections and files. Idempotent."""
        ...
