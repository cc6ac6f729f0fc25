"""Contract of :class:`multistore.ports.events.Outbox`."""

from __future__ import annotations

import pytest

from multistore.errors import ConflictError
from multistore.ports.events import Event
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.builders import T0
from multistore.testing.contracts._base import ContractBase

__all__ = ["OutboxContract"]


def _event(event_id: str, n: int = 1) -> Event:
    return Event(
        id=event_id,
        type="stock.received",
        occurred_at=T0,
        aggregate=f"stock:{event_id}",
        payload={"store_id": "S-1", "quantity": n, "price": {"minor": 1230, "currency": "CNY"}},
    )


def _drain(factory: UnitOfWorkFactory) -> None:
    """Mark whatever other runs left pending as published, so our events come first."""
    while True:
        with factory() as uow:
            left = uow.outbox.pending(limit=500)
            if not left:
                return
            uow.outbox.mark_published([r.event.id for r in left])
            uow.commit()


def _pending_ids(factory: UnitOfWorkFactory, uid: str) -> list[str]:
    with factory() as uow:
        return [r.event.id for r in uow.outbox.pending(limit=1000) if uid in r.event.id]


class OutboxContract(ContractBase):
    """Events become pending with their unit of work's commit, in order, and are marked once."""

    def test_events_are_visible_only_after_commit(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Events are visible only after commit."""
        _drain(uow_factory)
        with uow_factory() as uow:
            uow.outbox.add(_event(f"E-{uid}-1"))
        assert _pending_ids(uow_factory, uid) == []
        with uow_factory() as uow:
            uow.outbox.add(_event(f"E-{uid}-1"))
            uow.outbox.add(_event(f"E-{uid}-2", 2))
            uow.commit()
        with uow_factory() as uow:
            records = [r for r in uow.outbox.pending(limit=1000) if uid in r.event.id]
        assert [_event(f"E-{uid}-1"), _event(f"E-{uid}-2", 2)] == [r.event for r in records]
        assert records[0].position < records[1].position
        assert not any(r.published for r in records)

    def test_rollback_discards_events(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Rollback discards events."""
        _drain(uow_factory)
        with uow_factory() as uow:
            uow.outbox.add(_event(f"E-{uid}"))
            uow.rollback()
            uow.commit()
        assert _pending_ids(uow_factory, uid) == []

    def test_pending_respects_the_limit_oldest_first(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Pending respects the limit oldest first."""
        _drain(uow_factory)
        with uow_factory() as uow:
            for i in range(5):
                uow.outbox.add(_event(f"E-{uid}-{i}"))
            uow.commit()
        with uow_factory() as uow:
            assert [f"E-{uid}-0", f"E-{uid}-1"] == [r.event.id for r in uow.outbox.pending(limit=2)]

    def test_mark_published_is_idempotent_and_ignores_unknown_ids(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Mark published is idempotent and ignores unknown ids."""
        _drain(uow_factory)
        with uow_factory() as uow:
            for i in range(3):
                uow.outbox.add(_event(f"E-{uid}-{i}"))
            uow.commit()
        for _ in range(2):
            with uow_factory() as uow:
                uow.outbox.mark_published([f"E-{uid}-0", f"E-{uid}-2", f"unknown-{uid}"])
                uow.commit()
        assert [f"E-{uid}-1"] == _pending_ids(uow_factory, uid)

    def test_mark_published_rolls_back_with_its_unit_of_work(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Mark published rolls back with its unit of work."""
        _drain(uow_factory)
        with uow_factory() as uow:
            uow.outbox.add(_event(f"E-{uid}"))
            uow.commit()
        with uow_factory() as uow:
            uow.outbox.mark_published([f"E-{uid}"])
        assert [f"E-{uid}"] == _pending_ids(uow_factory, uid)

    def test_duplicate_event_id_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Duplicate event id is a conflict."""
        with uow_factory() as uow:
            uow.outbox.add(_event(f"E-{uid}"))
            uow.commit()
        with uow_factory() as uow, pytest.raises(ConflictError):
            uow.outbox.add(_event(f"E-{uid}"))
