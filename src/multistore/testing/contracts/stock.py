"""Contract of :class:`multistore.ports.storage.StockRepository`."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from multistore.errors import (
    ConflictError,
    InsufficientStockError,
    NotFoundError,
    TransientStorageError,
)
from multistore.inventory.model import (
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
)
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.builders import T0
from multistore.testing.contracts._base import ContractBase

__all__ = ["StockRepositoryContract"]


def _receipt(store_id: str, sku: str, quantity: int) -> StockMovement:
    return StockMovement(
        store_id=store_id,
        sku=sku,
        kind=MovementKind.RECEIPT,
        quantity=quantity,
        occurred_at=T0,
        reason="delivery",
        reference="PO-1",
        actor_id="tester",
    )


def _stock(factory: UnitOfWorkFactory, *rows: tuple[str, str, int]) -> None:
    with factory() as uow:
        for store_id, sku, quantity in rows:
            uow.stock.record(_receipt(store_id, sku, quantity))
        uow.commit()


def _hold(key: str, *lines: tuple[str, str, int], ttl_minutes: int | None = 15) -> Reservation:
    return Reservation(
        key=key,
        lines=tuple(ReservationLine(s, k, q) for s, k, q in lines),
        created_at=T0,
        expires_at=None if ttl_minutes is None else T0 + timedelta(minutes=ttl_minutes),
    )


class StockRepositoryContract(ContractBase):
    """Levels, the ledger and reservations keep the inventory invariants."""

    # --- levels and the ledger -------------------------------------------------------------

    def test_never_stocked_pair_reads_as_zero(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Never stocked pair reads as zero."""
        with uow_factory() as uow:
            assert StockLevel(f"S-{uid}", f"K-{uid}") == uow.stock.get(f"S-{uid}", f"K-{uid}")

    def test_on_hand_equals_the_sum_of_the_ledger(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """On hand equals the sum of the ledger."""
        s, k = f"S-{uid}", f"K-{uid}"
        moves = [
            _receipt(s, k, 10),
            StockMovement(
                store_id=s, sku=k, kind=MovementKind.ADJUSTMENT, quantity=-3, occurred_at=T0
            ),
            StockMovement(
                store_id=s,
                sku=k,
                kind=MovementKind.RETURN,
                quantity=1,
                occurred_at=T0,
                reason="customer return",
                reference="ORD-9",
                actor_id="cashier-1",
            ),
        ]
        with uow_factory() as uow:
            levels = [uow.stock.record(move) for move in moves]
            uow.commit()
        assert [level.on_hand for level in levels] == [10, 7, 8]
        with uow_factory() as uow:
            assert uow.stock.get(s, k).on_hand == 8
            assert moves == list(uow.stock.movements(s, k))

    def test_movement_below_zero_is_refused_and_writes_nothing(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Movement below zero is refused and writes nothing."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, (s, k, 2))
        sale = StockMovement(store_id=s, sku=k, kind=MovementKind.SALE, quantity=-3, occurred_at=T0)
        with uow_factory() as uow:
            with pytest.raises(InsufficientStockError) as info:
                uow.stock.record(sale)
            assert info.value.code == "stock.negative"
            uow.commit()
        with uow_factory() as uow:
            assert uow.stock.get(s, k).on_hand == 2
            assert len(uow.stock.movements(s, k)) == 1

    def test_movement_below_reserved_is_refused(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Movement below reserved is refused."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, (s, k, 5))
        with uow_factory() as uow:
            uow.stock.reserve(_hold(f"R-{uid}", (s, k, 4)))
            uow.commit()
        loss = StockMovement(
            store_id=s, sku=k, kind=MovementKind.ADJUSTMENT, quantity=-2, occurred_at=T0
        )
        with uow_factory() as uow, pytest.raises(InsufficientStockError) as info:
            uow.stock.record(loss)
        assert info.value.code == "stock.negative"
        with uow_factory() as uow:
            assert StockLevel(s, k, on_hand=5, reserved=4) == uow.stock.get(s, k)

    def test_safety_buffer_lowers_available(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Safety buffer lowers available."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, (s, k, 5))
        with uow_factory() as uow:
            level = uow.stock.set_safety_buffer(s, k, 2)
            uow.commit()
        assert (level.on_hand, level.safety_buffer, level.available) == (5, 2, 3)
        with uow_factory() as uow:
            assert StockLevel(s, k, on_hand=5, safety_buffer=2) == uow.stock.get(s, k)
            with pytest.raises(InsufficientStockError):
                uow.stock.reserve(_hold(f"R-{uid}", (s, k, 4)))
            assert uow.stock.reserve(_hold(f"R2-{uid}", (s, k, 3))).lines[0].quantity == 3

    def test_snapshot_reads_many_pairs_and_omits_unstocked_ones(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Snapshot reads many pairs and omits unstocked ones."""
        s1, s2, s3 = f"S1-{uid}", f"S2-{uid}", f"S3-{uid}"
        k1, k2, k3 = f"K1-{uid}", f"K2-{uid}", f"K3-{uid}"
        _stock(uow_factory, (s1, k1, 4), (s1, k2, 6), (s2, k1, 1), (s3, k1, 9))
        with uow_factory() as uow:
            some = uow.stock.snapshot(skus=[k1, k2, k3], store_ids=[s1, s2])
            every = uow.stock.snapshot(skus=[k1, k3])
        assert {
            (s1, k1): StockLevel(s1, k1, on_hand=4),
            (s1, k2): StockLevel(s1, k2, on_hand=6),
            (s2, k1): StockLevel(s2, k1, on_hand=1),
        } == dict(some)
        assert {
            (s1, k1): StockLevel(s1, k1, on_hand=4),
            (s2, k1): StockLevel(s2, k1, on_hand=1),
            (s3, k1): StockLevel(s3, k1, on_hand=9),
        } == dict(every)

    # --- reservations ------------------------------------------------------------------------

    def test_reserve_holds_every_line(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Reserve holds every line."""
        s1, s2, k = f"S1-{uid}", f"S2-{uid}", f"K-{uid}"
        _stock(uow_factory, (s1, k, 5), (s2, k, 5))
        hold = _hold(f"R-{uid}", (s2, k, 2), (s1, k, 5))
        with uow_factory() as uow:
            stored = uow.stock.reserve(hold)
            uow.commit()
        assert hold == stored
        assert stored.status == ReservationStatus.ACTIVE
        with uow_factory() as uow:
            assert hold == uow.stock.get_reservation(hold.key)
            assert StockLevel(s1, k, on_hand=5, reserved=5) == uow.stock.get(s1, k)
            assert StockLevel(s2, k, on_hand=5, reserved=2) == uow.stock.get(s2, k)

    def test_reserve_is_all_or_nothing_and_names_the_short_lines(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Reserve is all or nothing and names the short lines."""
        s, k1, k2, k3 = f"S-{uid}", f"K1-{uid}", f"K2-{uid}", f"K3-{uid}"
        _stock(uow_factory, (s, k1, 5), (s, k2, 1))
        with uow_factory() as uow:
            with pytest.raises(InsufficientStockError) as info:
                uow.stock.reserve(_hold(f"R-{uid}", (s, k1, 3), (s, k2, 2), (s, k3, 1)))
            uow.commit()
        err = info.value
        assert err.code == "stock.insufficient"
        assert [(s, k2, 2, 1), (s, k3, 1, 0)] == [
            (x["store_id"], x["sku"], x["requested"], x["available"])
            for x in err.details["short_lines"]
        ]
        with uow_factory() as uow:
            assert uow.stock.get(s, k1).reserved == 0
            assert uow.stock.get(s, k2).reserved == 0
            with pytest.raises(NotFoundError) as missing:
                uow.stock.get_reservation(f"R-{uid}")
            assert missing.value.code == "stock.reservation_not_found"

    def test_reserve_is_idempotent_by_key(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Reserve is idempotent by key."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, (s, k, 5))
        hold = _hold(f"R-{uid}", (s, k, 3))
        with uow_factory() as uow:
            first = uow.stock.reserve(hold)
            uow.commit()
        with uow_factory() as uow:
            again = uow.stock.reserve(hold)
            uow.commit()
        assert first == again
        with uow_factory() as uow:
            assert uow.stock.get(s, k).reserved == 3

    def test_same_key_with_other_lines_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Same key with other lines is a conflict."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, (s, k, 5))
        with uow_factory() as uow:
            uow.stock.reserve(_hold(f"R-{uid}", (s, k, 3)))
            uow.commit()
        with uow_factory() as uow, pytest.raises(ConflictError) as info:
            uow.stock.reserve(_hold(f"R-{uid}", (s, k, 1)))
        assert info.value.code == "stock.reservation_conflict"
        with uow_factory() as uow:
            assert uow.stock.get(s, k).reserved == 3

    def test_release_returns_units_and_is_idempotent(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Release returns units and is idempotent."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, (s, k, 5))
        with uow_factory() as uow:
            uow.stock.reserve(_hold(f"R-{uid}", (s, k, 3)))
            uow.commit()
        with uow_factory() as uow:
            released = uow.stock.release(f"R-{uid}")
            uow.commit()
        assert released.status == ReservationStatus.RELEASED
        with uow_factory() as uow:
            assert uow.stock.release(f"R-{uid}").status == ReservationStatus.RELEASED
            uow.commit()
        with uow_factory() as uow:
            assert StockLevel(s, k, on_hand=5) == uow.stock.get(s, k)
            assert uow.stock.get_reservation(f"R-{uid}").status == ReservationStatus.RELEASED
            with pytest.raises(ConflictError) as info:
                uow.stock.commit(f"R-{uid}", at=T0)
            assert info.value.code == "stock.reservation_closed"

    def test_commit_turns_the_hold_into_sale_movements(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Commit turns the hold into sale movements."""
        s1, s2, k = f"S1-{uid}", f"S2-{uid}", f"K-{uid}"
        _stock(uow_factory, (s1, k, 5), (s2, k, 4))
        at = T0 + timedelta(minutes=5)
        with uow_factory() as uow:
            uow.stock.reserve(_hold(f"R-{uid}", (s1, k, 2), (s2, k, 4)))
            uow.commit()
        with uow_factory() as uow:
            committed = uow.stock.commit(f"R-{uid}", at=at, actor_id="cashier-7")
            uow.commit()
        assert committed.status == ReservationStatus.COMMITTED
        with uow_factory() as uow:
            again = uow.stock.commit(f"R-{uid}", at=at)
            uow.commit()
        assert again.status == ReservationStatus.COMMITTED
        with uow_factory() as uow:
            assert StockLevel(s1, k, on_hand=3) == uow.stock.get(s1, k)
            assert StockLevel(s2, k, on_hand=0) == uow.stock.get(s2, k)
            sales = [m for m in uow.stock.movements(s1, k) if m.kind is MovementKind.SALE]
            assert [(-2, f"R-{uid}", "cashier-7", at)] == [
                (m.quantity, m.reference, m.actor_id, m.occurred_at) for m in sales
            ]
            assert sum(m.quantity for m in uow.stock.movements(s2, k)) == 0
            with pytest.raises(ConflictError) as info:
                uow.stock.release(f"R-{uid}")
            assert info.value.code == "stock.reservation_closed"

    def test_expire_releases_only_due_holds(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Expire releases only due holds."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, (s, k, 10))
        with uow_factory() as uow:
            uow.stock.reserve(_hold(f"R-{uid}-due", (s, k, 2), ttl_minutes=10))
            uow.stock.reserve(_hold(f"R-{uid}-edge", (s, k, 3), ttl_minutes=15))
            uow.stock.reserve(_hold(f"R-{uid}-later", (s, k, 1), ttl_minutes=60))
            uow.stock.reserve(_hold(f"R-{uid}-never", (s, k, 1), ttl_minutes=None))
            uow.commit()
        with uow_factory() as uow:
            expired = uow.stock.expire(now=T0 + timedelta(minutes=15))
            uow.commit()
        mine = sorted(r.key for r in expired if uid in r.key)
        assert [f"R-{uid}-due", f"R-{uid}-edge"] == mine
        assert all(r.status == ReservationStatus.EXPIRED for r in expired)
        with uow_factory() as uow:
            assert StockLevel(s, k, on_hand=10, reserved=2) == uow.stock.get(s, k)
            assert uow.stock.get_reservation(f"R-{uid}-due").status == ReservationStatus.EXPIRED
            assert uow.stock.get_reservation(f"R-{uid}-later").status == ReservationStatus.ACTIVE
            with pytest.raises(ConflictError) as info:
                uow.stock.commit(f"R-{uid}-due", at=T0)
            assert info.value.code == "stock.reservation_closed"

    def test_unknown_reservation_is_not_found(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Unknown reservation is not found."""
        with uow_factory() as uow:
            with pytest.raises(NotFoundError) as info:
                uow.stock.get_reservation(f"R-{uid}")
            assert info.value.code == "stock.reservation_not_found"
            with pytest.raises(NotFoundError) as info:
                uow.stock.release(f"R-{uid}")
            assert info.value.code == "stock.reservation_not_found"
            with pytest.raises(NotFoundError) as info:
                uow.stock.commit(f"R-{uid}", at=T0)
            assert info.value.code == "stock.reservation_not_found"

    def test_reservations_never_oversell(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Reservations never oversell."""
        s, k = f"S-{uid}", f"K-{uid}"
        _stock(uow_factory, (s, k, 5))
        held = 0
        for i in range(8):
            with uow_factory() as uow:
                try:
                    uow.stock.reserve(_hold(f"R-{uid}-{i}", (s, k, 2)))
                except InsufficientStockError:
                    continue
                uow.commit()
                held += 2
        assert held == 4
        with uow_factory() as uow:
            level = uow.stock.get(s, k)
        assert (level.on_hand, level.reserved, level.available) == (5, 4, 1)

    def test_concurrent_units_never_oversell(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Threads racing for the last units never hold more than there is, nor a key twice."""
        s1, s2, k = f"S1-{uid}", f"S2-{uid}", f"K-{uid}"
        _stock(uow_factory, (s1, k, 6), (s2, k, 6))
        won: list[str] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            for i in range(5):
                key = f"R-{uid}-{n}-{i % 3}"  # repeated keys must not hold twice
                lines = [(s1, k, 1), (s2, k, 1)] if n % 2 else [(s2, k, 1), (s1, k, 1)]
                try:
                    with uow_factory() as uow:
                        uow.stock.reserve(_hold(key, *lines))
                        uow.commit()
                except (InsufficientStockError, TransientStorageError):
                    continue
                with lock:
                    won.append(key)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        with uow_factory() as uow:
            levels = [uow.stock.get(s1, k), uow.stock.get(s2, k)]
            held = [uow.stock.get_reservation(key) for key in sorted(set(won))]
        assert len(held) == levels[0].reserved == levels[1].reserved
        assert all(level.reserved <= level.on_hand == 6 for level in levels)
        assert 1 <= len(held) <= 6
