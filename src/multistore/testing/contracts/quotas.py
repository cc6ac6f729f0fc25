"""Contract of the ring-fenced quotas of :class:`multistore.ports.storage.StockRepository`."""

from __future__ import annotations

import pytest

from multistore.errors import ConflictError, InsufficientStockError
from multistore.inventory.model import (
    MovementKind,
    Quota,
    Reservation,
    ReservationLine,
    StockMovement,
)
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.builders import T0
from multistore.testing.contracts._base import ContractBase

__all__ = ["QuotaContract"]


def _stock(factory: UnitOfWorkFactory, store_id: str, sku: str, quantity: int, buffer: int) -> None:
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
        uow.stock.set_safety_buffer(store_id, sku, buffer)
        uow.commit()


def _hold(key: str, *lines: tuple[str, str, int]) -> Reservation:
    return Reservation(
        key=key, lines=tuple(ReservationLine(s, k, q) for s, k, q in lines), created_at=T0
    )


class QuotaContract(ContractBase):
    """Fenced units are out of the general pool; channel reservations draw from their quota."""

    def test_quota_fences_units_from_other_reservations(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """A quota counts as reserved: plain reservations see only what is left."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, s, k, 10, 2)
        with uow_factory() as uow:
            assert Quota(s, k, "flash", 5) == uow.stock.set_quota(s, k, "flash", 5)
            uow.commit()
        with uow_factory() as uow:
            level = uow.stock.get(s, k)
            assert (level.reserved, level.available) == (5, 3)
            assert [Quota(s, k, "flash", 5)] == list(uow.stock.quotas(store_id=s))
            with pytest.raises(InsufficientStockError):
                uow.stock.reserve(_hold(f"R1-{uid}", (s, k, 4)))
            uow.stock.reserve(_hold(f"R2-{uid}", (s, k, 3)))
            uow.commit()

    def test_quota_never_eats_the_safety_buffer(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Fencing more than on hand - reserved - buffer is refused and writes nothing."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, s, k, 10, 2)
        with uow_factory() as uow:
            with pytest.raises(InsufficientStockError) as info:
                uow.stock.set_quota(s, k, "flash", 9)
            assert info.value.details["available"] == 8
            uow.commit()
        with uow_factory() as uow:
            assert uow.stock.get(s, k).reserved == 0
            assert list(uow.stock.quotas(store_id=s)) == []

    def test_channel_reservation_draws_from_its_quota(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Quota lines move units from the fence; other lines hold general stock."""
        s, k, k2 = f"S-{uid}", f"K-{uid}", f"K2-{uid}"
        _stock(uow_factory, s, k, 10, 0)
        _stock(uow_factory, s, k2, 4, 0)
        with uow_factory() as uow:
            uow.stock.set_quota(s, k, "flash", 6)
            uow.commit()
        with uow_factory() as uow:
            uow.stock.reserve_for_channel(_hold(f"R-{uid}", (s, k, 4), (s, k2, 1)), channel="flash")
            uow.commit()
        with uow_factory() as uow:
            assert [Quota(s, k, "flash", 2)] == list(uow.stock.quotas(store_id=s, sku=k))
            assert (uow.stock.get(s, k).reserved, uow.stock.get(s, k).available) == (6, 4)
            assert uow.stock.get(s, k2).reserved == 1
            with pytest.raises(InsufficientStockError) as info:
                uow.stock.reserve_for_channel(_hold(f"R2-{uid}", (s, k, 3)), channel="flash")
            assert [x["available"] for x in info.value.details["short_lines"]] == [2]
            uow.commit()
        with uow_factory() as uow:
            assert [Quota(s, k, "flash", 2)] == list(uow.stock.quotas(store_id=s, sku=k))
            uow.stock.commit(f"R-{uid}", at=T0)
            uow.commit()
        with uow_factory() as uow:
            level = uow.stock.get(s, k)
            assert (level.on_hand, level.reserved) == (6, 2)

    def test_failed_channel_reservation_writes_nothing(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """A short line undoes the quota draws of the lines before it."""
        s, k, k2 = f"S-{uid}", f"K-{uid}", f"K2-{uid}"
        _stock(uow_factory, s, k, 5, 0)
        _stock(uow_factory, s, k2, 1, 0)
        with uow_factory() as uow:
            uow.stock.set_quota(s, k, "flash", 5)
            uow.commit()
        with uow_factory() as uow:
            with pytest.raises(InsufficientStockError):
                uow.stock.reserve_for_channel(
                    _hold(f"R-{uid}", (s, k, 2), (s, k2, 2)), channel="flash"
                )
            uow.commit()
        with uow_factory() as uow:
            assert [Quota(s, k, "flash", 5)] == list(uow.stock.quotas(store_id=s, sku=k))
            assert uow.stock.get(s, k2).reserved == 0
            reserved = uow.stock.reserve_for_channel(_hold(f"R-{uid}", (s, k, 5)), channel="flash")
            uow.commit()
        assert f"R-{uid}" == reserved.key

    def test_channel_reservation_is_idempotent(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """The same key and lines draw once; other lines under the key conflict."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, s, k, 5, 0)
        with uow_factory() as uow:
            uow.stock.set_quota(s, k, "flash", 4)
            uow.stock.reserve_for_channel(_hold(f"R-{uid}", (s, k, 2)), channel="flash")
            uow.stock.reserve_for_channel(_hold(f"R-{uid}", (s, k, 2)), channel="flash")
            with pytest.raises(ConflictError):
                uow.stock.reserve_for_channel(_hold(f"R-{uid}", (s, k, 1)), channel="flash")
            uow.commit()
        with uow_factory() as uow:
            assert [Quota(s, k, "flash", 2)] == list(uow.stock.quotas(store_id=s))

    def test_lowering_and_removing_a_quota_returns_units(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """A smaller quota gives the difference back; 0 removes the quota."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, s, k, 10, 0)
        with uow_factory() as uow:
            uow.stock.set_quota(s, k, "flash", 6)
            uow.stock.set_quota(s, k, "flash", 2)
            assert uow.stock.get(s, k).reserved == 2
            uow.stock.set_quota(s, k, "flash", 0)
            uow.commit()
        with uow_factory() as uow:
            assert uow.stock.get(s, k).reserved == 0
            assert list(uow.stock.quotas(store_id=s)) == []
