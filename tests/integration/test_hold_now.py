"""``hold_now``: a reservation as a transaction of its own (one statement on PostgreSQL).

Runs on SQLite always and on PostgreSQL when ``MULTISTORE_TEST_POSTGRES_URL`` is set. Checks the
same guarantees as ``uow.stock.hold``: every line or none, idempotent by key, the levels after
the hold, a short line writes nothing, and the pooled connection goes back to the pool in
transactional mode.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from multistore.adapters.sqlalchemy import AesGcmCipher, SqlStorage, create_storage, new_key
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.adapters.sqlalchemy.repositories import hold_now
from multistore.errors import ConflictError, InsufficientStockError
from multistore.inventory.model import (
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
)
from multistore.testing.builders import T0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStorage]:
    if request.param == "sqlite":
        s = create_storage(f"sqlite:///{tmp_path / 'shop.db'}", cipher=AesGcmCipher(new_key()))
        yield s
        s.close()
        return
    url: str = request.getfixturevalue("postgres_url")
    schema = f"ms_hold_{uuid.uuid4().hex[:10]}"
    s = create_storage(
        url, schema=schema, cipher=AesGcmCipher(new_key()), pool_size=1, max_overflow=0
    )
    yield s
    s.close()
    engine = create_engine(parse_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def _stock(storage: SqlStorage, *rows: tuple[str, str, int]) -> None:
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


def _hold(key: str, *lines: tuple[str, str, int]) -> Reservation:
    return Reservation(
        key=key, lines=tuple(ReservationLine(s, k, q) for s, k, q in lines), created_at=T0
    )


def _reserved(storage: SqlStorage) -> dict[tuple[str, str], int]:
    with storage.engine.connect() as conn:
        rows = conn.execute(text("SELECT store_id, sku, reserved FROM stock_levels")).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def _keys(storage: SqlStorage) -> list[str]:
    with storage.engine.connect() as conn:
        reservations = [r[0] for r in conn.execute(text("SELECT key FROM reservations"))]
        lines = [r[0] for r in conn.execute(text("SELECT reservation_key FROM reservation_lines"))]
    return sorted(reservations + lines)


def test_one_line_holds_and_returns_the_level_after_the_hold(storage: SqlStorage) -> None:
    _stock(storage, ("S1", "K1", 5))

    stored, replayed, levels = hold_now(storage, _hold("R1", ("S1", "K1", 2)))

    assert (ReservationStatus.ACTIVE, False) == (stored.status, replayed)
    assert [StockLevel("S1", "K1", on_hand=5, reserved=2, safety_buffer=0)] == levels
    with storage.unit_of_work(read_only=True) as uow:
        assert stored == uow.stock.get_reservation("R1")


def test_several_lines_hold_together_with_levels_in_store_sku_order(storage: SqlStorage) -> None:
    _stock(storage, ("S2", "K1", 4), ("S1", "K2", 3), ("S1", "K1", 1))

    _, _, levels = hold_now(storage, _hold("R2", ("S2", "K1", 4), ("S1", "K2", 1), ("S1", "K1", 1)))

    assert [("S1", "K1", 1), ("S1", "K2", 1), ("S2", "K1", 4)] == [
        (x.store_id, x.sku, x.reserved) for x in levels
    ]
    assert {("S1", "K1"): 1, ("S1", "K2"): 1, ("S2", "K1"): 4} == _reserved(storage)


def test_the_same_key_and_lines_again_is_a_replay_that_holds_nothing(storage: SqlStorage) -> None:
    _stock(storage, ("S1", "K1", 5))
    first, _, _ = hold_now(storage, _hold("R3", ("S1", "K1", 2)))

    again, replayed, levels = hold_now(storage, _hold("R3", ("S1", "K1", 2)))

    assert (first, True, []) == (again, replayed, levels)
    assert {("S1", "K1"): 2} == _reserved(storage)


def test_the_same_key_with_other_lines_is_a_conflict(storage: SqlStorage) -> None:
    _stock(storage, ("S1", "K1", 5))
    hold_now(storage, _hold("R4", ("S1", "K1", 2)))

    with pytest.raises(ConflictError) as caught:
        hold_now(storage, _hold("R4", ("S1", "K1", 3)))

    assert "stock.reservation_conflict" == caught.value.code
    assert {("S1", "K1"): 2} == _reserved(storage)


def test_one_short_line_of_several_writes_nothing(storage: SqlStorage) -> None:
    _stock(storage, ("S1", "K1", 5), ("S1", "K2", 1))

    with pytest.raises(InsufficientStockError) as caught:
        hold_now(storage, _hold("R5", ("S1", "K1", 2), ("S1", "K2", 2)))

    assert "stock.insufficient" == caught.value.code
    assert [
        {"store_id": "S1", "sku": "K2", "requested": 2, "available": 1}
    ] == caught.value.details["short_lines"]
    assert {("S1", "K1"): 0, ("S1", "K2"): 0} == _reserved(storage)
    assert [] == _keys(storage)


def test_a_never_stocked_pair_is_short_and_writes_nothing(storage: SqlStorage) -> None:
    _stock(storage, ("S1", "K1", 5))

    with pytest.raises(InsufficientStockError) as caught:
        hold_now(storage, _hold("R6", ("S9", "K9", 1)))

    assert [
        {"store_id": "S9", "sku": "K9", "requested": 1, "available": 0}
    ] == caught.value.details["short_lines"]
    assert [] == _keys(storage)


def test_a_key_refused_for_lack_of_stock_can_hold_later(storage: SqlStorage) -> None:
    _stock(storage, ("S1", "K1", 1))
    with pytest.raises(InsufficientStockError):
        hold_now(storage, _hold("R7", ("S1", "K1", 2)))
    _stock(storage, ("S1", "K1", 1))

    stored, replayed, _ = hold_now(storage, _hold("R7", ("S1", "K1", 2)))

    assert (ReservationStatus.ACTIVE, False) == (stored.status, replayed)
    assert {("S1", "K1"): 2} == _reserved(storage)


def test_the_pooled_connection_is_transactional_again_afterwards(storage: SqlStorage) -> None:
    _stock(storage, ("S1", "K1", 5))
    hold_now(storage, _hold("R8", ("S1", "K1", 1)))
    with pytest.raises(InsufficientStockError):
        hold_now(storage, _hold("R9", ("S1", "K1", 99)))

    with (
        storage.unit_of_work() as uow
    ):  # PostgreSQL: the pool's one connection (hold_now's is apart)
        uow.stock.record(
            StockMovement(
                store_id="S1", sku="K1", kind=MovementKind.RECEIPT, quantity=7, occurred_at=T0
            )
        )
        # leaving without commit must roll back

    with storage.unit_of_work(read_only=True) as uow:
        assert (5, 1) == (uow.stock.get("S1", "K1").on_hand, uow.stock.get("S1", "K1").reserved)
