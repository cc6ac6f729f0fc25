"""Leaner reservation rows: no foreign key on reservation lines, one partial expiry index.

Every hold writes a ``reservations`` row and its ``reservation_lines``; this revision makes
those writes cheaper without changing what is stored:

* ``reservation_lines`` loses its foreign key to ``reservations`` (and its ``ON DELETE
  CASCADE``): on PostgreSQL the key check ran a ``FOR KEY SHARE`` lookup of the reservation
  per line. The adapter keeps the integrity: lines are inserted only in the transaction that
  claimed their key, and every delete of a reservation deletes its lines explicitly;
* the ``(status, expires_at)`` index becomes a partial index on ``expires_at`` of the active
  reservations that expire, the only rows the expiry sweep looks for; a reservation without an
  expiry (or no longer active) has no entry at all;
* ``reservation_lines`` loses its ``(store_id, sku)`` index: no query looks lines up by stock
  row (the held units per row are ``stock_levels.reserved``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_reservation_lines_reservation_key_reservations"
DUE = "status = 'active' AND expires_at IS NOT NULL"


def upgrade() -> None:
    """Drop the lines' foreign key and (store, sku) index; make the expiry index partial."""
    op.drop_index("ix_reservation_lines_store_id_sku", table_name="reservation_lines")
    with op.batch_alter_table("reservation_lines") as batch:  # SQLite copies the table
        batch.drop_constraint(FK, type_="foreignkey")
    op.drop_index("ix_reservations_status_expires_at", table_name="reservations")
    op.create_index(
        "ix_reservations_expires_at",
        "reservations",
        ["expires_at"],
        postgresql_where=sa.text(DUE),
        sqlite_where=sa.text(DUE),
    )


def downgrade() -> None:
    """Restore the 0004 schema (fails if lines without a reservation were written meanwhile)."""
    op.drop_index("ix_reservations_expires_at", table_name="reservations")
    op.create_index("ix_reservations_status_expires_at", "reservations", ["status", "expires_at"])
    with op.batch_alter_table("reservation_lines") as batch:
        batch.create_foreign_key(
            FK, "reservations", ["reservation_key"], ["key"], ondelete="CASCADE"
        )
    op.create_index("ix_reservation_lines_store_id_sku", "reservation_lines", ["store_id", "sku"])
