"""Initial schema: stores, catalog, stock ledger and reservations, orders, members, outbox, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Money columns are BIGINT minor units plus a CHAR(3) currency code. The stock ledger and the audit
log are append-only: triggers refuse UPDATE and DELETE on them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
APPEND_ONLY = ("stock_movements", "audit_log")


def upgrade() -> None:
    """Create every table, index and append-only trigger."""
    op.create_table(
        "stores",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("province", sa.String(), nullable=False),
        sa.Column("city", sa.String(), nullable=False),
        sa.Column("district", sa.String(), nullable=False),
        sa.Column("street", sa.String(), nullable=False),
        sa.Column("postcode", sa.String(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("phone", sa.String(), nullable=False),
        sa.Column("delivers", sa.Boolean(), nullable=False),
        sa.Column("pickup", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stores"),
    )
    op.create_index("ix_stores_region", "stores", ["region"])

    op.create_table(
        "products",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("brand", sa.String(), nullable=False),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
    )
    op.create_table(
        "skus",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("product_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("declared_product_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("list_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("tax_category", sa.String(), nullable=False),
        sa.Column("specs", sa.JSON(), nullable=False),
        sa.Column("barcode", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_skus"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name="fk_skus_product_id_products",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("list_price_minor >= 0", name="ck_skus_price_not_negative"),
    )
    op.create_index("ix_skus_product_id", "skus", ["product_id"])

    op.create_table(
        "stock_levels",
        sa.Column("store_id", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("safety_buffer", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "sku", name="pk_stock_levels"),
        sa.CheckConstraint("on_hand >= 0", name="ck_stock_levels_on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0", name="ck_stock_levels_reserved_not_negative"),
        sa.CheckConstraint("safety_buffer >= 0", name="ck_stock_levels_buffer_not_negative"),
        sa.CheckConstraint("reserved <= on_hand", name="ck_stock_levels_reserved_within_on_hand"),
    )
    op.create_index("ix_stock_levels_sku", "stock_levels", ["sku"])

    op.create_table(
        "stock_movements",
        sa.Column("id", BIG_ID, nullable=False, autoincrement=True),
        sa.Column("store_id", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("actor_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stock_movements"),
        sa.CheckConstraint("quantity <> 0", name="ck_stock_movements_quantity_not_zero"),
    )
    op.create_index(
        "ix_stock_movements_store_id_sku_id", "stock_movements", ["store_id", "sku", "id"]
    )

    op.create_table(
        "reservations",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_reservations"),
    )
    op.create_index("ix_reservations_status_expires_at", "reservations", ["status", "expires_at"])
    op.create_table(
        "reservation_lines",
        sa.Column("reservation_key", sa.String(), nullable=False),
        sa.Column("store_id", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("reservation_key", "store_id", "sku", name="pk_reservation_lines"),
        sa.ForeignKeyConstraint(
            ["reservation_key"],
            ["reservations.key"],
            name="fk_reservation_lines_reservation_key_reservations",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("quantity > 0", name="ck_reservation_lines_quantity_positive"),
    )
    op.create_index("ix_reservation_lines_store_id_sku", "reservation_lines", ["store_id", "sku"])

    op.create_table(
        "orders",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("dest_lat", sa.Double(), nullable=True),
        sa.Column("dest_lon", sa.Double(), nullable=True),
        sa.Column("pickup_store_id", sa.String(), nullable=True),
        sa.Column("member_id", sa.String(), nullable=True),
        sa.Column("created_at", TS, nullable=True),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("channel", "external_id", name="uq_orders_channel_external_id"),
    )
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_no", name="pk_order_lines"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_order_lines_order_id_orders", ondelete="CASCADE"
        ),
        sa.CheckConstraint("quantity > 0", name="ck_order_lines_quantity_positive"),
        sa.CheckConstraint("unit_price_minor >= 0", name="ck_order_lines_price_not_negative"),
    )

    op.create_table(
        "members",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name_enc", sa.Text(), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("tier", sa.String(), nullable=False),
        sa.Column("home_store_id", sa.String(), nullable=True),
        sa.Column("joined_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_members"),
    )

    op.create_table(
        "outbox",
        sa.Column("position", BIG_ID, nullable=False, autoincrement=True),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("aggregate", sa.String(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_published_position", "outbox", ["published", "position"])

    op.create_table(
        "audit_log",
        sa.Column("sequence", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("actor_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_audit_log"),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
        sa.CheckConstraint("sequence >= 1", name="ck_audit_log_sequence_positive"),
    )

    op.create_table(
        "multistore_settings",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_multistore_settings"),
    )
    _append_only_triggers()


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION multistore_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME "
        "USING ERRCODE = 'restrict_violation'; END $$"
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION multistore_append_only()"
        )


def downgrade() -> None:
    """Drop everything this revision created."""
    for table in (
        "multistore_settings",
        "audit_log",
        "outbox",
        "members",
        "order_lines",
        "orders",
        "reservation_lines",
        "reservations",
        "stock_movements",
        "stock_levels",
        "skus",
        "products",
        "stores",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS multistore_append_only()")
