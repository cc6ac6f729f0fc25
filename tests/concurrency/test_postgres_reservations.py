"""32 workers contend for the last units on PostgreSQL; a plain-SQL recount finds no oversell.

Keys are shared between workers (duplicate reservation keys must be idempotent), lines arrive in
random order, half the workers retry through ``run_in_transaction`` and half use plain units of
work. Skipped unless ``MULTISTORE_TEST_POSTGRES_URL`` is set (and never skipped under CI).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sql_stress import Outcome, pairs, recount, run_worker, seed
from sqlalchemy import create_engine, text

from multistore.adapters.sqlalchemy import AesGcmCipher, SqlStorage, create_storage, new_key
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.errors import ConflictError
from multistore.inventory.model import Reservation, ReservationLine
from multistore.security.audit_chain import verify_chain
from multistore.testing.builders import T0

pytestmark = pytest.mark.postgres

WORKERS = 32
UNITS = 5


@pytest.fixture
def pg(postgres_url: str) -> Iterator[SqlStorage]:
    schema = f"ms_conc_{uuid.uuid4().hex[:10]}"
    storage = create_storage(
        postgres_url,
        schema=schema,
        cipher=AesGcmCipher(new_key()),
        pool_size=WORKERS,
        max_overflow=8,
    )
    yield storage
    storage.close()
    engine = create_engine(parse_url(postgres_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def _run_all(target: object, n: int) -> float:
    start = threading.Barrier(n)

    def wrapped(i: int) -> None:
        start.wait()
        target(i)  # type: ignore[operator]

    began = time.monotonic()
    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    return time.monotonic() - began


def test_thirty_two_workers_never_oversell(pg: SqlStorage) -> None:
    universe = pairs(4, 3)
    seed(pg, universe, UNITS)
    results = [Outcome() for _ in range(WORKERS)]

    def work(i: int) -> None:
        results[i] = run_worker(
            pg, worker=i, rounds=10, key_pool=60, universe=universe, use_retry=i % 2 == 0
        )

    elapsed = _run_all(work, WORKERS)
    total = Outcome()
    for r in results:
        total.merge(r)
    assert [] == total.errors
    assert total.short > 0  # the workers really fought over the last units
    assert total.committed
    with pg.engine.connect() as conn:
        assert {} == recount(conn, universe, UNITS, total).problems()
    assert elapsed < 20


def test_one_shot_holds_racing_units_of_work_never_oversell(pg: SqlStorage) -> None:
    universe = pairs(4, 3)
    seed(pg, universe, UNITS)
    results = [Outcome() for _ in range(WORKERS)]

    def work(i: int) -> None:
        results[i] = run_worker(
            pg,
            worker=100 + i,
            rounds=10,
            key_pool=60,
            universe=universe,
            use_retry=i % 4 == 1,
            one_shot=i % 2 == 0,
        )

    _run_all(work, WORKERS)
    total = Outcome()
    for r in results:
        total.merge(r)
    assert [] == total.errors
    assert total.short > 0
    assert total.committed
    with pg.engine.connect() as conn:
        assert {} == recount(conn, universe, UNITS, total).problems()


def test_concurrent_audit_appends_stay_gap_free_and_chained(pg: SqlStorage) -> None:
    def work(i: int) -> None:
        for j in range(5):
            pg.run_in_transaction(
                lambda uow, j=j: uow.audit.append(
                    occurred_at=T0,
                    actor_id=f"w{i}",
                    action="test.append",
                    target=f"t:{i}:{j}",
                    outcome="ok",
                    details={"j": j},
                )
            )

    _run_all(work, 16)
    with pg.unit_of_work() as uow:
        entries = list(uow.audit.entries())
    assert list(range(1, 81)) == [e.sequence for e in entries]
    assert verify_chain(entries)


def test_concurrent_pipelined_appends_and_commits_stay_gap_free_and_chained(
    pg: SqlStorage,
) -> None:
    failures: list[str] = []

    def work(i: int) -> None:
        for j in range(5):
            try:
                with pg.unit_of_work() as uow:
                    uow.stock.set_safety_buffer(f"S{i}", "K", j)
                    if j == 2:  # an append that is rolled back must leave no gap
                        uow.audit.append(
                            occurred_at=T0, actor_id=f"w{i}", action="t", target="x", outcome="no"
                        )
                        continue
                    uow.audit.append_and_commit(  # type: ignore[attr-defined]
                        occurred_at=T0,
                        actor_id=f"w{i}",
                        action="test.append",
                        target=f"t:{i}:{j}",
                        outcome="ok",
                        details={"j": j},
                    )
            except Exception as exc:
                failures.append(repr(exc))

    _run_all(work, 16)
    with pg.unit_of_work() as uow:
        entries = list(uow.audit.entries())
        buffers = [uow.stock.get(f"S{i}", "K").safety_buffer for i in range(16)]
    assert [] == failures
    assert list(range(1, 65)) == [e.sequence for e in entries]
    assert verify_chain(entries, prev_hash="")
    assert [4] * 16 == buffers
    assert 16 * 4 == len({e.target for e in entries})


def test_expiry_sweeps_racing_commits_settle_each_hold_once(pg: SqlStorage) -> None:
    universe = pairs(1, 4)
    seed(pg, universe, 50)
    keys = [f"X-{n}" for n in range(40)]
    with pg.unit_of_work() as uow:
        for n, key in enumerate(keys):
            store_id, sku = universe[n % len(universe)]
            uow.stock.reserve(
                Reservation(
                    key=key,
                    lines=(ReservationLine(store_id, sku, 1),),
                    created_at=T0,
                    expires_at=T0 + timedelta(minutes=1),
                )
            )
        uow.commit()
    committed: set[str] = set()
    expired: set[str] = set()
    errors: list[str] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        try:
            if i % 2:
                for _ in range(4):
                    gone = pg.run_in_transaction(
                        lambda uow: uow.stock.expire(now=T0 + timedelta(minutes=2))
                    )
                    with lock:
                        expired.update(r.key for r in gone)
                return
            for key in keys[i // 2 :: 8]:
                try:
                    pg.run_in_transaction(lambda uow, key=key: uow.stock.commit(key, at=T0))
                except ConflictError as exc:
                    if exc.code != "stock.reservation_closed":
                        errors.append(repr(exc))
                    continue
                with lock:
                    committed.add(key)
        except Exception as exc:
            errors.append(repr(exc))

    _run_all(work, 16)
    with pg.unit_of_work() as uow:
        leftovers = uow.stock.expire(now=T0 + timedelta(minutes=2))
        uow.commit()
    expired.update(r.key for r in leftovers)
    assert [] == errors
    assert set() == committed & expired
    assert set(keys) == committed | expired
    with pg.engine.connect() as conn:
        status = dict(conn.execute(text("SELECT key, status FROM reservations")).all())
        sales = conn.execute(
            text("SELECT reference, COUNT(*) FROM stock_movements WHERE kind = 'sale' GROUP BY 1")
        ).all()
        levels = conn.execute(text("SELECT SUM(on_hand), SUM(reserved) FROM stock_levels")).one()
    assert dict.fromkeys(committed, "committed") | dict.fromkeys(expired, "expired") == status
    assert {(k, 1) for k in committed} == {(ref, int(n)) for ref, n in sales}
    assert (200 - len(committed), 0) == (int(levels[0]), int(levels[1]))
