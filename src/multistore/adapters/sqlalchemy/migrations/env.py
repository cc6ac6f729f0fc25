"""Alembic environment for multistore's schema.

multistore runs migrations programmatically (:func:`multistore.adapters.sqlalchemy.migrate`): it
opens a transaction (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL) and hands the
connection in ``config.attributes["connection"]``, so concurrent starts never race and a failed
migration leaves nothing half-applied. Run without a connection (``alembic upgrade`` with an
``alembic.ini`` that sets ``sqlalchemy.url``), it opens its own.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection, or on a new one from the ini file."""
    config = context.config
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.begin() as connection:
        _run(connection)


def _inside_alembic() -> bool:
    """Whether Alembic is running this file (importing it elsewhere, e.g. doctests, is inert)."""
    try:
        context.config  # noqa: B018 - raises AttributeError outside an Alembic run
    except AttributeError:
        return False
    return True


if _inside_alembic():
    if context.is_offline_mode():  # pragma: no cover - multistore never renders SQL scripts
        raise SystemExit("multistore migrations run online only; pass a database URL")
    run_migrations_online()
