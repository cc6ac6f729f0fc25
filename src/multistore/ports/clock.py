"""Time and identity: the only sources of "now" and of new ids the services use.

Injecting both keeps services deterministic under test and benchmarks reproducible.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "IdFactory"]


@runtime_checkable
class Clock(Protocol):
    """Tells the current time."""

    def now(self) -> datetime:
        """Return the current instant as a timezone-aware UTC datetime.

        Guarantees: never naive; never goes backwards within one clock instance.
        """
        ...


@runtime_checkable
class IdFactory(Protocol):
    """Creates new unique identifiers."""

    def new_id(self, prefix: str) -> str:
        """Return a new id starting with ``prefix`` (``"ord_..."``).

        Guarantees: unique across processes for this factory's kind (UUIDs), or at least within
        one process for deterministic test factories.
        """
        ...
