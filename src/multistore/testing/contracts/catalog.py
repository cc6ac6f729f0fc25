"""Contract of :class:`multistore.ports.storage.ProductRepository`."""

from __future__ import annotations

import pytest

from multistore.errors import ConflictError, NotFoundError
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.builders import sample_product
from multistore.testing.contracts._base import ContractBase

__all__ = ["ProductRepositoryContract"]


class ProductRepositoryContract(ContractBase):
    """Products and SKUs round-trip exactly; product ids and SKU codes are unique."""

    def test_add_then_get_and_get_sku(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Add then get and get sku."""
        product = sample_product(f"P-{uid}", [f"K-{uid}-a", f"K-{uid}-b"], price="19.90")
        with uow_factory() as uow:
            uow.products.add(product)
            uow.commit()
        with uow_factory() as uow:
            assert product == uow.products.get(product.id)
            assert product.skus[1] == uow.products.get_sku(f"K-{uid}-b")

    def test_money_round_trips_in_a_zero_decimal_currency(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Money round trips in a zero decimal currency."""
        product = sample_product(f"P-{uid}", [f"K-{uid}"], price="1200", currency="JPY")
        with uow_factory() as uow:
            uow.products.add(product)
            uow.commit()
        with uow_factory() as uow:
            assert product.skus[0] == uow.products.get_sku(f"K-{uid}")

    def test_duplicate_product_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Duplicate product is a conflict."""
        with uow_factory() as uow:
            uow.products.add(sample_product(f"P-{uid}", [f"K-{uid}-a"]))
            uow.commit()
        with uow_factory() as uow, pytest.raises(ConflictError) as info:
            uow.products.add(sample_product(f"P-{uid}", [f"K-{uid}-z"]))
        assert info.value.code == "catalog.duplicate_product"

    def test_sku_used_by_another_product_is_a_conflict_and_writes_nothing(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Sku used by another product is a conflict and writes nothing."""
        with uow_factory() as uow:
            uow.products.add(sample_product(f"P-{uid}-1", [f"K-{uid}-a"]))
            uow.commit()
        with uow_factory() as uow:
            with pytest.raises(ConflictError) as info:
                uow.products.add(sample_product(f"P-{uid}-2", [f"K-{uid}-b", f"K-{uid}-a"]))
            assert info.value.code == "catalog.duplicate_sku"
        with uow_factory() as uow:
            with pytest.raises(NotFoundError):
                uow.products.get(f"P-{uid}-2")
            with pytest.raises(NotFoundError):
                uow.products.get_sku(f"K-{uid}-b")

    def test_unknown_ids_are_not_found(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Unknown ids are not found."""
        with uow_factory() as uow:
            with pytest.raises(NotFoundError) as info:
                uow.products.get(f"P-{uid}")
            assert info.value.code == "catalog.product_not_found"
            with pytest.raises(NotFoundError) as info:
                uow.products.get_sku(f"K-{uid}")
            assert info.value.code == "catalog.sku_not_found"

    def test_list_is_sorted_by_id(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """List is sorted by id."""
        with uow_factory() as uow:
            uow.products.add(sample_product(f"P-{uid}-2", [f"K-{uid}-2"]))
            uow.products.add(sample_product(f"P-{uid}-1", [f"K-{uid}-1"]))
            uow.commit()
        with uow_factory() as uow:
            ids = [p.id for p in uow.products.list()]
        assert sorted(ids) == ids
        assert [f"P-{uid}-1", f"P-{uid}-2"] == [i for i in ids if uid in i]
