"""Migrations apply on connect (fresh SQLite file, fresh PostgreSQL schema); re-runs are no-ops."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import BigInteger, Engine, create_engine, inspect

from multistore.adapters.sqlalchemy import (
    AesGcmCipher,
    create_storage,
    current_revision,
    head_revision,
    new_key,
    upgrade,
)
from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.__main__ import main
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.adapters.sqlalchemy.migrate import MIGRATIONS_DIR
from multistore.errors import StorageError
from multistore.testing.builders import sample_store

TABLES = {
    "alembic_version",
    "audit_log",
    "members",
    "multistore_settings",
    "order_lines",
    "orders",
    "outbox",
    "products",
    "reorder_points",
    "reservation_lines",
    "reservations",
    "skus",
    "stock_levels",
    "stock_movements",
    "stores",
}


def _schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, t.metadata))


def test_packaged_migrations_include_the_script_template() -> None:
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert head_revision().isdigit()


def test_fresh_sqlite_file_is_migrated_on_connect(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    storage = create_storage(url, cipher=AesGcmCipher(new_key()))
    try:
        assert head_revision() == current_revision(storage.engine)
        assert TABLES <= set(inspect(storage.engine).get_table_names())
        assert [] == _schema_diff(storage.engine)
    finally:
        storage.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    storage = create_storage(f"sqlite:///{tmp_path / 'shop.db'}", busy_timeout_ms=1234)
    try:
        with storage.engine.connect() as conn:
            assert "wal" == conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            assert 1 == conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
            assert 1234 == conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
    finally:
        storage.close()


def test_rerunning_migrations_is_a_no_op_and_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    cipher = AesGcmCipher(new_key())
    storage = create_storage(url, cipher=cipher)
    with storage.unit_of_work() as uow:
        uow.stores.add(sample_store("SH-001"))
        uow.commit()
    storage.close()
    assert head_revision() == upgrade(url)
    assert head_revision() == upgrade(url)
    storage = create_storage(url, cipher=cipher)
    try:
        with storage.unit_of_work() as uow:
            assert sample_store("SH-001") == uow.stores.get("SH-001")
    finally:
        storage.close()
    raw = sqlite3.connect(tmp_path / "shop.db")
    try:
        assert [(head_revision(),)] == raw.execute(
            "SELECT version_num FROM alembic_version"
        ).fetchall()
    finally:
        raw.close()


def test_migrate_false_leaves_an_empty_database_alone(tmp_path: Path) -> None:
    storage = create_storage(f"sqlite:///{tmp_path / 'empty.db'}", migrate=False)
    try:
        assert current_revision(storage.engine) is None
        with pytest.raises(StorageError), storage.unit_of_work() as uow:
            uow.stores.list()
        storage.migrate()
        assert head_revision() == current_revision(storage.engine)
    finally:
        storage.close()


def test_the_upgrade_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert 0 == main(["upgrade", f"sqlite:///{tmp_path / 'cli.db'}"])
    assert f"database is at revision {head_revision()}\n" == capsys.readouterr().out
    assert 1 == main(["upgrade", "mysql://nobody@nowhere/db"])


def test_money_columns_are_bigint_minor_units() -> None:
    money_columns = [
        c for table in t.metadata.tables.values() for c in table.c if "minor" in c.name
    ]
    assert len(money_columns) >= 3
    assert all(isinstance(c.type, BigInteger) for c in money_columns)
    currency_columns = [
        c for table in t.metadata.tables.values() for c in table.c if c.name == "currency"
    ]
    assert all(getattr(c.type, "length", None) == 3 for c in currency_columns)


@pytest.fixture
def fresh_pg_schema(postgres_url: str) -> Iterator[str]:
    schema = f"ms_mig_{uuid.uuid4().hex[:10]}"
    yield schema
    engine = create_engine(parse_url(postgres_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


@pytest.mark.postgres
def test_postgres_schema_is_migrated_and_rerun_is_a_no_op(
    postgres_url: str, fresh_pg_schema: str
) -> None:
    storage = create_storage(postgres_url, schema=fresh_pg_schema, cipher=AesGcmCipher(new_key()))
    try:
        assert head_revision() == current_revision(storage.engine)
        assert TABLES <= set(inspect(storage.engine).get_table_names(schema=fresh_pg_schema))
        assert [] == _schema_diff(storage.engine)
        storage.migrate()
        assert head_revision() == upgrade(postgres_url, schema=fresh_pg_schema)
        assert head_revision() == current_revision(storage.engine)
    finally:
        storage.close()


@pytest.mark.postgres
def test_concurrent_starts_migrate_once(postgres_url: str, fresh_pg_schema: str) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            upgrade(postgres_url, schema=fresh_pg_schema)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert [] == errors
    engine = create_engine(parse_url(postgres_url))
    try:
        with engine.connect() as conn:
            versions = conn.exec_driver_sql(
                f'SELECT version_num FROM "{fresh_pg_schema}".alembic_version'
            ).all()
        assert [(head_revision(),)] == [tuple(v) for v in versions]
    finally:
        engine.dispose()
