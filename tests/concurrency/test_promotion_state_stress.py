"""Many workers redeem one limited coupon and buy from one flash sale at once; nothing oversells.

16 threads on SQLite (a short busy timeout, so the storage's retry mechanism is exercised) and 32
on PostgreSQL run the same workload: every order id is handed to several workers (duplicates must
be idempotent), a few orders are cancelled (released) while others still buy, and a call that
exhausts its retries is repeated by the worker. Afterwards a recount with plain SQL, independent
of the adapters, checks every limit and that each order is counted once.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import create_engine, text

from multistore.adapters.promotion_state import PromotionState
from multistore.adapters.sqlalchemy import RetryPolicy, SqlStorage, create_storage
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.adapters.sqlalchemy.promotions import promotion_state
from multistore.errors import ConflictError, TransientStorageError

COUPON, FLASH = "C-STRESS", "F-STRESS"
TOTAL_LIMIT, MEMBER_LIMIT = 25, 2
QUOTA, MEMBER_UNITS = 60, 5
MEMBERS = 14
ORDERS = 140
DEADLINE_S = 14.0

T = TypeVar("T")


def _member(order: int) -> str | None:
    return None if order % 11 == 0 else f"m{order % MEMBERS}"


def _units(order: int) -> int:
    return 1 + order % 3


def _cancelled(order: int) -> bool:
    return order % 9 == 0


@dataclass
class Seen:
    grants: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    redeemed: set[str] = field(default_factory=set)
    spent: int = 0
    client_retries: int = 0
    errors: list[str] = field(default_factory=list)


class _CountingSleep:
    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.calls += 1
        time.sleep(seconds)


def _with_client_retry(seen: Seen, fn: Callable[[], T]) -> T:
    for _ in range(20):
        try:
            return fn()
        except TransientStorageError:
            seen.client_retries += 1  # safe: every call is idempotent per order
            time.sleep(0.01)
    raise AssertionError("a call stayed transient through 20 client retries")


def _one_order(state: PromotionState, seen: Seen, k: int) -> None:
    order_id, member = f"o{k}", _member(k)

    def redeem() -> None:
        try:
            state.wallet.redeem(
                promotion_id=COUPON,
                code="STRESS",
                member_id=member,
                order_id=order_id,
                per_member_limit=MEMBER_LIMIT,
                total_limit=TOTAL_LIMIT,
            )
        except ConflictError as exc:
            if exc.code != "promotion.coupon_spent":
                raise
            seen.spent += 1
        else:
            if not _cancelled(k):
                seen.redeemed.add(order_id)

    def consume() -> int:
        return state.quotas.consume(
            promotion_id=FLASH,
            member_id=member,
            order_id=order_id,
            units=_units(k),
            quota=QUOTA,
            per_member_limit=MEMBER_UNITS,
        )

    _with_client_retry(seen, redeem)
    grant = _with_client_retry(seen, consume)
    assert 0 <= grant <= _units(k)
    if _cancelled(k):
        _with_client_retry(
            seen, lambda: state.wallet.release(promotion_id=COUPON, order_id=order_id)
        )
        _with_client_retry(
            seen, lambda: state.quotas.release(promotion_id=FLASH, order_id=order_id)
        )
    else:
        seen.grants[order_id].add(grant)


def _worker(storage: SqlStorage, worker: int, calls: int, seen: Seen, stop_at: float) -> None:
    state = promotion_state(storage)
    rng = random.Random(worker)
    for k in rng.sample(range(ORDERS), calls):
        if time.monotonic() > stop_at:
            return
        try:
            _one_order(state, seen, k)
        except Exception as exc:
            seen.errors.append(f"{type(exc).__name__}: {exc}")


def _run(storage: SqlStorage, workers: int, calls: int) -> tuple[Seen, float]:
    seen = [Seen() for _ in range(workers)]
    start = threading.Barrier(workers)
    stop_at = time.monotonic() + DEADLINE_S

    def run(i: int) -> None:
        start.wait()
        _worker(storage, i, calls, seen[i], stop_at)

    began = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    merged = Seen()
    for s in seen:
        for order, grants in s.grants.items():
            merged.grants[order] |= grants
        merged.redeemed |= s.redeemed
        merged.spent += s.spent
        merged.client_retries += s.client_retries
        merged.errors.extend(s.errors)
    return merged, time.monotonic() - began


def _recount(storage: SqlStorage, seen: Seen) -> None:
    """Check every invariant with plain SQL, trusting nothing the adapters report."""
    with storage.engine.connect() as conn:
        q = conn.execute

        redeemed = q(
            text("SELECT order_id, member_id FROM promotion_redemptions WHERE promotion_id = :c"),
            {"c": COUPON},
        ).all()
        assert len(redeemed) <= TOTAL_LIMIT
        per_member: dict[str, int] = defaultdict(int)
        for _, member in redeemed:
            if member is not None:
                per_member[member] += 1
        assert all(n <= MEMBER_LIMIT for n in per_member.values()), per_member
        assert len({o for o, _ in redeemed}) == len(redeemed)  # each order once
        used = q(
            text("SELECT used FROM promotion_coupon_usage WHERE promotion_id = :c"), {"c": COUPON}
        ).scalar_one()
        assert len(redeemed) == used
        counters: dict[str, int] = dict(
            q(
                text(
                    "SELECT member_id, used FROM promotion_member_usage "
                    "WHERE promotion_id = :c AND used > 0"
                ),
                {"c": COUPON},
            ).all()
        )
        assert dict(per_member) == counters
        assert seen.redeemed <= {o for o, _ in redeemed}  # nothing a worker got was lost

        grants = q(
            text(
                "SELECT order_id, member_id, units FROM flash_sale_grants WHERE promotion_id = :f"
            ),
            {"f": FLASH},
        ).all()
        assert len({o for o, _, _ in grants}) == len(grants)
        sold, quota = q(
            text("SELECT sold, quota FROM flash_sale_quotas WHERE promotion_id = :f"),
            {"f": FLASH},
        ).one()
        assert QUOTA == quota
        assert sum(u for _, _, u in grants) == sold <= QUOTA
        units_by_member: dict[str, int] = defaultdict(int)
        for _, member, units in grants:
            if member is not None and units:
                units_by_member[member] += units
        assert all(n <= MEMBER_UNITS for n in units_by_member.values()), units_by_member
        member_rows: dict[str, int] = dict(
            q(
                text(
                    "SELECT member_id, units FROM flash_sale_member_units "
                    "WHERE promotion_id = :f AND units > 0"
                ),
                {"f": FLASH},
            ).all()
        )
        assert dict(units_by_member) == member_rows
        recorded = {o: u for o, _, u in grants}
        for order, observed in seen.grants.items():  # every duplicate saw the first grant
            assert {recorded[order]} == observed, (order, observed, recorded.get(order))


def _check(storage: SqlStorage, workers: int, calls: int) -> Seen:
    seen, elapsed = _run(storage, workers, calls)
    assert [] == seen.errors
    assert elapsed < DEADLINE_S + 2
    assert seen.spent > 0  # demand exceeded the coupon's limits
    _recount(storage, seen)
    with storage.engine.connect() as conn:
        sold = conn.execute(
            text("SELECT sold FROM flash_sale_quotas WHERE promotion_id = :f"), {"f": FLASH}
        ).scalar_one()
    assert sold > 0
    return seen


def test_sixteen_threads_on_sqlite_never_over_redeem_or_oversell(tmp_path: Path) -> None:
    sleeps = _CountingSleep()
    storage = create_storage(
        f"sqlite:///{tmp_path / 'promo.db'}",
        busy_timeout_ms=20,
        retry=RetryPolicy(attempts=10, base_delay=0.002, max_delay=0.05, sleep=sleeps),
        pool_size=16,
        max_overflow=4,
    )
    try:
        seen = _check(storage, 16, 36)
        assert sleeps.calls + seen.client_retries > 0  # busy writers were retried
    finally:
        storage.close()


@pytest.fixture
def pg(postgres_url: str) -> Iterator[SqlStorage]:
    schema = f"ms_promo_{uuid.uuid4().hex[:10]}"
    storage = create_storage(
        postgres_url,
        schema=schema,
        retry=RetryPolicy(attempts=10, base_delay=0.005, max_delay=0.1),
        pool_size=32,
        max_overflow=4,
    )
    yield storage
    storage.close()
    engine = create_engine(parse_url(postgres_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


@pytest.mark.postgres
def test_thirty_two_workers_on_postgres_never_over_redeem_or_oversell(pg: SqlStorage) -> None:
    _check(pg, 32, 24)
