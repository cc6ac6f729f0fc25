"""The SQLite writer gate: one writer thread at a time per file, never for readers or nested units.

Threads of one process that write to one SQLite file queue on the file's ``WriterGate`` before
``BEGIN IMMEDIATE``; these tests pin who takes it, who releases it and when, and that the BEGIN
mode still follows the unit of work (IMMEDIATE for writers, DEFERRED for readers).
"""

from __future__ import annotations

import gc
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from multistore.adapters.sqlalchemy import AesGcmCipher, SqlStorage, create_storage, new_key
from multistore.adapters.sqlalchemy.engine import writer_gate
from multistore.errors import TransientStorageError, ValidationError
from multistore.inventory.model import MovementKind, StockMovement
from multistore.testing.builders import T0


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "shop.db"


@pytest.fixture
def storage(db_path: Path) -> Iterator[SqlStorage]:
    s = create_storage(f"sqlite:///{db_path}", cipher=AesGcmCipher(new_key()), busy_timeout_ms=100)
    yield s
    s.close()


def _receipt(quantity: int, sku: str = "K1") -> StockMovement:
    return StockMovement(
        store_id="S1", sku=sku, kind=MovementKind.RECEIPT, quantity=quantity, occurred_at=T0
    )


def _in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in another thread; return its result or raise its exception."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc

    th = threading.Thread(target=run)
    th.start()
    th.join(timeout=30)
    assert not th.is_alive()
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _gate_is_free(storage: SqlStorage) -> bool:
    """Whether another thread could pass the storage's writer gate right now."""

    def probe() -> bool:
        gate = writer_gate(storage.engine.url.database or "")
        if not gate.acquire(0):
            return False
        gate.release()
        return True

    return bool(_in_thread(probe))


def _stock_on_hand(storage: SqlStorage, sku: str = "K1") -> int:
    with storage.unit_of_work(read_only=True) as uow:
        return uow.stock.get("S1", sku).on_hand


def test_a_second_writer_thread_waits_on_the_gate_not_in_sqlite(storage: SqlStorage) -> None:
    with storage.unit_of_work() as uow:
        uow.stock.record(_receipt(3))

        def other_writer() -> None:
            with storage.unit_of_work() as other:
                other.stock.record(_receipt(1, "K2"))
                other.commit()

        with pytest.raises(TransientStorageError) as info:
            _in_thread(other_writer)
        assert "storage.transient" == info.value.code
        assert "another thread of this process" in info.value.message
        uow.commit()
    assert 3 == _stock_on_hand(storage)
    assert 0 == _stock_on_hand(storage, "K2")
    assert _gate_is_free(storage)


def test_a_writer_thread_proceeds_once_the_first_commits(storage: SqlStorage) -> None:
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with storage.unit_of_work() as uow:
            uow.stock.record(_receipt(2))
            holding.set()
            release.wait(timeout=30)
            uow.commit()

    slow = create_storage(
        str(storage.engine.url), migrate=False, cipher=storage.cipher, busy_timeout_ms=30_000
    )
    try:
        th = threading.Thread(target=first)
        th.start()
        holding.wait(timeout=30)
        assert not _gate_is_free(storage)

        def second() -> int:
            release.set()  # the first writer may commit now; this one waits on the gate
            with slow.unit_of_work() as uow:
                uow.stock.record(_receipt(5))
                uow.commit()
            return 1

        assert 1 == _in_thread(second)
        th.join(timeout=30)
    finally:
        slow.close()
    assert 7 == _stock_on_hand(storage)


def test_read_only_units_never_take_the_gate(storage: SqlStorage) -> None:
    storage.run_in_transaction(lambda uow: uow.stock.record(_receipt(4)))
    with storage.unit_of_work() as writer:
        writer.stock.record(_receipt(1))

        def read() -> int:
            with storage.unit_of_work(read_only=True) as reader:
                on_hand = reader.stock.get("S1", "K1").on_hand
                assert reader._gate is None
                return on_hand

        assert 4 == _in_thread(read)  # the writer has not committed
        writer.commit()
    assert 5 == _stock_on_hand(storage)


def test_an_exception_in_the_unit_releases_the_gate(storage: SqlStorage) -> None:
    held: list[bool] = []

    def fail() -> None:
        with storage.unit_of_work() as uow:
            uow.stock.record(_receipt(9))
            held.append(not _gate_is_free(storage))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail()
    assert [True] == held
    assert _gate_is_free(storage)
    assert 0 == _stock_on_hand(storage)


def test_leaving_without_commit_rolls_back_and_releases_the_gate(storage: SqlStorage) -> None:
    with storage.unit_of_work() as uow:
        uow.stock.record(_receipt(9))
    assert _gate_is_free(storage)
    assert 0 == _stock_on_hand(storage)


def test_commit_and_rollback_release_the_gate_and_the_unit_stays_usable(
    storage: SqlStorage,
) -> None:
    with storage.unit_of_work() as uow:
        uow.stock.record(_receipt(2))
        uow.commit()
        assert _gate_is_free(storage)
        uow.stock.record(_receipt(5))
        assert not _gate_is_free(storage)
        uow.rollback()
        assert _gate_is_free(storage)
        uow.stock.record(_receipt(1))
        uow.commit()
    assert 3 == _stock_on_hand(storage)


def test_a_failed_business_call_in_run_in_transaction_releases_the_gate(
    storage: SqlStorage,
) -> None:
    def fail(uow: Any) -> None:
        uow.stock.record(_receipt(1))
        raise ValueError("not retried")

    with pytest.raises(ValueError, match="not retried"):
        storage.run_in_transaction(fail)
    assert _gate_is_free(storage)


def test_a_nested_unit_on_the_same_thread_does_not_deadlock(storage: SqlStorage) -> None:
    storage.run_in_transaction(lambda uow: uow.stock.record(_receipt(4)))
    with storage.unit_of_work() as outer:
        outer.stock.record(_receipt(1))
        with storage.unit_of_work() as inner:  # a writer unit, begun DEFERRED without the gate
            assert 4 == inner.stock.get("S1", "K1").on_hand
            assert inner._gate is None
        nested = storage.run_in_transaction(lambda uow: uow.stock.get("S1", "K1").on_hand)
        assert 4 == nested
        assert not _gate_is_free(storage)
        outer.commit()
    assert 5 == _stock_on_hand(storage)
    assert _gate_is_free(storage)


def test_storages_on_one_file_share_the_gate(storage: SqlStorage, db_path: Path) -> None:
    other = create_storage(f"sqlite:///{db_path}", migrate=False, cipher=storage.cipher)
    try:
        assert storage._writer_gate is other._writer_gate
        with storage.unit_of_work() as outer:
            outer.stock.record(_receipt(2))
            with other.unit_of_work() as inner:  # same thread, other storage: no self-deadlock
                assert 0 == inner.stock.get("S1", "K1").on_hand
            outer.commit()
        assert 2 == _stock_on_hand(other)
    finally:
        other.close()


def test_an_engine_built_elsewhere_gets_the_files_gate(storage: SqlStorage, db_path: Path) -> None:
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        assert storage._writer_gate is SqlStorage(engine)._writer_gate
    finally:
        engine.dispose()


def test_memory_databases_have_a_gate_each() -> None:
    first, second = create_storage("sqlite://"), create_storage("sqlite://")
    try:
        assert first._writer_gate is not None
        assert first._writer_gate is not second._writer_gate
    finally:
        first.close()
        second.close()


def test_an_abandoned_unit_releases_the_gate_when_collected(storage: SqlStorage) -> None:
    uow = storage.unit_of_work()
    uow.__enter__()
    uow.stock.record(_receipt(6))
    assert not _gate_is_free(storage)
    del uow
    gc.collect()
    assert _gate_is_free(storage)
    storage.run_in_transaction(lambda u: u.stock.record(_receipt(1)))
    assert 1 == _stock_on_hand(storage)


def test_writers_begin_immediate_and_readers_deferred(storage: SqlStorage, db_path: Path) -> None:
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        with storage.unit_of_work(read_only=True) as reader:
            assert 0 == reader.stock.get("S1", "K1").on_hand
        with pytest.raises(TransientStorageError), storage.unit_of_work() as writer:
            writer.stock.get("S1", "K1")  # a read, but BEGIN IMMEDIATE waits for the lock
        with storage.engine.connect() as conn:
            conn.execution_options(multistore_begin="DEFERRED")
            assert 1 == conn.exec_driver_sql("SELECT 1").scalar_one()
    finally:
        other.rollback()
        other.close()
    assert _gate_is_free(storage)


def test_an_unknown_begin_mode_is_refused(storage: SqlStorage) -> None:
    with storage.engine.connect() as conn, pytest.raises(ValidationError) as info:
        conn.execution_options(multistore_begin="EXCLUSIVE")
    assert "storage.invalid_begin_mode" == info.value.code


def test_sqlite_engines_dispatch_no_connection_events(storage: SqlStorage) -> None:
    # A connection-level event listener makes SQLAlchemy dispatch events around every statement
    # (a fifth of the client CPU of a small write transaction); BEGIN is the dialect's job here.
    assert storage.engine._has_events is False


def _write_locked(db_path: Path) -> bool:
    """Whether some connection holds the file's write lock (probed without waiting)."""
    probe = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def test_a_unit_waiting_for_the_gate_lets_the_gate_holder_have_its_connection(
    db_path: Path,
) -> None:
    # pool_size=1: the unit keeps its connection after commit; if it then waited for the gate
    # holding it, the gate holder (waiting for a pooled connection) could never finish.
    storage = create_storage(
        f"sqlite:///{db_path}",
        cipher=AesGcmCipher(new_key()),
        pool_size=1,
        max_overflow=0,
        busy_timeout_ms=2000,
    )
    gate = writer_gate(db_path)
    box: dict[str, Any] = {}

    def second_writer() -> None:
        try:
            with storage.unit_of_work() as other:
                other.stock.record(_receipt(10))
                other.commit()
            box["second"] = "ok"
        except BaseException as exc:
            box["second"] = getattr(exc, "code", type(exc).__name__)

    try:
        with storage.unit_of_work() as uow:
            uow.stock.record(_receipt(1))
            uow.commit()  # gate released, connection kept
            th = threading.Thread(target=second_writer)
            th.start()
            while gate._owner is None and th.is_alive():  # the second writer passed the gate
                threading.Event().wait(0.001)
            try:
                uow.stock.record(_receipt(100))
                uow.commit()
                box["first"] = "ok"
            except TransientStorageError as exc:
                box["first"] = exc.code
            th.join(timeout=30)
        on_hand = _stock_on_hand(storage)
    finally:
        storage.close()
    assert ({"first": "ok", "second": "ok"}, 111) == (box, on_hand)


def test_a_reused_read_only_unit_still_begins_deferred(storage: SqlStorage, db_path: Path) -> None:
    reader = storage.unit_of_work(read_only=True)
    locked = []
    for _ in range(2):
        with reader:
            reader.stores.list()
            locked.append(_write_locked(db_path))
    with storage.unit_of_work() as writer:
        writer.stores.list()  # the gate and the write lock, on this thread
        with reader:  # a reused reader nested in a writer must not wait on its own thread
            nested = reader.stock.get("S1", "K1").on_hand
    assert ([False, False], 0) == (locked, nested)


def test_a_reused_writer_unit_begins_immediate_again(storage: SqlStorage, db_path: Path) -> None:
    unit = storage.unit_of_work()
    locked = []
    for _ in range(2):
        with unit:
            unit.stores.list()
            locked.append(_write_locked(db_path))
    assert [True, True] == locked


def test_an_engine_level_begin_mode_is_honoured(storage: SqlStorage, db_path: Path) -> None:
    deferred = storage.engine.execution_options(multistore_begin="DEFERRED")
    with deferred.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
        locked_deferred = _write_locked(db_path)
    immediate = deferred.execution_options(multistore_begin="IMMEDIATE")
    with immediate.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
        locked_immediate = _write_locked(db_path)
    with deferred.connect() as conn:  # the connection's own option wins over the engine's
        conn.execution_options(multistore_begin="IMMEDIATE")
        conn.exec_driver_sql("SELECT 1")
        locked_override = _write_locked(db_path)
    assert (False, True, True, False) == (
        locked_deferred,
        locked_immediate,
        locked_override,
        storage.engine._has_events,
    )


def test_an_unknown_engine_level_begin_mode_is_refused(storage: SqlStorage) -> None:
    with pytest.raises(ValidationError) as info:
        storage.engine.execution_options(multistore_begin="EXCLUSIVE")
    assert "storage.invalid_begin_mode" == info.value.code
