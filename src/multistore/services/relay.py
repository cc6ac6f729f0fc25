"""The outbox relay: publishes committed events to the bus, then marks them published."""

from __future__ import annotations

from multistore.ports.events import EventBus
from multistore.ports.storage import UnitOfWorkFactory

__all__ = ["relay_outbox"]


def relay_outbox(uow_factory: UnitOfWorkFactory, bus: EventBus, *, limit: int = 100) -> int:
    """Publish up to ``limit`` pending outbox events, oldest first, and mark them published.

    Events are read in one unit of work, published with no unit of work open (so handlers may
    call services), and marked in another. Delivery is at least once: if the process stops
    between publishing and marking, the next relay publishes them again, so consumers must
    deduplicate on ``event.id``.

    Args:
        uow_factory: Opens units of work on the storage holding the outbox.
        bus: Where to publish.
        limit: Most events to relay in this call.

    Returns:
        How many events were published.

    Examples:
        >>> from multistore.adapters.memory import MemoryStorage
        >>> from multistore.adapters.events import InProcessEventBus
        >>> relay_outbox(MemoryStorage().unit_of_work, InProcessEventBus())
        0
    """
    with uow_factory() as uow:
        records = list(uow.outbox.pending(limit=limit))
    for record in records:
        bus.publish(record.event)
    if records:
        with uow_factory() as uow:
            uow.outbox.mark_published([r.event.id for r in records])
            uow.commit()
    return len(records)
