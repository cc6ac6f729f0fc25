"""Demand history per (store, sku, day) as plain data.

The service layer reads sales from the ledger through a port and hands them here as
:class:`SalesRecord` values (or plain dicts). :func:`build_histories` turns them into one
:class:`DemandHistory` per (store, sku) over a closed date window: days without a record are
**zero sales** (not missing data), several records on one day add up, and days flagged as stock-outs
(the shelf was empty, so sales understate demand) can be excluded from the statistics.

Examples:
    >>> from datetime import date
    >>> hist = build_histories(
    ...     records=[{"store_id": "SH01", "sku": "TEA", "day": date(2024, 1, 2), "quantity": 3}],
    ...     start=date(2024, 1, 1),
    ...     end=date(2024, 1, 3),
    ... )
    >>> hist["SH01", "TEA"].quantities
    (0.0, 3.0, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import attrs

from multistore.replenishment.errors import (
    EmptyHistoryError,
    InvalidParameterError,
    NegativeDemandError,
)

__all__ = ["DemandHistory", "SalesRecord", "build_histories"]


def _check_key(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(
            f"{what} must be a non-empty string, got {value!r}", details={"field": what}
        )
    return value


def _quantity(value: object, what: str = "quantity") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(
            f"{what} must be a number of units, got {type(value).__name__}",
            details={"field": what},
        )
    result = float(value)
    if not math.isfinite(result):
        raise InvalidParameterError(f"{what} must be finite, got {value!r}")
    if result < 0:
        raise NegativeDemandError(
            f"{what} {value!r} is negative; record returns separately and net them out of sales "
            "before building the demand history",
            details={"field": what, "value": result},
        )
    return result


@attrs.frozen(slots=True)
class SalesRecord:
    """Units of one SKU sold by one store on one day.

    Attributes:
        store_id: The selling store.
        sku: The stock-keeping unit.
        day: The calendar day of the sales (the store's local date).
        quantity: Units sold (>= 0; returns are netted out before).
        stock_out: ``True`` when the SKU ran out that day, so the sales understate demand.
    """

    store_id: str = attrs.field(validator=lambda i, a, v: _check_key(v, "store_id"))
    sku: str = attrs.field(validator=lambda i, a, v: _check_key(v, "sku"))
    day: date = attrs.field()
    quantity: float = attrs.field(converter=_quantity)
    stock_out: bool = False

    @day.validator
    def _check_day(self, attribute: attrs.Attribute[date], value: date) -> None:
        if not isinstance(value, date):
            raise InvalidParameterError(
                f"day must be a datetime.date, got {type(value).__name__}", details={"field": "day"}
            )


def _flags(values: Iterable[bool]) -> tuple[bool, ...]:
    return tuple(bool(v) for v in values)


def _quantities(values: Iterable[float]) -> tuple[float, ...]:
    return tuple(_quantity(v, "quantities") for v in values)


@attrs.frozen(slots=True)
class DemandHistory:
    """Daily demand of one SKU in one store, one value per consecutive day from ``start``.

    Attributes:
        store_id: The store.
        sku: The SKU.
        start: The first day of ``quantities``.
        quantities: Units sold per day (zeros for days without sales).
        stock_out: One flag per day; ``True`` marks a day the SKU was out of stock. Empty means
            no day was flagged.

    Raises:
        NegativeDemandError: ``replenishment.negative_demand`` for a negative quantity.
        InvalidParameterError: when ``stock_out`` does not have one flag per day.
    """

    store_id: str = attrs.field(validator=lambda i, a, v: _check_key(v, "store_id"))
    sku: str = attrs.field(validator=lambda i, a, v: _check_key(v, "sku"))
    start: date
    quantities: tuple[float, ...] = attrs.field(converter=_quantities)
    stock_out: tuple[bool, ...] = attrs.field(default=(), converter=_flags)

    def __attrs_post_init__(self) -> None:
        if self.stock_out and len(self.stock_out) != len(self.quantities):
            raise InvalidParameterError(
                f"stock_out has {len(self.stock_out)} flags for {len(self.quantities)} days; "
                "give one flag per day or none",
                details={"field": "stock_out"},
            )

    @property
    def key(self) -> tuple[str, str]:
        """The ``(store_id, sku)`` pair."""
        return (self.store_id, self.sku)

    @property
    def end(self) -> date:
        """The last day covered (the day before ``start`` for an empty history)."""
        return self.start + timedelta(days=len(self.quantities) - 1)

    def _kept(self, exclude_stockouts: bool) -> list[int]:
        if exclude_stockouts and self.stock_out:
            return [i for i, out in enumerate(self.stock_out) if not out]
        return list(range(len(self.quantities)))

    def observations(self, *, exclude_stockouts: bool = True) -> tuple[float, ...]:
        """The daily quantities, without stock-out days when ``exclude_stockouts`` is set."""
        if not (exclude_stockouts and self.stock_out and any(self.stock_out)):
            return self.quantities
        return tuple(q for q, out in zip(self.quantities, self.stock_out, strict=True) if not out)

    def weekdays(self, *, exclude_stockouts: bool = True) -> tuple[int, ...]:
        """Weekday (Monday = 0) of each value returned by :meth:`observations`."""
        first = self.start.weekday()
        return tuple((first + i) % 7 for i in self._kept(exclude_stockouts))

    def require_observations(self, *, exclude_stockouts: bool = True) -> tuple[float, ...]:
        """Like :meth:`observations` but raise ``replenishment.empty_history`` when none remain."""
        values = self.observations(exclude_stockouts=exclude_stockouts)
        if not values:
            raise EmptyHistoryError(
                f"no usable demand history for store {self.store_id!r}, sku {self.sku!r}"
                + (" (every day is flagged as a stock-out)" if self.quantities else "")
                + "; give at least one day of sales",
                details={"store_id": self.store_id, "sku": self.sku},
            )
        return values


def _record(item: SalesRecord | Mapping[str, Any]) -> SalesRecord:
    if isinstance(item, SalesRecord):
        return item
    if not isinstance(item, Mapping):
        raise InvalidParameterError(
            f"a sales record must be a SalesRecord or a mapping, got {type(item).__name__}"
        )
    try:
        return SalesRecord(
            store_id=item["store_id"],
            sku=item["sku"],
            day=item["day"],
            quantity=item.get("quantity", 0),
            stock_out=bool(item.get("stock_out", False)),
        )
    except KeyError as exc:
        raise InvalidParameterError(
            f"sales record {dict(item)!r} lacks the field {exc.args[0]!r}",
            details={"field": exc.args[0]},
        ) from None


def build_histories(
    *,
    records: Iterable[SalesRecord | Mapping[str, Any]],
    start: date,
    end: date,
    keys: Iterable[tuple[str, str]] = (),
) -> dict[tuple[str, str], DemandHistory]:
    """Turn sales records into one zero-filled daily :class:`DemandHistory` per (store, sku).

    Args:
        records: Sales per (store, sku, day); several records on a day add up, and a day with
            any record flagged ``stock_out`` is flagged. Records outside ``start..end`` are
            ignored.
        start: First day of the window (inclusive).
        end: Last day of the window (inclusive).
        keys: Extra ``(store_id, sku)`` pairs to include even without any sale (all zeros).

    Returns:
        Histories keyed by ``(store_id, sku)``, in sorted key order.

    Raises:
        InvalidParameterError: when ``end`` is before ``start`` or a record is malformed.
        NegativeDemandError: for a negative quantity.
    """
    if not isinstance(start, date) or not isinstance(end, date) or end < start:
        raise InvalidParameterError(
            f"the window {start!r}..{end!r} is empty; end must be on or after start",
            details={"field": "end"},
        )
    days = (end - start).days + 1
    sums: dict[tuple[str, str], list[float]] = {}
    outs: dict[tuple[str, str], list[bool]] = {}
    for key in keys:
        sums.setdefault(key, [0.0] * days)
    for item in records:
        rec = _record(item)
        offset = (rec.day - start).days
        if not 0 <= offset < days:
            continue
        key = (rec.store_id, rec.sku)
        row = sums.get(key)
        if row is None:
            row = sums[key] = [0.0] * days
        row[offset] += rec.quantity
        if rec.stock_out:
            outs.setdefault(key, [False] * days)[offset] = True
    return {
        key: DemandHistory(
            store_id=key[0],
            sku=key[1],
            start=start,
            quantities=sums[key],
            stock_out=tuple(outs[key]) if key in outs else (),
        )
        for key in sorted(sums)
    }
