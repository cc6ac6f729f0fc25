"""A hypothesis state machine over reserve / commit / release / expire / adjust / transfer / quota.

After every step, on memory and on SQLite, an independent recount checks: on hand >= 0,
reserved <= on hand, on hand = the sum of the ledger, reserved = the units of the active
reservations plus the ring-fenced quotas, in transit = the units of the open transfers, and
units are conserved: what is on hand in every store plus what is in transit equals everything
received or adjusted minus everything sold.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta

import pytest
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
from multistore.inventory import ReservationStatus, TransferStatus
from multistore.ports.security import SYSTEM_ACTOR
from multistore.testing.builders import sample_product, sample_store
from multistore.testing.fakes import FixedClock

STORES = ("S1", "S2", "S3")
SKUS = ("A", "B")
PAIRS = [(s, k) for s in STORES for k in SKUS]
TTL = timedelta(minutes=15)

Pair = tuple[str, str]

pairs = st.sampled_from(PAIRS)
quantities = st.integers(min_value=1, max_value=6)
routes = st.tuples(st.sampled_from(STORES), st.sampled_from(STORES), st.sampled_from(SKUS))


class TransferMachine(RuleBasedStateMachine):
    """Drives the inventory service and keeps a plain model of stock, holds and transfers."""

    url = "memory://"
    keys = Bundle("keys")
    transfers = Bundle("transfers")

    @initialize()
    def open_chain(self) -> None:
        self.clock = FixedClock()
        self._tmp = tempfile.TemporaryDirectory()
        self.ms = multistore.connect(self.url.replace("{tmp}", self._tmp.name), clock=self.clock)
        for s in STORES:
            self.ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store(s))
        self.ms.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P", list(SKUS)))
        self.on_hand: dict[Pair, int] = dict.fromkeys(PAIRS, 0)
        self.active: dict[str, dict[Pair, int]] = {}
        self.expires: dict[str, object] = {}
        self.open: dict[str, tuple[str, str, str, int]] = {}
        self.external = dict.fromkeys(SKUS, 0)
        self.quota: dict[Pair, int] = {}
        self.counter = 0

    def teardown(self) -> None:
        if hasattr(self, "ms"):
            self.ms.close()
            self._tmp.cleanup()

    def _reserved(self, pair: Pair) -> int:
        held = sum(lines.get(pair, 0) for lines in self.active.values())
        return held + self.quota.get(pair, 0)

    @rule(pair=pairs, units=st.integers(min_value=0, max_value=5))
    def fence_for_flash_sale(self, pair: Pair, units: int) -> None:
        delta = units - self.quota.get(pair, 0)
        fits = delta <= self.on_hand[pair] - self._reserved(pair)
        try:
            self.ms.inventory.set_quota(
                actor=SYSTEM_ACTOR, store_id=pair[0], sku=pair[1], channel="flash", units=units
            )
        except InsufficientStockError:
            assert not fits
            return
        assert fits
        if units:
            self.quota[pair] = units
        else:
            self.quota.pop(pair, None)

    @rule(pair=pairs, qty=quantities)
    def receive(self, pair: Pair, qty: int) -> None:
        self.ms.inventory.receive(actor=SYSTEM_ACTOR, store_id=pair[0], sku=pair[1], quantity=qty)
        self.on_hand[pair] += qty
        self.external[pair[1]] += qty

    @rule(pair=pairs, qty=st.integers(min_value=-6, max_value=6).filter(bool))
    def adjust(self, pair: Pair, qty: int) -> None:
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
            self.external[pair[1]] += qty

    @rule(
        target=keys,
        lines=st.dictionaries(pairs, quantities, min_size=1, max_size=3),
        flash=st.booleans(),
    )
    def reserve(self, lines: dict[Pair, int], flash: bool):  # type: ignore[no-untyped-def]
        self.counter += 1
        key = f"k{self.counter}"
        fenced = {p for p in lines if flash and p in self.quota}
        fits = all(
            (self.quota[p] if p in fenced else self.on_hand[p] - self._reserved(p)) >= q
            for p, q in lines.items()
        )
        try:
            self.ms.inventory.reserve(
                actor=SYSTEM_ACTOR,
                key=key,
                lines=[(s, k, q) for (s, k), q in lines.items()],
                channel="flash" if flash else None,
            )
        except InsufficientStockError:
            assert not fits
            return multiple()
        assert fits
        for p in fenced:
            self.quota[p] -= lines[p]
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
        if key not in self.active:
            with pytest.raises(ConflictError, match="expired"):
                self.ms.inventory.commit(actor=SYSTEM_ACTOR, key=key)
            return
        self.ms.inventory.commit(actor=SYSTEM_ACTOR, key=key)
        for (store, sku), q in self.active.pop(key).items():
            self.on_hand[(store, sku)] -= q
            self.external[sku] -= q

    @rule(key=consumes(keys))
    def release(self, key: str) -> None:
        if key not in self.active:
            with pytest.raises(ConflictError, match="expired"):
                self.ms.inventory.release(actor=SYSTEM_ACTOR, key=key)
            return
        self.ms.inventory.release(actor=SYSTEM_ACTOR, key=key)
        self.active.pop(key)

    @rule(minutes=st.integers(min_value=1, max_value=20))
    def time_passes_and_holds_expire(self, minutes: int) -> None:
        now = self.clock.advance(timedelta(minutes=minutes))
        expired = self.ms.inventory.expire(actor=SYSTEM_ACTOR)
        due = {k for k, at in self.expires.items() if k in self.active and at <= now}  # type: ignore[operator]
        assert due == {r.key for r in expired}
        for key in due:
            self.active.pop(key)

    @rule(target=transfers, route=routes, qty=quantities)
    def ship(self, route: tuple[str, str, str], qty: int):  # type: ignore[no-untyped-def]
        source, destination, sku = route
        if source == destination:
            return multiple()
        self.counter += 1
        transfer_id = f"t{self.counter}"
        fits = self.on_hand[(source, sku)] - self._reserved((source, sku)) >= qty
        try:
            self.ms.inventory.transfer(
                actor=SYSTEM_ACTOR,
                transfer_id=transfer_id,
                from_store=source,
                to_store=destination,
                sku=sku,
                quantity=qty,
            )
        except InsufficientStockError:
            assert not fits
            return multiple()
        assert fits
        self.on_hand[(source, sku)] -= qty
        self.open[transfer_id] = (source, destination, sku, qty)
        return multiple(transfer_id)

    @rule(transfer_id=transfers)
    def ship_again_is_idempotent(self, transfer_id: str) -> None:
        if transfer_id not in self.open:
            return
        source, destination, sku, qty = self.open[transfer_id]
        again = self.ms.inventory.transfer(
            actor=SYSTEM_ACTOR,
            transfer_id=transfer_id,
            from_store=source,
            to_store=destination,
            sku=sku,
            quantity=qty,
        )
        assert TransferStatus.IN_TRANSIT == again.status

    @rule(transfer_id=consumes(transfers))
    def land(self, transfer_id: str) -> None:
        self.ms.inventory.receive_transfer(actor=SYSTEM_ACTOR, transfer_id=transfer_id)
        _, destination, sku, qty = self.open.pop(transfer_id)
        self.on_hand[(destination, sku)] += qty

    @rule(transfer_id=consumes(transfers))
    def call_back(self, transfer_id: str) -> None:
        self.ms.inventory.cancel_transfer(actor=SYSTEM_ACTOR, transfer_id=transfer_id)
        source, _, sku, qty = self.open.pop(transfer_id)
        self.on_hand[(source, sku)] += qty

    @invariant()
    def stock_adds_up(self) -> None:
        if not hasattr(self, "ms"):
            return
        snapshot = self.ms.inventory.snapshot(skus=list(SKUS), store_ids=list(STORES))
        in_transit = self.ms.inventory.transfers_in_transit()
        assert set(self.open) == {x.id for x in in_transit}
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
        for sku in SKUS:
            transit = sum(x.quantity for x in in_transit if x.sku == sku)
            assert sum(t[3] for t in self.open.values() if t[2] == sku) == transit
            assert transit == self.ms.inventory.in_transit(sku=sku)
            stores = sum(snapshot[p].on_hand for p in PAIRS if p[1] == sku and p in snapshot)
            assert self.external[sku] == stores + transit
        quotas = {(q.store_id, q.sku): q.units for q in self.ms.inventory.quotas()}
        assert self.quota == quotas
        for key in self.active:
            assert ReservationStatus.ACTIVE == self.ms.inventory.get_reservation(key=key).status


class MemoryTransferMachine(TransferMachine):
    url = "memory://"


class SqliteTransferMachine(TransferMachine):
    url = "sqlite:///{tmp}/" + "transfers.db"


TestTransfersOnMemory = MemoryTransferMachine.TestCase
TestTransfersOnMemory.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)

TestTransfersOnSqlite = SqliteTransferMachine.TestCase
TestTransfersOnSqlite.settings = settings(max_examples=10, stateful_step_count=25, deadline=None)
