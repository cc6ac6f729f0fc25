"""An :class:`~multistore.ports.events.EventBus` over Redis Streams, for many app processes.

Every event is appended with ``XADD`` to one stream. Each consuming application reads it through
its own consumer group (``XREADGROUP``), so every group sees every event once, and the processes
inside a group share the work. A message is acknowledged (``XACK``) only after every handler
succeeded; a failed one stays pending and is claimed again by :meth:`RedisStreamsEventBus.poll`
once it has been idle for ``reclaim_idle_ms``. Delivery is therefore at-least-once; handlers
must be idempotent on ``event.id`` (the outbox relay may also publish an event twice).

An entry that is not a multistore event (missing or unreadable fields) never reaches a handler
and never blocks the group: it is copied to the dead-letter stream ``<stream>:dead`` (its raw
fields plus ``dead_letter_error``, ``dead_letter_entry_id`` and ``dead_letter_group``),
acknowledged, and logged as a warning; delivery goes on with the next entries.

Examples:
    >>> bus = RedisStreamsEventBus.from_url("redis://127.0.0.1:6379/0")  # doctest: +SKIP
    >>> bus.subscribe("stock.reserved", print)  # doctest: +SKIP
    >>> bus.publish(event)  # doctest: +SKIP
    >>> bus.poll(block_ms=100)  # delivers to print  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

import redis
import redis.exceptions

from multistore.errors import AdapterError, ValidationError
from multistore.ports.events import Event, EventHandler

__all__ = ["RedisStreamsEventBus", "decode_event", "encode_event"]

log = logging.getLogger(__name__)

_FIELDS = ("id", "type", "occurred_at", "aggregate", "payload")


def encode_event(event: Event) -> dict[str, str]:
    """Flatten an event into the string fields of one stream entry.

    Raises:
        ValidationError: ``events.unserialisable_payload`` when the payload is not JSON data.
    """
    try:
        payload = json.dumps(dict(event.payload), ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"payload of event {event.id!r} is not JSON-serialisable ({exc}); store money as "
            "minor units plus a currency code and times as ISO strings",
            code="events.unserialisable_payload",
        ) from exc
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "aggregate": event.aggregate,
        "payload": payload,
    }


def decode_event(fields: dict[str, str]) -> Event:
    """Rebuild an event from a stream entry written by :func:`encode_event`.

    Raises:
        AdapterError: ``events.corrupt_entry`` when a field is missing or malformed.
    """
    try:
        return Event(
            id=fields["id"],
            type=fields["type"],
            occurred_at=datetime.fromisoformat(fields["occurred_at"]),
            aggregate=fields["aggregate"],
            payload=json.loads(fields["payload"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AdapterError(
            f"stream entry is not a multistore event (needs fields {', '.join(_FIELDS)}): {exc}",
            code="events.corrupt_entry",
        ) from exc


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn redis-py exceptions into :class:`AdapterError` at one place."""
    try:
        yield
    except redis.exceptions.ConnectionError as exc:
        raise AdapterError(
            f"Redis is unreachable while trying to {action}; check the URL and that the server "
            f"is running ({exc})",
            code="events.unavailable",
        ) from exc
    except redis.exceptions.RedisError as exc:
        raise AdapterError(f"Redis failed to {action}: {exc}", code="events.redis_error") from exc


class RedisStreamsEventBus:
    """Event bus over one Redis stream and one consumer group.

    Args:
        client: A ``redis.Redis`` client created with ``decode_responses=True``.
        stream: Stream key that holds the events.
        group: Consumer group of this application (each group receives every event).
        consumer: Name of this process within the group (unique per process).
        maxlen: Approximate cap on the stream length (older entries are trimmed).
        reclaim_idle_ms: A pending message idle this long is claimed and delivered again.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        stream: str = "multistore:events",
        group: str = "multistore",
        consumer: str = "consumer-1",
        maxlen: int = 100_000,
        reclaim_idle_ms: int = 60_000,
    ) -> None:
        self._client = client
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self._maxlen = maxlen
        self._reclaim_idle_ms = reclaim_idle_ms
        self._handlers: dict[str, list[EventHandler]] = defaultdict(list)
        self._group_ready = False

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisStreamsEventBus:
        """Connect to ``redis://host:port/db`` and build a bus (see the class for options)."""
        return cls(redis.Redis.from_url(url, decode_responses=True), **options)

    def subscribe(self, event_type: str, handler: EventHandler) -> None:
        """Register ``handler`` for ``event_type`` (``"*"`` for every type) in this process."""
        self._handlers[event_type].append(handler)

    def publish(self, event: Event) -> None:
        """Append ``event`` to the stream (``XADD``); consumers receive it on their next poll."""
        fields = encode_event(event)
        with _translated("publish an event"):
            self._client.xadd(self.stream, fields, maxlen=self._maxlen, approximate=True)  # type: ignore[arg-type]

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        with _translated("create the consumer group"):
            try:
                self._client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
            except redis.exceptions.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._group_ready = True

    def poll(self, *, block_ms: int = 0, count: int = 100) -> int:
        """Deliver new (and long-idle pending) events to the handlers; return how many were acked.

        Entries that are not multistore events go to :attr:`dead_letter_stream` (acknowledged,
        logged, not counted) and do not stop the entries after them.

        Args:
            block_ms: Wait up to this long for new events when none are ready (0: don't wait).
            count: Most entries to read in one call.
        """
        self._ensure_group()
        entries: list[tuple[str, dict[str, str]]] = []
        with _translated("read events"):
            claimed = self._client.xautoclaim(
                self.stream, self.group, self.consumer, self._reclaim_idle_ms, "0-0", count=count
            )
            entries.extend(claimed[1])
            response = self._client.xreadgroup(
                self.group,
                self.consumer,
                {self.stream: ">"},
                count=count,
                block=block_ms or None,
            )
        batches = cast("list[tuple[str, list[tuple[str, dict[str, str]]]]]", response or [])
        for _stream, messages in batches:
            entries.extend(messages)
        acked = 0
        for message_id, fields in entries:
            if fields is None:  # trimmed away while pending
                continue
            try:
                event = decode_event(fields)
            except AdapterError as exc:
                self._dead_letter(message_id, fields, exc)
                continue
            if self._deliver(event):
                with _translated("acknowledge an event"):
                    self._client.xack(self.stream, self.group, message_id)
                acked += 1
        return acked

    @property
    def dead_letter_stream(self) -> str:
        """The stream that receives entries which are not multistore events."""
        return f"{self.stream}:dead"

    def _dead_letter(self, message_id: str, fields: dict[str, str], error: AdapterError) -> None:
        """Copy a corrupt entry to the dead-letter stream and acknowledge it, in one MULTI."""
        dead = {
            **fields,
            "dead_letter_error": f"[{error.code}] {error.message}",
            "dead_letter_entry_id": message_id,
            "dead_letter_group": self.group,
        }
        with _translated("move a corrupt entry to the dead-letter stream"):
            pipe = self._client.pipeline(transaction=True)
            pipe.xadd(self.dead_letter_stream, dead, maxlen=self._maxlen, approximate=True)  # type: ignore[arg-type]
            pipe.xack(self.stream, self.group, message_id)
            pipe.execute()
        log.warning(
            "moved entry %s of stream %s to %s: %s",
            message_id,
            self.stream,
            self.dead_letter_stream,
            error.message,
        )

    def _deliver(self, event: Event) -> bool:
        ok = True
        for handler in [*self._handlers.get(event.type, ()), *self._handlers.get("*", ())]:
            try:
                handler(event)
            except Exception:  # a failing handler must not stop the others
                log.exception("handler %r failed on event %s (%s)", handler, event.id, event.type)
                ok = False
        return ok

    def pending_count(self) -> int:
        """How many delivered-but-unacknowledged messages the group holds."""
        self._ensure_group()
        with _translated("count pending events"):
            info = self._client.xpending(self.stream, self.group)
        return int(info["pending"])

    def close(self) -> None:
        """Close the Redis connection pool."""
        self._client.close()
