"""SQLite holds, releases and commits run on the sqlite3 cursor: same rows, same errors.

``uow.stock.hold`` / ``release`` / ``commit`` on SQLite skip SQLAlchemy's per-statement work and
run their statements straight on the unit of work's own sqlite3 connection. These tests pin
what must not change: the statements run inside the unit's transaction (a rollback undoes
them, another connection does not see them before the commit), the stored text is byte for
byte what SQLAlchemy Core writes, every line or none is held, replays and conflicts by key,
and driver errors come out translated with nothing written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import insert, text

from multistore.adapters.sqlalchemy import (
    AesGcmCipher,
    SqlStorage,
    SqlUnitOfWork,
    create_storage,
    new_key,
)
from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.errors import is_transient
from multistore.adapters.sqlalchemy.repositories import SqlStockRepository, _driver_error
from multistore.errors import (
    ConflictError,
    InsufficientStockError,
    IntegrityStorageError,
    TransientStorageError,
)
from multistore.inventory.model import (
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
)
from multistore.testing.builders import T0

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "shop.db"


@pytest.fixture
def storage(db_path: Path) -> Iterator[SqlStorage]:
    s = create_storage(f"sqlite:///{db_path}", cipher=AesGcmCipher(new_key()))
    yield s
    s.close()


def _stock(storage: SqlStorage, *rows: tuple[str, str, int]) -> None:
    def receive(uow: Any) -> None:
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

    storage.run_in_transaction(receive)


def _res(key: str, *lines: tuple[str, str, int], **when: datetime | None) -> Reservation:
    return Reservation(
        key=key,
        lines=tuple(ReservationLine(s, k, q) for s, k, q in lines),
        created_at=when.get("created_at", T0),
        expires_at=when.get("expires_at"),
    )


def _stock_of(uow: SqlUnitOfWork) -> SqlStockRepository:
    stock = uow.stock
    assert isinstance(stock, SqlStockRepository)
    return stock


def _hold(
    storage: SqlStorage, reservation: Reservation
) -> tuple[Reservation, bool, list[StockLevel]]:
    return storage.run_in_transaction(lambda uow: _stock_of(uow).hold(reservation))


def _raw(db_path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def _levels(db_path: Path) -> dict[tuple[str, str], tuple[int, int]]:
    rows = _raw(db_path, "SELECT store_id, sku, on_hand, reserved FROM stock_levels")
    return {(s, k): (on_hand, reserved) for s, k, on_hand, reserved in rows}


def _keys(db_path: Path) -> list[str]:
    heads = [r[0] for r in _raw(db_path, "SELECT key FROM reservations")]
    lines = [r[0] for r in _raw(db_path, "SELECT reservation_key FROM reservation_lines")]
    return sorted(heads + lines)


# --- holds -------------------------------------------------------------------------------------


def test_a_hold_returns_the_levels_after_it_in_store_sku_order(
    storage: SqlStorage, db_path: Path
) -> None:
    _stock(storage, ("S2", "K1", 4), ("S1", "K2", 3), ("S1", "K1", 6))

    stored, replayed, levels = _hold(
        storage, _res("R1", ("S2", "K1", 4), ("S1", "K2", 1), ("S1", "K1", 2))
    )

    assert (ReservationStatus.ACTIVE, False) == (stored.status, replayed)
    assert [
        StockLevel("S1", "K1", on_hand=6, reserved=2),
        StockLevel("S1", "K2", on_hand=3, reserved=1),
        StockLevel("S2", "K1", on_hand=4, reserved=4),
    ] == levels
    assert {("S1", "K1"): (6, 2), ("S1", "K2"): (3, 1), ("S2", "K1"): (4, 4)} == _levels(db_path)
    with storage.unit_of_work(read_only=True) as uow:
        assert stored == uow.stock.get_reservation("R1")


def test_the_stored_rows_are_byte_for_byte_what_sqlalchemy_core_writes(
    storage: SqlStorage, db_path: Path
) -> None:
    _stock(storage, ("S1", "K1", 5))
    created = datetime(2026, 3, 1, 12, 30, 15, 250, tzinfo=BEIJING)
    expires = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    _hold(storage, _res("DRIVER", ("S1", "K1", 2), created_at=created, expires_at=expires))
    with storage.engine.begin() as conn:  # the same values through SQLAlchemy Core
        conn.execute(
            insert(t.reservations).values(
                key="CORE", status="active", created_at=created, expires_at=expires
            )
        )
        conn.execute(
            insert(t.reservation_lines).values(
                reservation_key="CORE", store_id="S1", sku="K1", quantity=2
            )
        )
    columns = (
        "status, created_at, typeof(created_at), expires_at, typeof(expires_at), "
        "store_id, sku, quantity, typeof(quantity)"
    )
    sql = (
        f"SELECT {columns} FROM reservations JOIN reservation_lines "
        "ON reservation_key = key WHERE key = ?"
    )

    driver = _raw(db_path, sql, "DRIVER")

    assert _raw(db_path, sql, "CORE") == driver
    assert "2026-03-01 04:30:15.000250" == driver[0][1]


def test_a_hold_without_timestamps_stores_nulls(storage: SqlStorage, db_path: Path) -> None:
    _stock(storage, ("S1", "K1", 5))

    stored, _, _ = _hold(storage, _res("R0", ("S1", "K1", 1), created_at=None))

    assert [(None, None)] == _raw(db_path, "SELECT created_at, expires_at FROM reservations")
    with storage.unit_of_work(read_only=True) as uow:
        assert (None, None) == (
            uow.stock.get_reservation("R0").created_at,
            uow.stock.get_reservation("R0").expires_at,
        )
    assert (None, None) == (stored.created_at, stored.expires_at)


def test_the_hold_runs_in_the_unit_of_work_transaction(storage: SqlStorage, db_path: Path) -> None:
    _stock(storage, ("S1", "K1", 5))

    with storage.unit_of_work() as uow:
        _, _, levels = _stock_of(uow).hold(_res("R2", ("S1", "K1", 3)))
        seen_inside = uow.stock.get("S1", "K1").reserved
        seen_outside = _levels(db_path)[("S1", "K1")]
        uow.rollback()
        after_rollback = uow.stock.get("S1", "K1").reserved

    assert (3, 3, (5, 0), 0) == (levels[0].reserved, seen_inside, seen_outside, after_rollback)
    assert [] == _keys(db_path)


def test_a_hold_then_a_core_write_commit_together(storage: SqlStorage, db_path: Path) -> None:
    _stock(storage, ("S1", "K1", 5))

    with storage.unit_of_work() as uow:
        _stock_of(uow).hold(_res("R3", ("S1", "K1", 1)))
        uow.stock.record(
            StockMovement(
                store_id="S1", sku="K1", kind=MovementKind.RECEIPT, quantity=2, occurred_at=T0
            )
        )
        uow.commit()

    assert {("S1", "K1"): (7, 1)} == _levels(db_path)
    assert ["R3", "R3"] == _keys(db_path)


def test_a_replay_holds_nothing_more_and_another_use_of_the_key_conflicts(
    storage: SqlStorage, db_path: Path
) -> None:
    _stock(storage, ("S1", "K1", 5), ("S1", "K2", 5))
    first, _, _ = _hold(storage, _res("R4", ("S1", "K1", 2), ("S1", "K2", 1)))

    again = _hold(storage, _res("R4", ("S1", "K2", 1), ("S1", "K1", 2)))
    with pytest.raises(ConflictError) as caught:
        _hold(storage, _res("R4", ("S1", "K1", 3)))

    assert (first, True, []) == again
    assert "stock.reservation_conflict" == caught.value.code
    assert {("S1", "K1"): (5, 2), ("S1", "K2"): (5, 1)} == _levels(db_path)


def test_a_short_last_line_undoes_the_earlier_ones(storage: SqlStorage, db_path: Path) -> None:
    _stock(storage, ("S1", "K1", 5), ("S1", "K2", 5), ("S2", "K1", 1))

    with storage.unit_of_work() as uow:  # committed anyway: the hold itself must undo
        with pytest.raises(InsufficientStockError) as caught:
            _stock_of(uow).hold(_res("R5", ("S1", "K1", 2), ("S1", "K2", 3), ("S2", "K1", 2)))
        uow.commit()

    assert [
        {"store_id": "S2", "sku": "K1", "requested": 2, "available": 1}
    ] == caught.value.details["short_lines"]
    assert {("S1", "K1"): (5, 0), ("S1", "K2"): (5, 0), ("S2", "K1"): (1, 0)} == _levels(db_path)
    assert [] == _keys(db_path)


def test_a_key_refused_for_lack_of_stock_holds_later(storage: SqlStorage, db_path: Path) -> None:
    _stock(storage, ("S1", "K1", 1))
    with pytest.raises(InsufficientStockError):
        _hold(storage, _res("R6", ("S1", "K1", 2)))
    _stock(storage, ("S1", "K1", 1))

    stored, replayed, levels = _hold(storage, _res("R6", ("S1", "K1", 2)))

    assert (ReservationStatus.ACTIVE, False) == (stored.status, replayed)
    assert [StockLevel("S1", "K1", on_hand=2, reserved=2)] == levels


def test_a_driver_error_is_translated_and_writes_nothing(
    storage: SqlStorage, db_path: Path
) -> None:
    _stock(storage, ("S1", "K1", 5), ("S1", "K2", 5))
    with storage.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse_k2 BEFORE UPDATE OF reserved ON stock_levels "
                "WHEN NEW.sku = 'K2' BEGIN SELECT RAISE(ABORT, 'K2 is frozen'); END"
            )
        )

    with pytest.raises(IntegrityStorageError) as caught:
        _hold(storage, _res("R7", ("S1", "K1", 1), ("S1", "K2", 1)))

    assert "storage.integrity" == caught.value.code
    assert "K2 is frozen" == caught.value.details["driver_message"]
    assert isinstance(caught.value.__cause__, sa_exc.IntegrityError)
    assert {("S1", "K1"): (5, 0), ("S1", "K2"): (5, 0)} == _levels(db_path)
    assert [] == _keys(db_path)


def test_a_busy_driver_error_is_wrapped_as_transient(storage: SqlStorage) -> None:
    with storage.unit_of_work() as uow:
        conn = uow.connection()
        wrapped = _driver_error(conn, sqlite3.OperationalError("database is locked"), "X", ())

    assert isinstance(wrapped, sa_exc.OperationalError)
    assert is_transient(wrapped)


def test_run_in_transaction_retries_a_transient_driver_error(storage: SqlStorage) -> None:
    _stock(storage, ("S1", "K1", 5))
    storage.retry = type(storage.retry)(attempts=2, sleep=lambda _: None)
    calls: list[int] = []

    def hold_after_busy(busy: int) -> Any:
        def fn(uow: Any) -> Any:
            calls.append(1)
            if len(calls) <= busy:
                busy_error = sqlite3.OperationalError("database is locked")
                raise _driver_error(uow.connection(), busy_error, "X", ())
            return _stock_of(uow).hold(_res("R8", ("S1", "K1", 1)))

        return fn

    stored, _, _ = storage.run_in_transaction(hold_after_busy(1))
    calls.clear()
    with pytest.raises(TransientStorageError) as caught:
        storage.run_in_transaction(hold_after_busy(2))

    assert ReservationStatus.ACTIVE == stored.status
    assert ("storage.retries_exhausted", 2) == (caught.value.code, len(calls))


# --- release and commit ------------------------------------------------------------------------


def test_release_gives_the_units_back_once(storage: SqlStorage, db_path: Path) -> None:
    _stock(storage, ("S1", "K1", 5), ("S2", "K1", 5))
    expires = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    held, _, _ = _hold(storage, _res("R9", ("S2", "K1", 1), ("S1", "K1", 2), expires_at=expires))

    released = storage.run_in_transaction(lambda uow: uow.stock.release("R9"))
    again = storage.run_in_transaction(lambda uow: uow.stock.release("R9"))

    expected = Reservation(
        key="R9",
        lines=held.lines,
        status=ReservationStatus.RELEASED,
        created_at=T0,
        expires_at=expires,
    )
    assert (expected, expected) == (released, again)
    assert {("S1", "K1"): (5, 0), ("S2", "K1"): (5, 0)} == _levels(db_path)
    with storage.unit_of_work(read_only=True) as uow:
        assert expected == uow.stock.get_reservation("R9")


def test_commit_turns_the_hold_into_sales_once(storage: SqlStorage, db_path: Path) -> None:
    _stock(storage, ("S1", "K1", 5), ("S1", "K2", 5))
    held, _, _ = _hold(storage, _res("R10", ("S1", "K2", 1), ("S1", "K1", 2)))
    at = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)

    committed = storage.run_in_transaction(
        lambda uow: uow.stock.commit("R10", at=at, actor_id="cashier-1")
    )
    again = storage.run_in_transaction(lambda uow: uow.stock.commit("R10", at=at))

    expected = Reservation(
        key="R10", lines=held.lines, status=ReservationStatus.COMMITTED, created_at=T0
    )
    assert (expected, expected) == (committed, again)
    assert {("S1", "K1"): (3, 0), ("S1", "K2"): (4, 0)} == _levels(db_path)
    with storage.unit_of_work(read_only=True) as uow:
        sales = [m for sku in ("K1", "K2") for m in uow.stock.movements("S1", sku)[1:]]
    assert [
        StockMovement(
            store_id="S1",
            sku=sku,
            kind=MovementKind.SALE,
            quantity=-q,
            occurred_at=at,
            reason="reservation committed",
            reference="R10",
            actor_id="cashier-1",
        )
        for sku, q in (("K1", 2), ("K2", 1))
    ] == sales


def test_a_sale_movement_is_stored_as_sqlalchemy_core_stores_a_movement(
    storage: SqlStorage, db_path: Path
) -> None:
    at = datetime(2026, 3, 2, 9, 0, 0, 7, tzinfo=BEIJING)
    _stock(storage, ("S1", "K1", 5))
    _hold(storage, _res("R11", ("S1", "K1", 2)))
    storage.run_in_transaction(lambda uow: uow.stock.commit("R11", at=at))
    storage.run_in_transaction(  # a Core insert of a movement with the same instant
        lambda uow: uow.stock.record(
            StockMovement(
                store_id="S1", sku="K1", kind=MovementKind.RECEIPT, quantity=1, occurred_at=at
            )
        )
    )
    sql = (
        "SELECT occurred_at, typeof(occurred_at), typeof(quantity) FROM stock_movements "
        "WHERE kind = ?"
    )

    sale = _raw(db_path, sql, "sale")

    assert [("2026-03-02 01:00:00.000007", "text", "integer")] == sale
    assert _raw(db_path, sql + " AND occurred_at = ?", "receipt", sale[0][0]) == sale


def test_a_closed_reservation_cannot_change_state(storage: SqlStorage, db_path: Path) -> None:
    _stock(storage, ("S1", "K1", 5))
    _hold(storage, _res("R12", ("S1", "K1", 2)))
    storage.run_in_transaction(lambda uow: uow.stock.release("R12"))

    with pytest.raises(ConflictError) as caught:
        storage.run_in_transaction(lambda uow: uow.stock.commit("R12", at=T0))

    assert ("stock.reservation_closed", {"key": "R12", "status": "released"}) == (
        caught.value.code,
        caught.value.details,
    )
    assert {("S1", "K1"): (5, 0)} == _levels(db_path)


def test_a_failed_commit_writes_nothing(storage: SqlStorage, db_path: Path) -> None:
    _stock(storage, ("S1", "K1", 5))
    _hold(storage, _res("R13", ("S1", "K1", 2)))
    with storage.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse_sales BEFORE INSERT ON stock_movements "
                "WHEN NEW.kind = 'sale' BEGIN SELECT RAISE(ABORT, 'no sales today'); END"
            )
        )

    with pytest.raises(IntegrityStorageError) as caught:
        storage.run_in_transaction(lambda uow: uow.stock.commit("R13", at=T0))

    assert "no sales today" == caught.value.details["driver_message"]
    assert {("S1", "K1"): (5, 2)} == _levels(db_path)
    assert [("active",)] == _raw(db_path, "SELECT status FROM reservations")
