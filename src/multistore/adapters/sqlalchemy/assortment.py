"""The SQL assortment repository: listings, the versioned change log and store prices.

The catalog version is one row bumped by ``INSERT ... ON CONFLICT DO UPDATE SET version =
version + 1 RETURNING version``: the statement takes the row lock, so concurrent publishers queue
and versions follow commit order without gaps or duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select

from multistore import money as m
from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.repositories import _Repository, dialect_insert, translated
from multistore.catalog.assortment import CatalogChange, ChangeKind, StorePrice

__all__ = ["SqlAssortmentRepository"]

_V = t.catalog_version.c
_C = t.catalog_changes.c
_L = t.catalog_listings.c
_P = t.store_prices.c


def _change_from_row(row: Row[Any]) -> CatalogChange:
    return CatalogChange(
        version=int(row.version),
        product_id=row.product_id,
        store_id=row.store_id,
        kind=ChangeKind(row.kind),
        at=row.at,
    )


class SqlAssortmentRepository(_Repository):
    """Assortment in SQL (see :class:`multistore.ports.storage.AssortmentRepository`)."""

    @translated("publishing to stores")
    def record(
        self, *, product_id: str, store_ids: Sequence[str], kind: ChangeKind, at: datetime
    ) -> int:
        """Take the next catalog version and record ``kind`` for each store under it."""
        conn = self._conn
        bump = dialect_insert(self._uow.dialect, t.catalog_version).values(id=1, version=1)
        version = int(
            conn.execute(
                bump.on_conflict_do_update(
                    index_elements=[_V.id], set_={"version": _V.version + 1}
                ).returning(_V.version)
            ).scalar_one()
        )
        stores = sorted(set(store_ids))
        if not stores:
            return version
        conn.execute(
            insert(t.catalog_changes),
            [
                {
                    "version": version,
                    "product_id": product_id,
                    "store_id": s,
                    "kind": kind.value,
                    "at": at,
                }
                for s in stores
            ],
        )
        if kind is ChangeKind.UNPUBLISHED:
            conn.execute(
                delete(t.catalog_listings).where(
                    _L.product_id == product_id, _L.store_id.in_(stores)
                )
            )
            return version
        upsert = dialect_insert(self._uow.dialect, t.catalog_listings)
        conn.execute(
            upsert.on_conflict_do_update(
                index_elements=[_L.product_id, _L.store_id],
                set_={"version": upsert.excluded.version},
            ),
            [{"product_id": product_id, "store_id": s, "version": version} for s in stores],
        )
        return version

    @translated("reading the catalog version")
    def version(self) -> int:
        """Return the latest catalog version (0 before the first publish)."""
        found = self._conn.execute(select(_V.version).where(_V.id == 1)).scalar()
        return 0 if found is None else int(found)

    @translated("reading catalog changes")
    def changes_since(
        self, version: int, *, store_id: str | None = None, limit: int | None = None
    ) -> Sequence[CatalogChange]:
        """Return changes with a version above ``version``, by (version, product, store).

        A page never splits a version: it stops before a version whose changes do not all fit
        in ``limit``, except that a first version larger than ``limit`` comes back whole. One
        query reads ``limit + 1`` rows; a second reads the first version whole only when it
        alone is larger than ``limit``.
        """
        stmt = select(t.catalog_changes).where(_C.version > version)
        if store_id is not None:
            stmt = stmt.where(_C.store_id == store_id)
        stmt = stmt.order_by(_C.version, _C.product_id, _C.store_id)
        if limit is None:
            return [_change_from_row(r) for r in self._conn.execute(stmt)]
        rows = [_change_from_row(r) for r in self._conn.execute(stmt.limit(limit + 1))]
        if len(rows) <= limit:
            return rows
        cut = rows[limit].version  # the first version that may not fit whole
        whole = [c for c in rows[:limit] if c.version < cut]
        if whole:
            return whole
        # The first version alone is larger than the limit: return it whole so paging advances.
        return [_change_from_row(r) for r in self._conn.execute(stmt.where(_C.version == cut))]

    @translated("reading a store's assortment")
    def listed(self, store_id: str) -> Sequence[str]:
        """Return the ids of the products currently published to a store, sorted."""
        rows = self._conn.execute(
            select(_L.product_id).where(_L.store_id == store_id).order_by(_L.product_id)
        )
        return [str(r.product_id) for r in rows]

    @translated("reading a product's stores")
    def stores_listing(self, product_id: str) -> Sequence[str]:
        """Return the ids of the stores a product is currently published to, sorted."""
        rows = self._conn.execute(
            select(_L.store_id).where(_L.product_id == product_id).order_by(_L.store_id)
        )
        return [str(r.store_id) for r in rows]

    @translated("setting a store price")
    def add_price(self, price: StorePrice) -> StorePrice:
        """Append a store price override."""
        self._conn.execute(
            insert(t.store_prices).values(
                store_id=price.store_id,
                sku=price.sku,
                price_minor=m.to_minor(price.price),
                currency=price.price.currency.value,
                valid_from=price.valid_from,
                valid_to=price.valid_to,
                set_at=price.set_at,
            )
        )
        return price

    @translated("reading store prices")
    def prices(self, store_id: str, sku: str) -> Sequence[StorePrice]:
        """Return the overrides of one (store, sku) in the order they were set."""
        rows = self._conn.execute(
            select(t.store_prices).where(_P.store_id == store_id, _P.sku == sku).order_by(_P.id)
        )
        return [
            StorePrice(
                store_id=r.store_id,
                sku=r.sku,
                price=m.from_minor(int(r.price_minor), r.currency),
                valid_from=r.valid_from,
                valid_to=r.valid_to,
                set_at=r.set_at,
            )
            for r in rows
        ]
