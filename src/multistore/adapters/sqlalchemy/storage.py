"""The SQL storage: engine, unit of work, bounded retries and the PII cipher.

:class:`SqlUnitOfWork` implements :class:`multistore.ports.storage.UnitOfWork`. It opens its
transaction lazily, at the first statement, on one pooled connection:

* SQLite: ``BEGIN IMMEDIATE`` (the write lock up front, waiting up to the busy timeout), except in
  a read-only unit of work or a second unit of work opened by the same thread while its first one
  holds the write lock, which use ``BEGIN DEFERRED`` so they cannot wait on themselves. Before
  ``BEGIN IMMEDIATE`` a writer passes the database file's
  :class:`~multistore.adapters.sqlalchemy.engine.WriterGate`, a lock shared by the process's
  threads, and leaves it after ``COMMIT`` or ``ROLLBACK`` (also when the unit of work ends by an
  exception): the process's writers queue on a lock that wakes the next one at once, instead of
  sleeping in SQLite's busy handler. A unit of work that must wait for the gate first returns
  its idle connection to the pool (the gate's holder may need it). Waiting longer than the busy
  timeout for the gate is a
  :class:`~multistore.errors.TransientStorageError` like a busy database. Read-only units of work
  and the nested units above do not take the gate. Other processes are kept in order by
  ``BEGIN IMMEDIATE`` and the busy timeout alone.
* PostgreSQL: ``READ COMMITTED``; row locks come from the conditional UPDATEs themselves.

Driver errors are translated (:mod:`multistore.adapters.sqlalchemy.errors`) but not retried: a
retry needs the caller's whole function, which :meth:`SqlStorage.run_in_transaction` has.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import attrs
from sqlalchemy import Connection, Engine, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import PoolProxiedConnection

from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.assortment import SqlAssortmentRepository
from multistore.adapters.sqlalchemy.cipher import AesGcmCipher, Cipher, key_from_file, new_key
from multistore.adapters.sqlalchemy.engine import (
    EngineSettings,
    WriterGate,
    build_engine,
    writer_gate,
)
from multistore.adapters.sqlalchemy.errors import (
    commit_unknown,
    is_transient,
    retries_exhausted,
    translate,
    translating,
)
from multistore.adapters.sqlalchemy.migrate import migrate as run_migrations
from multistore.adapters.sqlalchemy.outbox import SqlAuditLog, SqlOutbox
from multistore.adapters.sqlalchemy.replenishment import (
    SqlReorderPointRepository,
    SqlSalesHistory,
)
from multistore.adapters.sqlalchemy.repositories import (
    SqlMemberRepository,
    SqlOrderRepository,
    SqlProductRepository,
    SqlStoreRepository,
    dialect_insert,
)
from multistore.adapters.sqlalchemy.transfers import SqlStockWithTransfersRepository
from multistore.errors import StorageError, TransientStorageError, ValidationError
from multistore.ports.events import Outbox
from multistore.ports.replenishment import ReorderPointRepository, SalesHistory
from multistore.ports.security import AuditLog
from multistore.ports.storage import (
    AssortmentRepository,
    MemberRepository,
    OrderRepository,
    ProductRepository,
    StockRepository,
    StoreRepository,
)

if TYPE_CHECKING:
    from multistore.ports.storage import Storage, UnitOfWorkFactory

__all__ = ["RetryPolicy", "SqlStorage", "SqlUnitOfWork", "create_storage"]

T = TypeVar("T")

_log = logging.getLogger(__name__)

_NO_FILE = (None, "", ":memory:")
"""SQLite "database" names that are no file (nothing to share a writer gate with)."""


@attrs.frozen
class RetryPolicy:
    """How :meth:`SqlStorage.run_in_transaction` retries transient failures.

    Attempt ``n`` (from 1) that fails transiently waits ``min(max_delay, base_delay * 2**(n-1))``
    scaled by a random factor in ``[0.5, 1.5)`` (jitter, so colliding writers spread out), then
    the whole function runs again; after ``attempts`` tries the last error is raised as
    :class:`~multistore.errors.TransientStorageError`.

    Attributes:
        attempts: Total tries, at least 1.
        base_delay: First back-off in seconds.
        max_delay: Longest back-off in seconds.
        sleep: Called with each delay (replace it in tests).
        rng: Source of jitter.
    """

    attempts: int = 5
    base_delay: float = 0.01
    max_delay: float = 0.5
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False)
    rng: random.Random = attrs.field(factory=random.Random, eq=False)

    def __attrs_post_init__(self) -> None:
        n = self.attempts
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValidationError(
                f"retry attempts must be an int >= 1, got {self.attempts!r}",
                code="storage.invalid_retry",
            )

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 1)."""
        ceiling = min(self.max_delay, self.base_delay * (2.0 ** (attempt - 1)))
        return ceiling * (0.5 + self.rng.random())


class SqlUnitOfWork:
    """One atomic business transaction over every SQL repository.

    Use as ``with storage.unit_of_work() as uow: ...; uow.commit()``. Leaving the block without
    committing (or by an exception) rolls back. After :meth:`commit` or :meth:`rollback` the unit
    stays usable; the next statement opens a new transaction.

    Attributes:
        stores: Store repository.
        products: Product repository.
        stock: Stock levels, ledger and reservations.
        orders: Orders.
        members: Members (PII encrypted).
        outbox: Transactional outbox.
        audit: Hash-chained audit log.
        sales_history: Daily sales from the ledger (replenishment).
        reorder_points: Reorder points per (store, sku) (replenishment).
    """

    def __init__(self, storage: SqlStorage, *, read_only: bool = False) -> None:
        self._gate: WriterGate | None = None  # the writer gate this unit holds, if any
        self._storage = storage
        self._read_only = read_only
        self._conn: Connection | None = None
        self._deferred = False  # SQLite: the connection was told to BEGIN DEFERRED
        self._open = False
        self.stores: StoreRepository = SqlStoreRepository(self)
        self.products: ProductRepository = SqlProductRepository(self)
        self.stock: StockRepository = SqlStockWithTransfersRepository(self)
        self.assortment: AssortmentRepository = SqlAssortmentRepository(self)
        self.orders: OrderRepository = SqlOrderRepository(self)
        self.members: MemberRepository = SqlMemberRepository(self)
        self.outbox: Outbox = SqlOutbox(self)
        self.audit: AuditLog = SqlAuditLog(self)
        self.sales_history: SalesHistory = SqlSalesHistory(self)
        self.reorder_points: ReorderPointRepository = SqlReorderPointRepository(self)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._storage.dialect

    @property
    def cipher(self) -> Cipher:
        """The storage's cipher for personal fields."""
        return self._storage.cipher

    def __enter__(self) -> Self:
        """Open the unit of work (the transaction itself starts at the first statement)."""
        if self._open:
            raise StorageError(
                "this unit of work is already open", code="storage.nested_unit_of_work"
            )
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back anything not committed and return the connection to the pool."""
        if not self._open:
            return
        self._open = False
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                try:
                    if conn.in_transaction():
                        conn.rollback()
                finally:
                    conn.close()
        except sa_exc.SQLAlchemyError as error:
            if exc is None:
                raise translate(error, action="rolling back") from error
            _log.warning("rollback after an error failed: %s", error)
        finally:
            self._end_transaction()

    def connection(self) -> Connection:
        """Return the connection, beginning the transaction if none is open.

        Raises:
            StorageError: ``storage.no_transaction`` outside the ``with`` block.
        """
        if not self._open:
            raise StorageError(
                "this unit of work is not open; use it as `with storage.unit_of_work() as uow:`",
                code="storage.no_transaction",
            )
        conn = self._conn
        if conn is not None and conn.in_transaction():
            return conn
        return self._begin()

    def _begin(self) -> Connection:
        """Pass the writer gate (SQLite writers), connect if needed and begin a transaction."""
        storage = self._storage
        gate = storage._writer_gate
        deferred = False
        if gate is not None:
            if self._read_only or gate.held_here():
                deferred = True
            else:
                if not gate.acquire(0):
                    # Waiting for the gate while holding a pooled connection could starve the
                    # gate's holder of one (a small pool): give it back before waiting.
                    self._release_connection()
                    if not gate.acquire(storage._busy_timeout):
                        raise TransientStorageError(
                            "another thread of this process held the SQLite write lock for more "
                            f"than {storage._busy_timeout:g}s; nothing was written, retry the "
                            "call (SqlStorage.run_in_transaction does)",
                            code="storage.transient",
                        )
                self._gate = gate
        try:
            conn = self._conn
            if conn is None:
                with translating("connecting to the database"):
                    conn = self._conn = storage.engine.connect()
                # A new checkout begins as its engine says (IMMEDIATE unless set otherwise).
                self._deferred = conn.get_execution_options().get("multistore_begin") == "DEFERRED"
            if deferred != self._deferred:
                conn.execution_options(multistore_begin="DEFERRED" if deferred else "IMMEDIATE")
                self._deferred = deferred
            with translating("beginning a transaction"):
                conn.begin()
        except BaseException:
            self._end_transaction()
            raise
        return conn

    def _release_connection(self) -> None:
        """Return the connection (between transactions) to the pool."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with translating("returning a connection to the pool"):
                conn.close()

    def _end_transaction(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()

    def __del__(self) -> None:
        # A unit of work dropped while in a write transaction (never closed): let other writers
        # through; its connection is rolled back when the pool reclaims it.
        if self._gate is not None:
            self._end_transaction()

    def commit(self) -> None:
        """Make every change of this unit of work durable, atomically.

        Raises:
            TransientStorageError: the database was busy; nothing was committed.
            StorageError: ``storage.no_transaction`` outside the ``with`` block;
                ``storage.commit_unknown`` when the connection was lost during the ``COMMIT``
                (it may have been applied: check before repeating the work).
        """
        if not self._open:
            raise StorageError(
                "this unit of work is not open; use it as `with storage.unit_of_work() as uow:`",
                code="storage.no_transaction",
            )
        conn = self._conn
        if conn is not None and conn.in_transaction():
            try:
                conn.commit()
            except sa_exc.DBAPIError as exc:
                if exc.connection_invalidated:  # the COMMIT may have reached the server
                    raise commit_unknown(exc) from exc
                raise translate(exc, action="committing") from exc
            except sa_exc.SQLAlchemyError as exc:
                raise translate(exc, action="committing") from exc
            finally:
                self._end_transaction()
        else:
            self._end_transaction()

    def rollback(self) -> None:
        """Discard every uncommitted change; the unit of work stays open."""
        conn = self._conn
        if conn is not None and conn.in_transaction():
            try:
                with translating("rolling back"):
                    conn.rollback()
            finally:
                self._end_transaction()
        else:
            self._end_transaction()


class _AutocommitSlot:
    """One PostgreSQL driver connection kept in autocommit for one-statement transactions.

    :func:`~multistore.adapters.sqlalchemy.repositories.hold_now` runs a whole transaction as
    one autocommit statement. Taking a pooled connection for it costs a checkout, a checkin
    (with its reset) and two autocommit switches per call: about 30 us of client CPU, a tenth
    of what a hold costs a process that does nothing else. The slot instead keeps one
    connection detached from the pool, in autocommit, between calls: a caller takes it when it
    is free and otherwise uses the pool as before (so a busy process never waits for it). It is
    one connection on top of the pool's; it never holds a pool place, so units of work never
    wait for it. :meth:`SqlStorage.close` closes it; after ``engine.dispose()`` (a new pool)
    or in a forked child the slot opens a fresh one.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._busy = False
        self._idle: PoolProxiedConnection | None = None
        self._origin: tuple[Any, int] | None = None
        """The pool the slot's connection came from and the process that opened it; ``None``
        once :meth:`close` has run while the connection was taken (it is closed on return)."""

    def take(self) -> PoolProxiedConnection | None:
        """Return the slot's connection (in autocommit), or ``None`` if another caller has it.

        Give it back with :meth:`give_back`. Errors opening a new connection propagate (the
        slot is free again).
        """
        with self._lock:
            if self._busy:
                return None
            self._busy = True
            parked, self._idle = self._idle, None
            origin = self._origin
        try:
            if parked is not None and origin is not None:
                if origin == (self._engine.pool, os.getpid()) and not _driver(parked).closed:
                    return parked
                if origin[1] == os.getpid():
                    _close_quietly(parked)
            proxied = self._engine.raw_connection()
            origin = (self._engine.pool, os.getpid())
            proxied.detach()
            _driver(proxied).autocommit = True
        except BaseException:
            with self._lock:
                self._origin = None
                self._busy = False
            raise
        with self._lock:
            self._origin = origin
        return proxied

    def give_back(self, proxied: PoolProxiedConnection, *, lost: bool = False) -> None:
        """Park the connection taken by :meth:`take` again; close it instead if it was ``lost``."""
        with self._lock:
            keep = not lost and self._origin is not None and not _driver(proxied).closed
            self._idle = proxied if keep else None
            if not keep:
                self._origin = None
            self._busy = False
        if not keep:
            _close_quietly(proxied)

    def close(self) -> None:
        """Close the parked connection (a connection taken right now is closed when given back)."""
        with self._lock:
            parked, self._idle = self._idle, None
            origin, self._origin = self._origin, None
        if parked is not None and origin is not None and origin[1] == os.getpid():
            _close_quietly(parked)


def _driver(proxied: PoolProxiedConnection) -> Any:
    """The psycopg connection behind a pooled (or detached) connection."""
    return proxied.dbapi_connection


def _close_quietly(proxied: PoolProxiedConnection) -> None:
    try:
        proxied.close()  # detached: really closes the driver connection
    except Exception:  # noqa: BLE001 - closing a dead connection must not hide the caller's error
        _log.debug("closing a detached connection failed", exc_info=True)


class SqlStorage:
    """A SQLite or PostgreSQL storage; build it with :func:`create_storage`.

    Attributes:
        engine: The SQLAlchemy engine (for tooling and tests; services never touch it).
        retry: The policy of :meth:`run_in_transaction`.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        settings: EngineSettings | None = None,
        cipher: Cipher | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.engine = engine
        self.retry = retry or RetryPolicy()
        self._settings = settings or EngineSettings()
        self._cipher = cipher
        self._cipher_lock = threading.Lock()
        self._writer_gate: WriterGate | None = self._settings.writer_gate
        self._busy_timeout = self._settings.busy_timeout
        self._autocommit_slot = _AutocommitSlot(engine)
        """The autocommit connection of :func:`~.repositories.hold_now` (PostgreSQL)."""
        database = engine.url.database
        if self._writer_gate is None and self.dialect == "sqlite" and database not in _NO_FILE:
            assert database is not None  # an engine built elsewhere: gate its file all the same
            self._writer_gate = writer_gate(database)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def schema(self) -> str | None:
        """The PostgreSQL schema in use (``None`` for the default search path)."""
        return self._settings.schema

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """Return a new unit of work (use it as a context manager).

        Args:
            read_only: On SQLite, begin with ``BEGIN DEFERRED`` instead of ``BEGIN IMMEDIATE``
                so the unit never waits for the write lock (it must then not write).
        """
        return SqlUnitOfWork(self, read_only=read_only)

    def run_in_transaction(self, fn: Callable[[SqlUnitOfWork], T], *, read_only: bool = False) -> T:
        """Run ``fn`` in a unit of work and commit, retrying transient failures as a whole.

        ``fn`` may run more than once, so it must not have side effects outside the unit of
        work (or they must be idempotent). Errors that are not transient (insufficient stock,
        conflicts, validation) are raised at once.

        Args:
            fn: Receives the unit of work; its return value is returned after the commit.
            read_only: See :meth:`unit_of_work`.

        Raises:
            TransientStorageError: still busy, deadlocked or failing serialisation after
                ``retry.attempts`` tries.

        Examples:
            >>> storage = create_storage("sqlite://")
            >>> storage.run_in_transaction(lambda uow: len(uow.stores.list()))
            0
            >>> storage.close()
        """
        policy = self.retry
        attempt = 1
        while True:
            try:
                with self.unit_of_work(read_only=read_only) as uow:
                    result = fn(uow)
                    uow.commit()
                return result
            except (TransientStorageError, sa_exc.DBAPIError) as exc:
                if not is_transient(exc):
                    if isinstance(exc, sa_exc.DBAPIError):
                        raise translate(exc) from exc
                    raise
                if attempt >= policy.attempts:
                    raise retries_exhausted(attempt, nothing="committed") from exc
                policy.sleep(policy.delay(attempt))
                attempt += 1

    @property
    def cipher(self) -> Cipher:
        """The cipher for personal fields (resolved on first use; see :mod:`.cipher`)."""
        if self._cipher is None:
            with self._cipher_lock:
                if self._cipher is None:
                    self._cipher = self._default_cipher()
        return self._cipher

    def _default_cipher(self) -> Cipher:
        from_env = AesGcmCipher.from_env()
        if from_env is not None:
            return from_env
        path = self._settings.sqlite_path
        if path is not None:
            return AesGcmCipher(key_from_file(path.with_name(path.name + ".key")))
        _log.warning(
            "no MULTISTORE_PII_KEY set: member PII is encrypted with a key kept in the "
            "database itself; set MULTISTORE_PII_KEY in production"
        )
        return AesGcmCipher(self._stored_key())

    def _stored_key(self) -> str:
        def load(uow: SqlUnitOfWork) -> str:
            conn = uow.connection()
            stmt = (
                dialect_insert(uow.dialect, t.settings)
                .values(name="pii_key", value=new_key())
                .on_conflict_do_nothing()
            )
            conn.execute(stmt)
            return str(
                conn.execute(
                    select(t.settings.c.value).where(t.settings.c.name == "pii_key")
                ).scalar_one()
            )

        with translating("loading the PII key"):
            return self.run_in_transaction(load)

    def migrate(self) -> None:
        """Upgrade the schema to the newest shipped revision (a no-op when up to date)."""
        run_migrations(self.engine, schema=self._settings.schema)

    def close(self) -> None:
        """Close every pooled connection (and remove a temporary in-memory database)."""
        self._autocommit_slot.close()
        self.engine.dispose()
        if self._settings.temp_dir is not None:
            self._settings.temp_dir.cleanup()
            self._settings.temp_dir = None

    def __enter__(self) -> Self:
        """Use the storage as a context manager that closes it."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the storage."""
        self.close()


def create_storage(
    url: str,
    *,
    migrate: bool = True,
    schema: str | None = None,
    cipher: Cipher | None = None,
    retry: RetryPolicy | None = None,
    busy_timeout_ms: int = 5000,
    pool_size: int = 10,
    max_overflow: int = 40,
    pool_pre_ping: bool = False,
    echo: bool = False,
) -> SqlStorage:
    """Open a SQLite or PostgreSQL storage and (by default) bring its schema up to date.

    Args:
        url: ``sqlite:///shop.db`` (a file), ``sqlite://`` (a private temporary database) or
            ``postgresql+psycopg://user@host:5432/db``.
        migrate: Apply the packaged Alembic migrations now (safe to run from many processes).
        schema: PostgreSQL schema to use instead of ``public``.
        cipher: Encrypts member PII; default AES-256-GCM keyed as :mod:`.cipher` describes.
        retry: Retry policy of :meth:`SqlStorage.run_in_transaction`.
        busy_timeout_ms: SQLite: how long a writer waits for the write lock.
        pool_size: Connections kept open.
        max_overflow: Extra connections allowed under load.
        pool_pre_ping: PostgreSQL: test connections on checkout (one extra round trip each).
        echo: Log SQL statements.

    Returns:
        The storage; close it with :meth:`SqlStorage.close`.

    Raises:
        ValidationError: ``storage.invalid_url`` for an unsupported URL.
        StorageError: when the database cannot be reached or migrated.

    Examples:
        >>> storage = create_storage("sqlite://")
        >>> with storage.unit_of_work() as uow:
        ...     uow.stores.list()
        []
        >>> storage.close()
    """
    engine, settings = build_engine(
        url,
        schema=schema,
        busy_timeout_ms=busy_timeout_ms,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pool_pre_ping,
        echo=echo,
    )
    storage = SqlStorage(engine, settings=settings, cipher=cipher, retry=retry)
    if migrate:
        try:
            storage.migrate()
        except BaseException:
            storage.close()
            raise
    return storage


if TYPE_CHECKING:

    def _conforms(storage: SqlStorage) -> tuple[Storage, UnitOfWorkFactory]:
        """Let mypy prove that the SQL storage and its unit of work implement the ports."""
        return storage, storage.unit_of_work
