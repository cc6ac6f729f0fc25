"""The relational schema as SQLAlchemy Core tables (the domain stays plain attrs values).

Money is always two columns: ``*_minor`` (``BIGINT`` minor units, fen for CNY) and ``currency``
(``CHAR(3)`` ISO code); never ``NUMERIC`` or ``FLOAT``. Timestamps are stored in UTC and read back
timezone-aware. Ids and texts are unbounded ``VARCHAR`` (the domain validates them; a length limit
here would only turn a long id into a database error). The migrations in ``migrations/versions``
create exactly these tables; a test compares the two so they cannot drift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import CHAR, TypeDecorator

__all__ = [
    "EXPIRY_DUE",
    "audit_log",
    "catalog_changes",
    "catalog_listings",
    "catalog_version",
    "members",
    "metadata",
    "order_lines",
    "orders",
    "outbox",
    "products",
    "reorder_points",
    "reservation_lines",
    "reservations",
    "settings",
    "skus",
    "stock_levels",
    "stock_movements",
    "stock_quotas",
    "stock_transfers",
    "store_prices",
    "stores",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (UTC).

    A naive datetime is taken to be UTC already (multistore passes only aware ones).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; SQLite keeps a naive UTC value, PostgreSQL an aware one."""
        if value is None:
            return None
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


BigId = BigInteger().with_variant(Integer(), "sqlite")
"""Auto-incrementing 64-bit key (``INTEGER PRIMARY KEY`` on SQLite, which is its rowid)."""

stores = Table(
    "stores",
    metadata,
    Column("id", String(), primary_key=True),
    Column("name", String(), nullable=False),
    Column("region", String(), nullable=False),
    Column("format", String(), nullable=False),
    Column("province", String(), nullable=False),
    Column("city", String(), nullable=False),
    Column("district", String(), nullable=False),
    Column("street", String(), nullable=False),
    Column("postcode", String(), nullable=False),
    Column("lat", Double(), nullable=False),
    Column("lon", Double(), nullable=False),
    Column("opening_hours", JSON(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("phone", String(), nullable=False),
    Column("delivers", Boolean(), nullable=False),
    Column("pickup", Boolean(), nullable=False),
    Index(None, "region"),
)

products = Table(
    "products",
    metadata,
    Column("id", String(), primary_key=True),
    Column("name", String(), nullable=False),
    Column("category", String(), nullable=False),
    Column("brand", String(), nullable=False),
    Column("images", JSON(), nullable=False),
    Column("description", Text(), nullable=False),
)

skus = Table(
    "skus",
    metadata,
    Column("code", String(), primary_key=True),
    Column(
        "product_id",
        String(),
        ForeignKey("products.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer(), nullable=False),
    Column("declared_product_id", String(), nullable=False),
    Column("name", String(), nullable=False),
    Column("list_price_minor", BigInteger(), nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("tax_category", String(), nullable=False),
    Column("specs", JSON(), nullable=False),
    Column("barcode", String(), nullable=True),
    CheckConstraint("list_price_minor >= 0", name="price_not_negative"),
    Index(None, "product_id"),
)

stock_levels = Table(
    "stock_levels",
    metadata,
    Column("store_id", String(), nullable=False),
    Column("sku", String(), nullable=False),
    Column("on_hand", BigInteger(), nullable=False),
    Column("reserved", BigInteger(), nullable=False),
    Column("safety_buffer", BigInteger(), nullable=False),
    PrimaryKeyConstraint("store_id", "sku"),
    CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("safety_buffer >= 0", name="buffer_not_negative"),
    CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    Index(None, "sku"),
)

stock_movements = Table(
    "stock_movements",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("store_id", String(), nullable=False),
    Column("sku", String(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("quantity", BigInteger(), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("reference", String(), nullable=False),
    Column("actor_id", String(), nullable=False),
    CheckConstraint("quantity <> 0", name="quantity_not_zero"),
    Index(None, "store_id", "sku", "id"),
)

EXPIRY_DUE = "status = 'active' AND expires_at IS NOT NULL"
"""The reservations an expiry sweep may pick (the predicate of their partial index)."""

reservations = Table(
    "reservations",
    metadata,
    Column("key", String(), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=True),
    Index(None, "expires_at", postgresql_where=text(EXPIRY_DUE), sqlite_where=text(EXPIRY_DUE)),
)
"""Holds by idempotency key; only active reservations that expire are in the expiry index."""

reservation_lines = Table(
    "reservation_lines",
    metadata,
    Column("reservation_key", String(), nullable=False),
    Column("store_id", String(), nullable=False),
    Column("sku", String(), nullable=False),
    Column("quantity", BigInteger(), nullable=False),
    PrimaryKeyConstraint("reservation_key", "store_id", "sku"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)
"""The lines of each reservation. No foreign key (its check cost a lookup per line): lines are
inserted only in the transaction that claims their key, and whatever deletes a reservation
deletes its lines too (see :mod:`.repositories`)."""

orders = Table(
    "orders",
    metadata,
    Column("id", String(), primary_key=True),
    Column("channel", String(), nullable=False),
    Column("external_id", String(), nullable=False),
    Column("fingerprint", String(), nullable=False),
    Column("status", String(32), nullable=False),
    Column("dest_lat", Double(), nullable=True),
    Column("dest_lon", Double(), nullable=True),
    Column("pickup_store_id", String(), nullable=True),
    Column("member_id", String(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=True),
    Column("total_minor", BigInteger(), nullable=False),
    Column("currency", CHAR(3), nullable=False),
    UniqueConstraint("channel", "external_id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("line_no", Integer(), nullable=False),
    Column("sku", String(), nullable=False),
    Column("quantity", BigInteger(), nullable=False),
    Column("unit_price_minor", BigInteger(), nullable=False),
    Column("currency", CHAR(3), nullable=False),
    PrimaryKeyConstraint("order_id", "line_no"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
)

members = Table(
    "members",
    metadata,
    Column("id", String(), primary_key=True),
    Column("name_enc", Text(), nullable=False),
    Column("phone_enc", Text(), nullable=False),
    Column("tier", String(), nullable=False),
    Column("home_store_id", String(), nullable=True),
    Column("joined_at", UtcDateTime(), nullable=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("position", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(), nullable=False, unique=True),
    Column("type", String(), nullable=False),
    Column("aggregate", String(), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("payload", JSON(), nullable=False),
    Column("published", Boolean(), nullable=False),
    Index(None, "published", "position"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("sequence", BigInteger(), primary_key=True, autoincrement=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("actor_id", String(), nullable=False),
    Column("action", String(), nullable=False),
    Column("target", String(), nullable=False),
    Column("outcome", String(), nullable=False),
    Column("details", JSON(), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    CheckConstraint("sequence >= 1", name="sequence_positive"),
)

settings = Table(
    "multistore_settings",
    metadata,
    Column("name", String(), primary_key=True),
    Column("value", Text(), nullable=False),
)
"""Small internal settings (e.g. a development PII key when none is configured)."""

stock_transfers = Table(
    "stock_transfers",
    metadata,
    Column("id", String(), primary_key=True),
    Column("from_store_id", String(), nullable=False),
    Column("to_store_id", String(), nullable=False),
    Column("sku", String(), nullable=False),
    Column("quantity", BigInteger(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("shipped_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("from_store_id <> to_store_id", name="different_stores"),
    Index(None, "status", "sku"),
)
"""Transfers between stores; ``status = 'in_transit'`` rows are the units on the road."""

catalog_version = Table(
    "catalog_version",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("version", BigInteger(), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
"""The chain-wide catalog version counter: one row, bumped by an upsert that locks it."""

catalog_changes = Table(
    "catalog_changes",
    metadata,
    Column("version", BigInteger(), nullable=False),
    Column("product_id", String(), nullable=False),
    Column("store_id", String(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("version", "product_id", "store_id"),
    Index(None, "store_id", "version"),
)
"""Every assortment change, stamped with the catalog version that made it (append-only)."""

catalog_listings = Table(
    "catalog_listings",
    metadata,
    Column("product_id", String(), nullable=False),
    Column("store_id", String(), nullable=False),
    Column("version", BigInteger(), nullable=False),
    PrimaryKeyConstraint("product_id", "store_id"),
    Index(None, "store_id"),
)
"""Which store lists which product now (the last publish that reached it)."""

store_prices = Table(
    "store_prices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("store_id", String(), nullable=False),
    Column("sku", String(), nullable=False),
    Column("price_minor", BigInteger(), nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("valid_from", UtcDateTime(), nullable=False),
    Column("valid_to", UtcDateTime(), nullable=True),
    Column("set_at", UtcDateTime(), nullable=True),
    CheckConstraint("price_minor >= 0", name="price_not_negative"),
    Index(None, "store_id", "sku", "id"),
)
"""Store-level price overrides with validity windows; the latest set wins where they overlap."""

stock_quotas = Table(
    "stock_quotas",
    metadata,
    Column("store_id", String(), nullable=False),
    Column("sku", String(), nullable=False),
    Column("channel", String(), nullable=False),
    Column("units", BigInteger(), nullable=False),
    PrimaryKeyConstraint("store_id", "sku", "channel"),
    CheckConstraint("units >= 0", name="units_not_negative"),
)
"""Units ring-fenced per channel; they are counted in ``stock_levels.reserved``."""

reorder_points = Table(
    "reorder_points",
    metadata,
    Column("store_id", String(), nullable=False),
    Column("sku", String(), nullable=False),
    Column("reorder_point", Double(), nullable=False),
    Column("order_up_to", Double(), nullable=False),
    Column("safety_stock", Double(), nullable=False),
    Column("demand_mean", Double(), nullable=False),
    Column("policy", String(), nullable=False),
    Column("forecaster", String(), nullable=False),
    Column("computed_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("store_id", "sku"),
    CheckConstraint("reorder_point >= 0", name="reorder_point_not_negative"),
    CheckConstraint("order_up_to >= reorder_point", name="order_up_to_not_below"),
    CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
    Index(None, "sku"),
)
"""Replenishment levels per (store, sku); the stock path reads one row by key after a change."""
