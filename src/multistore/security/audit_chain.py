"""The audit log's hash chain: how each entry's hash is computed and how a chain is verified.

Every adapter of :class:`~multistore.ports.security.AuditLog` builds entries with
:func:`chain_entry`, so the memory, SQLite and PostgreSQL logs produce the same hashes for the same
entries, and :func:`verify_chain` can check any of them. The hash is SHA-256 over a canonical JSON
document of the entry's fields (sorted keys, no spaces, UTC timestamp with microseconds) plus the
previous entry's hash: changing, removing or reordering any entry breaks every later link.

Examples:
    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    >>> first = chain_entry(sequence=1, occurred_at=at, actor_id="u1", action="stores.create",
    ...                     target="store:SH-001", outcome="ok", details={}, prev_hash="")
    >>> verify_chain([first])
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from multistore.errors import ValidationError
from multistore.ports.security import AuditEntry

__all__ = [
    "canonical_details",
    "chain_entry",
    "entry_hash",
    "first_break",
    "hash_template",
    "verify_chain",
]


def canonical_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``details`` as plain JSON data (what a database returns after storing it).

    Tuples become lists; values JSON cannot hold (datetimes, Decimals, enums) become strings.
    Adapters store this form so that an entry reads back exactly as it was hashed.
    """
    if not details:
        return {}
    loaded: dict[str, Any] = json.loads(
        json.dumps(dict(details), sort_keys=True, ensure_ascii=False, default=str)
    )
    return loaded


def _utc_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValidationError(
            "audit timestamps must be timezone-aware (UTC inside multistore)",
            code="validation.naive_datetime",
        )
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    sequence: int,
    occurred_at: datetime,
    actor_id: str,
    action: str,
    target: str,
    outcome: str,
    details: Mapping[str, Any] | None,
    prev_hash: str,
) -> str:
    """Return the SHA-256 hex digest that seals one entry and links it to ``prev_hash``.

    Raises:
        ValidationError: ``validation.naive_datetime`` for a timestamp without a time zone.
    """
    document = {
        "sequence": sequence,
        "occurred_at": _utc_text(occurred_at),
        "actor_id": actor_id,
        "action": action,
        "target": target,
        "outcome": outcome,
        "details": canonical_details(details),
        "prev_hash": prev_hash,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_template(
    *,
    occurred_at: datetime,
    actor_id: str,
    action: str,
    target: str,
    outcome: str,
    details: Mapping[str, Any] | None,
) -> tuple[str, str, str]:
    """Return the text :func:`entry_hash` hashes, split around its two chain fields.

    ``before + prev_hash + middle + str(sequence) + after`` is exactly the canonical document of
    the entry, so a database can seal an entry in the same statement that reads the previous
    one: the SHA-256 of that text (UTF-8) is the entry's hash. (The keys sort as ``action``,
    ``actor_id``, ``details``, ``occurred_at``, ``outcome``, ``prev_hash``, ``sequence``,
    ``target``; a hash is hex and a sequence an int, so neither needs escaping.)

    Raises:
        ValidationError: ``validation.naive_datetime`` for a timestamp without a time zone.

    Examples:
        >>> from datetime import UTC, datetime
        >>> at = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        >>> fields = dict(occurred_at=at, actor_id="u1", action="a", target="t", outcome="ok",
        ...               details={})
        >>> before, middle, after = hash_template(**fields)
        >>> import hashlib
        >>> text = before + "ab" + middle + "7" + after
        >>> hashlib.sha256(text.encode()).hexdigest() == entry_hash(
        ...     sequence=7, prev_hash="ab", **fields)
        True
    """
    head = {
        "action": action,
        "actor_id": actor_id,
        "details": canonical_details(details),
        "occurred_at": _utc_text(occurred_at),
        "outcome": outcome,
    }
    text = json.dumps(head, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    tail = json.dumps(target, ensure_ascii=False)
    return text[:-1] + ',"prev_hash":"', '","sequence":', ',"target":' + tail + "}"


def chain_entry(
    *,
    sequence: int,
    occurred_at: datetime,
    actor_id: str,
    action: str,
    target: str,
    outcome: str,
    details: Mapping[str, Any] | None,
    prev_hash: str,
) -> AuditEntry:
    """Build the sealed :class:`AuditEntry` that follows an entry whose hash is ``prev_hash``.

    The timestamp is normalised to UTC and ``details`` to plain JSON data.

    Raises:
        ValidationError: ``validation.naive_datetime`` for a timestamp without a time zone.
    """
    clean = canonical_details(details)
    at = occurred_at
    _utc_text(at)
    at = at.astimezone(UTC)
    digest = entry_hash(
        sequence=sequence,
        occurred_at=at,
        actor_id=actor_id,
        action=action,
        target=target,
        outcome=outcome,
        details=clean,
        prev_hash=prev_hash,
    )
    return AuditEntry(
        sequence=sequence,
        occurred_at=at,
        actor_id=actor_id,
        action=action,
        target=target,
        outcome=outcome,
        details=clean,
        prev_hash=prev_hash,
        hash=digest,
    )


def first_break(entries: Sequence[AuditEntry], *, prev_hash: str | None = None) -> int | None:
    """Return the sequence of the first entry that breaks the chain, or ``None`` if none does.

    An entry breaks the chain when its hash does not match its fields, when it does not link to
    the entry before it, or when its sequence does not follow the previous one.

    Args:
        entries: Consecutive entries, oldest first (a whole log or a slice of one).
        prev_hash: Hash the first entry must link to; by default the first entry's own
            ``prev_hash`` is trusted (``""`` is required when it has sequence 1).
    """
    expected_prev = prev_hash
    expected_seq: int | None = None
    for entry in entries:
        if expected_prev is None:
            expected_prev = "" if entry.sequence == 1 else entry.prev_hash
        if entry.prev_hash != expected_prev:
            return entry.sequence
        if expected_seq is not None and entry.sequence != expected_seq:
            return entry.sequence
        recomputed = entry_hash(
            sequence=entry.sequence,
            occurred_at=entry.occurred_at,
            actor_id=entry.actor_id,
            action=entry.action,
            target=entry.target,
            outcome=entry.outcome,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            return entry.sequence
        expected_prev = entry.hash
        expected_seq = entry.sequence + 1
    return None


def verify_chain(entries: Sequence[AuditEntry], *, prev_hash: str | None = None) -> bool:
    """Return whether ``entries`` form an intact chain (see :func:`first_break`).

    Examples:
        >>> verify_chain([])
        True
    """
    return first_break(entries, prev_hash=prev_hash) is None
