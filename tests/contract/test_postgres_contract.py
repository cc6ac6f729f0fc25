"""The storage contract suite on PostgreSQL (skipped unless MULTISTORE_TEST_POSTGRES_URL is set).

All tests share one migrated schema private to the session; the suites use unique ids.
"""

from __future__ import annotations

import pytest

from multistore.adapters.sqlalchemy import SqlStorage
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.contracts import StorageContract

pytestmark = pytest.mark.postgres


class TestPostgresStorage(StorageContract):
    @pytest.fixture(autouse=True)
    def _storage(self, pg_storage: SqlStorage) -> None:
        self._pg = pg_storage

    def make_uow_factory(self) -> UnitOfWorkFactory:
        return self._pg.unit_of_work
