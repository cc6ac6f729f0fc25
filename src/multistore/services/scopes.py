"""Where a call happens: the permission scopes of stores, for the services' authorisation."""

from __future__ import annotations

from collections.abc import Iterable

from multistore.ports.security import Scope
from multistore.ports.storage import UnitOfWork

__all__ = ["store_scope", "store_scopes"]


def store_scope(uow: UnitOfWork, store_id: str) -> Scope:
    """The scope of one store, with its region so region grants reach it.

    Raises:
        NotFoundError: ``store.not_found`` for an unknown store.
    """
    store = uow.stores.get(store_id)
    return Scope.of_store(store.id, region=store.region)


def store_scopes(uow: UnitOfWork, store_ids: Iterable[str]) -> list[Scope]:
    """The scopes of several stores, in sorted id order, each store once."""
    return [store_scope(uow, s) for s in sorted(set(store_ids))]
