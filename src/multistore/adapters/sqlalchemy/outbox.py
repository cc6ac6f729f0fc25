"""The transactional outbox and the hash-chained audit log in SQL."""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy import exc as sa_exc

from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.errors import commit_unknown
from multistore.adapters.sqlalchemy.repositories import (
    _chunks,
    _Repository,
    dialect_insert,
    translated,
)
from multistore.errors import ConflictError, StorageError, TransientStorageError, ValidationError
from multistore.ports.events import Event, OutboxRecord
from multistore.ports.security import AuditEntry
from multistore.security.audit_chain import canonical_details, chain_entry, hash_template

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

_AUDIT_LAST = (
    select(t.audit_log.c.sequence, t.audit_log.c.hash)
    .order_by(t.audit_log.c.sequence.desc())
    .limit(1)
)
_AUDIT_INSERT = insert(t.audit_log)

_AUDIT_HEAD = "audit_head"
"""The ``multistore_settings`` row holding the chain's head: ``"sequence:hash:prev_hash"``."""

_PG_AUDIT_APPEND = """
    WITH head AS (
        UPDATE multistore_settings AS s
        SET value = (CAST(split_part(s.value, ':', 1) AS bigint) + 1) || ':'
            || encode(sha256(convert_to(
                   %(before)s || split_part(s.value, ':', 2) || %(middle)s
                   || (CAST(split_part(s.value, ':', 1) AS bigint) + 1) || %(after)s,
                   'UTF8')), 'hex')
            || ':' || split_part(s.value, ':', 2)
        WHERE s.name = 'audit_head'
        RETURNING CAST(split_part(s.value, ':', 1) AS bigint) AS sequence,
                  split_part(s.value, ':', 2) AS hash,
                  split_part(s.value, ':', 3) AS prev_hash
    ),
    added AS (
        INSERT INTO audit_log
            (sequence, occurred_at, actor_id, action, target, outcome, details, prev_hash, hash)
        SELECT head.sequence, %(occurred_at)s, %(actor_id)s, %(action)s, %(target)s,
               %(outcome)s, CAST(%(details)s AS json), head.prev_hash, head.hash
        FROM head
        RETURNING sequence, prev_hash, hash
    )
    SELECT sequence, prev_hash, hash FROM added
    UNION ALL
    SELECT NULL, CAST('multistore:no-audit-head:' || missing.n AS integer)::text, NULL
    FROM (SELECT count(*) AS n FROM head) AS missing
    WHERE missing.n = 0
"""
"""PostgreSQL: append the sealed next entry of the audit chain in one statement.

The chain's head (last sequence and hash) lives in one ``multistore_settings`` row. The
``UPDATE`` of that row is the chain's lock: appenders queue on it, and each one, once it holds
the row, reads the newest committed head (READ COMMITTED re-reads an updated row), so sequence
and chain never fork; the lock is held until commit or rollback, and a rolled-back append
frees its sequence for the next writer (no gaps). The new hash is computed by the database
from :func:`~multistore.security.audit_chain.hash_template` (the same SHA-256 over the same
canonical text as in Python; the caller checks it). Without a head row the statement fails
(``multistore:no-audit-head``) rather than appending nothing.
"""

_PG_AUDIT_HEAD_INIT = (
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.multistore.audit_log'))",
    """
    INSERT INTO multistore_settings (name, value)
    SELECT 'audit_head', COALESCE(MAX(last.sequence), 0) || ':' || COALESCE(MAX(last.hash), '')
                         || ':' || COALESCE(MAX(last.prev_hash), '')
    FROM (SELECT a.sequence, a.hash, a.prev_hash FROM audit_log AS a
          ORDER BY a.sequence DESC LIMIT 1) AS last
    ON CONFLICT (name) DO NOTHING
    """,
)
"""PostgreSQL: create the head row from the last entry (once per database, under a lock).

A transaction that does not see the row runs both statements: the lock waits for a transaction
creating it to end, then the ``INSERT`` adds it only if that one rolled back.
"""

_PG_AUDIT_HEAD_REPAIR = (
    _PG_AUDIT_HEAD_INIT[0],
    """
    INSERT INTO multistore_settings (name, value)
    SELECT 'audit_head', last.sequence || ':' || last.hash || ':' || last.prev_hash
    FROM (SELECT a.sequence, a.hash, a.prev_hash FROM audit_log AS a
          ORDER BY a.sequence DESC LIMIT 1) AS last
    ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value
    WHERE CAST(split_part(multistore_settings.value, ':', 1) AS bigint)
          < CAST(split_part(EXCLUDED.value, ':', 1) AS bigint)
    """,
)
"""PostgreSQL: move a head row that fell behind ``audit_log`` up to the last entry.

An entry written without moving the head (an older writer during a rolling deploy, a restore or
a backfill) makes the next append collide on ``pk_audit_log``. This rebuilds the head from the
last entry; the ``WHERE`` re-checked under the row's lock only ever moves the head forward, so a
concurrent appender's newer head is never overwritten.
"""

_HEADED: weakref.WeakSet[Engine] = weakref.WeakSet()
"""Engines whose database is known to have the audit head row."""


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


_NO_HEAD = "multistore:no-audit-head"
_NO_HEAD_SQLSTATE = "22P02"  # invalid_text_representation: the marker's failed cast
_AUDIT_PK = "pk_audit_log"


def _driver_error(exc: BaseException) -> tuple[str | None, str]:
    """The driver's own SQLSTATE and message behind ``exc`` (never SQLAlchemy's, with the SQL)."""
    orig = getattr(exc, "orig", None) or exc
    state = getattr(orig, "sqlstate", None)
    return (state if isinstance(state, str) else None), str(orig)


def _head_behind(exc: BaseException) -> bool:
    """Whether ``exc`` is the append's sequence colliding with an entry the head row missed."""
    orig = getattr(exc, "orig", None) or exc
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
    return _driver_error(exc)[0] == "23505" and constraint == _AUDIT_PK


def _head_stale() -> TransientStorageError:
    return TransientStorageError(
        "the audit chain's head row was behind the last entry of audit_log (an entry written "
        "without it, e.g. by a restore or backfill); it was moved to the last entry, and the "
        "transaction was rolled back and may be retried as a whole",
        code="storage.transient",
    )


def _head_lost() -> TransientStorageError:
    return TransientStorageError(
        "the audit chain's head row was missing; it is recreated from the last entry, and the "
        "transaction was rolled back and may be retried as a whole",
        code="storage.transient",
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
    already admits one writer at a time; on PostgreSQL an append updates the chain's head row
    (``multistore_settings``: last sequence and hash) and inserts the sealed new entry in one
    statement (:data:`_PG_AUDIT_APPEND`); the head row's lock, held until commit or rollback, is
    the chain's lock. A rolled-back append frees its sequence number for the next writer, so the
    log has no gaps. The head row is only a cache of the last entry: the chain itself, verified
    by :func:`~multistore.security.audit_chain.verify_chain`, is the ``audit_log`` table, so a
    tampered head shows up as a break at the next entry.
    :meth:`append_and_commit` sends the append and the ``COMMIT`` in one round trip.
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
        if self._uow.dialect == "postgresql":
            return self._append_pg(
                occurred_at=occurred_at,
                actor_id=actor_id,
                action=action,
                target=target,
                outcome=outcome,
                details=details,
            )
        conn = self._conn
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

    def _ensure_head(self) -> None:
        engine = self._uow._storage.engine
        if engine in _HEADED:
            return
        conn = self._conn
        known = conn.execute(
            select(t.settings.c.name).where(t.settings.c.name == _AUDIT_HEAD)
        ).first()
        if known is None:  # create it in this transaction; mark it once seen committed
            for statement in _PG_AUDIT_HEAD_INIT:
                conn.exec_driver_sql(statement)
        else:
            _HEADED.add(engine)

    def _pg_params(
        self,
        *,
        occurred_at: datetime,
        actor_id: str,
        action: str,
        target: str,
        outcome: str,
        details: Mapping[str, Any] | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        fields: dict[str, Any] = {
            "occurred_at": occurred_at,
            "actor_id": actor_id,
            "action": action,
            "target": target,
            "outcome": outcome,
            "details": canonical_details(details),
        }
        before, middle, after = hash_template(**fields)
        params = {
            **fields,
            "occurred_at": occurred_at.astimezone(UTC),
            "details": json.dumps(fields["details"], sort_keys=True, ensure_ascii=False),
            "before": before,
            "middle": middle,
            "after": after,
        }
        return fields, params

    def _sealed(self, fields: Mapping[str, Any], rows: Sequence[Sequence[Any]]) -> AuditEntry:
        sequence, prev_hash, sealed = rows[0]
        entry = chain_entry(sequence=int(sequence), prev_hash=str(prev_hash), **fields)
        if entry.hash != sealed:  # pragma: no cover - database and Python disagree on the text
            raise StorageError(
                f"the database sealed audit entry {sequence} with hash {sealed}, expected "
                f"{entry.hash}; check that the database encoding is UTF8",
                code="storage.error",
            )
        return entry

    def _no_head(self, exc: BaseException) -> bool:
        # Only the driver's error decides: SQLAlchemy's text of ``exc`` quotes the statement,
        # which holds the marker, so matching it would take every failure for a missing head.
        state, message = _driver_error(exc)
        if state != _NO_HEAD_SQLSTATE or _NO_HEAD not in message:
            return False
        _HEADED.discard(self._uow._storage.engine)
        return True

    def _repair_head(self) -> TransientStorageError:
        """Roll the unit of work back, move the head up to the last entry, commit that alone."""
        uow = self._uow
        uow.rollback()
        conn = self._conn
        for statement in _PG_AUDIT_HEAD_REPAIR:
            conn.exec_driver_sql(statement)
        uow.commit()
        return _head_stale()

    def _failed(self, exc: BaseException) -> TransientStorageError | None:
        """The transient error that replaces ``exc`` when the head row is at fault, else None."""
        if self._no_head(exc):
            return _head_lost()
        if _head_behind(exc):
            return self._repair_head()
        return None

    def _append_pg(self, **kwargs: Any) -> AuditEntry:
        self._ensure_head()
        fields, params = self._pg_params(**kwargs)
        try:
            rows = self._driver_rows(_PG_AUDIT_APPEND, params)
        except sa_exc.DBAPIError as exc:
            replaced = self._failed(exc)
            if replaced is not None:
                raise replaced from exc
            raise
        return self._sealed(fields, rows)

    @translated("appending to the audit log and committing")
    def append_and_commit(
        self,
        *,
        occurred_at: datetime,
        actor_id: str,
        action: str,
        target: str,
        outcome: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append an entry as :meth:`append` does, then commit the unit of work.

        On PostgreSQL the append and the ``COMMIT`` go to the server together (one round trip,
        psycopg's pipeline mode), so the chain's lock is held for the server's work only, never
        while this process waits to be scheduled: concurrent writers no longer queue behind a
        lock held across a network round trip. If the database rejects the append, the commit
        is not applied and nothing of the unit of work is written. If the connection is lost
        during the round trip, the ``COMMIT`` may or may not have been applied.

        Raises:
            TransientStorageError: the database was busy, or the chain's head row was missing
                or behind (it is repaired); nothing was committed.
            StorageError: ``storage.commit_unknown`` when the connection was lost while the
                append and the ``COMMIT`` were on the way: the unit of work may have been
                committed, so check before repeating it.
        """
        uow = self._uow
        if uow.dialect != "postgresql":
            entry = self.append(
                occurred_at=occurred_at,
                actor_id=actor_id,
                action=action,
                target=target,
                outcome=outcome,
                details=details,
            )
            uow.commit()
            return entry
        self._ensure_head()
        fields, params = self._pg_params(
            occurred_at=occurred_at,
            actor_id=actor_id,
            action=action,
            target=target,
            outcome=outcome,
            details=details,
        )
        conn = self._conn
        proxied = conn.connection
        dbapi = conn.dialect.loaded_dbapi
        driver: Any = proxied.dbapi_connection
        try:
            with driver.pipeline(), driver.cursor() as cursor:
                cursor.execute(_PG_AUDIT_APPEND, params, prepare=True)
                driver.commit()
                rows = cursor.fetchall()
        except dbapi.Error as exc:
            if conn.dialect.is_disconnect(exc, driver, None):
                conn.invalidate(exc)
                raise commit_unknown(exc) from exc  # the COMMIT may have reached the server
            wrapped = sa_exc.DBAPIError.instance(_PG_AUDIT_APPEND, dict(params), exc, dbapi.Error)
            replaced = self._failed(wrapped)
            if replaced is not None:
                raise replaced from exc
            raise wrapped from exc
        entry = self._sealed(fields, rows)
        uow.commit()  # the driver has committed: this only closes the unit's bookkeeping
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
