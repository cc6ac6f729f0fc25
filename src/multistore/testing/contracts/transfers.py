"""Contract of the transfer methods of :class:`multistore.ports.storage.StockRepository`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from multistore.errors import ConflictError, InsufficientStockError, NotFoundError
from multistore.inventory.model import (
    MovementKind,
    Reservation,
    ReservationLine,
    StockMovement,
    Transfer,
    TransferStatus,
)
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.builders import T0
from multistore.testing.contracts._base import ContractBase

__all__ = ["TransferContract"]

T1 = T0 + timedelta(hours=2)


def _receive(factory: UnitOfWorkFactory, store_id: str, sku: str, quantity: int) -> None:
    with factory() as uow:
        uow.stock.record(
            StockMovement(
                store_id=store_id,
                sku=sku,
                kind=MovementKind.RECEIPT,
                quantity=quantity,
                occurred_at=T0,
            )
        )
        uow.commit()


def _transfer(uid: str, quantity: int, *, n: int = 1) -> Transfer:
    return Transfer(
        id=f"TR{n}-{uid}",
        from_store=f"A-{uid}",
        to_store=f"B-{uid}",
        sku=f"K-{uid}",
        quantity=quantity,
        shipped_at=T0,
    )


class TransferContract(ContractBase):
    """Transfers move stock between stores through an in-transit state, never losing a unit."""

    def test_ship_takes_units_out_of_the_source_into_transit(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Shipping books a transfer_out at the source; the units are in transit."""
        _receive(uow_factory, f"A-{uid}", f"K-{uid}", 10)
        with uow_factory() as uow:
            shipped = uow.stock.ship_transfer(_transfer(uid, 4), actor_id="clerk")
            uow.commit()
        assert shipped.status == TransferStatus.IN_TRANSIT
        with uow_factory() as uow:
            assert uow.stock.get(f"A-{uid}", f"K-{uid}").on_hand == 6
            assert uow.stock.get(f"B-{uid}", f"K-{uid}").on_hand == 0
            assert [shipped] == list(uow.stock.transfers_in_transit(sku=f"K-{uid}"))
            assert [shipped] == list(uow.stock.transfers_in_transit(store_id=f"B-{uid}"))
            ledger = uow.stock.movements(f"A-{uid}", f"K-{uid}")
            assert [mv.quantity for mv in ledger] == [10, -4]
            assert ledger[-1].kind == MovementKind.TRANSFER_OUT
            assert shipped.id == ledger[-1].reference
            assert ledger[-1].actor_id == "clerk"

    def test_receive_lands_units_at_the_destination(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Receiving books a transfer_in at the destination and closes the transfer."""
        _receive(uow_factory, f"A-{uid}", f"K-{uid}", 5)
        with uow_factory() as uow:
            uow.stock.ship_transfer(_transfer(uid, 5))
            uow.commit()
        with uow_factory() as uow:
            landed = uow.stock.receive_transfer(f"TR1-{uid}", at=T1)
            again = uow.stock.receive_transfer(f"TR1-{uid}", at=T1 + timedelta(hours=1))
            uow.commit()
        assert landed.status == TransferStatus.RECEIVED
        assert landed.closed_at == T1
        assert landed == again
        with uow_factory() as uow:
            assert uow.stock.get(f"A-{uid}", f"K-{uid}").on_hand == 0
            assert uow.stock.get(f"B-{uid}", f"K-{uid}").on_hand == 5
            assert list(uow.stock.transfers_in_transit(sku=f"K-{uid}")) == []
            ledger = uow.stock.movements(f"B-{uid}", f"K-{uid}")
            assert [(mv.kind, mv.quantity) for mv in ledger] == [(MovementKind.TRANSFER_IN, 5)]
            assert landed == uow.stock.get_transfer(f"TR1-{uid}")

    def test_cancel_returns_units_to_the_source(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Cancelling books the units back at the source; receiving it then conflicts."""
        _receive(uow_factory, f"A-{uid}", f"K-{uid}", 5)
        with uow_factory() as uow:
            uow.stock.ship_transfer(_transfer(uid, 3))
            uow.commit()
        with uow_factory() as uow:
            cancelled = uow.stock.cancel_transfer(f"TR1-{uid}", at=T1)
            assert cancelled == uow.stock.cancel_transfer(f"TR1-{uid}", at=T1)
            uow.commit()
        assert cancelled.status == TransferStatus.CANCELLED
        with uow_factory() as uow:
            with pytest.raises(ConflictError) as info:
                uow.stock.receive_transfer(f"TR1-{uid}", at=T1)
            assert info.value.code == "stock.transfer_closed"
            assert uow.stock.get(f"A-{uid}", f"K-{uid}").on_hand == 5
            assert uow.stock.get(f"B-{uid}", f"K-{uid}").on_hand == 0
            ledger = uow.stock.movements(f"A-{uid}", f"K-{uid}")
            assert [mv.quantity for mv in ledger] == [5, -3, 3]

    def test_cancelling_a_received_transfer_conflicts(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """A received transfer cannot be cancelled."""
        _receive(uow_factory, f"A-{uid}", f"K-{uid}", 5)
        with uow_factory() as uow:
            uow.stock.ship_transfer(_transfer(uid, 2))
            uow.stock.receive_transfer(f"TR1-{uid}", at=T1)
            uow.commit()
        with uow_factory() as uow:
            with pytest.raises(ConflictError) as info:
                uow.stock.cancel_transfer(f"TR1-{uid}", at=T1)
            assert info.value.code == "stock.transfer_closed"

    def test_ship_is_idempotent_by_id(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """The same id and contents ship once; other contents under the id conflict."""
        _receive(uow_factory, f"A-{uid}", f"K-{uid}", 10)
        with uow_factory() as uow:
            first = uow.stock.ship_transfer(_transfer(uid, 4))
            uow.commit()
        with uow_factory() as uow:
            assert first == uow.stock.ship_transfer(_transfer(uid, 4))
            with pytest.raises(ConflictError) as info:
                uow.stock.ship_transfer(_transfer(uid, 5))
            assert info.value.code == "stock.transfer_conflict"
            uow.commit()
        with uow_factory() as uow:
            uow.stock.receive_transfer(first.id, at=T1)
            landed = uow.stock.ship_transfer(_transfer(uid, 4))
            uow.commit()
        assert landed.status == TransferStatus.RECEIVED
        with uow_factory() as uow:
            assert uow.stock.get(f"A-{uid}", f"K-{uid}").on_hand == 6
            assert uow.stock.get(f"B-{uid}", f"K-{uid}").on_hand == 4

    def test_shipping_more_than_unreserved_writes_nothing(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Reserved units cannot be shipped; the refusal leaves no transfer and no movement."""
        a, k = f"A-{uid}", f"K-{uid}"
        _receive(uow_factory, a, k, 5)
        with uow_factory() as uow:
            uow.stock.reserve(
                Reservation(key=f"R-{uid}", lines=(ReservationLine(a, k, 3),), created_at=T0)
            )
            uow.commit()
        with uow_factory() as uow:
            with pytest.raises(InsufficientStockError) as info:
                uow.stock.ship_transfer(_transfer(uid, 3))
            assert info.value.code == "stock.insufficient"
            assert info.value.details["available"] == 2
            uow.commit()
        with uow_factory() as uow:
            with pytest.raises(NotFoundError) as missing:
                uow.stock.get_transfer(f"TR1-{uid}")
            assert missing.value.code == "stock.transfer_not_found"
            assert uow.stock.get(a, k).on_hand == 5
            assert len(uow.stock.movements(a, k)) == 1
            shipped = uow.stock.ship_transfer(_transfer(uid, 2))
            uow.commit()
        assert shipped.quantity == 2

    def test_shipping_from_a_never_stocked_pair_is_insufficient(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """A store that never held the SKU has nothing to ship."""
        with uow_factory() as uow, pytest.raises(InsufficientStockError):
            uow.stock.ship_transfer(_transfer(uid, 1))

    def test_unknown_transfer_is_not_found(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Receiving or cancelling an unknown id raises stock.transfer_not_found."""
        with uow_factory() as uow:
            for close in (uow.stock.receive_transfer, uow.stock.cancel_transfer):
                with pytest.raises(NotFoundError) as info:
                    close(f"nope-{uid}", at=T1)
                assert info.value.code == "stock.transfer_not_found"

    def test_rollback_discards_a_shipment(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """A shipment not committed leaves neither the transfer nor the movement."""
        _receive(uow_factory, f"A-{uid}", f"K-{uid}", 3)
        with uow_factory() as uow:
            uow.stock.ship_transfer(_transfer(uid, 3))
        with uow_factory() as uow:
            assert uow.stock.get(f"A-{uid}", f"K-{uid}").on_hand == 3
            assert list(uow.stock.transfers_in_transit(sku=f"K-{uid}")) == []

    def test_units_are_conserved_across_stores_and_transit(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """On hand in both stores plus units in transit always equals what was received."""
        a, b, k = f"A-{uid}", f"B-{uid}", f"K-{uid}"
        _receive(uow_factory, a, k, 9)
        steps = [
            ("ship", 1, 4),
            ("ship", 2, 3),
            ("receive", 1, 0),
            ("cancel", 2, 0),
            ("ship", 3, 5),
        ]
        for step, n, quantity in steps:
            with uow_factory() as uow:
                if step == "ship":
                    uow.stock.ship_transfer(_transfer(uid, quantity, n=n))
                elif step == "receive":
                    uow.stock.receive_transfer(f"TR{n}-{uid}", at=T1)
                else:
                    uow.stock.cancel_transfer(f"TR{n}-{uid}", at=T1)
                uow.commit()
            with uow_factory() as uow:
                transit = sum(x.quantity for x in uow.stock.transfers_in_transit(sku=k))
                on_hand = uow.stock.get(a, k).on_hand + uow.stock.get(b, k).on_hand
                assert on_hand + transit == 9
                for store in (a, b):
                    ledger = sum(mv.quantity for mv in uow.stock.movements(store, k))
                    assert uow.stock.get(store, k).on_hand == ledger
