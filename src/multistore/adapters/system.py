"""The real sources of time and identity: the system clock (UTC) and UUID-based ids."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from multistore._validation import check_id

__all__ = ["SystemClock", "UuidIdFactory"]


class SystemClock:
    """The machine's clock, in UTC, never going backwards within one instance.

    Examples:
        >>> SystemClock().now().tzinfo is not None
        True
    """

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the current instant as a timezone-aware UTC datetime."""
        current = datetime.now(UTC)
        with self._lock:
            current = max(current, self._last)
            self._last = current
        return current


class UuidIdFactory:
    """Ids made of a prefix and a random UUID4 (``"ord_3f2c..."``), unique across processes.

    Examples:
        >>> UuidIdFactory().new_id("ord").startswith("ord_")
        True
    """

    def new_id(self, prefix: str) -> str:
        """Return ``prefix`` + ``_`` + 32 hex digits."""
        return f"{check_id(prefix, 'id prefix')}_{uuid.uuid4().hex}"
