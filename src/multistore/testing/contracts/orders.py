"""Contract of :class:`multistore.ports.storage.OrderRepository`."""

from __future__ import annotations

import pytest

from multistore.errors import ConflictError, NotFoundError
from multistore.geo import GeoPoint
from multistore.orders.model import OrderStatus
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.builders import sample_order
from multistore.testing.contracts._base import ContractBase

__all__ = ["OrderRepositoryContract"]


class OrderRepositoryContract(ContractBase):
    """Orders are stored once per ``(channel, external_id)`` and follow the status machine."""

    def test_add_then_get_round_trips_every_field(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Add then get round trips every field."""
        order = sample_order(
            f"O-{uid}",
            channel=f"web-{uid}",
            lines=[(f"K1-{uid}", 2, "12.30"), (f"K2-{uid}", 1, "0.05")],
            destination=GeoPoint(30.2741, 120.1551),
            member_id=f"M-{uid}",
        )
        pickup = sample_order(f"O2-{uid}", pickup_store_id=f"S-{uid}", created_at=None)
        with uow_factory() as uow:
            assert order == uow.orders.add(order, fingerprint="fp-1")
            assert pickup == uow.orders.add(pickup, fingerprint="fp-2")
            uow.commit()
        with uow_factory() as uow:
            assert order == uow.orders.get(order.id)
            assert pickup == uow.orders.get(pickup.id)
            assert order == uow.orders.find_by_external_id(order.channel, order.external_id)
            assert uow.orders.find_by_external_id(order.channel, f"nope-{uid}") is None

    def test_same_external_id_and_fingerprint_returns_the_first_order(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Same external id and fingerprint returns the first order."""
        first = sample_order(f"O-{uid}", external_id=f"E-{uid}")
        retry = sample_order(f"O-{uid}-retry", external_id=f"E-{uid}")
        with uow_factory() as uow:
            uow.orders.add(first, fingerprint=f"fp-{uid}")
            uow.commit()
        with uow_factory() as uow:
            assert first == uow.orders.add(retry, fingerprint=f"fp-{uid}")
            uow.commit()
        with uow_factory() as uow, pytest.raises(NotFoundError) as info:
            uow.orders.get(retry.id)
        assert info.value.code == "order.not_found"

    def test_same_external_id_with_another_fingerprint_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Same external id with another fingerprint is a conflict."""
        first = sample_order(f"O-{uid}", external_id=f"E-{uid}")
        changed = sample_order(
            f"O-{uid}-2", external_id=f"E-{uid}", lines=[(f"K-{uid}", 9, "1.00")]
        )
        with uow_factory() as uow:
            uow.orders.add(first, fingerprint="fp-a")
            uow.commit()
        with uow_factory() as uow, pytest.raises(ConflictError) as info:
            uow.orders.add(changed, fingerprint="fp-b")
        assert info.value.code == "order.duplicate_conflict"
        with uow_factory() as uow:
            assert first == uow.orders.find_by_external_id(first.channel, first.external_id)

    def test_same_external_id_on_another_channel_is_another_order(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Same external id on another channel is another order."""
        a = sample_order(f"O-{uid}-a", channel=f"web-{uid}", external_id="1001")
        b = sample_order(f"O-{uid}-b", channel=f"app-{uid}", external_id="1001")
        with uow_factory() as uow:
            uow.orders.add(a, fingerprint="fp")
            uow.orders.add(b, fingerprint="fp")
            uow.commit()
        with uow_factory() as uow:
            assert b == uow.orders.find_by_external_id(f"app-{uid}", "1001")

    def test_status_follows_the_machine(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Status follows the machine."""
        order = sample_order(f"O-{uid}")
        with uow_factory() as uow:
            uow.orders.add(order, fingerprint="fp")
            uow.commit()
        with uow_factory() as uow:
            assert (
                uow.orders.set_status(order.id, OrderStatus.ACCEPTED).status == OrderStatus.ACCEPTED
            )
            uow.commit()
        with uow_factory() as uow:
            with pytest.raises(ConflictError) as info:
                uow.orders.set_status(order.id, OrderStatus.DELIVERED)
            assert info.value.code == "order.invalid_transition"
        with uow_factory() as uow:
            assert uow.orders.get(order.id).status == OrderStatus.ACCEPTED
            with pytest.raises(NotFoundError):
                uow.orders.set_status(f"missing-{uid}", OrderStatus.ACCEPTED)
