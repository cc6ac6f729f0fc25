"""Reservations per second under concurrency, against naive, locking and raw-UPDATE baselines.

Two cases per database (SQLite with 16 threads, PostgreSQL with 32 workers):

* **throughput**: every worker reserves one unit of a random (store, sku) among 200 well-stocked
  rows, for a fixed time; reported as successful reservations per second.
* **last units**: every worker tries to reserve 1-2 units of one of 4 rows that hold 25 units each
  (far fewer than asked for); an independent recount (plain SQL over the holds each subject
  recorded) reports how many units were sold beyond stock ("oversold").

Subjects, all in the same run, with the same driver (sqlite3 / psycopg 3) and worker count:

* ``multistore service``: ``ms.inventory.reserve(...)`` (authorisation, audit entry, outbox event,
  idempotency key; on PostgreSQL every audit append locks the chain's head row until commit,
  and the append and the ``COMMIT`` travel in one round trip);
* ``multistore repository``: ``storage.run_in_transaction(lambda uow: uow.stock.reserve(r))``:
  the idempotent key claim, the line and the conditional UPDATE in one statement, inside a
  unit of work (``BEGIN``, the statement, ``COMMIT``), with bounded retries;
* ``multistore one-shot``: ``hold_now(storage, r)``: the same statement and the same rows, as a
  transaction of its own (autocommit on PostgreSQL: one round trip; a short line aborts the
  statement so nothing is written), with bounded retries;
* ``multistore repository, group commit (HoldBatcher)``: ``batcher.hold(r)`` on one
  :class:`HoldBatcher` shared by the workers: the holds that arrive while a batch is being
  written go together in the next one (one transaction, two pipelined statements, the same
  rows as ``hold_now``); on SQLite it is ``hold_now``. Thread cases only: a process of one
  worker never has two holds to batch;
* ``baseline: naive read-then-write``: SELECT the row, check in Python, UPDATE it to the value
  computed in Python (each statement on its own, as a careless ORM would);
* ``baseline: SELECT ... FOR UPDATE``: lock the row, check, UPDATE, record the hold, commit
  (on SQLite, which has no FOR UPDATE, ``BEGIN IMMEDIATE`` plays the lock);
* ``baseline: raw conditional UPDATE``: one ``UPDATE ... WHERE on_hand - reserved >= q`` per
  reservation in autocommit, nothing else: the practical limit.

The ``writes`` column says what each subject writes per reservation: ``key`` the reservation
row (primary key; an expiry index entry only for a hold that expires, which the holds here do
not), ``line`` its line row (primary key only, since revision 0005), ``hold`` a one-row hold
record (primary key only), ``level`` the stock row, ``outbox``/``audit`` the event and the
hash-chained audit entry.

In the cases above the workers are threads of this one Python process, so on PostgreSQL every
subject is also capped by the GIL (the client CPU per reservation differs between subjects), and
the figures partly measure Python rather than the database. The **PostgreSQL, 32 processes**
cases repeat throughput and last units with every subject alike run by 32 worker *processes*
(``forkserver`` start method; each process opens its own storage via ``create_storage(url)`` or
its own psycopg connection and warms up with two reservations and one short attempt, all outside
the timed window, because spawned workers start cold): a start barrier, a fixed number of
attempts per process (the same for every subject), a time cap, and rows, stock and holds reset
(and vacuumed) before each subject, so every subject starts from an identical data set; the
last-units case uses the same 4 hot rows for every subject and the same independent recount.

The throughput cases run every subject in ``ROUNDS`` rounds (half the time or tries each, the
order reversed in every other round) and add the rounds up, so that other work on the machine
weighs on every subject alike.

The baselines live in their own SQLite file / PostgreSQL schema. The PostgreSQL part uses
``MULTISTORE_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
and is skipped with a note when the server cannot be reached.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.harness import Row
from multistore.adapters.events.inprocess import InProcessEventBus
from multistore.adapters.sqlalchemy import SqlStorage, create_storage
from multistore.adapters.sqlalchemy.batching import HoldBatcher
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.adapters.sqlalchemy.repositories import hold_now
from multistore.adapters.system import SystemClock, UuidIdFactory
from multistore.app import Multistore
from multistore.errors import InsufficientStockError
from multistore.inventory.model import MovementKind, Reservation, ReservationLine, StockMovement
from multistore.ports.security import SYSTEM_ACTOR
from multistore.security.rbac import RoleBasedAuthorizer
from multistore.services.context import ServiceContext
from multistore.testing.builders import T0, sample_product, sample_store

NAME = "inventory"

PG_URL = os.environ.get(
    "MULTISTORE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
STORES = [f"S{i:02d}" for i in range(8)]
SKUS = [f"K{i:02d}" for i in range(25)]
PAIRS = [(s, k) for s in STORES for k in SKUS]
HOT_UNITS = 25
HOT_ROWS = 4
HOT_SPREAD = 8

Pair = tuple[str, str]
Attempt = Callable[[str, Pair, int], bool]
"""Reserve ``q`` units of a pair under a key; True if held, False if short."""


@dataclass
class Tally:
    held: int = 0
    short: int = 0
    errors: int = 0
    seconds: float = 0.0


ROUNDS = 2
"""Throughput cases run every subject this many times, in alternating order, and add up the
rounds, so that a change in machine load during the run weighs on every subject alike."""

S = TypeVar("S")


def _rounds(subjects: list[S]) -> list[list[S]]:
    """The order of the subjects in each round: forwards, backwards, forwards, ..."""
    return [subjects if n % 2 == 0 else subjects[::-1] for n in range(ROUNDS)]


def _add(total: Tally, part: Tally) -> None:
    total.held += part.held
    total.short += part.short
    total.errors += part.errors
    total.seconds += part.seconds


def _drive(
    workers: int,
    make_attempt: Callable[[], Attempt],
    *,
    tag: str,
    pairs: list[Pair],
    seconds: float,
    max_ops: int,
    quantities: tuple[int, int] = (1, 1),
) -> Tally:
    """Run ``workers`` threads, each reserving random pairs until time or ops run out."""
    tally = Tally()
    lock = threading.Lock()
    start_gate = threading.Barrier(workers + 1)
    first_error: list[str] = []

    def worker(n: int) -> None:
        attempt = make_attempt()
        rng = random.Random(f"{tag}-{n}")
        held = short = errors = 0
        start_gate.wait()
        deadline = time.perf_counter() + seconds
        for i in range(max_ops):
            if time.perf_counter() >= deadline:
                break
            pair = rng.choice(pairs)
            try:
                if attempt(f"{tag}-{n}-{i}", pair, rng.randint(*quantities)):
                    held += 1
                else:
                    short += 1
            except Exception as exc:
                errors += 1
                if not first_error:
                    first_error.append(repr(exc))
        with lock:
            tally.held += held
            tally.short += short
            tally.errors += errors

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for th in threads:
        th.start()
    start_gate.wait()
    began = time.perf_counter()
    for th in threads:
        th.join()
    tally.seconds = time.perf_counter() - began
    if first_error:
        print(f"  [{tag}] first error: {first_error[0]}")
    return tally


# --- multistore subjects -----------------------------------------------------------------------


def _facade(storage: SqlStorage) -> Multistore:
    context = ServiceContext(
        uow_factory=storage.unit_of_work,
        read_uow_factory=lambda: storage.unit_of_work(read_only=True),
        clock=SystemClock(),
        ids=UuidIdFactory(),
        authorizer=RoleBasedAuthorizer(),
    )
    return Multistore(storage=storage, context=context, event_bus=InProcessEventBus())


def _seed_ours(ms: Multistore, hot_skus: list[str]) -> None:
    for s in STORES:
        ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store(s))
    ms.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P-BENCH", SKUS + hot_skus))

    def stock(uow: Any) -> None:
        for s, k in PAIRS:
            uow.stock.record(_receipt(s, k, 10_000_000))
        for k in hot_skus:
            uow.stock.record(_receipt(STORES[0], k, HOT_UNITS))

    ms.storage.run_in_transaction(stock)  # type: ignore[attr-defined]


def _receipt(store_id: str, sku: str, quantity: int) -> StockMovement:
    return StockMovement(
        store_id=store_id, sku=sku, kind=MovementKind.RECEIPT, quantity=quantity, occurred_at=T0
    )


def _service_attempt(ms: Multistore) -> Attempt:
    def attempt(key: str, pair: Pair, q: int) -> bool:
        try:
            ms.inventory.reserve(actor=SYSTEM_ACTOR, key=key, lines=[(pair[0], pair[1], q)])
        except InsufficientStockError:
            return False
        return True

    return attempt


def _repository_attempt(storage: SqlStorage) -> Attempt:
    def attempt(key: str, pair: Pair, q: int) -> bool:
        hold = Reservation(key=key, lines=(ReservationLine(pair[0], pair[1], q),), created_at=T0)
        try:
            storage.run_in_transaction(lambda uow: uow.stock.reserve(hold))
        except InsufficientStockError:
            return False
        return True

    return attempt


def _one_shot_attempt(storage: SqlStorage) -> Attempt:
    def attempt(key: str, pair: Pair, q: int) -> bool:
        hold = Reservation(key=key, lines=(ReservationLine(pair[0], pair[1], q),), created_at=T0)
        try:
            hold_now(storage, hold)
        except InsufficientStockError:
            return False
        return True

    return attempt


def _batched_attempt(batcher: HoldBatcher) -> Attempt:
    def attempt(key: str, pair: Pair, q: int) -> bool:
        hold = Reservation(key=key, lines=(ReservationLine(pair[0], pair[1], q),), created_at=T0)
        try:
            batcher.hold(hold)
        except InsufficientStockError:
            return False
        return True

    return attempt


WRITES = {
    "svc": "key+line+level+outbox+audit",
    "repo": "key+line+level",
    "now": "key+line+level",
    "batch": "key+line+level (shared tx)",
    "naive": "hold+level (no tx)",
    "lock": "hold+level",
    "raw": "level",
}
"""What each subject writes per reservation (see the module docstring)."""


def _oversold_ours(storage: SqlStorage, hot_skus: list[str]) -> int:
    """Independent recount: units held per hot row (from reservation_lines) beyond on hand."""
    over = 0
    with storage.engine.connect() as conn:
        for sku in hot_skus:
            held = conn.exec_driver_sql(
                "SELECT COALESCE(SUM(quantity), 0) FROM reservation_lines "
                f"WHERE store_id = '{STORES[0]}' AND sku = '{sku}'"
            ).scalar_one()
            on_hand, reserved = conn.exec_driver_sql(
                "SELECT on_hand, reserved FROM stock_levels "
                f"WHERE store_id = '{STORES[0]}' AND sku = '{sku}'"
            ).one()
            assert int(reserved) == int(held), f"{sku}: reserved {reserved} != held {held}"
            over += max(0, int(held) - int(on_hand))
    return over


# --- baselines (plain DB-API, their own tables) ---------------------------------------------------

BASE_DDL = [
    (
        "CREATE TABLE bench_levels (store_id TEXT NOT NULL, sku TEXT NOT NULL, "
        "on_hand BIGINT NOT NULL, reserved BIGINT NOT NULL, PRIMARY KEY (store_id, sku))"
    ),
    (
        "CREATE TABLE bench_holds (key TEXT PRIMARY KEY, store_id TEXT NOT NULL, "
        "sku TEXT NOT NULL, quantity BIGINT NOT NULL)"
    ),
]


class Baselines:
    """The three baseline reservation strategies over one DB-API connection factory."""

    def __init__(self, connect: Callable[[], Any], *, dialect: str) -> None:
        self._connect = connect
        self.dialect = dialect
        self.p = "?" if dialect == "sqlite" else "%s"
        self._opened: list[Any] = []
        self._lock = threading.Lock()

    def connect(self) -> Any:
        """Open a connection that :meth:`close_all` will close."""
        conn = self._connect()
        with self._lock:
            self._opened.append(conn)
        return conn

    def close_all(self) -> None:
        """Close every connection the attempts opened."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.p)

    def setup(self, hot_skus: list[str]) -> None:
        conn = self.connect()
        cur = conn.cursor()
        for ddl in BASE_DDL:
            cur.execute(ddl)
        rows = [(s, k, 10_000_000) for s, k in PAIRS] + [
            (STORES[0], k, HOT_UNITS) for k in hot_skus
        ]
        cur.executemany(self._sql("INSERT INTO bench_levels VALUES (?, ?, ?, 0)"), rows)
        conn.close()

    def naive(self) -> Attempt:
        conn = self.connect()
        cur = conn.cursor()
        read = self._sql(
            "SELECT on_hand, reserved FROM bench_levels WHERE store_id = ? AND sku = ?"
        )
        write = self._sql("UPDATE bench_levels SET reserved = ? WHERE store_id = ? AND sku = ?")
        record = self._sql("INSERT INTO bench_holds VALUES (?, ?, ?, ?)")

        def attempt(key: str, pair: Pair, q: int) -> bool:
            cur.execute(read, pair)
            on_hand, reserved = cur.fetchone()
            if on_hand - reserved < q:
                return False
            cur.execute(write, (reserved + q, *pair))
            cur.execute(record, (key, *pair, q))
            return True

        return attempt

    def locking(self) -> Attempt:
        conn = self.connect()
        cur = conn.cursor()
        if self.dialect == "sqlite":
            begin = "BEGIN IMMEDIATE"
            read = "SELECT on_hand, reserved FROM bench_levels WHERE store_id = ? AND sku = ?"
        else:
            begin = "BEGIN"
            read = (
                "SELECT on_hand, reserved FROM bench_levels WHERE store_id = %s AND sku = %s "
                "FOR UPDATE"
            )
        write = self._sql(
            "UPDATE bench_levels SET reserved = reserved + ? WHERE store_id = ? AND sku = ?"
        )
        record = self._sql("INSERT INTO bench_holds VALUES (?, ?, ?, ?)")

        def attempt(key: str, pair: Pair, q: int) -> bool:
            cur.execute(begin)
            try:
                cur.execute(read, pair)
                on_hand, reserved = cur.fetchone()
                if on_hand - reserved < q:
                    cur.execute("ROLLBACK")
                    return False
                cur.execute(write, (q, *pair))
                cur.execute(record, (key, *pair, q))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            return True

        return attempt

    def raw_update(self) -> Attempt:
        conn = self.connect()
        cur = conn.cursor()
        hold = self._sql(
            "UPDATE bench_levels SET reserved = reserved + ? "
            "WHERE store_id = ? AND sku = ? AND on_hand - reserved >= ?"
        )

        def attempt(key: str, pair: Pair, q: int) -> bool:
            cur.execute(hold, (q, *pair, q))
            return bool(cur.rowcount == 1)

        return attempt

    def oversold(self, hot_skus: list[str]) -> int:
        """Independent recount: units recorded in holds per hot row beyond its on hand."""
        conn = self.connect()
        cur = conn.cursor()
        over = 0
        for sku in hot_skus:
            cur.execute(
                self._sql(
                    "SELECT COALESCE(SUM(quantity), 0) FROM bench_holds "
                    "WHERE store_id = ? AND sku = ?"
                ),
                (STORES[0], sku),
            )
            held = int(cur.fetchone()[0])
            over += max(0, held - HOT_UNITS)
        conn.close()
        return over


# --- one database ------------------------------------------------------------------------------


def _measure(
    *,
    db: str,
    workers: int,
    scale: float,
    storage: SqlStorage,
    baselines: Baselines,
) -> list[Row]:
    seconds = max(0.4, 1.2 * scale)
    max_ops = max(50, int(4000 * scale))
    hot_attempts = max(4, int(15 * max(scale, 0.25)))
    subjects: list[tuple[str, str, Callable[[], Attempt]]] = []
    ms = _facade(storage)
    ours = ("svc", "repo", "now", "batch")
    hot = {name: [f"HOT-{name}-{i}" for i in range(HOT_ROWS)] for name in ours}
    hot_base = {
        name: [f"HOT-{name}-{i}" for i in range(HOT_ROWS)] for name in ("naive", "lock", "raw")
    }
    _seed_ours(ms, [k for name in ours for k in hot[name]])
    batcher = HoldBatcher(storage)  # shared by every worker thread of a run
    baselines.setup([k for ks in hot_base.values() for k in ks])
    subjects = [
        ("svc", "multistore service (ms.inventory.reserve)", lambda: _service_attempt(ms)),
        ("repo", "multistore repository (uow.stock.reserve)", lambda: _repository_attempt(storage)),
        ("now", "multistore one-shot (hold_now)", lambda: _one_shot_attempt(storage)),
        (
            "batch",
            "multistore repository, group commit (HoldBatcher)",
            lambda: _batched_attempt(batcher),
        ),
        ("naive", "baseline: naive read-then-write", baselines.naive),
        (
            "lock",
            "baseline: SELECT ... FOR UPDATE"
            if db == "PostgreSQL"
            else "baseline: BEGIN IMMEDIATE + SELECT (no FOR UPDATE in SQLite)",
            baselines.locking,
        ),
        ("raw", "baseline: raw conditional UPDATE (practical limit)", baselines.raw_update),
    ]
    rows: list[Row] = []
    spreads = [
        (f"{len(PAIRS)} rows (little contention)", PAIRS),
        (f"{HOT_SPREAD} hot rows (heavy contention)", PAIRS[:HOT_SPREAD]),
    ]
    for label, universe in spreads:
        rows.extend(
            _throughput(
                case=f"{db}, {workers} workers, {label}, 1-unit holds for {seconds:g}s",
                tag=f"{db}-{len(universe)}",
                subjects=subjects,
                workers=workers,
                pairs=universe,
                seconds=seconds,
                max_ops=max_ops,
                baselines=baselines,
            )
        )
    hot_case = (
        f"{db}, last units: {workers} workers x {hot_attempts} tries of 1-2 units on "
        f"{HOT_ROWS} rows of {HOT_UNITS}"
    )
    for tag, subject, make in subjects:
        skus = hot.get(tag) or hot_base[tag]
        tally = _drive(
            workers,
            make,
            tag=f"{db}-hot-{tag}",
            pairs=[(STORES[0], k) for k in skus],
            seconds=8.0,
            max_ops=hot_attempts,
            quantities=(1, 2),
        )
        baselines.close_all()
        over = _oversold_ours(storage, skus) if tag in hot else baselines.oversold(skus)
        rows.append(
            Row(
                case=hot_case,
                subject=subject,
                metrics={
                    "held": tally.held,
                    "short": tally.short,
                    "errors": tally.errors,
                    "oversold units": over,
                },
            )
        )
    return rows


def _throughput(
    *,
    case: str,
    tag: str,
    subjects: list[tuple[str, str, Callable[[], Attempt]]],
    workers: int,
    pairs: list[Pair],
    seconds: float,
    max_ops: int,
    baselines: Baselines,
) -> list[Row]:
    rates: dict[str, float] = {}
    tallies = {name: Tally() for name, _, _ in subjects}
    for n, order in enumerate(_rounds(subjects)):
        for name, _, make in order:
            tally = _drive(
                workers,
                make,
                tag=f"{tag}-{name}-r{n}",
                pairs=pairs,
                seconds=seconds / ROUNDS,
                max_ops=max(1, max_ops // ROUNDS),
            )
            baselines.close_all()
            _add(tallies[name], tally)
    for name, tally in tallies.items():
        rates[name] = tally.held / tally.seconds if tally.seconds else 0.0
    lock_rate, raw_rate = rates["lock"], rates["raw"]
    return [
        Row(
            case=case,
            subject=subject,
            metrics={
                "reservations/s": rates[name],
                "writes": WRITES[name],
                "held": tallies[name].held,
                "errors": tallies[name].errors,
                "x FOR UPDATE": rates[name] / lock_rate if lock_rate else 0.0,
                "% of raw UPDATE": 100.0 * rates[name] / raw_rate if raw_rate else 0.0,
            },
        )
        for name, subject, _ in subjects
    ]


def _sqlite(scale: float) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-inventory-") as tmp:
        storage = create_storage(f"sqlite:///{Path(tmp) / 'ours.db'}", pool_size=20)
        base_path = Path(tmp) / "baselines.db"

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(base_path, timeout=30, check_same_thread=False)
            conn.isolation_level = None
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            return conn

        try:
            return _measure(
                db="SQLite",
                workers=16,
                scale=scale,
                storage=storage,
                baselines=Baselines(connect, dialect="sqlite"),
            )
        finally:
            storage.close()


@contextmanager
def _pg_schemas() -> Iterator[tuple[str, str]]:
    import psycopg  # noqa: PLC0415 - optional driver

    dsn = parse_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    suffix = uuid.uuid4().hex[:8]
    ours, base = f"bench_inv_{suffix}", f"bench_inv_base_{suffix}"
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE SCHEMA "{base}"')
    try:
        yield ours, base
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{ours}" CASCADE')
            admin.execute(f'DROP SCHEMA IF EXISTS "{base}" CASCADE')


def _postgres(scale: float) -> list[Row]:
    try:
        import psycopg  # noqa: PLC0415 - optional driver

        dsn = parse_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
        psycopg.connect(dsn, connect_timeout=3).close()
    except Exception as exc:
        return [
            Row(
                case="PostgreSQL",
                subject="skipped",
                note=f"PostgreSQL at {PG_URL} unreachable ({type(exc).__name__}); set "
                "MULTISTORE_TEST_POSTGRES_URL to measure it",
            )
        ]
    with _pg_schemas() as (ours, base):
        storage = create_storage(PG_URL, schema=ours, pool_size=36, max_overflow=8)

        def connect() -> Any:
            conn = psycopg.connect(dsn, autocommit=True)
            conn.execute(f'SET search_path TO "{base}"')
            return conn

        try:
            return _measure(
                db="PostgreSQL",
                workers=32,
                scale=scale,
                storage=storage,
                baselines=Baselines(connect, dialect="postgresql"),
            )
        finally:
            storage.close()


# --- PostgreSQL with one process per worker -----------------------------------------------------

PROCESSES = 32
PROCESS_HOT = [f"HOT-P-{i}" for i in range(HOT_ROWS)]
_WORKER_MODULE = "benchmarks.bench_inventory"
WARM_UP = 2
"""Reservations each process makes (plus one that is short) before the data set is reset."""


@dataclass(frozen=True)
class _Task:
    """One round for one worker process (pickled to it through its queue)."""

    subject: str
    tag: str
    pairs: list[Pair]
    quantities: tuple[int, int]
    attempts: int
    seconds: float


@dataclass(frozen=True)
class _Outcome:
    """What one worker process reports after a round."""

    worker: int
    held: int
    short: int
    errors: int
    attempts: int
    started: float
    ended: float
    first_error: str


def _open_subject(
    subject: str, state: dict[str, Any], ours: str, base: str
) -> tuple[Attempt, Callable[[], None]]:
    """Open this process's connection(s) for ``subject``; return the attempt and its closer."""
    if subject in ("svc", "repo", "now"):
        if "storage" not in state:
            state["storage"] = create_storage(
                PG_URL, schema=ours, migrate=False, pool_size=1, max_overflow=1
            )
            state["ms"] = _facade(state["storage"])
        storage: SqlStorage = state["storage"]
        with storage.engine.connect() as conn:  # open the pooled connection before the gate
            conn.exec_driver_sql("SELECT 1")
        makers = {
            "svc": lambda: _service_attempt(state["ms"]),
            "repo": lambda: _repository_attempt(storage),
            "now": lambda: _one_shot_attempt(storage),
        }
        made = makers[subject]()
        return made, storage.engine.dispose
    import psycopg  # noqa: PLC0415 - optional driver

    dsn = parse_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)

    def connect() -> Any:
        conn = psycopg.connect(dsn, autocommit=True)
        conn.execute(f'SET search_path TO "{base}"')
        return conn

    baselines = Baselines(connect, dialect="postgresql")
    factory = {"naive": baselines.naive, "lock": baselines.locking, "raw": baselines.raw_update}
    return factory[subject](), baselines.close_all


def _pg_process_worker(
    n: int, ours: str, base: str, tasks: Any, results: Any, gate: Any
) -> None:  # pragma: no cover - runs in a child process
    """Body of one worker process: run each task it receives until it receives ``None``."""
    state: dict[str, Any] = {}
    while True:
        task: _Task | None = tasks.get()
        if task is None:
            break
        held = short = errors = done = 0
        first_error = ""
        close: Callable[[], None] = lambda: None  # noqa: E731
        attempt: Attempt | None = None
        try:
            attempt, close = _open_subject(task.subject, state, ours, base)
            for i, pair in enumerate(task.pairs[n % len(task.pairs) :][:WARM_UP]):
                attempt(f"warm-{task.tag}-{n}-{i}", pair, 1)
            attempt(f"warm-{task.tag}-{n}-short", task.pairs[0], 10**12)
        except Exception as exc:
            first_error = f"setup: {exc!r}"
        gate.wait(timeout=120)  # warmed up; the parent now resets the data set
        gate.wait(timeout=120)  # go
        started = time.monotonic()
        if attempt is not None:
            rng = random.Random(f"{task.tag}-{n}")
            deadline = started + task.seconds
            for i in range(task.attempts):
                if time.monotonic() >= deadline:
                    break
                pair = rng.choice(task.pairs)
                done += 1
                try:
                    if attempt(f"{task.tag}-{n}-{i}", pair, rng.randint(*task.quantities)):
                        held += 1
                    else:
                        short += 1
                except Exception as exc:
                    errors += 1
                    first_error = first_error or repr(exc)
        ended = time.monotonic()
        try:
            close()
        except Exception as exc:
            first_error = first_error or f"close: {exc!r}"
        results.put(_Outcome(n, held, short, errors, done, started, ended, first_error))
    if "storage" in state:
        state["storage"].close()


class _ProcessPool:
    """``PROCESSES`` long-lived worker processes that run one round per subject together."""

    def __init__(self, workers: int, *, ours: str, base: str) -> None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([_WORKER_MODULE])
        self.workers = workers
        self._results = ctx.Queue()
        self._gate = ctx.Barrier(workers + 1)
        self._tasks = [ctx.Queue() for _ in range(workers)]
        self._procs = [
            ctx.Process(
                target=_pg_process_worker,
                args=(n, ours, base, self._tasks[n], self._results, self._gate),
                daemon=True,
            )
            for n in range(workers)
        ]
        for proc in self._procs:
            proc.start()

    def run(self, task: _Task, *, reset: Callable[[], None]) -> tuple[Tally, int]:
        """Give every process ``task``; wait for all; their summed tally and attempts made.

        The processes open their connections and warm up; then ``reset`` restores the data
        set while they wait at the gate; then they all start together.
        """
        for q in self._tasks:
            q.put(task)
        self._gate.wait(timeout=120)
        reset()
        self._gate.wait(timeout=120)
        outcomes: list[_Outcome] = []
        give_up = time.monotonic() + task.seconds + 120
        while len(outcomes) < self.workers:
            try:
                outcomes.append(self._results.get(timeout=1.0))
            except queue.Empty:
                dead = sum(not proc.is_alive() for proc in self._procs)
                if dead or time.monotonic() > give_up:
                    raise RuntimeError(
                        f"[{task.tag}] {len(outcomes)} of {self.workers} worker processes "
                        f"reported ({dead} exited)"
                    ) from None
        errors = [o.first_error for o in outcomes if o.first_error]
        if errors:
            print(f"  [{task.tag}] first error: {errors[0]}")
        tally = Tally(
            held=sum(o.held for o in outcomes),
            short=sum(o.short for o in outcomes),
            errors=sum(o.errors for o in outcomes),
            seconds=max(o.ended for o in outcomes) - min(o.started for o in outcomes),
        )
        return tally, sum(o.attempts for o in outcomes)

    def close(self) -> None:
        """Stop the processes (politely, then by terminating the ones still running)."""
        for q in self._tasks:
            q.put(None)
        for proc in self._procs:
            proc.join(timeout=10)
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)


def _reset_ours(storage: SqlStorage) -> None:
    """Drop every hold and set reserved back to 0, then vacuum: the seeded state again."""
    with storage.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM reservation_lines")
        conn.exec_driver_sql("DELETE FROM reservations")
        conn.exec_driver_sql("UPDATE stock_levels SET reserved = 0 WHERE reserved <> 0")
    with storage.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE stock_levels, reservations, reservation_lines")


def _reset_baselines(baselines: Baselines) -> None:
    """Drop every hold and set reserved back to 0, then vacuum: the seeded state again."""
    conn = baselines.connect()
    conn.execute("TRUNCATE bench_holds")
    conn.execute("UPDATE bench_levels SET reserved = 0 WHERE reserved <> 0")
    conn.execute("VACUUM ANALYZE bench_levels, bench_holds")
    baselines.close_all()


def _measure_processes(
    *, scale: float, pool: _ProcessPool, storage: SqlStorage, baselines: Baselines
) -> list[Row]:
    workers = pool.workers
    attempts = max(10, int(60 * scale))
    planned = pool.workers * max(1, attempts // ROUNDS) * ROUNDS
    cap = max(1.0, 2.5 * scale)
    hot_attempts = max(4, int(15 * max(scale, 0.25)))
    subjects = [
        ("svc", "multistore service (ms.inventory.reserve)"),
        ("repo", "multistore repository (uow.stock.reserve)"),
        ("now", "multistore one-shot (hold_now)"),
        ("naive", "baseline: naive read-then-write"),
        ("lock", "baseline: SELECT ... FOR UPDATE"),
        ("raw", "baseline: raw conditional UPDATE (practical limit)"),
    ]
    ours = {"svc", "repo", "now"}

    def round_(task: _Task) -> tuple[Tally, int]:
        if task.subject in ours:
            return pool.run(task, reset=lambda: _reset_ours(storage))
        return pool.run(task, reset=lambda: _reset_baselines(baselines))

    rows: list[Row] = []
    spreads = [
        (f"{len(PAIRS)} rows (little contention)", PAIRS),
        (f"{HOT_SPREAD} hot rows (heavy contention)", PAIRS[:HOT_SPREAD]),
    ]
    for label, universe in spreads:
        case = (
            f"PostgreSQL, {workers} processes, {label}, 1-unit holds, "
            f"{attempts} tries per process (cap {cap:g}s)"
        )
        rates: dict[str, float] = {}
        results: dict[str, tuple[Tally, int]] = {name: (Tally(), 0) for name, _ in subjects}
        for n, order in enumerate(_rounds(subjects)):
            for name, _ in order:
                tag = f"PGP-{len(universe)}-{name}-r{n}"
                task = _Task(name, tag, universe, (1, 1), max(1, attempts // ROUNDS), cap / ROUNDS)
                tally, tried = round_(task)
                _add(results[name][0], tally)
                results[name] = (results[name][0], results[name][1] + tried)
        for name, (tally, _) in results.items():
            rates[name] = tally.held / tally.seconds if tally.seconds else 0.0
        lock_rate, raw_rate = rates["lock"], rates["raw"]
        for name, subject in subjects:
            tally, tried = results[name]
            rows.append(
                Row(
                    case=case,
                    subject=subject,
                    metrics={
                        "reservations/s": rates[name],
                        "writes": WRITES[name],
                        "tries": tried,
                        "held": tally.held,
                        "errors": tally.errors,
                        "x FOR UPDATE": rates[name] / lock_rate if lock_rate else 0.0,
                        "% of raw UPDATE": 100.0 * rates[name] / raw_rate if raw_rate else 0.0,
                    },
                    note=""
                    if tried == planned
                    else f"{cap:g}s cap reached after {tried} of {planned} tries",
                )
            )
    hot_case = (
        f"PostgreSQL, {workers} processes, last units: {hot_attempts} tries per process of "
        f"1-2 units on the same {HOT_ROWS} rows of {HOT_UNITS} for every subject"
    )
    hot_pairs = [(STORES[0], k) for k in PROCESS_HOT]
    for name, subject in subjects:
        tally, _ = round_(_Task(name, f"PGP-hot-{name}", hot_pairs, (1, 2), hot_attempts, 8.0))
        over = (
            _oversold_ours(storage, PROCESS_HOT)
            if name in ours
            else baselines.oversold(PROCESS_HOT)
        )
        baselines.close_all()
        rows.append(
            Row(
                case=hot_case,
                subject=subject,
                metrics={
                    "held": tally.held,
                    "short": tally.short,
                    "errors": tally.errors,
                    "oversold units": over,
                },
            )
        )
    return rows


def _postgres_processes(scale: float) -> list[Row]:
    try:
        import psycopg  # noqa: PLC0415 - optional driver

        dsn = parse_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
        psycopg.connect(dsn, connect_timeout=3).close()
    except Exception:
        return []  # the thread-based part already reported the skip
    with _pg_schemas() as (ours, base):
        storage = create_storage(PG_URL, schema=ours, pool_size=2, max_overflow=2)

        def connect() -> Any:
            conn = psycopg.connect(dsn, autocommit=True)
            conn.execute(f'SET search_path TO "{base}"')
            return conn

        baselines = Baselines(connect, dialect="postgresql")
        pool: _ProcessPool | None = None
        try:
            _seed_ours(_facade(storage), PROCESS_HOT)
            baselines.setup(PROCESS_HOT)
            baselines.close_all()
            pool = _ProcessPool(PROCESSES, ours=ours, base=base)
            return _measure_processes(scale=scale, pool=pool, storage=storage, baselines=baselines)
        finally:
            if pool is not None:
                pool.close()
            baselines.close_all()
            storage.close()


def run(scale: float) -> list[Row]:
    """Measure SQLite (16 threads), PostgreSQL (32 threads, then 32 processes) vs the baselines."""
    return _sqlite(scale) + _postgres(scale) + _postgres_processes(scale)
