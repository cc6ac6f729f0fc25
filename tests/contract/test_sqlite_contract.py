"""The storage contract suite on SQLite: a fresh database file per test.

Each test copies a database migrated once per module, so the suite spends its time on the
contract rather than on running migrations a hundred times.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from multistore.adapters.sqlalchemy import AesGcmCipher, SqlStorage, create_storage, new_key
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.contracts import (
    StockRepositoryContract,
    StorageContract,
    UnitOfWorkContract,
)


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    create_storage(f"sqlite:///{path}", cipher=AesGcmCipher(new_key())).close()
    return path


class TestSqliteStorage(StorageContract):
    @pytest.fixture(autouse=True)
    def _database(self, tmp_path: Path, migrated_template: Path) -> None:
        self._path = tmp_path / "contract.db"
        shutil.copyfile(migrated_template, self._path)

    def make_uow_factory(self) -> UnitOfWorkFactory:
        self._storage = create_storage(f"sqlite:///{self._path}", cipher=AesGcmCipher(new_key()))
        return self._storage.unit_of_work

    def dispose_uow_factory(self, factory: UnitOfWorkFactory) -> None:
        self._storage.close()


class TestSqliteInMemoryStorage(UnitOfWorkContract, StockRepositoryContract):
    """``sqlite://`` is a private temporary file with the same guarantees."""

    def make_uow_factory(self) -> UnitOfWorkFactory:
        self._storage: SqlStorage = create_storage("sqlite://")
        return self._storage.unit_of_work

    def dispose_uow_factory(self, factory: UnitOfWorkFactory) -> None:
        self._storage.close()
