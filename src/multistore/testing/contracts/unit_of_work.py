"""Contract of :class:`multistore.ports.storage.UnitOfWork`."""

from __future__ import annotations

import pytest

from multistore.errors import ConflictError, NotFoundError
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.builders import sample_member, sample_store
from multistore.testing.contracts._base import ContractBase

__all__ = ["UnitOfWorkContract"]


class _BoomError(Exception):
    pass


class UnitOfWorkContract(ContractBase):
    """Changes are durable only when committed; every other exit rolls back."""

    def _absent(self, factory: UnitOfWorkFactory, store_id: str) -> bool:
        with factory() as uow:
            try:
                uow.stores.get(store_id)
            except NotFoundError:
                return True
        return False

    def test_leaving_without_commit_rolls_back(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Leaving without commit rolls back."""
        with uow_factory() as uow:
            uow.stores.add(sample_store(f"S-{uid}"))
            assert f"S-{uid}" == uow.stores.get(f"S-{uid}").id
        assert self._absent(uow_factory, f"S-{uid}")

    def test_an_exception_rolls_back(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """An exception rolls back."""
        with pytest.raises(_BoomError), uow_factory() as uow:
            uow.stores.add(sample_store(f"S-{uid}"))
            uow.members.add(sample_member(f"M-{uid}"))
            raise _BoomError
        assert self._absent(uow_factory, f"S-{uid}")
        with uow_factory() as uow, pytest.raises(NotFoundError):
            uow.members.get(f"M-{uid}")

    def test_explicit_rollback_discards_and_the_unit_stays_usable(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Explicit rollback discards and the unit stays usable."""
        with uow_factory() as uow:
            uow.stores.add(sample_store(f"S-{uid}-1"))
            uow.rollback()
            uow.stores.add(sample_store(f"S-{uid}-2"))
            uow.commit()
        assert self._absent(uow_factory, f"S-{uid}-1")
        assert not self._absent(uow_factory, f"S-{uid}-2")

    def test_commit_makes_every_repository_change_durable_together(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Commit makes every repository change durable together."""
        with uow_factory() as uow:
            uow.stores.add(sample_store(f"S-{uid}"))
            uow.members.add(sample_member(f"M-{uid}"))
            uow.commit()
        with uow_factory() as uow:
            assert f"S-{uid}" == uow.stores.get(f"S-{uid}").id
            assert f"M-{uid}" == uow.members.get(f"M-{uid}").id

    def test_an_error_leaves_nothing_of_the_unit_written(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """An error leaves nothing of the unit written."""
        with uow_factory() as uow:
            uow.stores.add(sample_store(f"S-{uid}-1"))
            uow.commit()
        with pytest.raises(ConflictError), uow_factory() as uow:
            uow.stores.add(sample_store(f"S-{uid}-2"))
            uow.stores.add(sample_store(f"S-{uid}-1"))
            uow.commit()
        assert self._absent(uow_factory, f"S-{uid}-2")

    def test_uncommitted_changes_are_invisible_to_the_next_unit(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Uncommitted changes are invisible to the next unit."""
        with uow_factory() as uow:
            uow.stores.add(sample_store(f"S-{uid}"))
            uow.rollback()
        assert self._absent(uow_factory, f"S-{uid}")
