"""Where a call happens: the permission scopes of stores, for the services' authorisation."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Protocol, runtime_checkable

from multistore.errors import NotFoundError
from multistore.ports.security import Scope
from multistore.ports.storage import UnitOfWork

__all__ = ["BulkLookup", "sku_not_found", "store_scope", "store_scopes", "store_scopes_and_skus"]


@runtime_checkable
class BulkLookup(Protocol):
    """An optional store-repository capability: regions and SKU existence in one read."""

    def lookup(
        self, *, store_ids: Collection[str], skus: Collection[str]
    ) -> tuple[Mapping[str, str], frozenset[str]]:
        """Return the region of each existing store and the SKU codes that exist."""
        ...


def _store_not_found(store_id: str) -> NotFoundError:
    return NotFoundError(
        f"store {store_id!r} does not exist; create it first", code="store.not_found"
    )


def sku_not_found(code: str) -> NotFoundError:
    """The error for an unknown SKU code (the same as ``ProductRepository.get_sku`` raises)."""
    return NotFoundError(f"SKU {code!r} does not exist", code="catalog.sku_not_found")


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


def store_scopes_and_skus(
    uow: UnitOfWork, store_ids: Iterable[str], skus: Iterable[str]
) -> tuple[list[Scope], list[str] | None]:
    """The scopes of several stores, and the SKU codes among ``skus`` that do not exist.

    With a storage that offers :class:`BulkLookup` this is one read for every store and SKU;
    otherwise the stores are read one by one and the SKUs are not checked (``None``: the
    caller checks them itself, after authorisation).

    Raises:
        NotFoundError: ``store.not_found`` for the first unknown store in sorted id order.
    """
    wanted = sorted(set(store_ids))
    stores = uow.stores
    if not isinstance(stores, BulkLookup):
        return [store_scope(uow, s) for s in wanted], None
    codes = sorted(set(skus))
    regions, known = stores.lookup(store_ids=wanted, skus=codes)
    scopes: list[Scope] = []
    for store_id in wanted:
        region = regions.get(store_id)
        if region is None:
            raise _store_not_found(store_id)
        scopes.append(Scope.of_store(store_id, region=region))
    return scopes, [code for code in codes if code not in known]
