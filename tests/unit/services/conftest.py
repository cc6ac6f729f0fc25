"""A memory-backed multistore with a deterministic clock and ids, and a small seeded chain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from multistore.app import Multistore, connect
from multistore.ports.security import SYSTEM_ACTOR, Actor, Scope
from multistore.testing.builders import sample_product, sample_store
from multistore.testing.fakes import FixedClock, SequentialIdFactory


class Probe:
    """Counts what a call wrote: audit entries and pending outbox events."""

    def __init__(self, ms: Multistore) -> None:
        self.ms = ms

    def audit_count(self) -> int:
        return len(self.ms.audit.entries())

    def outbox_count(self) -> int:
        with self.ms.unit_of_work() as uow:
            return len(uow.outbox.pending(limit=10_000))

    def counts(self) -> tuple[int, int]:
        return self.audit_count(), self.outbox_count()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(params=["memory", "sqlite"])
def ms(request: pytest.FixtureRequest, clock: FixedClock, tmp_path: Path) -> Iterator[Multistore]:
    """The services on memory (the reference) and on a SQLite file (the embedded default)."""
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'ms.db'}"
    with connect(url, clock=clock, id_factory=SequentialIdFactory()) as app:
        yield app


@pytest.fixture
def chain(ms: Multistore) -> Multistore:
    """Two stores in ``east``, one in ``west``, a product with SKUs K1 and K2."""
    ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store("E1", region="east"))
    ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store("E2", region="east"))
    ms.stores.add(
        actor=SYSTEM_ACTOR, store=sample_store("W1", region="west", lat=30.66, lon=104.06)
    )
    ms.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P1", ["K1", "K2"]))
    return ms


@pytest.fixture
def probe(ms: Multistore) -> Probe:
    return Probe(ms)


def manager_of(store_id: str, region: str) -> Actor:
    return Actor.with_role(
        f"mgr-{store_id}", "store_manager", Scope.of_store(store_id, region=region)
    )


def cashier_of(store_id: str, region: str) -> Actor:
    return Actor.with_role(f"cash-{store_id}", "cashier", Scope.of_store(store_id, region=region))


def region_manager(region: str) -> Actor:
    return Actor.with_role(f"rm-{region}", "region_manager", Scope.of_region(region))
