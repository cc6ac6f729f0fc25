"""Deterministic test doubles for the :mod:`multistore.ports.clock` ports.

Examples:
    >>> clock = FixedClock()
    >>> ids = SequentialIdFactory()
    >>> ids.new_id("ord"), ids.new_id("ord")
    ('ord_000001', 'ord_000002')
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from multistore._validation import check_id
from multistore.errors import ValidationError

__all__ = ["FixedClock", "SequentialIdFactory"]

_DEFAULT_START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


class FixedClock:
    """A clock that stands still until told to move.

    Args:
        start: The initial instant (timezone-aware); defaults to 2026-01-05 08:00 UTC.
        step: Added after every :meth:`now` call (zero by default: the clock stands still).
    """

    def __init__(self, start: datetime = _DEFAULT_START, *, step: timedelta = timedelta(0)) -> None:
        if start.tzinfo is None:
            raise ValidationError(
                "FixedClock needs a timezone-aware start such as datetime(2026, 1, 5, tzinfo=UTC)",
                code="validation.naive_datetime",
            )
        if step < timedelta(0):
            raise ValidationError("a clock never goes backwards; use step >= 0", code="clock.step")
        self._now = start.astimezone(UTC)
        self._step = step
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the current (fake) instant, then move by ``step``."""
        with self._lock:
            current = self._now
            self._now = current + self._step
        return current

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new instant.

        Raises:
            ValidationError: ``clock.step`` for a negative ``delta``.
        """
        if delta < timedelta(0):
            raise ValidationError(
                "a clock never goes backwards; advance by >= 0", code="clock.step"
            )
        with self._lock:
            self._now += delta
            return self._now


class SequentialIdFactory:
    """Ids numbered per prefix in call order (``"ord_000001"``, ``"ord_000002"``)."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def new_id(self, prefix: str) -> str:
        """Return the next id for ``prefix``."""
        prefix = check_id(prefix, "id prefix")
        with self._lock:
            n = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = n
        return f"{prefix}_{n:06d}"
