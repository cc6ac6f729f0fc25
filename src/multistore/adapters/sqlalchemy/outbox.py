"""The transactional outbox and the hash-chained audit log in SQL."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, text, update

from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.repositories import (
    _chunks,
    _Repository,
    dialect_insert,
    translated,
)
from multistore.errors import ConflictError, ValidationError
from multistore.ports.events import Event, OutboxRecord
from multistore.ports.security import AuditEntry
from multistore.security.audit_chain import chain_entry

if TYPE_CHECKING:
    from sqlalchemy import Row

__all__ = ["SqlAuditLog", "SqlOutbox"]


def _plain_payload(event: Event) -> dict[str, Any]:
    try:
        text_ = json.dumps(dict(event.payload), sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"payload of event {event.id!r} is not JSON-serialisable ({exc}); use ids, ints, "
            "strings and money as minor units plus currency",
            code="outbox.invalid_payload",
        ) from None
    loaded: dict[str, Any] = json.loads(text_)
    return loaded


_OUTBOX_INSERT = {
    dialect: dialect_insert(dialect, t.outbox)
    .on_conflict_do_nothing(index_elements=[t.outbox.c.event_id])
    .returning(t.outbox.c.position)
    for dialect in ("postgresql", "sqlite")
}
"""Adds one event unless its id is already stored (then it returns no row)."""

_AUDIT_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :name))")
"""PostgreSQL: the transaction-level lock that serialises appends to the audit chain."""

_AUDIT_LAST = (
    select(t.audit_log.c.sequence, t.audit_log.c.hash)
    .order_by(t.audit_log.c.sequence.desc())
    .limit(1)
)
_AUDIT_INSERT = insert(t.audit_log)


class SqlOutbox(_Repository):
    """Events in the ``outbox`` table, written in the unit of work of the change they describe.

    ``position`` is an auto-incrementing key; the unique ``event_id`` stores each event once.
    """

    @translated("adding an event to the outbox")
    def add(self, event: Event) -> None:
        """Store ``event`` in the current unit of work; a duplicate id is a conflict."""
        row = self._conn.execute(
            _OUTBOX_INSERT[self._uow.dialect],
            {
                "event_id": event.id,
                "type": event.type,
                "aggregate": event.aggregate,
                "occurred_at": event.occurred_at,
                "payload": _plain_payload(event),
                "published": False,
            },
        ).first()
        if row is None:
            raise ConflictError(
                f"event {event.id!r} is already in the outbox", code="outbox.duplicate_event"
            )

    @translated("reading the outbox")
    def pending(self, *, limit: int = 100) -> Sequence[OutboxRecord]:
        """Return up to ``limit`` unpublished records, oldest first."""
        if limit <= 0:
            return []
        rows = self._conn.execute(
            select(t.outbox)
            .where(t.outbox.c.published.is_(False))
            .order_by(t.outbox.c.position)
            .limit(limit)
        )
        return [
            OutboxRecord(
                position=int(r.position),
                event=Event(
                    id=r.event_id,
                    type=r.type,
                    occurred_at=r.occurred_at,
                    aggregate=r.aggregate,
                    payload=dict(r.payload),
                ),
                published=bool(r.published),
            )
            for r in rows
        ]

    @translated("marking outbox events published")
    def mark_published(self, event_ids: Sequence[str]) -> None:
        """Mark records as relayed; unknown ids are ignored."""
        for chunk in _chunks(sorted(set(event_ids))):
            self._conn.execute(
                update(t.outbox)
                .where(t.outbox.c.event_id.in_(chunk), t.outbox.c.published.is_(False))
                .values(published=True)
            )


def _entry_from_row(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        sequence=int(row.sequence),
        occurred_at=row.occurred_at,
        actor_id=row.actor_id,
        action=row.action,
        target=row.target,
        outcome=row.outcome,
        details=dict(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class SqlAuditLog(_Repository):
    """The ``audit_log`` table: append-only (triggers refuse UPDATE/DELETE), gap-free, chained.

    Appends are serialised so that sequence and chain never fork: SQLite's ``BEGIN IMMEDIATE``
    already admits one writer at a time; on PostgreSQL the first append of a transaction takes
    ``pg_advisory_xact_lock``, held until commit or rollback. A rolled-back append frees its
    sequence number for the next writer, so the log has no gaps.
    """

    @translated("appending to the audit log")
    def append(
        self,
        *,
        occurred_at: datetime,
        actor_id: str,
        action: str,
        target: str,
        outcome: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append an entry; its sequence follows the last one and its hash seals the chain."""
        conn = self._conn
        if self._uow.dialect == "postgresql" and not self._uow.tx_flags.get("audit_lock"):
            conn.execute(_AUDIT_LOCK, {"name": ".multistore.audit_log"})
            self._uow.tx_flags["audit_lock"] = True
        last = conn.execute(_AUDIT_LAST).first()
        entry = chain_entry(
            sequence=1 if last is None else int(last.sequence) + 1,
            occurred_at=occurred_at,
            actor_id=actor_id,
            action=action,
            target=target,
            outcome=outcome,
            details=details,
            prev_hash="" if last is None else str(last.hash),
        )
        conn.execute(
            _AUDIT_INSERT,
            {
                "sequence": entry.sequence,
                "occurred_at": entry.occurred_at,
                "actor_id": entry.actor_id,
                "action": entry.action,
                "target": entry.target,
                "outcome": entry.outcome,
                "details": dict(entry.details),
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
            },
        )
        return entry

    @translated("reading the audit log")
    def entries(self, *, since_sequence: int = 0, limit: int | None = None) -> Sequence[AuditEntry]:
        """Return entries with ``sequence > since_sequence`` in order."""
        stmt = (
            select(t.audit_log)
            .where(t.audit_log.c.sequence > since_sequence)
            .order_by(t.audit_log.c.sequence)
        )
        if limit is not None:
            if limit <= 0:
                return []
            stmt = stmt.limit(limit)
        return [_entry_from_row(r) for r in self._conn.execute(stmt)]
