"""In-memory adapters: the reference implementation of every storage port, and the test fakes.

Examples:
    >>> from multistore.adapters.memory import MemoryStorage
    >>> storage = MemoryStorage()
    >>> factory = storage.unit_of_work
    >>> with factory() as uow:
    ...     uow.commit()
"""

from multistore.adapters.memory.audit import MemoryAuditLog
from multistore.adapters.memory.outbox import MemoryOutbox
from multistore.adapters.memory.repositories import (
    MemoryMemberRepository,
    MemoryOrderRepository,
    MemoryProductRepository,
    MemoryStockRepository,
    MemoryStoreRepository,
)
from multistore.adapters.memory.unit_of_work import MemoryStorage, MemoryUnitOfWork

__all__ = [
    "MemoryAuditLog",
    "MemoryMemberRepository",
    "MemoryOrderRepository",
    "MemoryOutbox",
    "MemoryProductRepository",
    "MemoryStockRepository",
    "MemoryStorage",
    "MemoryStoreRepository",
    "MemoryUnitOfWork",
]
