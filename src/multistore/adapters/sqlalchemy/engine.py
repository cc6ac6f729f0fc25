"""Engines for SQLite and PostgreSQL with multistore's concurrency settings.

SQLite:
    WAL journal (readers never block the writer), ``synchronous=NORMAL``, foreign keys on and a
    busy timeout, set once per new connection. pysqlite's own transaction handling is switched
    off and every transaction is opened by the engine's dialect with ``BEGIN IMMEDIATE``: a
    writer takes the write lock up front, so two writers can never deadlock while upgrading a
    read lock. A connection given the execution option ``multistore_begin="DEFERRED"`` begins
    with ``BEGIN DEFERRED`` instead (a reader that must not wait for the write lock); set on an
    engine (``engine.execution_options(multistore_begin=...)``) it applies to each of that
    engine's connections that does not set its own. The
    ``BEGIN`` is issued by the dialect's ``do_begin``, not by a ``begin`` event listener: any
    connection-level listener makes SQLAlchemy dispatch events around every statement, which cost
    a fifth of the client CPU of a small write transaction. The in-memory URLs (``sqlite://``,
    ``sqlite:///:memory:``) use a private temporary file instead, so that every thread sees the
    same database with the same guarantees.

    Threads of one process that write to one file also queue on that file's :class:`WriterGate`
    (see :mod:`multistore.adapters.sqlalchemy.storage`): SQLite's busy handler makes a waiting
    writer *sleep* (1, 2, 5, 10... ms steps) rather than wake it when the lock is free, which
    with many threads leaves the write lock idle between transactions and makes some writers
    wait for seconds. Other processes are still kept in order by ``BEGIN IMMEDIATE`` and the
    busy timeout.

PostgreSQL (``postgresql+psycopg://``):
    psycopg 3, ``READ COMMITTED``, a connection pool sized for many worker threads, and an
    optional ``schema`` placed first on the ``search_path``.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from multistore.errors import StorageError, ValidationError

__all__ = [
    "MIN_SQLITE",
    "EngineSettings",
    "WriterGate",
    "build_engine",
    "is_memory_sqlite",
    "parse_url",
    "writer_gate",
]

MIN_SQLITE = (3, 35, 0)
"""Oldest SQLite library supported (``RETURNING`` arrived in 3.35)."""

_SCHEMA_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

_BEGIN_MODES = ("IMMEDIATE", "DEFERRED")


class WriterGate:
    """Lets one thread of this process at a time write to one SQLite database file.

    A writer passes the gate before ``BEGIN IMMEDIATE`` and leaves it after ``COMMIT`` or
    ``ROLLBACK``; the threads that wait block on a lock and are woken as soon as it is free,
    instead of sleeping in SQLite's busy handler. Get the gate of a file with
    :func:`writer_gate`: every storage of the process on that file shares it. The gate is not
    re-entrant: :meth:`held_here` tells a thread that already holds it (a unit of work opened
    inside another) to begin without it.
    """

    __slots__ = ("__weakref__", "_lock", "_owner")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def held_here(self) -> bool:
        """Whether the calling thread holds the gate."""
        return self._owner == threading.get_ident()

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the gate; return whether the caller now holds it."""
        if not self._lock.acquire(timeout=max(0.0, timeout)):
            return False
        self._owner = threading.get_ident()
        return True

    def release(self) -> None:
        """Leave the gate (any thread may release it, e.g. a garbage collector's finaliser)."""
        self._owner = None
        self._lock.release()

    def _reset(self) -> None:
        # After fork(): the thread that held the gate does not exist in the child.
        self._lock = threading.Lock()
        self._owner = None


_gates: weakref.WeakValueDictionary[str, WriterGate] = weakref.WeakValueDictionary()
_gates_lock = threading.Lock()


def writer_gate(path: str | os.PathLike[str]) -> WriterGate:
    """Return this process's :class:`WriterGate` for the SQLite file at ``path``.

    Paths that name the same file (relative, through symlinks) get the same gate.
    """
    key = os.path.normcase(os.path.realpath(path))
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriterGate()
        return gate


def _reset_gates_after_fork() -> None:  # pragma: no cover - runs in a forked child
    global _gates_lock  # noqa: PLW0603 - the parent's lock may be held by a thread now gone
    _gates_lock = threading.Lock()
    for gate in list(_gates.values()):
        gate._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_gates_after_fork)


class EngineSettings:
    """What :func:`build_engine` made, besides the engine itself.

    Attributes:
        temp_dir: Temporary directory holding an "in-memory" SQLite database (removed on close).
        sqlite_path: The SQLite database file, if any.
        schema: The PostgreSQL schema in use, if any.
        writer_gate: The process's :class:`WriterGate` of the SQLite file, if any.
        busy_timeout: Seconds a SQLite writer waits for the gate, and then for the write lock.
    """

    def __init__(self) -> None:
        self.temp_dir: tempfile.TemporaryDirectory[str] | None = None
        self.sqlite_path: Path | None = None
        self.schema: str | None = None
        self.writer_gate: WriterGate | None = None
        self.busy_timeout = 5.0


def parse_url(url: str | URL) -> URL:
    """Parse a database URL, rejecting schemes other than SQLite and PostgreSQL.

    Raises:
        ValidationError: ``storage.invalid_url`` for an unparsable or unsupported URL.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ValidationError(
            f"cannot parse database URL {str(url)!r}; use sqlite:///path.db or "
            "postgresql+psycopg://user@host/db",
            code="storage.invalid_url",
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValidationError(
            f"unsupported database {backend!r}; use sqlite:///path.db or "
            "postgresql+psycopg://user@host/db",
            code="storage.invalid_url",
        )
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_memory_sqlite(url: URL) -> bool:
    """Whether ``url`` names an in-memory SQLite database."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def build_engine(
    url: str | URL,
    *,
    schema: str | None = None,
    busy_timeout_ms: int = 5000,
    pool_size: int = 10,
    max_overflow: int = 40,
    pool_pre_ping: bool = False,
    echo: bool = False,
) -> tuple[Engine, EngineSettings]:
    """Create the engine for ``url`` with the settings described in this module.

    Args:
        url: ``sqlite:///path.db``, ``sqlite://`` (private temporary file) or
            ``postgresql+psycopg://user@host:5432/db``.
        schema: PostgreSQL schema to use instead of ``public`` (the migrations create it).
        busy_timeout_ms: How long a SQLite writer waits for the write lock before failing.
        pool_size: PostgreSQL connections kept open.
        max_overflow: Extra PostgreSQL connections allowed under load.
        pool_pre_ping: Test each PostgreSQL connection with a round trip when it leaves the
            pool. Off by default: a connection found dead is reported as a transient error,
            which :meth:`~multistore.adapters.sqlalchemy.SqlStorage.run_in_transaction` and the
            services retry on a fresh connection.
        echo: Log every SQL statement.

    Raises:
        ValidationError: ``storage.invalid_url`` for a bad URL or schema name.
    """
    parsed = parse_url(url)
    info = EngineSettings()
    if parsed.get_backend_name() == "sqlite":
        _require_sqlite_version()
        if schema is not None:
            raise ValidationError(
                "schema= applies to PostgreSQL only; use another file for SQLite",
                code="storage.invalid_url",
            )
        if is_memory_sqlite(parsed):
            info.temp_dir = tempfile.TemporaryDirectory(prefix="multistore-")
            parsed = parsed.set(database=str(Path(info.temp_dir.name) / "memory.db"))
        assert parsed.database is not None
        info.sqlite_path = Path(parsed.database)
        info.writer_gate = writer_gate(info.sqlite_path)
        info.busy_timeout = busy_timeout_ms / 1000
        engine = create_engine(
            parsed,
            echo=echo,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=max_overflow,
        )
        _configure_sqlite(engine, info, busy_timeout_ms)
        return engine, info
    if schema is not None and not _SCHEMA_RE.match(schema):
        raise ValidationError(
            f"schema name {schema!r} must be a plain SQL identifier (letters, digits, _)",
            code="storage.invalid_url",
        )
    info.schema = schema
    engine = create_engine(
        parsed,
        echo=echo,
        isolation_level="READ COMMITTED",
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pool_pre_ping,
        pool_recycle=1800,
    )
    if schema is not None:
        _configure_search_path(engine, schema)
    return engine, info


def _require_sqlite_version() -> None:
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise StorageError(
            f"SQLite {sqlite3.sqlite_version} is too old; multistore needs "
            f"{'.'.join(map(str, MIN_SQLITE))} or newer (for RETURNING and ON CONFLICT). "
            "Use a newer Python build or install pysqlite3",
            code="storage.sqlite_too_old",
        )


def _begin_mode(mode: Any) -> str:
    if mode not in _BEGIN_MODES:
        raise ValidationError(
            f"multistore_begin must be 'IMMEDIATE' or 'DEFERRED', got {mode!r}",
            code="storage.invalid_begin_mode",
        )
    return str(mode)


def _configure_sqlite(engine: Engine, info: EngineSettings, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Take transaction control away from pysqlite; the dialect's do_begin issues BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    dialect = engine.dialect
    # The begin mode of each checked-out connection that asked for one; a checkout (the pool's
    # proxy object) is new every time, so the mode ends with it.
    modes: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
    set_options = dialect.set_connection_execution_options
    set_engine_options = dialect.set_engine_execution_options

    def set_connection_execution_options(connection: Connection, opts: Mapping[str, Any]) -> None:
        if "multistore_begin" in opts:
            modes[connection.connection] = _begin_mode(opts["multistore_begin"])
        set_options(connection, opts)

    def set_engine_execution_options(engine: Engine, opts: Mapping[str, Any]) -> None:
        # engine.execution_options(multistore_begin=...): every connection of that engine
        # begins so (unless it sets its own mode). The listener sits on that engine only, so
        # the plain engine's connections still dispatch no events.
        if "multistore_begin" in opts:
            _begin_mode(opts["multistore_begin"])

            @event.listens_for(engine, "engine_connect")
            def _begin_as_engine_says(connection: Connection) -> None:
                # The connection's options include its engine's (the innermost one wins).
                modes[connection.connection] = connection.get_execution_options()[
                    "multistore_begin"
                ]

        set_engine_options(engine, opts)

    def do_begin(proxied: Any) -> None:
        mode = modes.get(proxied, "IMMEDIATE") if modes else "IMMEDIATE"
        # Errors (database is locked) are wrapped by SQLAlchemy's begin like any driver error.
        proxied.dbapi_connection.execute(f"BEGIN {mode}")

    # This engine's own dialect instance; the class (shared by every SQLite engine) is unchanged.
    setattr(dialect, "set_connection_execution_options", set_connection_execution_options)  # noqa: B010
    setattr(dialect, "set_engine_execution_options", set_engine_execution_options)  # noqa: B010
    setattr(dialect, "do_begin", do_begin)  # noqa: B010


def _configure_search_path(engine: Engine, schema: str) -> None:
    @event.listens_for(engine, "connect", insert=True)
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f'SET SESSION search_path TO "{schema}"')
        finally:
            cursor.close()
        dbapi_connection.autocommit = autocommit
