"""Contract of :class:`multistore.ports.storage.StoreRepository`."""

from __future__ import annotations

import attrs
import pytest

from multistore.errors import ConflictError, NotFoundError
from multistore.ports.storage import UnitOfWorkFactory
from multistore.stores.model import StoreStatus
from multistore.testing.builders import sample_store
from multistore.testing.contracts._base import ContractBase

__all__ = ["StoreRepositoryContract"]


class StoreRepositoryContract(ContractBase):
    """Stores round-trip exactly, ids are unique, and lists filter and sort by id."""

    def test_add_then_get_round_trips_every_field(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Add then get round trips every field."""
        store = sample_store(f"S-{uid}", region=f"r-{uid}", lat=39.9042, lon=116.4074)
        with uow_factory() as uow:
            uow.stores.add(store)
            uow.commit()
        with uow_factory() as uow:
            assert store == uow.stores.get(store.id)

    def test_duplicate_id_is_a_conflict(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Duplicate id is a conflict."""
        with uow_factory() as uow:
            uow.stores.add(sample_store(f"S-{uid}"))
            uow.commit()
        with uow_factory() as uow, pytest.raises(ConflictError) as info:
            uow.stores.add(sample_store(f"S-{uid}", name="Other"))
        assert info.value.code == "store.duplicate"
        with uow_factory() as uow:
            assert f"Store S-{uid}" == uow.stores.get(f"S-{uid}").name

    def test_unknown_id_is_not_found(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Unknown id is not found."""
        with uow_factory() as uow, pytest.raises(NotFoundError) as info:
            uow.stores.get(f"missing-{uid}")
        assert info.value.code == "store.not_found"

    def test_update_replaces_fields(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Update replaces fields."""
        store = sample_store(f"S-{uid}")
        with uow_factory() as uow:
            uow.stores.add(store)
            uow.commit()
        changed = attrs.evolve(store, name="Renamed", status=StoreStatus.SUSPENDED, delivers=False)
        with uow_factory() as uow:
            uow.stores.update(changed)
            uow.commit()
        with uow_factory() as uow:
            assert changed == uow.stores.get(store.id)

    def test_update_unknown_is_not_found(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Update unknown is not found."""
        with uow_factory() as uow, pytest.raises(NotFoundError) as info:
            uow.stores.update(sample_store(f"missing-{uid}"))
        assert info.value.code == "store.not_found"

    def test_list_filters_by_region_format_and_status_sorted_by_id(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """List filters by region format and status sorted by id."""
        region, other = f"east-{uid}", f"west-{uid}"
        stores = [
            sample_store(f"S-{uid}-3", region=region, store_format="convenience"),
            sample_store(f"S-{uid}-1", region=region, store_format="supermarket"),
            sample_store(
                f"S-{uid}-2", region=region, store_format="supermarket", status=StoreStatus.CLOSED
            ),
            sample_store(f"S-{uid}-4", region=other, store_format="supermarket"),
        ]
        with uow_factory() as uow:
            for store in stores:
                uow.stores.add(store)
            uow.commit()
        with uow_factory() as uow:
            assert [f"S-{uid}-1", f"S-{uid}-2", f"S-{uid}-3"] == [
                s.id for s in uow.stores.list(region=region)
            ]
            assert [f"S-{uid}-1", f"S-{uid}-2"] == [
                s.id for s in uow.stores.list(region=region, format="supermarket")
            ]
            assert [f"S-{uid}-2"] == [
                s.id for s in uow.stores.list(region=region, status=StoreStatus.CLOSED)
            ]
            every = [s.id for s in uow.stores.list()]
            assert sorted(every) == every
            assert {s.id for s in stores} <= set(every)
