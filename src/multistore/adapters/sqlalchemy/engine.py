"""Engines for SQLite and PostgreSQL with multistore's concurrency settings.

SQLite:
    WAL journal (readers never block the writer), ``synchronous=NORMAL``, foreign keys on and a
    busy timeout. pysqlite's own transaction handling is switched off and every transaction is
    opened by SQLAlchemy's ``begin`` hook with ``BEGIN IMMEDIATE``: a writer takes the write lock
    up front, so two writers can never deadlock while upgrading a read lock. The in-memory URLs
    (``sqlite://``, ``sqlite:///:memory:``) use a private temporary file instead, so that every
    thread sees the same database with the same guarantees.

PostgreSQL (``postgresql+psycopg://``):
    psycopg 3, ``READ COMMITTED``, a connection pool sized for many worker threads, and an
    optional ``schema`` placed first on the ``search_path``.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from multistore.errors import StorageError, ValidationError

__all__ = ["MIN_SQLITE", "EngineSettings", "build_engine", "is_memory_sqlite", "parse_url"]

MIN_SQLITE = (3, 35, 0)
"""Oldest SQLite library supported (``RETURNING`` arrived in 3.35)."""

_SCHEMA_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class EngineSettings:
    """What :func:`build_engine` made, besides the engine itself.

    Attributes:
        temp_dir: Temporary directory holding an "in-memory" SQLite database (removed on close).
        sqlite_path: The SQLite database file, if any.
        schema: The PostgreSQL schema in use, if any.
        deferred_threads: Per-thread marker of an open write unit of work (SQLite).
    """

    def __init__(self) -> None:
        self.temp_dir: tempfile.TemporaryDirectory[str] | None = None
        self.sqlite_path: Path | None = None
        self.schema: str | None = None
        self.deferred_threads = threading.local()


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


def _configure_sqlite(engine: Engine, info: EngineSettings, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Take transaction control away from pysqlite; the "begin" hook below issues BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("multistore_begin", "IMMEDIATE")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN DEFERRED")


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
