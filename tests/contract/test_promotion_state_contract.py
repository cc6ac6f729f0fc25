"""The promotion-port contract on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from multistore.adapters.promotion_state import PromotionState, memory_promotion_state
from multistore.adapters.sqlalchemy import SqlStorage, create_storage
from multistore.adapters.sqlalchemy.promotions import promotion_state
from multistore.testing.contracts.promotions import PromotionStateContract


class TestMemoryPromotionState(PromotionStateContract):
    def make_promotion_state(
        self, *, coupon_limits: Mapping[str, int] | None = None
    ) -> PromotionState:
        return memory_promotion_state(coupon_limits=coupon_limits)


@pytest.fixture(scope="module")
def sqlite_storage() -> Iterator[SqlStorage]:
    storage = create_storage("sqlite://")
    yield storage
    storage.close()


class TestSqlitePromotionState(PromotionStateContract):
    @pytest.fixture(autouse=True)
    def _storage(self, sqlite_storage: SqlStorage) -> None:
        self._sql = sqlite_storage

    def make_promotion_state(
        self, *, coupon_limits: Mapping[str, int] | None = None
    ) -> PromotionState:
        return promotion_state(self._sql, coupon_limits=coupon_limits)


@pytest.mark.postgres
class TestPostgresPromotionState(PromotionStateContract):
    @pytest.fixture(autouse=True)
    def _storage(self, pg_storage: SqlStorage) -> None:
        self._sql = pg_storage

    def make_promotion_state(
        self, *, coupon_limits: Mapping[str, int] | None = None
    ) -> PromotionState:
        return promotion_state(self._sql, coupon_limits=coupon_limits)
