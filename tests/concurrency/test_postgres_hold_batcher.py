"""32 threads hold the last units through one ``HoldBatcher`` on PostgreSQL; nothing oversells.

Keys come from a small shared pool (duplicate keys in flight at once, often in the same batch),
each key's 1-3 lines are derived from the key and handed over in random order, and every held
reservation is then committed, released or kept. Some workers reserve with ``hold_now`` or a
unit of work instead, so batches race ordinary holds for the same keys and rows. Afterwards a
plain-SQL recount (``sql_stress.recount``) checks: no oversell, no negative stock, reserved =
the sum of active reservations, on hand = the ledger, no lost or unexpected reservation, the
stored lines are the key's lines, and one sale row per committed line. Skipped unless
``MULTISTORE_TEST_POSTGRES_URL`` is set (and never skipped under CI).
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sql_stress import Outcome, Pair, lines_for, pairs, recount, seed
from sqlalchemy import create_engine

from multistore.adapters.sqlalchemy import AesGcmCipher, SqlStorage, create_storage, new_key
from multistore.adapters.sqlalchemy.batching import HoldBatcher
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.adapters.sqlalchemy.repositories import hold_now
from multistore.errors import ConflictError, InsufficientStockError
from multistore.inventory.model import Reservation
from multistore.testing.builders import T0

pytestmark = pytest.mark.postgres

WORKERS = 32
UNITS = 5


@pytest.fixture
def pg(postgres_url: str) -> Iterator[SqlStorage]:
    schema = f"ms_bconc_{uuid.uuid4().hex[:10]}"
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


def _work(
    storage: SqlStorage,
    batcher: HoldBatcher,
    *,
    worker: int,
    rounds: int,
    key_pool: int,
    universe: list[Pair],
    via: str,
) -> Outcome:
    """Reserve (through ``via``), then commit / release / keep, ``rounds`` times."""
    rng = random.Random(worker)
    out = Outcome()
    for _ in range(rounds):
        key = f"R-{rng.randrange(key_pool)}"
        hold = Reservation(key=key, lines=lines_for(key, universe), created_at=T0)
        try:
            if via == "batcher":
                stored, replayed, levels = batcher.hold(hold)
                if stored.lines != hold.lines or (replayed and levels):
                    out.errors.append(f"reserve {key}: returned {stored!r} {levels!r}")
            elif via == "hold_now":
                hold_now(storage, hold)
            else:
                storage.run_in_transaction(lambda uow, hold=hold: uow.stock.reserve(hold))
        except InsufficientStockError:
            out.short += 1
            continue
        except Exception as exc:
            out.errors.append(f"reserve {key}: {exc!r}")
            continue
        out.reserved.add(key)
        action = rng.choice(("commit", "release", "keep"))
        try:
            if action == "commit":
                storage.run_in_transaction(
                    lambda uow, key=key: uow.stock.commit(key, at=T0, actor_id=f"w{worker}")
                )
                out.committed.add(key)
            elif action == "release":
                storage.run_in_transaction(lambda uow, key=key: uow.stock.release(key))
                out.released.add(key)
        except ConflictError as exc:
            if exc.code != "stock.reservation_closed":
                out.errors.append(f"{action} {key}: {exc!r}")
            out.closed_conflicts += 1
        except Exception as exc:
            out.errors.append(f"{action} {key}: {exc!r}")
    return out


def _run_all(storage: SqlStorage, batcher: HoldBatcher, universe: list[Pair], **kw: Any) -> Outcome:
    results = [Outcome() for _ in range(WORKERS)]
    start = threading.Barrier(WORKERS)

    def run(i: int) -> None:
        via = "batcher" if i % 4 != 3 else ("hold_now" if i % 8 == 3 else "unit of work")
        start.wait()
        results[i] = _work(storage, batcher, worker=i, universe=universe, via=via, **kw)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    total = Outcome()
    for r in results:
        total.merge(r)
    return total


def test_thirty_two_threads_through_one_batcher_never_oversell(pg: SqlStorage) -> None:
    universe = pairs(4, 3)
    seed(pg, universe, UNITS)
    batcher = HoldBatcher(pg)

    total = _run_all(pg, batcher, universe, rounds=12, key_pool=80)

    assert [] == total.errors
    assert total.short > 0  # the workers really fought over the last units
    assert total.committed
    assert batcher.batched > batcher.batches  # some batches carried several holds
    with pg.engine.connect() as conn:
        assert {} == recount(conn, universe, UNITS, total).problems()


def test_small_batches_and_two_in_flight_never_oversell(pg: SqlStorage) -> None:
    universe = pairs(2, 2)
    seed(pg, universe, UNITS)
    batcher = HoldBatcher(pg, max_batch=3, max_in_flight=2)

    total = _run_all(pg, batcher, universe, rounds=10, key_pool=40)

    assert [] == total.errors
    assert total.short > 0
    with pg.engine.connect() as conn:
        assert {} == recount(conn, universe, UNITS, total).problems()
