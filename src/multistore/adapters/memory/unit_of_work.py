"""The in-memory storage and its unit of work.

:class:`MemoryStorage` holds the committed state. Each :class:`MemoryUnitOfWork` takes the
storage's lock when it begins, so units of work run one at a time (like SQLite's single writer),
and writes into a private overlay that is applied on :meth:`~MemoryUnitOfWork.commit` and thrown
away otherwise. Rollback is therefore real, and concurrent threads never see half a change.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from multistore.adapters.memory._state import MemoryState, Transaction
from multistore.adapters.memory.assortment import MemoryAssortmentRepository
from multistore.adapters.memory.audit import MemoryAuditLog
from multistore.adapters.memory.outbox import MemoryOutbox
from multistore.adapters.memory.replenishment import (
    MemoryReorderPointRepository,
    MemorySalesHistory,
)
from multistore.adapters.memory.repositories import (
    MemoryMemberRepository,
    MemoryOrderRepository,
    MemoryProductRepository,
    MemoryStockRepository,
    MemoryStoreRepository,
)
from multistore.errors import StorageError, TransientStorageError
from multistore.ports.events import Outbox
from multistore.ports.replenishment import ReorderPointRepository, SalesHistory
from multistore.ports.security import AuditLog
from multistore.ports.storage import (
    AssortmentRepository,
    MemberRepository,
    OrderRepository,
    ProductRepository,
    StockRepository,
    StoreRepository,
)

__all__ = ["MemoryStorage", "MemoryUnitOfWork"]


class MemoryStorage:
    """A storage that lives in this process's memory; the reference adapter and test fake.

    Args:
        lock_timeout: Seconds a unit of work waits for another one to finish before raising
            :class:`~multistore.errors.TransientStorageError`.

    Examples:
        >>> storage = MemoryStorage()
        >>> with storage.unit_of_work() as uow:
        ...     uow.stores.list()
        []
    """

    def __init__(self, *, lock_timeout: float = 30.0) -> None:
        self.state = MemoryState()
        self.lock_timeout = lock_timeout
        self._lock = threading.Lock()
        self._owner = threading.local()

    def unit_of_work(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        """Return a new unit of work over this storage (use it as a context manager).

        ``read_only`` is accepted for symmetry with SQL storages; memory units always isolate.
        """
        return MemoryUnitOfWork(self)

    def close(self) -> None:
        """Nothing to release; present so every storage can be closed the same way."""

    def _acquire(self) -> None:
        if getattr(self._owner, "active", False):
            raise StorageError(
                "a unit of work is already open in this thread; finish it before opening another "
                "(nested units of work would deadlock on a real database)",
                code="storage.nested_unit_of_work",
            )
        if not self._lock.acquire(timeout=self.lock_timeout):
            raise TransientStorageError(
                f"the in-memory storage stayed busy for {self.lock_timeout:g} s; retry the call",
                code="storage.busy",
            )
        self._owner.active = True

    def _release(self) -> None:
        self._owner.active = False
        self._lock.release()


class MemoryUnitOfWork:
    """One atomic business transaction over a :class:`MemoryStorage`.

    Changes become visible to other units of work only on :meth:`commit`; leaving the ``with``
    block without committing, or by an exception, discards them.
    """

    def __init__(self, storage: MemoryStorage) -> None:
        self._storage = storage
        self._current: Transaction | None = None
        # Annotated with the ports' types: the UnitOfWork protocol's attributes are invariant.
        self.stores: StoreRepository = MemoryStoreRepository(self._transaction)
        self.products: ProductRepository = MemoryProductRepository(self._transaction)
        self.stock: StockRepository = MemoryStockRepository(self._transaction)
        self.assortment: AssortmentRepository = MemoryAssortmentRepository(self._transaction)
        self.orders: OrderRepository = MemoryOrderRepository(self._transaction)
        self.members: MemberRepository = MemoryMemberRepository(self._transaction)
        self.outbox: Outbox = MemoryOutbox(self._transaction)
        self.audit: AuditLog = MemoryAuditLog(self._transaction)
        self.sales_history: SalesHistory = MemorySalesHistory(self._transaction)
        self.reorder_points: ReorderPointRepository = MemoryReorderPointRepository(
            self._transaction
        )

    def _transaction(self) -> Transaction:
        if self._current is None:
            raise StorageError(
                "this unit of work is not open; use it as `with factory() as uow:`",
                code="storage.no_transaction",
            )
        return self._current

    def __enter__(self) -> Self:
        """Begin the transaction (waits for any other unit of work to finish)."""
        if self._current is not None:
            raise StorageError(
                "this unit of work is already open", code="storage.nested_unit_of_work"
            )
        self._storage._acquire()
        self._current = Transaction(self._storage.state)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Discard anything not committed and let the next unit of work begin."""
        if self._current is None:
            return
        self._current = None
        self._storage._release()

    def commit(self) -> None:
        """Apply every change of this unit of work to the storage, atomically."""
        tx = self._transaction()
        tx.apply()
        self._current = Transaction(self._storage.state)

    def rollback(self) -> None:
        """Discard every uncommitted change; the unit of work stays open."""
        self._transaction()
        self._current = Transaction(self._storage.state)
