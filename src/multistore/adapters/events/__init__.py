"""Event buses: :class:`InProcessEventBus` (the embedded default)."""

from multistore.adapters.events.inprocess import InProcessEventBus

__all__ = ["InProcessEventBus"]
