"""The composition root: :func:`connect` builds the adapters and returns the :class:`Multistore`.

Examples:
    >>> import multistore
    >>> from multistore.ports.security import SYSTEM_ACTOR
    >>> from multistore.testing.builders import sample_product
    >>> with multistore.connect("memory://") as ms:
    ...     tea = ms.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P1", ["K1"]))
    ...     ms.catalog.get_sku(code="K1").name
    'Variant K1'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from multistore._validation import check_non_negative_int, check_positive_int
from multistore.adapters.events.inprocess import InProcessEventBus
from multistore.adapters.registry import create_storage
from multistore.adapters.system import SystemClock, UuidIdFactory
from multistore.catalog.service import CatalogService
from multistore.inventory.service import InventoryService
from multistore.members.service import MemberService
from multistore.orders.service import OrderService
from multistore.ports.clock import Clock, IdFactory
from multistore.ports.content_review import ContentReviewer
from multistore.ports.events import EventBus
from multistore.ports.security import AuditEntry, Authorizer
from multistore.ports.storage import Storage, UnitOfWork
from multistore.replenishment.service import ReplenishmentService
from multistore.security.audit_chain import first_break
from multistore.security.rbac import RoleBasedAuthorizer
from multistore.services.context import ServiceContext
from multistore.services.relay import relay_outbox
from multistore.stores.service import StoreService

__all__ = ["DEFAULT_URL", "AuditTrail", "Multistore", "connect"]

DEFAULT_URL = "sqlite:///multistore.db"
"""Where :func:`connect` stores data when given no URL (and ``MULTISTORE_URL`` is unset)."""


class AuditTrail:
    """Read access to the audit log (``ms.audit``)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def entries(self, *, since_sequence: int = 0, limit: int | None = None) -> Sequence[AuditEntry]:
        """Return entries with ``sequence > since_sequence``, oldest first."""
        with self._storage.unit_of_work(read_only=True) as uow:
            return list(uow.audit.entries(since_sequence=since_sequence, limit=limit))

    def first_break(self) -> int | None:
        """Return the sequence of the first tampered entry, or ``None`` if the chain is intact."""
        return first_break(self.entries(), prev_hash="")

    def verify(self) -> bool:
        """Whether the whole log is intact (every hash and every link checks out)."""
        return self.first_break() is None


class Multistore:
    """The SDK facade: one attribute per context, all sharing one storage.

    Attributes:
        stores: :class:`~multistore.stores.service.StoreService`.
        catalog: :class:`~multistore.catalog.service.CatalogService`.
        inventory: :class:`~multistore.inventory.service.InventoryService`.
        orders: :class:`~multistore.orders.service.OrderService`.
        members: :class:`~multistore.members.service.MemberService`.
        replenishment: :class:`~multistore.replenishment.service.ReplenishmentService`.
        events: The event bus; subscribe handlers here, then call :meth:`relay_events`.
        audit: Read access to the audit log.
        context: The ports the services share (for building further services).
        storage: The storage backend.
    """

    def __init__(self, *, storage: Storage, context: ServiceContext, event_bus: EventBus) -> None:
        self.storage = storage
        self.context = context
        self.events = event_bus
        self.audit = AuditTrail(storage)
        self.stores = StoreService(context)
        self.catalog = CatalogService(context)
        self.inventory = InventoryService(context)
        self.orders = OrderService(context)
        self.members = MemberService(context)
        self.replenishment = ReplenishmentService(context)
        self._closed = False

    def unit_of_work(self) -> UnitOfWork:
        """Return a new unit of work on the storage (for code that needs the ports directly)."""
        return self.storage.unit_of_work()

    def relay_events(self, *, limit: int = 1000, batch: int = 100) -> int:
        """Publish pending outbox events to :attr:`events`, oldest first.

        Args:
            limit: Most events to publish in this call (0 publishes nothing).
            batch: Events per outbox read (an int of at least 1).

        Returns:
            How many events were published.

        Raises:
            ValidationError: before anything is read: ``validation.not_an_integer`` when
                ``limit`` or ``batch`` is not an int, ``validation.non_positive_quantity`` for
                ``batch`` below 1, ``validation.negative_quantity`` for a negative ``limit``.
        """
        check_non_negative_int(limit, "limit")
        check_positive_int(batch, "batch")
        total = 0
        while total < limit:
            size = min(batch, limit - total)
            sent = relay_outbox(self.storage.unit_of_work, self.events, limit=size)
            total += sent
            if sent < size:
                break
        return total

    def close(self) -> None:
        """Close the storage. Idempotent."""
        if not self._closed:
            self._closed = True
            self.storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    url: str | None = None,
    *,
    clock: Clock | None = None,
    id_factory: IdFactory | None = None,
    authorizer: Authorizer | None = None,
    event_bus: EventBus | None = None,
    migrate: bool = True,
    content_reviewer: ContentReviewer | None = None,
) -> Multistore:
    """Open a multistore on the storage a URL names and wire every service to it.

    Args:
        url: ``"memory://"``, ``"sqlite:///path.db"``, ``"postgresql+psycopg://..."`` or a
            plugin's scheme. Default: ``$MULTISTORE_URL``, else ``sqlite:///multistore.db`` in
            the current directory.
        clock: Source of time (default: the system clock, UTC).
        id_factory: Source of new ids (default: UUIDs).
        authorizer: Who may do what (default: :class:`RoleBasedAuthorizer` with the built-in
            roles; the system actor may do everything).
        event_bus: Where relayed events go (default: a new :class:`InProcessEventBus`).
        migrate: Whether SQL storages bring their schema up to date on connect.
        content_reviewer: Reviews product copy before the catalog stores or publishes it
            (default: :class:`~multistore.ports.content_review.PassThroughReviewer`).

    Returns:
        The :class:`Multistore` facade; close it (or use ``with``) when done.

    Raises:
        ValidationError: ``storage.unknown_url`` or ``storage.invalid_url`` for a bad URL.
        StorageError: when the storage cannot be opened.
    """
    if url is None:
        url = os.environ.get("MULTISTORE_URL") or DEFAULT_URL
    storage = create_storage(url, migrate=migrate)
    context = ServiceContext(
        uow_factory=storage.unit_of_work,
        read_uow_factory=lambda: storage.unit_of_work(read_only=True),
        clock=clock if clock is not None else SystemClock(),
        ids=id_factory if id_factory is not None else UuidIdFactory(),
        authorizer=authorizer if authorizer is not None else RoleBasedAuthorizer(),
    )
    ms = Multistore(
        storage=storage,
        context=context,
        event_bus=event_bus if event_bus is not None else InProcessEventBus(),
    )
    if content_reviewer is not None:
        ms.catalog = CatalogService(context, reviewer=content_reviewer)
    return ms
