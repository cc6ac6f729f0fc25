"""Transfers (in transit), ring-fenced quotas, catalog publishing (assortment, store prices).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the transfer, catalog version, change log, listing and store price tables."""
    op.create_table(
        "stock_transfers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("from_store_id", sa.String(), nullable=False),
        sa.Column("to_store_id", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("shipped_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stock_transfers"),
        sa.CheckConstraint("quantity > 0", name="ck_stock_transfers_quantity_positive"),
        sa.CheckConstraint(
            "from_store_id <> to_store_id", name="ck_stock_transfers_different_stores"
        ),
    )
    op.create_index("ix_stock_transfers_status_sku", "stock_transfers", ["status", "sku"])

    op.create_table(
        "stock_quotas",
        sa.Column("store_id", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "sku", "channel", name="pk_stock_quotas"),
        sa.CheckConstraint("units >= 0", name="ck_stock_quotas_units_not_negative"),
    )
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_version"),
        sa.CheckConstraint("id = 1", name="ck_catalog_version_single_row"),
    )
    op.create_table(
        "catalog_changes",
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.String(), nullable=False),
        sa.Column("store_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("version", "product_id", "store_id", name="pk_catalog_changes"),
    )
    op.create_index(
        "ix_catalog_changes_store_id_version", "catalog_changes", ["store_id", "version"]
    )
    op.create_table(
        "catalog_listings",
        sa.Column("product_id", sa.String(), nullable=False),
        sa.Column("store_id", sa.String(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", "store_id", name="pk_catalog_listings"),
    )
    op.create_index("ix_catalog_listings_store_id", "catalog_listings", ["store_id"])
    op.create_table(
        "store_prices",
        sa.Column("id", BIG_ID, nullable=False, autoincrement=True),
        sa.Column("store_id", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("valid_from", TS, nullable=False),
        sa.Column("valid_to", TS, nullable=True),
        sa.Column("set_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_store_prices"),
        sa.CheckConstraint("price_minor >= 0", name="ck_store_prices_price_not_negative"),
    )
    op.create_index("ix_store_prices_store_id_sku_id", "store_prices", ["store_id", "sku", "id"])


def downgrade() -> None:
    """Drop everything this revision created."""
    for table in (
        "store_prices",
        "catalog_listings",
        "catalog_changes",
        "catalog_version",
        "stock_quotas",
        "stock_transfers",
    ):
        op.drop_table(table)
