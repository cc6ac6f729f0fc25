"""Many real writers on one SQLite file: no unhandled "database is locked", no oversell.

Threads share one storage; processes each open their own. Half the workers use plain units of
work (BEGIN IMMEDIATE + busy timeout, no retry), half use ``run_in_transaction`` (bounded retry).
The threads of a process queue on the file's writer gate; the processes meet in SQLite's busy
handler.
Afterwards an independent recount with plain SQL checks every inventory invariant.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sql_stress import Outcome, pairs, recount, run_worker, seed

from multistore.adapters.sqlalchemy import AesGcmCipher, create_storage, new_key
from multistore.security.audit_chain import verify_chain
from multistore.testing.builders import T0

UNITS = 6


def test_sixteen_threads_on_one_file(tmp_path: Path) -> None:
    universe = pairs(3, 3)
    storage = create_storage(f"sqlite:///{tmp_path / 'shop.db'}", cipher=AesGcmCipher(new_key()))
    try:
        seed(storage, universe, UNITS)
        results: list[Outcome] = [Outcome() for _ in range(16)]
        start = threading.Barrier(16)

        def work(i: int) -> None:
            start.wait()
            results[i] = run_worker(
                storage, worker=i, rounds=12, key_pool=40, universe=universe, use_retry=i % 2 == 0
            )

        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        assert [] == [th.name for th in threads if th.is_alive()]  # nobody hung on a lock
        total = Outcome()
        for r in results:
            total.merge(r)
        assert [] == total.errors
        assert total.reserved
        assert total.short > 0  # there was real contention for the last units
        with storage.engine.connect() as conn:
            assert {} == recount(conn, universe, UNITS, total).problems()
    finally:
        storage.close()


def _process_worker(url: str, worker: int) -> Outcome:
    storage = create_storage(url, migrate=False, cipher=AesGcmCipher(new_key()))
    try:
        results: list[Outcome] = [Outcome() for _ in range(4)]

        def work(j: int) -> None:
            results[j] = run_worker(
                storage,
                worker=worker * 10 + j,
                rounds=10,
                key_pool=30,
                universe=pairs(2, 3),
                use_retry=j % 2 == 1,
            )

        threads = [threading.Thread(target=work, args=(j,)) for j in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        total = Outcome()
        for r in results:
            total.merge(r)
        return total
    finally:
        storage.close()


def test_two_processes_writing_one_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    universe = pairs(2, 3)
    storage = create_storage(url, cipher=AesGcmCipher(new_key()))
    try:
        seed(storage, universe, UNITS)
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
            outcomes = list(pool.map(_process_worker, [url, url], [1, 2]))
        total = Outcome()
        for o in outcomes:
            total.merge(o)
        assert [] == total.errors
        assert total.reserved
        with storage.engine.connect() as conn:
            assert {} == recount(conn, universe, UNITS, total).problems()
    finally:
        storage.close()


def test_concurrent_audit_appends_stay_gap_free_and_chained(tmp_path: Path) -> None:
    storage = create_storage(f"sqlite:///{tmp_path / 'audit.db'}", cipher=AesGcmCipher(new_key()))
    try:
        start = threading.Barrier(8)

        def work(i: int) -> None:
            start.wait()
            for j in range(5):
                with storage.unit_of_work() as uow:
                    uow.audit.append(
                        occurred_at=T0,
                        actor_id=f"w{i}",
                        action="test.append",
                        target=f"t:{i}:{j}",
                        outcome="ok",
                    )
                    uow.commit()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        with storage.unit_of_work() as uow:
            entries = list(uow.audit.entries())
        assert list(range(1, 41)) == [e.sequence for e in entries]
        assert verify_chain(entries)
    finally:
        storage.close()
