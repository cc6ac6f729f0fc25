"""``HoldBatcher``: group commit of holds, with exactly the outcomes of ``hold_now``.

Runs on SQLite always (where the batcher is ``hold_now``) and on PostgreSQL when
``MULTISTORE_TEST_POSTGRES_URL`` is set. The PostgreSQL-only tests make a batch form for sure:
another connection locks a stock row, so the first call's batch waits on it while the next
calls queue up one by one; releasing the lock lets the queued calls go as one batch.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from multistore.adapters.sqlalchemy import (
    AesGcmCipher,
    RetryPolicy,
    SqlStorage,
    create_storage,
    new_key,
)
from multistore.adapters.sqlalchemy.batching import HoldBatcher
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.errors import (
    ConflictError,
    InsufficientStockError,
    TransientStorageError,
    ValidationError,
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


def _pg_storage(url: str, **kwargs: Any) -> tuple[SqlStorage, Callable[[], None]]:
    schema = f"ms_batch_{uuid.uuid4().hex[:10]}"
    s = create_storage(url, schema=schema, cipher=AesGcmCipher(new_key()), **kwargs)

    def drop() -> None:
        s.close()
        engine = create_engine(parse_url(url))
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()

    return s, drop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStorage]:
    if request.param == "sqlite":
        s = create_storage(f"sqlite:///{tmp_path / 'shop.db'}", cipher=AesGcmCipher(new_key()))
        yield s
        s.close()
        return
    s, drop = _pg_storage(request.getfixturevalue("postgres_url"), pool_size=4, max_overflow=0)
    yield s
    drop()


@pytest.fixture
def pg(postgres_url: str) -> Iterator[SqlStorage]:
    s, drop = _pg_storage(postgres_url, pool_size=12, max_overflow=4)
    yield s
    drop()


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


def _hold(key: str, *lines: tuple[str, str, int], ttl: timedelta | None = None) -> Reservation:
    return Reservation(
        key=key,
        lines=tuple(ReservationLine(s, k, q) for s, k, q in lines),
        created_at=T0,
        expires_at=None if ttl is None else T0 + ttl,
    )


def _reserved(storage: SqlStorage) -> dict[tuple[str, str], int]:
    with storage.engine.connect() as conn:
        rows = conn.execute(text("SELECT store_id, sku, reserved FROM stock_levels")).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def _stored(storage: SqlStorage) -> dict[str, list[tuple[str, str, int]]]:
    with storage.engine.connect() as conn:
        keys = [r[0] for r in conn.execute(text("SELECT key FROM reservations"))]
        lines = conn.execute(
            text("SELECT reservation_key, store_id, sku, quantity FROM reservation_lines")
        ).all()
    out: dict[str, list[tuple[str, str, int]]] = {key: [] for key in keys}
    for key, store_id, sku, quantity in lines:
        out.setdefault(key, []).append((store_id, sku, int(quantity)))
    return {key: sorted(found) for key, found in out.items()}


# --- the same outcomes as hold_now, one call at a time ----------------------------------------


def test_one_line_holds_and_is_stored_like_any_reservation(storage: SqlStorage) -> None:
    _stock(storage, ("S1", "K1", 5))

    stored, replayed, levels = HoldBatcher(storage).hold(_hold("R1", ("S1", "K1", 2)))

    assert (ReservationStatus.ACTIVE, False) == (stored.status, replayed)
    assert [StockLevel("S1", "K1", on_hand=5, reserved=2, safety_buffer=0)] == levels
    with storage.unit_of_work(read_only=True) as uow:
        assert stored == uow.stock.get_reservation("R1")


def test_several_lines_hold_together_with_levels_in_store_sku_order(storage: SqlStorage) -> None:
    _stock(storage, ("S2", "K1", 4), ("S1", "K2", 3), ("S1", "K1", 1))
    batcher = HoldBatcher(storage)

    _, _, levels = batcher.hold(_hold("R2", ("S2", "K1", 4), ("S1", "K2", 1), ("S1", "K1", 1)))

    assert [("S1", "K1", 1), ("S1", "K2", 1), ("S2", "K1", 4)] == [
        (x.store_id, x.sku, x.reserved) for x in levels
    ]
    assert {("S1", "K1"): 1, ("S1", "K2"): 1, ("S2", "K1"): 4} == _reserved(storage)


def test_a_replay_returns_the_stored_reservation_and_a_conflict_is_refused(
    storage: SqlStorage,
) -> None:
    _stock(storage, ("S1", "K1", 5))
    batcher = HoldBatcher(storage)
    first, _, _ = batcher.hold(_hold("R3", ("S1", "K1", 2)))

    again = batcher.hold(_hold("R3", ("S1", "K1", 2)))
    with pytest.raises(ConflictError) as caught:
        batcher.hold(_hold("R3", ("S1", "K1", 3)))

    assert (first, True, []) == again
    assert "stock.reservation_conflict" == caught.value.code
    assert {("S1", "K1"): 2} == _reserved(storage)


def test_one_short_line_of_several_writes_nothing(storage: SqlStorage) -> None:
    _stock(storage, ("S1", "K1", 5), ("S1", "K2", 1))

    with pytest.raises(InsufficientStockError) as caught:
        HoldBatcher(storage).hold(_hold("R5", ("S1", "K1", 2), ("S1", "K2", 2)))

    assert "stock.insufficient" == caught.value.code
    assert [
        {"store_id": "S1", "sku": "K2", "requested": 2, "available": 1}
    ] == caught.value.details["short_lines"]
    assert {("S1", "K1"): 0, ("S1", "K2"): 0} == _reserved(storage)
    assert {} == _stored(storage)


def test_a_never_stocked_pair_is_short_and_a_refused_key_can_hold_later(
    storage: SqlStorage,
) -> None:
    _stock(storage, ("S1", "K1", 1))
    batcher = HoldBatcher(storage)
    with pytest.raises(InsufficientStockError) as never:
        batcher.hold(_hold("R6", ("S9", "K9", 1)))
    with pytest.raises(InsufficientStockError):
        batcher.hold(_hold("R7", ("S1", "K1", 2)))
    _stock(storage, ("S1", "K1", 1))

    stored, replayed, _ = batcher.hold(_hold("R7", ("S1", "K1", 2)))

    assert [{"store_id": "S9", "sku": "K9", "requested": 1, "available": 0}] == never.value.details[
        "short_lines"
    ]
    assert (ReservationStatus.ACTIVE, False) == (stored.status, replayed)
    assert {"R7": [("S1", "K1", 2)]} == _stored(storage)


def test_batched_reservations_commit_release_and_expire_like_any_other(
    storage: SqlStorage,
) -> None:
    _stock(storage, ("S1", "K1", 10), ("S2", "K1", 10))
    batcher = HoldBatcher(storage)
    batcher.hold(_hold("C", ("S1", "K1", 3), ("S2", "K1", 1)))
    batcher.hold(_hold("R", ("S1", "K1", 2)))
    batcher.hold(_hold("E", ("S2", "K1", 4), ttl=timedelta(minutes=5)))

    committed = storage.run_in_transaction(lambda uow: uow.stock.commit("C", at=T0))
    released = storage.run_in_transaction(lambda uow: uow.stock.release("R"))
    expired = storage.run_in_transaction(
        lambda uow: uow.stock.expire(now=T0 + timedelta(minutes=5))
    )

    assert (ReservationStatus.COMMITTED, ReservationStatus.RELEASED) == (
        committed.status,
        released.status,
    )
    assert ["E"] == [r.key for r in expired]
    with storage.unit_of_work(read_only=True) as uow:
        levels = [uow.stock.get(s, "K1") for s in ("S1", "S2")]
        sales = [m.quantity for s in ("S1", "S2") for m in uow.stock.movements(s, "K1")[1:]]
    assert [(7, 0), (9, 0)] == [(x.on_hand, x.reserved) for x in levels]
    assert [-3, -1] == sales


def test_bounds_must_be_positive_ints(storage: SqlStorage) -> None:
    with pytest.raises(ValidationError) as caught:
        HoldBatcher(storage, max_batch=0)

    assert "storage.invalid_batch" == caught.value.code


# --- PostgreSQL: several requests in one batch ------------------------------------------------


class _Blocked:
    """Calls of ``batcher.hold`` queued behind a first call that waits on a locked stock row."""

    def __init__(self, storage: SqlStorage, batcher: HoldBatcher, row: tuple[str, str]) -> None:
        self._batcher = batcher
        self._blocker = storage.engine.connect()
        self._blocker.execute(
            text("SELECT 1 FROM stock_levels WHERE store_id = :s AND sku = :k FOR UPDATE"),
            {"s": row[0], "k": row[1]},
        )
        self._threads: list[threading.Thread] = []
        self.results: dict[int, Any] = {}

    def call(self, reservation: Reservation, *, queued: int) -> None:
        """Start a call and wait until ``queued`` requests are waiting in the batcher."""
        n = len(self._threads)

        def run() -> None:
            try:
                self.results[n] = self._batcher.hold(reservation)
            except Exception as exc:
                self.results[n] = exc

        thread = threading.Thread(target=run)
        self._threads.append(thread)
        thread.start()
        while self._batcher.pending < queued:
            time.sleep(0.005)

    def release(self) -> dict[int, Any]:
        """Let the first batch go; wait for every call; return the outcomes by call number."""
        self._blocker.rollback()
        self._blocker.close()
        for thread in self._threads:
            thread.join(timeout=30)
        return self.results


@pytest.mark.postgres
def test_requests_in_one_batch_succeed_or_fail_each_in_arrival_order(pg: SqlStorage) -> None:
    _stock(pg, ("S0", "K0", 5), ("S1", "K1", 3), ("S1", "K2", 2))
    batcher = HoldBatcher(pg)
    blocked = _Blocked(pg, batcher, ("S0", "K0"))
    blocked.call(_hold("FIRST", ("S0", "K0", 1)), queued=0)  # the leader, waiting on the lock
    while batcher.batches < 1:  # its batch has left the queue
        time.sleep(0.005)
    blocked.call(_hold("A", ("S1", "K1", 2)), queued=1)  # fits: 1 left
    blocked.call(_hold("B", ("S1", "K1", 2)), queued=2)  # short: only 1 left
    blocked.call(_hold("C", ("S1", "K1", 1)), queued=3)  # fits what B left
    blocked.call(_hold("D", ("S1", "K2", 1), ("S1", "K1", 1)), queued=4)  # K1 short: nothing
    blocked.call(_hold("E", ("S1", "K2", 2)), queued=5)  # fits: D held nothing
    blocked.call(_hold("A", ("S1", "K1", 2)), queued=6)  # same key and lines: a replay
    blocked.call(_hold("C", ("S1", "K1", 3)), queued=7)  # same key, other lines: a conflict

    out = blocked.release()

    assert (ReservationStatus.ACTIVE, False) == (out[0][0].status, out[0][1])
    assert [StockLevel("S1", "K1", on_hand=3, reserved=2)] == out[1][2]
    assert [{"store_id": "S1", "sku": "K1", "requested": 2, "available": 1}] == out[2].details[
        "short_lines"
    ]
    assert [StockLevel("S1", "K1", on_hand=3, reserved=3)] == out[3][2]
    assert "stock.insufficient" == out[4].code
    assert [{"store_id": "S1", "sku": "K1", "requested": 1, "available": 0}] == out[4].details[
        "short_lines"
    ]
    assert [StockLevel("S1", "K2", on_hand=2, reserved=2)] == out[5][2]
    assert (out[1][0], True, []) == out[6]
    assert "stock.reservation_conflict" == out[7].code
    assert (3, 8) == (batcher.batches, batcher.batched)  # FIRST; A-E; the two repeated keys
    assert {
        "FIRST": [("S0", "K0", 1)],
        "A": [("S1", "K1", 2)],
        "C": [("S1", "K1", 1)],
        "E": [("S1", "K2", 2)],
    } == _stored(pg)
    assert {("S0", "K0"): 1, ("S1", "K1"): 3, ("S1", "K2"): 2} == _reserved(pg)


@pytest.mark.postgres
def test_a_key_held_by_another_transaction_is_answered_after_it_commits(pg: SqlStorage) -> None:
    _stock(pg, ("S1", "K1", 5))
    batcher = HoldBatcher(pg)
    other = pg.unit_of_work()
    with other:
        other.stock.reserve(_hold("K", ("S1", "K1", 1)))
        waiter = threading.Thread(
            target=lambda: results.append(batcher.hold(_hold("K", ("S1", "K1", 1))))
        )
        results: list[Any] = []
        waiter.start()
        while batcher.batches < 1:  # the batch is waiting on the uncommitted key
            time.sleep(0.005)
        other.commit()
    waiter.join(timeout=30)

    assert [True] == [r[1] for r in results]
    assert {("S1", "K1"): 1} == _reserved(pg)


@pytest.mark.postgres
def test_a_busy_database_is_retried_then_reported_to_every_waiter(postgres_url: str) -> None:
    delays: list[float] = []
    s, drop = _pg_storage(
        postgres_url,
        pool_size=4,
        max_overflow=0,
        retry=RetryPolicy(attempts=3, sleep=delays.append),
    )
    try:
        _stock(s, ("S1", "K1", 5))

        @event.listens_for(s.engine, "connect")
        def short_lock_timeout(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.autocommit = True
            dbapi_conn.execute("SET lock_timeout = '50ms'")
            dbapi_conn.autocommit = False

        s.engine.dispose()  # reconnect with the lock timeout
        blocker = s.engine.connect()
        blocker.execute(text("SELECT 1 FROM stock_levels FOR UPDATE"))
        with pytest.raises(TransientStorageError) as caught:
            HoldBatcher(s).hold(_hold("R", ("S1", "K1", 1)))
        blocker.rollback()
        blocker.close()

        assert ("storage.retries_exhausted", 3, 2) == (
            caught.value.code,
            caught.value.details["attempts"],
            len(delays),
        )
        assert {} == _stored(s)
        assert {("S1", "K1"): 0} == _reserved(s)
    finally:
        drop()
