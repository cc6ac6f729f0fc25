"""The base of every contract suite: how a suite gets the storage it checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.builders import unique_prefix

__all__ = ["ContractBase"]


class ContractBase:
    """Subclass a suite and override :meth:`make_uow_factory` to run it on your adapter.

    The suites only use the ports' API, create ids prefixed with a fresh random ``uid``, and
    tolerate a storage that already holds other data, so they can share one database with other
    runs.
    """

    def make_uow_factory(self) -> UnitOfWorkFactory:
        """Return a factory of units of work over the storage under test."""
        raise NotImplementedError(
            "override make_uow_factory() to return your storage's unit-of-work factory"
        )

    def dispose_uow_factory(self, factory: UnitOfWorkFactory) -> None:
        """Release what :meth:`make_uow_factory` created (default: nothing)."""

    @pytest.fixture
    def uow_factory(self) -> Iterator[UnitOfWorkFactory]:
        """The storage under test, made fresh for each test by :meth:`make_uow_factory`."""
        factory = self.make_uow_factory()
        try:
            yield factory
        finally:
            self.dispose_uow_factory(factory)

    @pytest.fixture
    def uid(self) -> str:
        """A random prefix for this test's ids."""
        return unique_prefix()
