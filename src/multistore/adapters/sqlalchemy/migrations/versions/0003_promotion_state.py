"""Promotion state: coupon wallets, redemptions, usage counters, flash-sale quotas, group buys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the promotion state tables."""
    op.create_table(
        "promotion_coupon_codes",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("promotion_id", sa.String(), nullable=False),
        sa.Column("used_by_order", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_promotion_coupon_codes"),
    )
    op.create_index("ix_promotion_coupon_codes_member_id", "promotion_coupon_codes", ["member_id"])
    op.create_table(
        "promotion_coupon_usage",
        sa.Column("promotion_id", sa.String(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("total_limit", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("promotion_id", name="pk_promotion_coupon_usage"),
        sa.CheckConstraint("used >= 0", name="ck_promotion_coupon_usage_used_not_negative"),
    )
    op.create_table(
        "promotion_member_usage",
        sa.Column("promotion_id", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("promotion_id", "member_id", name="pk_promotion_member_usage"),
        sa.CheckConstraint("used >= 0", name="ck_promotion_member_usage_used_not_negative"),
    )
    op.create_table(
        "promotion_redemptions",
        sa.Column("promotion_id", sa.String(), nullable=False),
        sa.Column("order_id", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("promotion_id", "order_id", name="pk_promotion_redemptions"),
    )
    op.create_table(
        "flash_sale_quotas",
        sa.Column("promotion_id", sa.String(), nullable=False),
        sa.Column("quota", sa.BigInteger(), nullable=False),
        sa.Column("sold", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("promotion_id", name="pk_flash_sale_quotas"),
        sa.CheckConstraint("sold >= 0", name="ck_flash_sale_quotas_sold_not_negative"),
        sa.CheckConstraint("quota >= 0", name="ck_flash_sale_quotas_quota_not_negative"),
    )
    op.create_table(
        "flash_sale_member_units",
        sa.Column("promotion_id", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("promotion_id", "member_id", name="pk_flash_sale_member_units"),
        sa.CheckConstraint("units >= 0", name="ck_flash_sale_member_units_units_not_negative"),
    )
    op.create_table(
        "flash_sale_grants",
        sa.Column("promotion_id", sa.String(), nullable=False),
        sa.Column("order_id", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=True),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("promotion_id", "order_id", name="pk_flash_sale_grants"),
        sa.CheckConstraint("units >= 0", name="ck_flash_sale_grants_units_not_negative"),
    )
    op.create_table(
        "group_buys",
        sa.Column("group_id", sa.String(), nullable=False),
        sa.Column("promotion_id", sa.String(), nullable=False),
        sa.Column("min_participants", sa.Integer(), nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name="pk_group_buys"),
    )
    op.create_table(
        "group_buy_members",
        sa.Column("group_id", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("order_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "member_id", name="pk_group_buy_members"),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["group_buys.group_id"],
            name="fk_group_buy_members_group_id_group_buys",
        ),
        sa.UniqueConstraint("group_id", "position", name="uq_group_buy_members_group_id_position"),
    )
    op.create_table(
        "promotion_price_history",
        sa.Column("id", BIG_ID, nullable=False, autoincrement=True),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_promotion_price_history"),
    )
    op.create_index("ix_promotion_price_history_sku_at", "promotion_price_history", ["sku", "at"])


def downgrade() -> None:
    """Drop everything this revision created."""
    for table in (
        "promotion_price_history",
        "group_buy_members",
        "group_buys",
        "flash_sale_grants",
        "flash_sale_member_units",
        "flash_sale_quotas",
        "promotion_redemptions",
        "promotion_member_usage",
        "promotion_coupon_usage",
        "promotion_coupon_codes",
    ):
        op.drop_table(table)
