"""Random sequences of stock operations keep the inventory invariants on the memory adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from multistore.adapters.memory import MemoryStorage
from multistore.errors import ConflictError, InsufficientStockError
from multistore.inventory.model import (
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockMovement,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STORES = ("A", "B")
SKUS = ("K1", "K2")
PAIRS = [(s, k) for s in STORES for k in SKUS]
KEYS = [f"R{i}" for i in range(6)]


class StockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.storage = MemoryStorage()
        self.now = T0

    @rule(pair=st.sampled_from(PAIRS), qty=st.integers(-5, 8).filter(bool), commit=st.booleans())
    def adjust(self, pair: tuple[str, str], qty: int, commit: bool) -> None:
        move = StockMovement(
            store_id=pair[0],
            sku=pair[1],
            kind=MovementKind.ADJUSTMENT,
            quantity=qty,
            occurred_at=self.now,
        )
        with self.storage.unit_of_work() as uow:
            try:
                uow.stock.record(move)
            except InsufficientStockError:
                return
            if commit:
                uow.commit()

    @rule(
        key=st.sampled_from(KEYS),
        picks=st.lists(
            st.tuples(st.sampled_from(PAIRS), st.integers(1, 3)),
            min_size=1,
            max_size=3,
            unique_by=lambda x: x[0],
        ),
        ttl=st.integers(1, 30),
    )
    def reserve(self, key: str, picks: list[tuple[tuple[str, str], int]], ttl: int) -> None:
        res = Reservation(
            key=key,
            lines=tuple(ReservationLine(s, k, q) for (s, k), q in picks),
            created_at=self.now,
            expires_at=self.now + timedelta(minutes=ttl),
        )
        with self.storage.unit_of_work() as uow:
            try:
                uow.stock.reserve(res)
            except (InsufficientStockError, ConflictError):
                return
            uow.commit()

    @rule(key=st.sampled_from(KEYS), commit=st.booleans())
    def close(self, key: str, commit: bool) -> None:
        with self.storage.unit_of_work() as uow:
            try:
                if commit:
                    uow.stock.commit(key, at=self.now)
                else:
                    uow.stock.release(key)
            except (ConflictError, LookupError):
                return
            uow.commit()

    @rule(minutes=st.integers(1, 20))
    def tick_and_expire(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        with self.storage.unit_of_work() as uow:
            uow.stock.expire(now=self.now)
            uow.commit()

    @invariant()
    def inventory_is_consistent(self) -> None:
        with self.storage.unit_of_work() as uow:
            active: dict[tuple[str, str], int] = {}
            for key in KEYS:
                try:
                    res = uow.stock.get_reservation(key)
                except LookupError:
                    continue
                if res.status is ReservationStatus.ACTIVE:
                    for line in res.lines:
                        pair = (line.store_id, line.sku)
                        active[pair] = active.get(pair, 0) + line.quantity
            for store_id, sku in PAIRS:
                level = uow.stock.get(store_id, sku)
                assert level.on_hand >= 0
                assert level.reserved <= level.on_hand
                assert sum(m.quantity for m in uow.stock.movements(store_id, sku)) == level.on_hand
                assert active.get((store_id, sku), 0) == level.reserved


StockMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestStockMachine = StockMachine.TestCase
