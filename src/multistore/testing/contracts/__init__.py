"""Contract suites: one per port, shipped so that any adapter can prove it keeps the promises.

The classes are not collected by pytest on their own (their names do not start with ``Test``).
Subclass one (or :class:`StorageContract`, which combines them all) in your test module and tell
it how to build your storage:

Examples:
    >>> from multistore.adapters.memory import MemoryStorage
    >>> from multistore.testing.contracts import StorageContract
    >>> class TestMemoryStorage(StorageContract):
    ...     def make_uow_factory(self):
    ...         return MemoryStorage().unit_of_work

Override :meth:`~ContractBase.dispose_uow_factory` to close what ``make_uow_factory`` opened, or
replace the ``uow_factory`` fixture altogether. The suites use only the ports' API, create ids with
a random prefix and tolerate storages that already hold other data (a shared PostgreSQL).
"""

from multistore.testing.contracts._base import ContractBase
from multistore.testing.contracts.assortment import AssortmentRepositoryContract
from multistore.testing.contracts.audit import AuditLogContract
from multistore.testing.contracts.catalog import ProductRepositoryContract
from multistore.testing.contracts.members import MemberRepositoryContract
from multistore.testing.contracts.orders import OrderRepositoryContract
from multistore.testing.contracts.outbox import OutboxContract
from multistore.testing.contracts.quotas import QuotaContract
from multistore.testing.contracts.replenishment import ReplenishmentContract
from multistore.testing.contracts.stock import StockRepositoryContract
from multistore.testing.contracts.stores import StoreRepositoryContract
from multistore.testing.contracts.transfers import TransferContract
from multistore.testing.contracts.unit_of_work import UnitOfWorkContract

__all__ = [
    "AssortmentRepositoryContract",
    "AuditLogContract",
    "ContractBase",
    "MemberRepositoryContract",
    "OrderRepositoryContract",
    "OutboxContract",
    "ProductRepositoryContract",
    "QuotaContract",
    "ReplenishmentContract",
    "StockRepositoryContract",
    "StorageContract",
    "StoreRepositoryContract",
    "TransferContract",
    "UnitOfWorkContract",
]


class StorageContract(
    StoreRepositoryContract,
    ProductRepositoryContract,
    StockRepositoryContract,
    TransferContract,
    QuotaContract,
    AssortmentRepositoryContract,
    OrderRepositoryContract,
    MemberRepositoryContract,
    OutboxContract,
    AuditLogContract,
    UnitOfWorkContract,
    ReplenishmentContract,
):
    """Every storage contract at once: what a complete storage adapter must pass."""
