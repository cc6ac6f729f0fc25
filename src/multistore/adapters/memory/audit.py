"""The in-memory audit log: append-only and hash-chained.

See :class:`multistore.ports.security.AuditLog`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from multistore.adapters.memory._state import Transaction
from multistore.ports.security import AuditEntry
from multistore.security.audit_chain import chain_entry

__all__ = ["MemoryAuditLog"]


class MemoryAuditLog:
    """Entries appended in a unit of work become part of the log when it commits."""

    def __init__(self, tx: Callable[[], Transaction]) -> None:
        self._tx = tx

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
        tx = self._tx()
        committed = tx.state.audit
        last = tx.audit[-1] if tx.audit else (committed[-1] if committed else None)
        entry = chain_entry(
            sequence=len(committed) + len(tx.audit) + 1,
            occurred_at=occurred_at,
            actor_id=actor_id,
            action=action,
            target=target,
            outcome=outcome,
            details=details,
            prev_hash=last.hash if last is not None else "",
        )
        tx.audit.append(entry)
        return entry

    def entries(self, *, since_sequence: int = 0, limit: int | None = None) -> Sequence[AuditEntry]:
        """Return entries with ``sequence > since_sequence`` in order."""
        tx = self._tx()
        start = max(0, since_sequence)
        view = [*tx.state.audit[start:], *tx.audit] if start <= len(tx.state.audit) else []
        if start > len(tx.state.audit):
            view = tx.audit[start - len(tx.state.audit) :]
        return view if limit is None else view[: max(0, limit)]
