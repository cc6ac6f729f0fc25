"""The in-memory assortment repository (the port is ``AssortmentRepository``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from multistore._validation import check_id
from multistore.adapters.memory._state import Transaction
from multistore.catalog.assortment import CatalogChange, ChangeKind, StorePrice

__all__ = ["MemoryAssortmentRepository"]


class MemoryAssortmentRepository:
    """Listings, the versioned change log and store prices in memory.

    Versions are taken inside the unit of work, which holds the storage's lock, so they are
    gap-free and strictly increasing in commit order.
    """

    def __init__(self, tx: Callable[[], Transaction]) -> None:
        self._tx = tx

    def record(
        self, *, product_id: str, store_ids: Sequence[str], kind: ChangeKind, at: datetime
    ) -> int:
        """Take the next catalog version and record ``kind`` for each store under it."""
        tx = self._tx()
        version = self.version() + 1
        tx.catalog_version.set("version", version)
        changes = tuple(
            CatalogChange(version=version, product_id=product_id, store_id=s, kind=kind, at=at)
            for s in sorted(set(store_ids))
        )
        tx.catalog_changes.set(version, changes)
        for change in changes:
            pair = (product_id, change.store_id)
            if kind is ChangeKind.PUBLISHED:
                tx.listings.set(pair, version)
            else:
                tx.listings.delete(pair)
        return version

    def version(self) -> int:
        """Return the latest catalog version (0 before the first publish)."""
        return self._tx().catalog_version.get("version") or 0

    def changes_since(
        self, version: int, *, store_id: str | None = None, limit: int | None = None
    ) -> Sequence[CatalogChange]:
        """Return changes with a version above ``version``, by (version, product, store).

        A page never splits a version: it stops before a version whose changes do not all fit
        in ``limit``, except that a first version larger than ``limit`` comes back whole.
        """
        tx = self._tx()
        out: list[CatalogChange] = []
        for v in range(max(0, version) + 1, self.version() + 1):
            changes = [
                c
                for c in tx.catalog_changes.get(v) or ()
                if store_id is None or c.store_id == store_id
            ]
            if limit is not None and out and len(out) + len(changes) > limit:
                return out
            out.extend(changes)
            if limit is not None and len(out) >= limit:
                return out
        return out

    def listed(self, store_id: str) -> Sequence[str]:
        """Return the ids of the products currently published to a store, sorted."""
        return sorted(p for p, s in self._tx().listings.iter_keys() if s == store_id)

    def stores_listing(self, product_id: str) -> Sequence[str]:
        """Return the ids of the stores a product is currently published to, sorted."""
        return sorted(s for p, s in self._tx().listings.iter_keys() if p == product_id)

    def add_price(self, price: StorePrice) -> StorePrice:
        """Append a store price override."""
        check_id(price.store_id, "store_id")
        tx = self._tx()
        pair = (price.store_id, price.sku)
        tx.store_prices.set(pair, (*(tx.store_prices.get(pair) or ()), price))
        return price

    def prices(self, store_id: str, sku: str) -> Sequence[StorePrice]:
        """Return the overrides of one (store, sku) in the order they were set."""
        return list(self._tx().store_prices.get((store_id, sku)) or ())
