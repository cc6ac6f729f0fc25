"""Concurrent sales cross a reorder point exactly once: one alert per crossing, never two.

Threads sell one unit at a time through ``ms.inventory`` on one (store, sku); the alert is
decided inside each sale's transaction from the on-hand level that transaction wrote, so however
the sales interleave exactly one of them takes the stock from above the point to at or below it.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multistore.adapters.events.inprocess import InProcessEventBus
from multistore.adapters.sqlalchemy import create_storage
from multistore.app import Multistore, connect
from multistore.ports.replenishment import BELOW_REORDER_POINT
from multistore.ports.security import SYSTEM_ACTOR as HQ
from multistore.security.rbac import RoleBasedAuthorizer
from multistore.services.context import ServiceContext
from multistore.testing.builders import sample_product, sample_store
from multistore.testing.fakes import FixedClock, SequentialIdFactory

WORKERS = 6
UNITS = 48


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ms(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Multistore]:
    if request.param != "postgres":
        url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'race.db'}"
        with connect(url, clock=FixedClock(), id_factory=SequentialIdFactory()) as app:
            yield app
        return
    pg_url = os.environ.get("MULTISTORE_TEST_POSTGRES_URL")
    if not pg_url:
        pytest.skip("MULTISTORE_TEST_POSTGRES_URL is not set")
    schema = f"ms_rop_{uuid.uuid4().hex[:10]}"
    storage = create_storage(pg_url, schema=schema)
    context = ServiceContext(
        uow_factory=storage.unit_of_work,
        read_uow_factory=lambda: storage.unit_of_work(read_only=True),
        clock=FixedClock(),
        ids=SequentialIdFactory(),
        authorizer=RoleBasedAuthorizer(),
        attempts=10,
    )
    app = Multistore(storage=storage, context=context, event_bus=InProcessEventBus())
    try:
        yield app
    finally:
        with storage.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        storage.close()


def _alerts(ms: Multistore) -> list[int]:
    with ms.unit_of_work() as uow:
        return [
            int(r.event.payload["on_hand"])
            for r in uow.outbox.pending(limit=100_000)
            if r.event.type == BELOW_REORDER_POINT
        ]


def _sell_concurrently(ms: Multistore, units: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(WORKERS)

    def worker() -> None:
        barrier.wait()
        for _ in range(units // WORKERS):
            try:
                ms.inventory.record_movement(
                    actor=HQ, store_id="A", sku="K", kind="sale", quantity=-1
                )
            except BaseException as exc:  # collected and asserted empty below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    return errors


def test_concurrent_sales_raise_exactly_one_alert_per_crossing(ms: Multistore) -> None:
    ms.stores.add(actor=HQ, store=sample_store("A"))
    ms.catalog.add_product(actor=HQ, product=sample_product("P", ["K"]))
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=UNITS)
    ms.replenishment.set_reorder_point(
        actor=HQ, store_id="A", sku="K", reorder_point=UNITS / 2 + 0.5, order_up_to=UNITS
    )
    assert [] == _sell_concurrently(ms, UNITS)
    assert (0, [UNITS // 2]) == (ms.inventory.level(store_id="A", sku="K").on_hand, _alerts(ms))

    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=UNITS)
    assert [] == _sell_concurrently(ms, UNITS)
    assert (0, [UNITS // 2, UNITS // 2]) == (
        ms.inventory.level(store_id="A", sku="K").on_hand,
        _alerts(ms),
    )


def test_points_changed_during_sales_alert_once_per_crossing(ms: Multistore) -> None:
    """Reorder points moving up and down while threads sell: the alerts match a replay.

    The audit log is appended last in every unit of work under a chain-wide lock, so its order
    is the commit order. Replaying it (sales lower on hand, each new point replaces the old)
    gives the number of times the pair went from above its point to at or below it; the outbox
    must hold exactly that many alerts.
    """
    ms.stores.add(actor=HQ, store=sample_store("A"))
    ms.catalog.add_product(actor=HQ, product=sample_product("P", ["K"]))
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=UNITS)
    levels = [UNITS * f for f in (0.2, 0.7, 0.4, 0.9, 0.1, 0.6, 0.3, 0.8)]
    errors: list[BaseException] = []

    def setter() -> None:
        for i in range(24):
            rop = levels[i % len(levels)]
            try:
                ms.replenishment.set_reorder_point(
                    actor=HQ, store_id="A", sku="K", reorder_point=rop, order_up_to=UNITS
                )
            except BaseException as exc:  # collected and asserted empty below
                errors.append(exc)

    thread = threading.Thread(target=setter)
    thread.start()
    errors += _sell_concurrently(ms, UNITS)
    thread.join(timeout=120)
    assert [] == errors

    on_hand, rop, low, crossings = 0, None, False, 0
    for entry in ms.audit.entries():
        if entry.action == "inventory.receive":
            on_hand += UNITS
        elif entry.action == "inventory.record_movement":
            on_hand += int(entry.details["quantity"])
        elif entry.action == "replenishment.set_reorder_point":
            rop = float(entry.details["reorder_point"])
        now_low = rop is not None and on_hand <= rop
        crossings += now_low and not low
        low = now_low
    assert 0 == on_hand
    assert crossings == len(_alerts(ms))


ROUNDS = 4


@pytest.fixture
def slow_saves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold every SQL save of points open a little, so concurrent setters overlap for sure.

    Not a timed assertion: the pause only widens the window between reading the old point and
    committing the new one, which is where two setters used to both see "no point yet".
    """
    from multistore.adapters.sqlalchemy.replenishment import SqlReorderPointRepository

    save = SqlReorderPointRepository.save

    def slow(self: SqlReorderPointRepository, points: Any) -> None:
        save(self, points)
        time.sleep(0.05)

    monkeypatch.setattr(SqlReorderPointRepository, "save", slow)


def _set_concurrently(ms: Multistore, sku: str, points: list[float]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(points))

    def setter(rop: float) -> None:
        barrier.wait()
        try:
            ms.replenishment.set_reorder_point(
                actor=HQ, store_id="A", sku=sku, reorder_point=rop, order_up_to=30
            )
        except BaseException as exc:  # collected and asserted empty below
            errors.append(exc)

    threads = [threading.Thread(target=setter, args=(rop,)) for rop in points]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    return errors


def test_concurrent_point_changes_on_a_stocked_pair_alert_once(
    ms: Multistore, slow_saves: None
) -> None:
    """Two setters put the point above the stock at once: the second sees the first's point."""
    ms.stores.add(actor=HQ, store=sample_store("A"))
    ms.catalog.add_product(actor=HQ, product=sample_product("P", ["K"]))
    ms.inventory.receive(actor=HQ, store_id="A", sku="K", quantity=8)
    for _ in range(ROUNDS):
        ms.replenishment.set_reorder_point(
            actor=HQ, store_id="A", sku="K", reorder_point=0, order_up_to=30
        )  # re-armed: 8 on hand is above 0
        assert [] == _set_concurrently(ms, "K", [10, 12])
    assert [8] * ROUNDS == _alerts(ms)


def test_concurrent_point_changes_on_a_never_stocked_pair_alert_once(
    ms: Multistore, slow_saves: None
) -> None:
    """No stock row to lock yet: the pair itself is locked, still one alert per pair."""
    skus = [f"U{i}" for i in range(ROUNDS)]
    ms.stores.add(actor=HQ, store=sample_store("A"))
    ms.catalog.add_product(actor=HQ, product=sample_product("P", skus))
    for sku in skus:
        assert [] == _set_concurrently(ms, sku, [10, 12])
    assert [0] * ROUNDS == _alerts(ms)
