"""``hold_now``'s parked autocommit connection on PostgreSQL.

One connection, detached from the pool and kept in autocommit, serves ``hold_now`` while it is
free: it is reused, never takes a pool place, survives a short hold, is replaced when the server
drops it or the pool is disposed, and is closed with the storage. Callers that find it busy use
the pool as before.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from multistore.adapters.sqlalchemy import AesGcmCipher, SqlStorage, create_storage, new_key
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.adapters.sqlalchemy.repositories import hold_now
from multistore.errors import InsufficientStockError
from multistore.inventory.model import MovementKind, Reservation, ReservationLine, StockMovement
from multistore.testing.builders import T0

pytestmark = pytest.mark.postgres


@pytest.fixture
def storage(postgres_url: str) -> Iterator[SqlStorage]:
    url = postgres_url
    schema = f"ms_slot_{uuid.uuid4().hex[:10]}"
    s = create_storage(
        url, schema=schema, cipher=AesGcmCipher(new_key()), pool_size=1, max_overflow=0
    )
    yield s
    s.close()
    engine = create_engine(parse_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def _stock(storage: SqlStorage, units: int) -> None:
    with storage.unit_of_work() as uow:
        uow.stock.record(
            StockMovement(
                store_id="S1", sku="K1", kind=MovementKind.RECEIPT, quantity=units, occurred_at=T0
            )
        )
        uow.commit()


def _hold(key: str, quantity: int = 1) -> Reservation:
    return Reservation(key=key, lines=(ReservationLine("S1", "K1", quantity),), created_at=T0)


def _parked_pid(storage: SqlStorage) -> int | None:
    idle = storage._autocommit_slot._idle
    return None if idle is None else int(idle.dbapi_connection.info.backend_pid)


def _alive(url: str, pid: int) -> bool:
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %(pid)s", {"pid": pid}
            ).scalar_one()
    finally:
        engine.dispose()
    return bool(found)


def _reserved(storage: SqlStorage) -> int:
    with storage.unit_of_work(read_only=True) as uow:
        return uow.stock.get("S1", "K1").reserved


def test_holds_reuse_one_parked_autocommit_connection(storage: SqlStorage) -> None:
    _stock(storage, 10)
    hold_now(storage, _hold("A1"))
    first = _parked_pid(storage)
    with pytest.raises(InsufficientStockError):
        hold_now(storage, _hold("A2", 99))
    hold_now(storage, _hold("A3"))

    assert first is not None
    assert first == _parked_pid(storage)
    assert storage._autocommit_slot._idle is not None
    assert storage._autocommit_slot._idle.dbapi_connection.autocommit
    assert 2 == _reserved(storage)


def test_the_parked_connection_takes_no_place_in_the_pool(storage: SqlStorage) -> None:
    _stock(storage, 10)
    hold_now(storage, _hold("B1"))

    with storage.unit_of_work() as uow:  # pool_size=1, max_overflow=0: still a connection
        pid = uow.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        uow.stock.hold(_hold("B2"))
        uow.commit()

    assert pid != _parked_pid(storage)
    assert 2 == _reserved(storage)


def test_a_dropped_parked_connection_is_replaced_and_the_hold_retried(
    storage: SqlStorage, postgres_url: str
) -> None:
    url = postgres_url
    _stock(storage, 10)
    hold_now(storage, _hold("C1"))
    dropped = _parked_pid(storage)
    assert dropped is not None
    engine = create_engine(parse_url(url))
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_terminate_backend(%(pid)s)", {"pid": dropped})
    engine.dispose()

    stored, replayed, _ = hold_now(storage, _hold("C2"))

    assert (False, "C2") == (replayed, stored.key)
    assert _parked_pid(storage) not in (None, dropped)
    assert 2 == _reserved(storage)


def test_a_disposed_pool_gets_a_fresh_parked_connection(
    storage: SqlStorage, postgres_url: str
) -> None:
    url = postgres_url
    _stock(storage, 10)
    hold_now(storage, _hold("D1"))
    before = _parked_pid(storage)
    assert before is not None
    storage.engine.dispose()

    hold_now(storage, _hold("D2"))

    assert _parked_pid(storage) not in (None, before)
    assert not _alive(url, before)


def test_closing_the_storage_closes_the_parked_connection(
    storage: SqlStorage, postgres_url: str
) -> None:
    url = postgres_url
    _stock(storage, 10)
    hold_now(storage, _hold("E1"))
    pid = _parked_pid(storage)
    assert pid is not None
    assert _alive(url, pid)

    storage.close()

    assert not _alive(url, pid)


def test_concurrent_callers_share_the_slot_and_the_pool(postgres_url: str) -> None:
    url = postgres_url
    schema = f"ms_slot_{uuid.uuid4().hex[:10]}"
    s = create_storage(url, schema=schema, pool_size=2, max_overflow=2)
    errors: list[BaseException] = []
    try:
        _stock(s, 1000)

        def run(t: int) -> None:
            try:
                for i in range(25):
                    hold_now(s, _hold(f"T{t}-{i}"))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(t,)) for t in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)

        assert [] == errors
        assert 150 == _reserved(s)
    finally:
        s.close()
        engine = create_engine(parse_url(url))
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def test_a_connection_taken_while_the_storage_closes_is_closed_on_return(
    storage: SqlStorage, postgres_url: str
) -> None:
    slot = storage._autocommit_slot
    taken = slot.take()
    assert taken is not None
    assert slot.take() is None  # one caller at a time; the others use the pool
    pid = int(taken.dbapi_connection.info.backend_pid)

    storage.close()
    slot.give_back(taken)

    assert slot._idle is None
    assert not _alive(postgres_url, pid)
