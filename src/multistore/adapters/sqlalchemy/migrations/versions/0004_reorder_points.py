"""Replenishment: reorder points per (store, sku).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the reorder point table."""
    op.create_table(
        "reorder_points",
        sa.Column("store_id", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("reorder_point", sa.Double(), nullable=False),
        sa.Column("order_up_to", sa.Double(), nullable=False),
        sa.Column("safety_stock", sa.Double(), nullable=False),
        sa.Column("demand_mean", sa.Double(), nullable=False),
        sa.Column("policy", sa.String(), nullable=False),
        sa.Column("forecaster", sa.String(), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("store_id", "sku", name="pk_reorder_points"),
        sa.CheckConstraint(
            "reorder_point >= 0", name="ck_reorder_points_reorder_point_not_negative"
        ),
        sa.CheckConstraint(
            "order_up_to >= reorder_point", name="ck_reorder_points_order_up_to_not_below"
        ),
        sa.CheckConstraint("safety_stock >= 0", name="ck_reorder_points_safety_stock_not_negative"),
    )
    op.create_index("ix_reorder_points_sku", "reorder_points", ["sku"])


def downgrade() -> None:
    """Drop the reorder point table."""
    op.drop_table("reorder_points")
