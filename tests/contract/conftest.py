"""Fixtures for the SQL contract runs: a fresh PostgreSQL schema per test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from multistore.adapters.sqlalchemy import AesGcmCipher, SqlStorage, create_storage, new_key
from multistore.adapters.sqlalchemy.engine import parse_url


@pytest.fixture(scope="session")
def pii_cipher() -> AesGcmCipher:
    """A throw-away PII cipher for test storages."""
    return AesGcmCipher(new_key())


@pytest.fixture(scope="session")
def pg_schema(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL schema private to this session, dropped afterwards."""
    schema = f"ms_test_{uuid.uuid4().hex[:10]}"
    yield schema
    engine = create_engine(parse_url(postgres_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


@pytest.fixture(scope="session")
def pg_storage(postgres_url: str, pg_schema: str, pii_cipher: AesGcmCipher) -> Iterator[SqlStorage]:
    """One migrated PostgreSQL storage shared by the session (tests use unique ids)."""
    storage = create_storage(postgres_url, schema=pg_schema, cipher=pii_cipher)
    yield storage
    storage.close()
