"""The SQL sales history and reorder points (ports in :mod:`multistore.ports.replenishment`).

Daily sales come from **one** ``GROUP BY`` over ``stock_movements`` joined to
``stock_levels``: the day bucket is the movement time shifted by the requested whole-minute UTC
offset and cut to a date (``date(substr(occurred_at, 1, 19), '+480 minutes')`` on SQLite:
whole seconds, as SQLite's ``date()`` would round fractions up to the next day,
``CAST((occurred_at AT TIME ZONE 'UTC') + INTERVAL '480 minutes' AS DATE)`` on PostgreSQL).
The query reads every movement from the window's first instant on (movements after the window
are needed to walk the closing stock back from today's level); closing stock per day is then
computed in Python.

The stock path reads a reorder point by primary key after every change (one indexed lookup);
saving replaces rows with ``INSERT ... ON CONFLICT DO UPDATE``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    select,
    text,
    tuple_,
)

from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.repositories import _Repository, dialect_insert, translated
from multistore.ports.replenishment import (
    DailySales,
    ReorderPoint,
    sales_window,
)

__all__ = ["SqlReorderPointRepository", "SqlSalesHistory"]

_M = t.stock_movements.c
_L = t.stock_levels.c
_R = t.reorder_points.c

_MAX_IN = 500
"""Longer id filters are applied in Python instead of as an ``IN`` list (SQLite caps binds)."""

_S = TypeVar("_S", bound=Select[Any])


def _narrowed(
    stmt: _S,
    columns: tuple[ColumnElement[str], ColumnElement[str]],
    stores: frozenset[str] | None,
    codes: frozenset[str] | None,
) -> _S:
    """``stmt`` filtered by the id sets short enough for an ``IN`` list (see :func:`_kept`)."""
    if stores is not None and len(stores) <= _MAX_IN:
        stmt = stmt.where(columns[0].in_(sorted(stores)))
    if codes is not None and len(codes) <= _MAX_IN:
        stmt = stmt.where(columns[1].in_(sorted(codes)))
    return stmt


def _kept(
    store_id: str, sku: str, stores: frozenset[str] | None, codes: frozenset[str] | None
) -> bool:
    """Whether a row of (store_id, sku) passes the id filters (``None``: no filter)."""
    return (stores is None or store_id in stores) and (codes is None or sku in codes)


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
"""Locks a (store, sku) without a stock row until the transaction ends (PostgreSQL only)."""

_GET_POINT = select(t.reorder_points).where(_R.store_id == bindparam("s"), _R.sku == bindparam("k"))


def _day_bucket(dialect: str, minutes: int) -> ColumnElement[Any]:
    """The local calendar day of a movement; ``minutes`` is an int, rendered inline."""
    if dialect == "postgresql":
        return literal_column(
            "CAST((stock_movements.occurred_at AT TIME ZONE 'UTC') + "
            f"INTERVAL '{int(minutes)} minutes' AS DATE)"
        )
    # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' and date() rounds fractional seconds (23:59:59.9996
    # would land on the next day): cut the text to whole seconds first (floor, like the others).
    return literal_column(
        f"date(substr(stock_movements.occurred_at, 1, 19), '{int(minutes):+d} minutes')"
    )


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class SqlSalesHistory(_Repository):
    """Daily sales from the SQL ledger (see ``SalesHistory``)."""

    @translated("reading the sales history")
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
        offset, first, _ = sales_window(start, end, utc_offset)
        day = _day_bucket(self._uow.dialect, int(offset.total_seconds()) // 60).label("day")
        joined = t.stock_movements.outerjoin(
            t.stock_levels, and_(_L.store_id == _M.store_id, _L.sku == _M.sku)
        )
        stmt = (
            select(
                _M.store_id,
                _M.sku,
                day,
                func.sum(case((_M.kind == "sale", -_M.quantity), else_=0)).label("sold"),
                func.sum(case((_M.kind == "return", _M.quantity), else_=0)).label("returned"),
                func.sum(_M.quantity).label("net"),
                func.max(_L.on_hand).label("on_hand"),
            )
            .select_from(joined)
            .where(_M.occurred_at >= bindparam("first", first, type_=t.UtcDateTime()))
            .group_by(_M.store_id, _M.sku, day)
        )
        stores = None if store_ids is None else frozenset(store_ids)
        codes = None if skus is None else frozenset(skus)
        stmt = _narrowed(stmt, (_M.store_id, _M.sku), stores, codes)
        grouped: dict[tuple[str, str], list[tuple[date, int, int, int]]] = {}
        on_hand: dict[tuple[str, str], int] = {}
        for row in self._conn.execute(stmt):
            pair = (row.store_id, row.sku)
            if not _kept(*pair, stores, codes):
                continue
            grouped.setdefault(pair, []).append(
                (_as_date(row.day), int(row.sold), int(row.returned), int(row.net))
            )
            on_hand[pair] = int(row.on_hand or 0)
        rows: list[DailySales] = []
        for pair in sorted(grouped):
            closing = on_hand[pair]
            out: list[DailySales] = []
            for when, sold, returned, net in sorted(grouped[pair], reverse=True):
                if when <= end:
                    out.append(DailySales(pair[0], pair[1], when, sold, returned, net, closing))
                closing -= net
            rows.extend(reversed(out))
        return rows


def _point(row: Row[Any]) -> ReorderPoint:
    return ReorderPoint(
        store_id=row.store_id,
        sku=row.sku,
        reorder_point=float(row.reorder_point),
        order_up_to=float(row.order_up_to),
        safety_stock=float(row.safety_stock),
        policy=row.policy,
        computed_at=row.computed_at,
        demand_mean=float(row.demand_mean),
        forecaster=row.forecaster,
    )


class SqlReorderPointRepository(_Repository):
    """Reorder points in SQL (see ``ReorderPointRepository``)."""

    @translated("reading a reorder point")
    def get(self, store_id: str, sku: str) -> ReorderPoint | None:
        """Return the stored point of one pair, or ``None`` (one primary-key read)."""
        row = self._conn.execute(_GET_POINT, {"s": store_id, "k": sku}).first()
        return None if row is None else _point(row)

    @translated("reading reorder points")
    def list(
        self,
        *,
        store_ids: Collection[str] | None = None,
        skus: Collection[str] | None = None,
    ) -> Sequence[ReorderPoint]:
        """Return the stored points of the given stores and SKUs, by key."""
        stmt = select(t.reorder_points).order_by(_R.store_id, _R.sku)
        stores = None if store_ids is None else frozenset(store_ids)
        codes = None if skus is None else frozenset(skus)
        stmt = _narrowed(stmt, (_R.store_id, _R.sku), stores, codes)
        return [
            _point(row)
            for row in self._conn.execute(stmt)
            if _kept(row.store_id, row.sku, stores, codes)
        ]

    @translated("saving reorder points")
    def save(self, points: Sequence[ReorderPoint]) -> None:
        """Insert or replace each point (one statement per 500 points)."""
        rows = [
            {
                "store_id": p.store_id,
                "sku": p.sku,
                "reorder_point": float(p.reorder_point),
                "order_up_to": float(p.order_up_to),
                "safety_stock": float(p.safety_stock),
                "demand_mean": float(p.demand_mean),
                "policy": p.policy,
                "forecaster": p.forecaster,
                "computed_at": p.computed_at,
            }
            for p in {p.key: p for p in points}.values()
        ]
        conn = self._conn
        for i in range(0, len(rows), 500):
            stmt = dialect_insert(self._uow.dialect, t.reorder_points).values(rows[i : i + 500])
            excluded = stmt.excluded
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[_R.store_id, _R.sku],
                    set_={
                        name: excluded[name]
                        for name in (
                            "reorder_point",
                            "order_up_to",
                            "safety_stock",
                            "demand_mean",
                            "policy",
                            "forecaster",
                            "computed_at",
                        )
                    },
                )
            )

    @translated("deleting a reorder point")
    def delete(self, store_id: str, sku: str) -> bool:
        """Remove one pair's point; return whether there was one."""
        result = self._conn.execute(
            delete(t.reorder_points).where(_R.store_id == store_id, _R.sku == sku)
        )
        return bool(result.rowcount)

    @translated("locking stock rows")
    def lock_on_hand(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], int]:
        """Return on hand of the stocked pairs, ``FOR NO KEY UPDATE`` on PostgreSQL, in key order.

        A pair without a stock row has nothing to lock, so on PostgreSQL it takes a transaction
        advisory lock on its key instead (in key order, after the row locks).
        """
        wanted = sorted(set(keys))
        out: dict[tuple[str, str], int] = {}
        conn = self._conn
        for i in range(0, len(wanted), _MAX_IN):
            stmt = (
                select(_L.store_id, _L.sku, _L.on_hand)
                .where(tuple_(_L.store_id, _L.sku).in_(wanted[i : i + _MAX_IN]))
                .order_by(_L.store_id, _L.sku)
                .with_for_update(key_share=True)
            )
            for row in conn.execute(stmt):
                out[(row.store_id, row.sku)] = int(row.on_hand)
        if self._uow.dialect == "postgresql":
            for store_id, sku in wanted:
                if (store_id, sku) not in out:
                    conn.execute(_ADVISORY_LOCK, {"key": f"multistore.stock:{store_id}\x1f{sku}"})
        return out
