"""Contract of :class:`multistore.ports.storage.AssortmentRepository`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from multistore import money as m
from multistore.catalog.assortment import CatalogChange, ChangeKind, StorePrice
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.builders import T0
from multistore.testing.contracts._base import ContractBase

__all__ = ["AssortmentRepositoryContract"]


class AssortmentRepositoryContract(ContractBase):
    """Listings follow publishes; versions strictly increase; store prices keep their order."""

    def test_versions_strictly_increase(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Each record takes a version above every earlier one."""
        with uow_factory() as uow:
            before = uow.assortment.version()
            first = uow.assortment.record(
                product_id=f"P-{uid}", store_ids=[f"S1-{uid}"], kind=ChangeKind.PUBLISHED, at=T0
            )
            uow.commit()
        with uow_factory() as uow:
            second = uow.assortment.record(
                product_id=f"P-{uid}", store_ids=[f"S2-{uid}"], kind=ChangeKind.PUBLISHED, at=T0
            )
            uow.commit()
        assert before < first < second
        with uow_factory() as uow:
            assert second <= uow.assortment.version()

    def test_publish_lists_and_logs_every_store(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """A publish lists the product in each store and logs one change per store."""
        p, s1, s2 = f"P-{uid}", f"S1-{uid}", f"S2-{uid}"
        with uow_factory() as uow:
            start = uow.assortment.version()
            version = uow.assortment.record(
                product_id=p, store_ids=[s2, s1, s1], kind=ChangeKind.PUBLISHED, at=T0
            )
            uow.commit()
        with uow_factory() as uow:
            assert [s1, s2] == list(uow.assortment.stores_listing(p))
            assert [p] == list(uow.assortment.listed(s1))
            mine = [c for c in uow.assortment.changes_since(start) if c.product_id == p]
            assert [(version, s1), (version, s2)] == [(c.version, c.store_id) for c in mine]
            assert all(c.kind is ChangeKind.PUBLISHED and c.at == T0 for c in mine)
            only_s2 = list(uow.assortment.changes_since(start, store_id=s2))
            assert [(version, p)] == [(c.version, c.product_id) for c in only_s2]
            assert list(uow.assortment.changes_since(version, store_id=s2)) == []

    def test_unpublish_removes_the_listing(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """An unpublish delists the store and logs the change under a newer version."""
        p, s1, s2 = f"P-{uid}", f"S1-{uid}", f"S2-{uid}"
        with uow_factory() as uow:
            v1 = uow.assortment.record(
                product_id=p, store_ids=[s1, s2], kind=ChangeKind.PUBLISHED, at=T0
            )
            v2 = uow.assortment.record(
                product_id=p,
                store_ids=[s1],
                kind=ChangeKind.UNPUBLISHED,
                at=T0 + timedelta(hours=1),
            )
            uow.commit()
        assert v1 < v2
        with uow_factory() as uow:
            assert [s2] == list(uow.assortment.stores_listing(p))
            assert list(uow.assortment.listed(s1)) == []
            log = list(uow.assortment.changes_since(v1 - 1, store_id=s1))
            assert [c.kind for c in log] == [ChangeKind.PUBLISHED, ChangeKind.UNPUBLISHED]

    def test_changes_since_pages_with_limit(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Limit caps the page; the next page starts after the last version seen."""
        s = f"S-{uid}"
        with uow_factory() as uow:
            start = uow.assortment.version()
            versions = [
                uow.assortment.record(
                    product_id=f"P{i}-{uid}", store_ids=[s], kind=ChangeKind.PUBLISHED, at=T0
                )
                for i in range(3)
            ]
            uow.commit()
        with uow_factory() as uow:
            page = list(uow.assortment.changes_since(start, store_id=s, limit=2))
            assert versions[:2] == [c.version for c in page]
            rest = list(uow.assortment.changes_since(page[-1].version, store_id=s, limit=2))
            assert versions[2:] == [c.version for c in rest]

    def test_paging_never_splits_a_version(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Paging with any limit, from the last version seen, returns exactly the unpaged log.

        A page ends before a version that does not fit whole; a first version larger than the
        limit comes back whole, so paging always advances.
        """
        sizes = [1, 3, 2, 1, 4]
        with uow_factory() as uow:
            start = uow.assortment.version()
            for i, size in enumerate(sizes):
                uow.assortment.record(
                    product_id=f"P{i}-{uid}",
                    store_ids=[f"S{j}-{uid}" for j in range(size)],
                    kind=ChangeKind.PUBLISHED,
                    at=T0,
                )
            uow.commit()

        def mine(changes: Sequence[CatalogChange]) -> list[CatalogChange]:
            return [c for c in changes if c.product_id.endswith(f"-{uid}")]

        with uow_factory() as uow:
            unpaged = mine(uow.assortment.changes_since(start))
        assert sum(sizes) == len(unpaged)
        for limit in range(1, sum(sizes) + 2):
            paged: list[CatalogChange] = []
            seen = start
            with uow_factory() as uow:
                while page := list(uow.assortment.changes_since(seen, limit=limit)):
                    versions = {c.version for c in page}
                    assert len(page) <= limit or len(versions) == 1, (limit, page)
                    assert min(versions) > seen
                    paged += mine(page)
                    seen = page[-1].version
            assert unpaged == paged, f"limit={limit}"

    def test_rollback_discards_a_publish(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """A publish not committed leaves no listing and no change."""
        p, s = f"P-{uid}", f"S-{uid}"
        with uow_factory() as uow:
            uow.assortment.record(product_id=p, store_ids=[s], kind=ChangeKind.PUBLISHED, at=T0)
        with uow_factory() as uow:
            assert list(uow.assortment.stores_listing(p)) == []
            assert list(uow.assortment.changes_since(0, store_id=s)) == []

    def test_store_prices_keep_their_order_and_money(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Overrides read back exactly (minor units, currency, windows) in the order set."""
        s, k = f"S-{uid}", f"K-{uid}"
        first = StorePrice(
            store_id=s,
            sku=k,
            price=m.money("12.30"),
            valid_from=T0,
            valid_to=T0 + timedelta(days=7),
            set_at=T0,
        )
        second = StorePrice(
            store_id=s,
            sku=k,
            price=m.money("9.90"),
            valid_from=T0 + timedelta(days=1),
            set_at=T0 + timedelta(minutes=5),
        )
        with uow_factory() as uow:
            uow.assortment.add_price(first)
            uow.assortment.add_price(second)
            uow.commit()
        with uow_factory() as uow:
            assert [first, second] == list(uow.assortment.prices(s, k))
            assert list(uow.assortment.prices(s, f"other-{uid}")) == []
