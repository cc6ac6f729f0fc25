"""Transfers between stores (in transit) and catalog publishing (assortment, store prices).

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


def upgrade() -> None:
    """Create the transfer table."""
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


def downgrade() -> None:
    """Drop everything this revision created."""
    op.drop_table("stock_transfers")
