"""Committed state of an in-memory storage and the per-transaction overlay over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from multistore.catalog.assortment import CatalogChange, StorePrice
from multistore.catalog.model import Product
from multistore.inventory.model import Reservation, StockLevel, StockMovement, Transfer
from multistore.members.model import Member
from multistore.orders.model import Order
from multistore.ports.events import OutboxRecord
from multistore.ports.replenishment import ReorderPoint
from multistore.ports.security import AuditEntry
from multistore.stores.model import Store

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["MemoryState", "Overlay", "Transaction"]

Pair = tuple[str, str]


@dataclass
class MemoryState:
    """Every table of one in-memory storage, as last committed."""

    stores: dict[str, Store] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    sku_owner: dict[str, str] = field(default_factory=dict)
    levels: dict[Pair, StockLevel] = field(default_factory=dict)
    ledger: dict[Pair, tuple[StockMovement, ...]] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    active_reservations: dict[str, str] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    open_transfers: dict[str, str] = field(default_factory=dict)
    quotas: dict[tuple[str, str, str], int] = field(default_factory=dict)
    catalog_version: dict[str, int] = field(default_factory=dict)
    catalog_changes: dict[int, tuple[CatalogChange, ...]] = field(default_factory=dict)
    listings: dict[Pair, int] = field(default_factory=dict)
    store_prices: dict[Pair, tuple[StorePrice, ...]] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    order_keys: dict[Pair, tuple[str, str]] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    outbox: dict[int, OutboxRecord] = field(default_factory=dict)
    outbox_ids: dict[str, int] = field(default_factory=dict)
    outbox_unpublished: dict[int, int] = field(default_factory=dict)
    reorder_points: dict[Pair, ReorderPoint] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)


class _Deleted:
    """Marker for a key removed inside a transaction."""


_DELETED = _Deleted()


class Overlay(Generic[K, V]):
    """A transaction's private view of one committed dict.

    Reads fall through to the committed dict; writes stay in the overlay until :meth:`apply`.
    Iteration keeps the committed order and puts new keys after it (insertion order).
    """

    def __init__(self, base: dict[K, V]) -> None:
        self._base = base
        self._changes: dict[K, V | _Deleted] = {}

    def get(self, key: K) -> V | None:
        """Return the value for ``key`` as this transaction sees it, or ``None``."""
        if key in self._changes:
            value = self._changes[key]
            return None if isinstance(value, _Deleted) else value
        return self._base.get(key)

    def __contains__(self, key: object) -> bool:
        if key in self._changes:
            return not isinstance(self._changes[key], _Deleted)
        return key in self._base

    def set(self, key: K, value: V) -> None:
        """Write ``value`` for ``key`` in this transaction."""
        self._changes[key] = value

    def delete(self, key: K) -> None:
        """Remove ``key`` in this transaction."""
        self._changes[key] = _DELETED

    def items(self) -> Iterator[tuple[K, V]]:
        """Iterate over the transaction's view, committed order first."""
        changes = self._changes
        for key, value in self._base.items():
            if key in changes:
                new = changes[key]
                if not isinstance(new, _Deleted):
                    yield key, new
            else:
                yield key, value
        for key, new in changes.items():
            if key not in self._base and not isinstance(new, _Deleted):
                yield key, new

    def iter_keys(self) -> Iterator[K]:
        """Iterate over the keys of the transaction's view."""
        for pair in self.items():
            yield pair[0]

    def values(self) -> Iterator[V]:
        """Iterate over the values of the transaction's view."""
        for pair in self.items():
            yield pair[1]

    def __len__(self) -> int:
        count = len(self._base)
        for key, new in self._changes.items():
            if key in self._base:
                count -= isinstance(new, _Deleted)
            else:
                count += not isinstance(new, _Deleted)
        return count

    def apply(self) -> None:
        """Write the transaction's changes into the committed dict."""
        for key, value in self._changes.items():
            if isinstance(value, _Deleted):
                self._base.pop(key, None)
            else:
                self._base[key] = value
        self._changes = {}


class Transaction:
    """The overlays of one unit of work over a :class:`MemoryState`."""

    def __init__(self, state: MemoryState) -> None:
        self.state = state
        self.stores = Overlay(state.stores)
        self.products = Overlay(state.products)
        self.sku_owner = Overlay(state.sku_owner)
        self.levels = Overlay(state.levels)
        self.ledger = Overlay(state.ledger)
        self.reservations = Overlay(state.reservations)
        self.active_reservations = Overlay(state.active_reservations)
        self.transfers = Overlay(state.transfers)
        self.open_transfers = Overlay(state.open_transfers)
        self.quotas = Overlay(state.quotas)
        self.catalog_version = Overlay(state.catalog_version)
        self.catalog_changes = Overlay(state.catalog_changes)
        self.listings = Overlay(state.listings)
        self.store_prices = Overlay(state.store_prices)
        self.orders = Overlay(state.orders)
        self.order_keys = Overlay(state.order_keys)
        self.members = Overlay(state.members)
        self.outbox = Overlay(state.outbox)
        self.outbox_ids = Overlay(state.outbox_ids)
        self.outbox_unpublished = Overlay(state.outbox_unpublished)
        self.reorder_points = Overlay(state.reorder_points)
        self.audit: list[AuditEntry] = []

    def _overlays(self) -> tuple[Overlay[Any, Any], ...]:
        return (
            self.stores,
            self.products,
            self.sku_owner,
            self.levels,
            self.ledger,
            self.reservations,
            self.active_reservations,
            self.transfers,
            self.open_transfers,
            self.quotas,
            self.catalog_version,
            self.catalog_changes,
            self.listings,
            self.store_prices,
            self.orders,
            self.order_keys,
            self.members,
            self.outbox,
            self.outbox_ids,
            self.outbox_unpublished,
            self.reorder_points,
        )

    def apply(self) -> None:
        """Write every change of this transaction into the committed state."""
        for overlay in self._overlays():
            overlay.apply()
        self.state.audit.extend(self.audit)
        self.audit = []
