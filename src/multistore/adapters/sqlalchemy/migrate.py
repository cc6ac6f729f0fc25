"""Schema migrations shipped inside the package and run programmatically (no alembic.ini).

:func:`migrate` brings a database to the newest revision inside one transaction: on SQLite that
transaction starts with ``BEGIN IMMEDIATE``, on PostgreSQL it first takes an advisory lock, so
several processes starting at once apply each revision exactly once. Re-running it on an
up-to-date database does nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from multistore.adapters.sqlalchemy.engine import build_engine
from multistore.adapters.sqlalchemy.errors import translating

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "head_revision",
    "migrate",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
"""The Alembic script directory inside the installed package."""

_MIGRATION_LOCK = 0x6D756C746973746F  # "multisto": advisory lock id for migrations
"""PostgreSQL advisory lock key held while migrating."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic ``Config`` pointing at the packaged migrations.

    Args:
        connection: Connection (inside a transaction) for the migrations to run on.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """Return the newest revision shipped with this version of multistore."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (``None`` for an empty database)."""
    with translating("reading the schema revision"), engine.connect() as conn:
        conn.execution_options(multistore_begin="DEFERRED")  # SQLite: a read needs no write lock
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, *, schema: str | None = None, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` (the newest by default).

    Args:
        engine: An engine made by :func:`multistore.adapters.sqlalchemy.create_storage` or
            :func:`~multistore.adapters.sqlalchemy.engine.build_engine`.
        schema: PostgreSQL schema to create first (the engine's ``search_path`` points at it).
        revision: Target revision.

    Raises:
        TransientStorageError: when another process held the database for too long.
        StorageError: when a migration fails; nothing of it is applied.
    """
    if revision == "head" and current_revision(engine) == head_revision():
        return  # up to date: no write lock needed
    with translating("migrating the schema"), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            if schema is not None:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        command.upgrade(alembic_config(conn), revision)


def upgrade(url: str, *, schema: str | None = None, revision: str = "head") -> str:
    """Open ``url``, upgrade its schema and return the revision it is now at.

    This is the explicit command behind ``python -m multistore.adapters.sqlalchemy upgrade URL``.

    Examples:
        >>> upgrade("sqlite://") == head_revision()
        True
    """
    engine, info = build_engine(url, schema=schema, pool_size=1, max_overflow=0)
    try:
        migrate(engine, schema=schema, revision=revision)
        rev = current_revision(engine)
    finally:
        engine.dispose()
        if info.temp_dir is not None:
            info.temp_dir.cleanup()
    return rev or ""
