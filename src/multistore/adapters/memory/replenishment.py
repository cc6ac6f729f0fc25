"""In-memory sales history and reorder points (ports in :mod:`multistore.ports.replenishment`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, timedelta

from multistore.adapters.memory._state import Transaction
from multistore.inventory.model import MovementKind
from multistore.ports.replenishment import (
    DailySales,
    ReorderPoint,
    sales_window,
)

__all__ = ["MemoryReorderPointRepository", "MemorySalesHistory"]

TxGetter = Callable[[], Transaction]


class MemorySalesHistory:
    """Daily sales summed from the in-memory ledger (see ``SalesHistory``)."""

    def __init__(self, tx: TxGetter) -> None:
        self._tx = tx

    def daily_sales(
        self,
        *,
        start: date,
        end: date,
        utc_offset: timedelta = timedelta(0),
        store_ids: Collection[str] | None = None,
        skus: Collection[str] | None = None,
    ) -> Sequence[DailySales]:
        """Return one row per (store, sku, day) in ``start..end`` with any ledger movement."""
        offset, first, last = sales_window(start, end, utc_offset)
        tx = self._tx()
        stores = None if store_ids is None else set(store_ids)
        codes = None if skus is None else set(skus)
        rows: list[DailySales] = []
        for pair, ledger in sorted(tx.ledger.items()):
            if (stores is not None and pair[0] not in stores) or (
                codes is not None and pair[1] not in codes
            ):
                continue
            days: dict[date, list[int]] = {}
            after = 0
            for mv in ledger:
                if mv.occurred_at >= last:
                    after += mv.quantity
                    continue
                if mv.occurred_at < first:
                    continue
                day = (mv.occurred_at.astimezone(UTC) + offset).date()
                sums = days.setdefault(day, [0, 0, 0])
                if mv.kind is MovementKind.SALE:
                    sums[0] -= mv.quantity
                elif mv.kind is MovementKind.RETURN:
                    sums[1] += mv.quantity
                sums[2] += mv.quantity
            if not days:
                continue
            level = tx.levels.get(pair)
            closing = (level.on_hand if level is not None else 0) - after
            out: list[DailySales] = []
            for day in sorted(days, reverse=True):
                sold, returned, net = days[day]
                out.append(DailySales(pair[0], pair[1], day, sold, returned, net, closing))
                closing -= net
            rows.extend(reversed(out))
        return rows


class MemoryReorderPointRepository:
    """Reorder points in memory (see ``ReorderPointRepository``)."""

    def __init__(self, tx: TxGetter) -> None:
        self._tx = tx

    def get(self, store_id: str, sku: str) -> ReorderPoint | None:
        """Return the stored point of one pair, or ``None``."""
        return self._tx().reorder_points.get((store_id, sku))

    def list(
        self,
        *,
        store_ids: Collection[str] | None = None,
        skus: Collection[str] | None = None,
    ) -> Sequence[ReorderPoint]:
        """Return the stored points of the given stores and SKUs, by key."""
        stores = None if store_ids is None else set(store_ids)
        codes = None if skus is None else set(skus)
        return [
            point
            for key, point in sorted(self._tx().reorder_points.items())
            if (stores is None or key[0] in stores) and (codes is None or key[1] in codes)
        ]

    def save(self, points: Sequence[ReorderPoint]) -> None:
        """Insert or replace each point."""
        table = self._tx().reorder_points
        for point in points:
            table.set(point.key, point)

    def delete(self, store_id: str, sku: str) -> bool:
        """Remove one pair's point; return whether there was one."""
        table = self._tx().reorder_points
        if (store_id, sku) not in table:
            return False
        table.delete((store_id, sku))
        return True

    def lock_on_hand(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], int]:
        """Return on hand of the stocked pairs (the unit of work already excludes others)."""
        levels = self._tx().levels
        out: dict[tuple[str, str], int] = {}
        for key in sorted(set(keys)):
            level = levels.get(key)
            if level is not None:
                out[key] = level.on_hand
        return out
