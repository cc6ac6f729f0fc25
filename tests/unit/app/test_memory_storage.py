from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from multistore.adapters.memory import MemoryStorage
from multistore.errors import InsufficientStockError, StorageError, TransientStorageError
from multistore.inventory.model import MovementKind, Reservation, ReservationLine, StockMovement
from multistore.testing.builders import sample_store

T = datetime(2026, 1, 1, tzinfo=UTC)


def test_nested_unit_of_work_in_one_thread_is_refused() -> None:
    storage = MemoryStorage()
    with storage.unit_of_work(), pytest.raises(StorageError) as info, storage.unit_of_work():
        pass
    assert "storage.nested_unit_of_work" == info.value.code


def test_repositories_need_an_open_unit() -> None:
    uow = MemoryStorage().unit_of_work()
    with pytest.raises(StorageError) as info:
        uow.stores.list()
    assert "storage.no_transaction" == info.value.code


def test_busy_storage_times_out_as_transient() -> None:
    storage = MemoryStorage(lock_timeout=0.05)
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with storage.unit_of_work():
            entered.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    entered.wait(5)
    try:
        with pytest.raises(TransientStorageError) as info, storage.unit_of_work():
            pass
        assert info.value.retryable
    finally:
        release.set()
        t.join()


def test_concurrent_reservations_never_oversell() -> None:
    storage = MemoryStorage()
    with storage.unit_of_work() as uow:
        for store in ("A", "B"):
            uow.stores.add(sample_store(store))
            uow.stock.record(
                StockMovement(
                    store_id=store, sku="K", kind=MovementKind.RECEIPT, quantity=10, occurred_at=T
                )
            )
        uow.commit()
    won: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(10):
            key = f"w{n}-{i % 4}"  # duplicate keys on purpose
            lines = (ReservationLine("A", "K", 1), ReservationLine("B", "K", 1))
            res = Reservation(
                key=key, lines=lines[:: 1 if n % 2 else -1], expires_at=T + timedelta(minutes=1)
            )
            try:
                with storage.unit_of_work() as uow:
                    uow.stock.reserve(res)
                    uow.commit()
            except InsufficientStockError:
                continue
            with lock:
                won.append(key)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with storage.unit_of_work() as uow:
        levels = [uow.stock.get(s, "K") for s in ("A", "B")]
        distinct = set(won)
        held = sum(uow.stock.get_reservation(k).lines[0].quantity for k in distinct)
    assert [10, 10] == [lv.reserved for lv in levels]
    assert 10 == held
