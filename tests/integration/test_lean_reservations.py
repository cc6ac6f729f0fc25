"""Revision 0005: reservation lines without a foreign key, a partial expiry index.

Runs on SQLite always and on PostgreSQL when ``MULTISTORE_TEST_POSTGRES_URL`` is set. Checks
that a database at 0004 with reservations upgrades and keeps them (and downgrades again), that
the adapter deletes the lines of every claim it undoes (the cascade no longer does), and that
the expiry sweep is still served by an index.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, inspect, text

from multistore.adapters.sqlalchemy import AesGcmCipher, SqlStorage, create_storage, new_key
from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.adapters.sqlalchemy.migrate import alembic_config, current_revision, upgrade
from multistore.adapters.sqlalchemy.storage import SqlUnitOfWork
from multistore.errors import InsufficientStockError
from multistore.inventory.model import (
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockMovement,
)
from multistore.testing.builders import T0


class _Db:
    """One empty database: its URL and (PostgreSQL) schema."""

    def __init__(self, url: str, schema: str | None) -> None:
        self.url = url
        self.schema = schema

    def storage(self, *, migrate: bool = True) -> SqlStorage:
        return create_storage(
            self.url, schema=self.schema, migrate=migrate, cipher=AesGcmCipher(new_key())
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[_Db]:
    if request.param == "sqlite":
        yield _Db(f"sqlite:///{tmp_path / 'shop.db'}", None)
        return
    url: str = request.getfixturevalue("postgres_url")
    schema = f"ms_lean_{uuid.uuid4().hex[:10]}"
    yield _Db(url, schema)
    engine = create_engine(parse_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def _receive(storage: SqlStorage, *rows: tuple[str, str, int]) -> None:
    with storage.unit_of_work() as uow:
        for store_id, sku, units in rows:
            uow.stock.record(
                StockMovement(
                    store_id=store_id,
                    sku=sku,
                    kind=MovementKind.RECEIPT,
                    quantity=units,
                    occurred_at=T0,
                )
            )
        uow.commit()


def _hold(key: str, *lines: tuple[str, str, int], expires: bool = False) -> Reservation:
    return Reservation(
        key=key,
        lines=tuple(ReservationLine(s, k, q) for s, k, q in lines),
        created_at=T0,
        expires_at=T0 + timedelta(minutes=15) if expires else None,
    )


def _rows(storage: SqlStorage) -> tuple[list[str], list[tuple[str, str, str, int]]]:
    with storage.engine.connect() as conn:
        keys = [r[0] for r in conn.execute(text("SELECT key FROM reservations ORDER BY key"))]
        lines = [
            (r[0], r[1], r[2], int(r[3]))
            for r in conn.execute(
                text(
                    "SELECT reservation_key, store_id, sku, quantity FROM reservation_lines "
                    "ORDER BY reservation_key, store_id, sku"
                )
            )
        ]
    return keys, lines


def _reserved(storage: SqlStorage) -> dict[tuple[str, str], int]:
    with storage.engine.connect() as conn:
        rows = conn.execute(text("SELECT store_id, sku, reserved FROM stock_levels")).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def _schema(engine: Engine, schema: str | None) -> tuple[int, set[str]]:
    """(foreign keys of reservation_lines, index names of both reservation tables)."""
    found = inspect(engine)
    fks = found.get_foreign_keys("reservation_lines", schema=schema)
    names = {
        str(ix["name"])
        for table in ("reservations", "reservation_lines")
        for ix in found.get_indexes(table, schema=schema)
    }
    return len(fks), names


def _short_then_commit(
    storage: SqlStorage, hold: Callable[[SqlUnitOfWork], object]
) -> InsufficientStockError:
    """Run a hold that must be short, then commit whatever it left behind; return its error."""
    with storage.unit_of_work() as uow:
        try:
            hold(uow)
        except InsufficientStockError as exc:
            uow.commit()
            return exc
    raise AssertionError("the hold was not short")


def _alembic(engine: Engine, action: str, revision: str) -> None:
    with engine.begin() as conn:
        getattr(command, action)(alembic_config(conn), revision)


def test_a_database_at_0004_upgrades_with_its_reservations_and_downgrades(db: _Db) -> None:
    upgrade(db.url, schema=db.schema, revision="0004")
    storage = db.storage(migrate=False)
    try:
        assert "0004" == current_revision(storage.engine)
        assert (1, {"ix_reservations_status_expires_at", "ix_reservation_lines_store_id_sku"}) == (
            _schema(storage.engine, db.schema)
        )
        _receive(storage, ("S1", "K1", 10), ("S1", "K2", 10))
        with storage.unit_of_work() as uow:
            uow.stock.reserve(_hold("OLD-1", ("S1", "K1", 2), ("S1", "K2", 1), expires=True))
            uow.stock.reserve(_hold("OLD-2", ("S1", "K1", 3)))
            uow.commit()

        storage.migrate()

        assert (0, {"ix_reservations_expires_at"}) == _schema(storage.engine, db.schema)
        with storage.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert [] == list(compare_metadata(context, t.metadata))
        with storage.unit_of_work() as uow:
            assert _hold("OLD-2", ("S1", "K1", 3)) == uow.stock.get_reservation("OLD-2")
            expired = uow.stock.expire(now=T0 + timedelta(hours=1))
            uow.commit()
        assert ["OLD-1"] == [r.key for r in expired]
        assert ReservationStatus.EXPIRED == expired[0].status
        assert {("S1", "K1"): 3, ("S1", "K2"): 0} == _reserved(storage)

        _alembic(storage.engine, "downgrade", "0004")
        assert (1, {"ix_reservations_status_expires_at", "ix_reservation_lines_store_id_sku"}) == (
            _schema(storage.engine, db.schema)
        )
        assert (
            ["OLD-1", "OLD-2"],
            [
                ("OLD-1", "S1", "K1", 2),
                ("OLD-1", "S1", "K2", 1),
                ("OLD-2", "S1", "K1", 3),
            ],
        ) == _rows(storage)
        _alembic(storage.engine, "upgrade", "head")
        assert (0, {"ix_reservations_expires_at"}) == _schema(storage.engine, db.schema)
    finally:
        storage.close()


def test_a_short_hold_in_a_unit_of_work_leaves_no_lines(db: _Db) -> None:
    storage = db.storage()
    try:
        _receive(storage, ("S1", "K1", 5), ("S1", "K2", 1))
        refused = _short_then_commit(
            storage, lambda uow: uow.stock.hold(_hold("SHORT", ("S1", "K1", 2), ("S1", "K2", 2)))
        )

        assert "stock.insufficient" == refused.code

        assert ([], []) == _rows(storage)
        assert {("S1", "K1"): 0, ("S1", "K2"): 0} == _reserved(storage)
    finally:
        storage.close()


def test_a_short_channel_hold_leaves_no_lines(db: _Db) -> None:
    storage = db.storage()
    try:
        _receive(storage, ("S1", "K1", 5), ("S1", "K2", 5))
        with storage.unit_of_work() as uow:
            uow.stock.set_quota("S1", "K2", "flash", 1)
            uow.commit()
        refused = _short_then_commit(
            storage,
            lambda uow: uow.stock.reserve_for_channel(
                _hold("FLASH", ("S1", "K1", 2), ("S1", "K2", 2)), channel="flash"
            ),
        )

        assert "stock.insufficient" == refused.code

        assert ([], []) == _rows(storage)
        assert {("S1", "K1"): 0, ("S1", "K2"): 1} == _reserved(storage)
    finally:
        storage.close()


def test_a_refused_key_holds_later_with_only_its_new_lines(db: _Db) -> None:
    storage = db.storage()
    try:
        _receive(storage, ("S1", "K1", 5), ("S1", "K2", 1))
        with pytest.raises(InsufficientStockError), storage.unit_of_work() as uow:
            uow.stock.hold(_hold("AGAIN", ("S1", "K1", 1), ("S1", "K2", 2)))
        with storage.unit_of_work() as uow:
            uow.stock.hold(_hold("AGAIN", ("S1", "K1", 4)))
            uow.commit()

        assert (["AGAIN"], [("AGAIN", "S1", "K1", 4)]) == _rows(storage)
    finally:
        storage.close()


def test_the_expiry_sweep_reads_the_partial_index(db: _Db) -> None:
    storage = db.storage()
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if "expires_at <=" in statement:
            seen.append((statement, params))

    try:
        event.listen(storage.engine, "before_cursor_execute", capture)
        with storage.unit_of_work() as uow:
            assert [] == list(uow.stock.expire(now=T0))
        event.remove(storage.engine, "before_cursor_execute", capture)
        [(statement, params)] = seen
        with storage.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            else:
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
        assert "ix_reservations_expires_at" in " ".join(str(row) for row in plan)
    finally:
        storage.close()
