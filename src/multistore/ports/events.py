"""Domain events, the transactional outbox that stores them, and the bus that delivers them.

A service writes its events to the outbox in the same unit of work as the change itself; a relay
later publishes pending outbox records to the :class:`EventBus` and marks them published. So an
event is never lost when the change commits and never emitted when it rolls back; consumers must
be idempotent (the same event id may be delivered more than once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

__all__ = ["Event", "EventBus", "EventHandler", "Outbox", "OutboxRecord"]


@attrs.frozen
class Event:
    """Something that happened in the domain.

    Attributes:
        id: Unique event id (consumers deduplicate on it).
        type: Dotted event type (``"stock.reserved"``, ``"order.received"``).
        occurred_at: When it happened (UTC).
        aggregate: What it is about (``"store:SH-001"``, ``"order:ord_1"``).
        payload: JSON-serialisable facts (ids, ints, strings; money as minor units + currency).
    """

    id: str
    type: str
    occurred_at: datetime
    aggregate: str
    payload: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class OutboxRecord:
    """An event waiting in (or relayed from) the outbox, in insertion order."""

    position: int
    event: Event
    published: bool = False


EventHandler = Callable[[Event], None]


@runtime_checkable
class Outbox(Protocol):
    """Events stored with the change that caused them."""

    def add(self, event: Event) -> None:
        """Store ``event`` in the current unit of work.

        Guarantees: visible to :meth:`pending` only after the unit of work commits; an event id is
        stored at most once (a duplicate id raises ``ConflictError``, code
        ``outbox.duplicate_event``); the payload reads back as plain JSON data (tuples become
        lists; a payload JSON cannot hold raises ``ValidationError``, code
        ``outbox.invalid_payload``).
        """
        ...

    def pending(self, *, limit: int = 100) -> Sequence[OutboxRecord]:
        """Return up to ``limit`` unpublished records, oldest first."""
        ...

    def mark_published(self, event_ids: Sequence[str]) -> None:
        """Mark records as relayed. Unknown ids are ignored (idempotent)."""
        ...


@runtime_checkable
class EventBus(Protocol):
    """Delivers events to subscribers (in-process, or across processes through Redis Streams)."""

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every handler subscribed to its type (or to ``"*"``).

        Guarantees: at-least-once; a handler's exception does not stop delivery to the others.
        """
        ...

    def subscribe(self, event_type: str, handler: EventHandler) -> None:
        """Register ``handler`` for ``event_type`` (``"*"`` for every type)."""
        ...
