"""A hypothesis state machine over receive / adjust / reserve / commit / release / expire.

After every step, on memory and on SQLite, an independent recount checks the invariants:
on hand >= 0, reserved <= on hand, on hand = the sum of the ledger, reserved = the units of the
active reservations, and both agree with a plain model of what should have happened.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

import multistore
from multistore.errors import ConflictError, InsufficientStockError
from multistore.inventory import ReservationStatus
from multistore.ports.security import SYSTEM_ACTOR
from multistore.testing.builders import sample_product, sample_store
from multistore.testing.fakes import FixedClock

STORES = ("S1", "S2")
SKUS = ("A", "B")
PAIRS = [(s, k) for s in STORES for k in SKUS]
TTL = timedelta(minutes=15)

pairs = st.sampled_from(PAIRS)
quantities = st.integers(min_value=1, max_value=6)


class InventoryMachine(RuleBasedStateMachine):
    """Drives the inventory service and keeps a model of what each pair should hold."""

    url = "memory://"
    keys = Bundle("keys")

    @initialize()
    def open_chain(self) -> None:
        self.clock = FixedClock()
        self._tmp = tempfile.TemporaryDirectory()
        url = self.url.replace("{tmp}", self._tmp.name)
        self.ms = multistore.connect(url, clock=self.clock)
        for s in STORES:
            self.ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store(s))
        self.ms.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P", list(SKUS)))
        self.on_hand = dict.fromkeys(PAIRS, 0)
        self.active: dict[str, dict[tuple[str, str], int]] = {}
        self.expires: dict[str, object] = {}
        self.closed: set[str] = set()
        self.counter = 0

    def teardown(self) -> None:
        self.ms.close()
        self._tmp.cleanup()

    def _reserved(self, pair: tuple[str, str]) -> int:
        return sum(lines.get(pair, 0) for lines in self.active.values())

    @rule(pair=pairs, qty=quantities)
    def receive(self, pair: tuple[str, str], qty: int) -> None:
        self.ms.inventory.receive(actor=SYSTEM_ACTOR, store_id=pair[0], sku=pair[1], quantity=qty)
        self.on_hand[pair] += qty

    @rule(pair=pairs, qty=st.integers(min_value=-6, max_value=6).filter(bool))
    def adjust(self, pair: tuple[str, str], qty: int) -> None:
        allowed = self.on_hand[pair] + qty >= self._reserved(pair)
        try:
            self.ms.inventory.record_movement(
                actor=SYSTEM_ACTOR, store_id=pair[0], sku=pair[1], kind="adjustment", quantity=qty
            )
        except InsufficientStockError:
            assert not allowed
        else:
            assert allowed
            self.on_hand[pair] += qty

    @rule(target=keys, lines=st.dictionaries(pairs, quantities, min_size=1, max_size=3))
    def reserve(self, lines: dict[tuple[str, str], int]):  # type: ignore[no-untyped-def]
        self.counter += 1
        key = f"k{self.counter}"
        fits = all(self.on_hand[p] - self._reserved(p) >= q for p, q in lines.items())
        try:
            self.ms.inventory.reserve(
                actor=SYSTEM_ACTOR,
                key=key,
                lines=[(s, k, q) for (s, k), q in lines.items()],
                ttl=TTL,
            )
        except InsufficientStockError:
            assert not fits
            return multiple()
        assert fits
        self.active[key] = dict(lines)
        self.expires[key] = self.clock.now() + TTL
        return multiple(key)

    @rule(key=keys)
    def reserve_again_is_idempotent(self, key: str) -> None:
        if key not in self.active:
            return
        lines = self.active[key]
        again = self.ms.inventory.reserve(
            actor=SYSTEM_ACTOR, key=key, lines=[(s, k, q) for (s, k), q in lines.items()]
        )
        assert key == again.key

    @rule(key=consumes(keys))
    def commit(self, key: str) -> None:
        try:
            self.ms.inventory.commit(actor=SYSTEM_ACTOR, key=key)
        except ConflictError:
            assert key in self.closed
            return
        lines = self.active.pop(key)
        for pair, q in lines.items():
            self.on_hand[pair] -= q
        self.closed.add(key)

    @rule(key=consumes(keys))
    def release(self, key: str) -> None:
        try:
            self.ms.inventory.release(actor=SYSTEM_ACTOR, key=key)
        except ConflictError:
            assert key in self.closed
            return
        self.active.pop(key)
        self.closed.add(key)

    @rule(minutes=st.integers(min_value=1, max_value=20))
    def time_passes_and_holds_expire(self, minutes: int) -> None:
        now = self.clock.advance(timedelta(minutes=minutes))
        expired = self.ms.inventory.expire(actor=SYSTEM_ACTOR)
        due = {k for k, at in self.expires.items() if k in self.active and at <= now}  # type: ignore[operator]
        assert due == {r.key for r in expired}
        for key in due:
            self.active.pop(key)
            self.closed.add(key)

    @invariant()
    def stock_adds_up(self) -> None:
        if not hasattr(self, "ms"):
            return
        snapshot = self.ms.inventory.snapshot(skus=list(SKUS), store_ids=list(STORES))
        for pair in PAIRS:
            level = snapshot.get(pair)
            on_hand = level.on_hand if level else 0
            reserved = level.reserved if level else 0
            ledger = sum(
                mv.quantity for mv in self.ms.inventory.movements(store_id=pair[0], sku=pair[1])
            )
            assert on_hand >= 0
            assert reserved <= on_hand
            assert ledger == on_hand
            assert self.on_hand[pair] == on_hand
            assert self._reserved(pair) == reserved
        for key in self.active:
            assert ReservationStatus.ACTIVE == self.ms.inventory.get_reservation(key=key).status


class MemoryInventoryMachine(InventoryMachine):
    url = "memory://"


class SqliteInventoryMachine(InventoryMachine):
    url = "sqlite:///{tmp}/" + "inventory.db"


TestInventoryOnMemory = MemoryInventoryMachine.TestCase
TestInventoryOnMemory.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)

TestInventoryOnSqlite = SqliteInventoryMachine.TestCase
TestInventoryOnSqlite.settings = settings(max_examples=12, stateful_step_count=25, deadline=None)
