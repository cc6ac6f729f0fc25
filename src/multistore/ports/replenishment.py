"""Ports of the replenishment service: daily sales from the stock ledger, stored reorder points.

Both are *optional* capabilities of a storage: a unit of work that offers them has the
attributes ``sales_history`` (:class:`SalesHistory`) and ``reorder_points``
(:class:`ReorderPointRepository`); :func:`replenishment_ports` finds them. The memory, SQLite
and PostgreSQL storages have both and pass
:class:`~multistore.testing.contracts.ReplenishmentContract`. With a storage that lacks them,
``ms.replenishment`` raises ``replenishment.unsupported_storage`` and stock changes raise no
below-reorder-point alerts.

**Demand rule.** Units sold on a day are the units of ``sale`` movements booked that day minus
the units of ``return`` movements booked that day, floored at zero (a day with more returns
than sales sold nothing; returns of earlier sales are not moved back to the day of the sale).
Transfers, receipts, adjustments and count corrections are not demand.

**Days.** A day is a calendar day at a fixed offset from UTC (``utc_offset``; ``+08:00`` for
China, which has no daylight saving time). The default is UTC.

Examples:
    >>> from datetime import UTC, datetime
    >>> point = ReorderPoint(store_id="SH-001", sku="TEA", reorder_point=12.5, order_up_to=40.0,
    ...                      safety_stock=4.5, policy="rq",
    ...                      computed_at=datetime(2026, 1, 5, tzinfo=UTC))
    >>> point.is_crossed(before=13, after=12)
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, runtime_checkable

import attrs

from multistore._validation import valid_id
from multistore.errors import ValidationError

__all__ = [
    "BELOW_REORDER_POINT",
    "DailySales",
    "ReorderPoint",
    "ReorderPointRepository",
    "SalesHistory",
    "check_utc_offset",
    "check_window",
    "replenishment_ports",
    "sales_window",
    "window_bounds",
]

BELOW_REORDER_POINT = "replenishment.below_reorder_point"
"""The outbox event type of a (store, sku) whose on-hand stock crossed down to its reorder point."""


def _non_negative_float(what: str) -> Callable[[Any, attrs.Attribute[float], float], None]:
    def check(instance: object, attribute: attrs.Attribute[float], value: object) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValidationError(
                f"{what} must be a finite number >= 0, got {value!r}",
                code="replenishment.invalid_reorder_point",
                details={"field": attribute.name},
            )

    return check


def _aware(instance: object, attribute: attrs.Attribute[datetime], value: object) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(
            f"{attribute.name} must be a timezone-aware datetime, got {value!r}",
            code="replenishment.invalid_reorder_point",
            details={"field": attribute.name},
        )


@attrs.frozen(slots=True)
class ReorderPoint:
    """The stored replenishment levels of one (store, sku).

    Attributes:
        store_id: The store.
        sku: The SKU code.
        reorder_point: Alert (and order) when on hand drops to this level or below.
        order_up_to: The target level after ordering (``S``, the maximum, or ``r + Q``);
            never below ``reorder_point``.
        safety_stock: The buffer included in ``reorder_point``.
        policy: The policy that produced the levels (``rq``, ``ss``, ``rs``, ``min_max`` or
            ``manual``).
        computed_at: When the levels were computed or set (timezone-aware).
        demand_mean: The forecast daily demand behind the levels (0 when set by hand).
        forecaster: The forecasting method used (``""`` when set by hand).

    Raises:
        ValidationError: ``replenishment.invalid_reorder_point`` for a negative or non-finite
            level, ``order_up_to < reorder_point``, an empty policy or a naive timestamp;
            ``validation.empty_id`` for an empty store or SKU.
    """

    store_id: str = attrs.field(validator=valid_id("store_id"))
    sku: str = attrs.field(validator=valid_id("sku"))
    reorder_point: float = attrs.field(validator=_non_negative_float("reorder point"))
    order_up_to: float = attrs.field(validator=_non_negative_float("order-up-to level"))
    safety_stock: float = attrs.field(validator=_non_negative_float("safety stock"))
    policy: str = attrs.field()
    computed_at: datetime = attrs.field(validator=_aware)
    demand_mean: float = attrs.field(
        default=0.0,
        validator=_non_negative_float("demand mean"),
    )
    forecaster: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.policy, str) or not self.policy.strip():
            raise ValidationError(
                f"policy must name the policy that set the levels, got {self.policy!r}",
                code="replenishment.invalid_reorder_point",
                details={"field": "policy"},
            )
        if self.order_up_to < self.reorder_point:
            raise ValidationError(
                f"order-up-to level {self.order_up_to:g} is below the reorder point "
                f"{self.reorder_point:g} for {self.store_id}/{self.sku}; raise it",
                code="replenishment.invalid_reorder_point",
                details={"field": "order_up_to"},
            )

    @property
    def key(self) -> tuple[str, str]:
        """The ``(store_id, sku)`` pair."""
        return (self.store_id, self.sku)

    def is_crossed(self, *, before: int, after: int) -> bool:
        """Whether on hand moving from ``before`` to ``after`` crosses down to the point.

        ``before > reorder_point >= after``: the pair was above its reorder point and is now at
        or below it. Further drops while below, and rises, are not crossings.
        """
        return before > self.reorder_point >= after


@attrs.frozen(slots=True)
class DailySales:
    """The ledger of one (store, sku) on one day, summed.

    Attributes:
        store_id: The store.
        sku: The SKU code.
        day: The calendar day (at the requested UTC offset).
        sold: Units of ``sale`` movements (>= 0).
        returned: Units of ``return`` movements (>= 0).
        net_change: The sum of every movement that day (all kinds, signed).
        closing_on_hand: Units on hand at the end of the day.
    """

    store_id: str
    sku: str
    day: date
    sold: int
    returned: int
    net_change: int
    closing_on_hand: int

    @property
    def demand(self) -> int:
        """Units sold net of returns, floored at zero (the demand rule of this module)."""
        return max(0, self.sold - self.returned)

    @property
    def opening_on_hand(self) -> int:
        """Units on hand at the start of the day."""
        return self.closing_on_hand - self.net_change


def check_utc_offset(offset: object) -> timedelta:
    """Return ``offset`` if it is a whole number of minutes strictly within +-24 hours.

    Raises:
        ValidationError: ``replenishment.invalid_parameter`` otherwise.
    """
    if (
        not isinstance(offset, timedelta)
        or offset % timedelta(minutes=1)
        or abs(offset) >= timedelta(hours=24)
    ):
        raise ValidationError(
            f"utc_offset must be a timedelta of whole minutes within +-24 h (timedelta(hours=8) "
            f"for China), got {offset!r}",
            code="replenishment.invalid_parameter",
            details={"field": "utc_offset"},
        )
    return offset


@runtime_checkable
class SalesHistory(Protocol):
    """Daily sales per (store, sku) read from the stock ledger."""

    def daily_sales(
        self,
        *,
        start: date,
        end: date,
        utc_offset: timedelta = timedelta(0),
        store_ids: Collection[str] | None = None,
        skus: Collection[str] | None = None,
    ) -> Sequence[DailySales]:
        """Return one row per (store, sku, day) in ``start..end`` with any ledger movement.

        Days without a movement are absent (they sold nothing and kept the previous day's
        closing stock). Rows are sorted by (store, sku, day); ``store_ids`` and ``skus`` keep
        only those stores and SKUs (``None``: all). SQL storages answer with one ``GROUP BY``
        over the movements and one read of the current levels.

        Raises:
            ValidationError: ``replenishment.invalid_parameter`` when ``end < start`` or the
                offset is not whole minutes within +-24 h.
        """
        ...


@runtime_checkable
class ReorderPointRepository(Protocol):
    """Reorder points per (store, sku); one row each, replaced whole."""

    def get(self, store_id: str, sku: str) -> ReorderPoint | None:
        """Return the stored point of one pair, or ``None`` (one keyed read)."""
        ...

    def list(
        self,
        *,
        store_ids: Collection[str] | None = None,
        skus: Collection[str] | None = None,
    ) -> Sequence[ReorderPoint]:
        """Return the stored points of the given stores and SKUs (``None``: all), by key."""
        ...

    def save(self, points: Sequence[ReorderPoint]) -> None:
        """Insert or replace each point (keyed by store and SKU). Exact round trip."""
        ...

    def delete(self, store_id: str, sku: str) -> bool:
        """Remove one pair's point; return whether there was one."""
        ...

    def lock_on_hand(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], int]:
        """Return the units on hand of ``(store_id, sku)`` pairs and lock their stock rows.

        Pairs never stocked are omitted. Until the unit of work ends no other unit of work can
        change or lock those rows (PostgreSQL: ``SELECT ... FOR NO KEY UPDATE`` in key order;
        SQLite and memory already run one writer at a time). A service that calls this before
        reading the old points and saving new ones sees every stock change either committed
        before (it reads the result) or after (the change then reads the new points), and two
        point changes on one pair run one after the other, so a below-reorder-point alert is
        raised once, not zero or two times.
        """
        ...


def replenishment_ports(uow: object) -> tuple[SalesHistory, ReorderPointRepository] | None:
    """Return the unit of work's sales history and reorder points, or ``None`` if it lacks them."""
    history = getattr(uow, "sales_history", None)
    points = getattr(uow, "reorder_points", None)
    if history is None or points is None:
        return None
    return history, points


def check_window(start: object, end: object) -> tuple[date, date]:
    """Return ``(start, end)`` if both are dates and ``end >= start``.

    Raises:
        ValidationError: ``replenishment.invalid_parameter`` otherwise.
    """
    if (
        not isinstance(start, date)
        or isinstance(start, datetime)
        or not isinstance(end, date)
        or isinstance(end, datetime)
        or end < start
    ):
        raise ValidationError(
            f"the sales window {start!r}..{end!r} is empty or not made of dates; give "
            "datetime.date values with end on or after start",
            code="replenishment.invalid_parameter",
            details={"field": "end"},
        )
    return start, end


def window_bounds(start: date, end: date, offset: timedelta) -> tuple[datetime, datetime]:
    """The UTC instants ``[first, last)`` covering the local days ``start..end`` at ``offset``.

    Examples:
        >>> first, last = window_bounds(date(2026, 1, 5), date(2026, 1, 5), timedelta(hours=8))
        >>> first.isoformat(), last.isoformat()
        ('2026-01-04T16:00:00+00:00', '2026-01-05T16:00:00+00:00')
    """
    try:
        first = datetime.combine(start, time(0), tzinfo=UTC) - offset
        last = datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC) - offset
    except OverflowError:
        raise ValidationError(
            f"the sales window {start.isoformat()}..{end.isoformat()} at UTC offset "
            f"{offset.total_seconds() / 3600:+g} h "
            f"reaches outside the dates Python can represent ({date.min}..{date.max}); give "
            "a window of real trading days",
            code="replenishment.invalid_parameter",
            details={"field": "end"},
        ) from None
    return first, last


def sales_window(
    start: object, end: object, utc_offset: object
) -> tuple[timedelta, datetime, datetime]:
    """Check the arguments of :meth:`SalesHistory.daily_sales` the way every adapter must.

    Checks the window (:func:`check_window`), then the offset (:func:`check_utc_offset`), then
    that the window can be represented (:func:`window_bounds`), so all storages report the same
    error for the same bad input.

    Args:
        start: First local day of the window.
        end: Last local day of the window.
        utc_offset: Where days begin, as an offset from UTC.

    Returns:
        ``(offset, first, last)``: the checked offset and the UTC instants ``[first, last)``
        covering the local days ``start..end``.

    Raises:
        ValidationError: ``replenishment.invalid_parameter`` for a bad window or offset.

    Examples:
        >>> offset, first, _ = sales_window(date(2026, 1, 5), date(2026, 1, 5), timedelta(hours=8))
        >>> offset == timedelta(hours=8), first.isoformat()
        (True, '2026-01-04T16:00:00+00:00')
    """
    checked_start, checked_end = check_window(start, end)
    offset = check_utc_offset(utc_offset)
    first, last = window_bounds(checked_start, checked_end, offset)
    return offset, first, last
