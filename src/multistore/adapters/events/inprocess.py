"""A synchronous, in-process event bus (see :class:`multistore.ports.events.EventBus`)."""

from __future__ import annotations

import logging
import threading

from multistore._validation import check_id
from multistore.ports.events import Event, EventHandler

__all__ = ["InProcessEventBus"]

logger = logging.getLogger(__name__)


class InProcessEventBus:
    """Calls subscribed handlers in the publishing thread, in subscription order.

    A handler that raises is logged (logger ``multistore.adapters.events.inprocess``) and counted
    in :attr:`failures`; the other handlers still receive the event.

    Examples:
        >>> bus = InProcessEventBus()
        >>> seen = []
        >>> bus.subscribe("*", lambda event: seen.append(event.type))
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[EventHandler]] = {}
        self._lock = threading.Lock()
        self.failures = 0

    def subscribe(self, event_type: str, handler: EventHandler) -> None:
        """Register ``handler`` for ``event_type`` (``"*"`` for every type)."""
        check_id(event_type, "event_type")
        with self._lock:
            self._handlers.setdefault(event_type, []).append(handler)

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to the handlers of its type, then to the ``"*"`` handlers."""
        with self._lock:
            handlers = [*self._handlers.get(event.type, ()), *self._handlers.get("*", ())]
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # a consumer's bug must not stop delivery to the others
                with self._lock:
                    self.failures += 1
                logger.exception("event handler %r failed on %s %s", handler, event.type, event.id)
