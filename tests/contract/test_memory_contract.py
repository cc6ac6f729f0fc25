"""The in-memory storage passes every storage contract."""

from __future__ import annotations

from multistore.adapters.memory import MemoryStorage
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.contracts import StorageContract


class TestMemoryStorage(StorageContract):
    def make_uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStorage().unit_of_work


class TestSharedMemoryStorage(StorageContract):
    """The suites tolerate a storage that already holds data from earlier tests."""

    storage = MemoryStorage()

    def make_uow_factory(self) -> UnitOfWorkFactory:
        return self.storage.unit_of_work
