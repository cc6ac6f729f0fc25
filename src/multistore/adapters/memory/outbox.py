"""The in-memory transactional outbox (see :class:`multistore.ports.events.Outbox`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from multistore.adapters.memory._state import Transaction
from multistore.errors import ConflictError, ValidationError
from multistore.ports.events import Event, OutboxRecord

__all__ = ["MemoryOutbox", "plain_payload"]


def plain_payload(event: Event) -> dict[str, Any]:
    """Return the event's payload as plain JSON data, as a database would store it.

    Raises:
        ValidationError: ``outbox.invalid_payload`` when the payload is not JSON-serialisable.
    """
    try:
        text = json.dumps(dict(event.payload), sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"payload of event {event.id!r} is not JSON-serialisable ({exc}); use ids, ints, "
            "strings and money as minor units plus currency",
            code="outbox.invalid_payload",
        ) from None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class MemoryOutbox:
    """Events stored with the change that caused them, visible to others after commit."""

    def __init__(self, tx: Callable[[], Transaction]) -> None:
        self._tx = tx

    def add(self, event: Event) -> None:
        """Store ``event`` in the current unit of work; a duplicate id is a conflict."""
        tx = self._tx()
        stored = attrs.evolve(event, payload=plain_payload(event))
        if event.id in tx.outbox_ids:
            raise ConflictError(
                f"event {event.id!r} is already in the outbox", code="outbox.duplicate_event"
            )
        position = len(tx.outbox) + 1
        tx.outbox.set(position, OutboxRecord(position=position, event=stored))
        tx.outbox_ids.set(event.id, position)
        tx.outbox_unpublished.set(position, position)

    def pending(self, *, limit: int = 100) -> Sequence[OutboxRecord]:
        """Return up to ``limit`` unpublished records, oldest first."""
        tx = self._tx()
        out: list[OutboxRecord] = []
        if limit <= 0:
            return out
        for position in tx.outbox_unpublished.iter_keys():
            record = tx.outbox.get(position)
            if record is not None:
                out.append(record)
                if len(out) >= limit:
                    break
        return out

    def mark_published(self, event_ids: Sequence[str]) -> None:
        """Mark records as relayed; unknown ids are ignored."""
        tx = self._tx()
        for event_id in event_ids:
            position = tx.outbox_ids.get(event_id)
            if position is None:
                continue
            record = tx.outbox.get(position)
            if record is not None and not record.published:
                tx.outbox.set(position, attrs.evolve(record, published=True))
                tx.outbox_unpublished.delete(position)
