"""A hypothesis state machine over publish / unpublish to every kind of target.

After every step, on memory and on SQLite: the catalog version never goes back and moves exactly
when something changed; replaying ``changes_since(0)`` store by store rebuilds every store's
assortment; a sync from any earlier version applied on top of that version's state gives the
current state (incremental sync never misses a change).
"""

from __future__ import annotations

import tempfile

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import multistore
from multistore.catalog import ChangeKind, PublishTarget
from multistore.ports.security import SYSTEM_ACTOR
from multistore.testing.builders import sample_product, sample_store
from multistore.testing.fakes import FixedClock

STORES = {
    "E1": ("east", "supermarket"),
    "E2": ("east", "convenience"),
    "W1": ("west", "supermarket"),
}
PRODUCTS = ("P1", "P2")

targets = st.one_of(
    st.just(PublishTarget.all()),
    st.sets(st.sampled_from(["east", "west"]), min_size=1).map(lambda r: PublishTarget.regions(*r)),
    st.sets(st.sampled_from(["supermarket", "convenience"]), min_size=1).map(
        lambda f: PublishTarget.formats(*f)
    ),
    st.sets(st.sampled_from(sorted(STORES)), min_size=1).map(lambda s: PublishTarget.stores(*s)),
)


def _reached(target: PublishTarget) -> set[str]:
    if target.kind.value == "all":
        return set(STORES)
    if target.kind.value == "regions":
        return {s for s, (region, _) in STORES.items() if region in target.values}
    if target.kind.value == "formats":
        return {s for s, (_, fmt) in STORES.items() if fmt in target.values}
    return set(target.values)


class AssortmentMachine(RuleBasedStateMachine):
    url = "memory://"

    @initialize()
    def open_chain(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.ms = multistore.connect(self.url.replace("{tmp}", self._tmp.name), clock=FixedClock())
        for store_id, (region, fmt) in STORES.items():
            self.ms.stores.add(
                actor=SYSTEM_ACTOR, store=sample_store(store_id, region=region, store_format=fmt)
            )
        for i, product_id in enumerate(PRODUCTS):
            self.ms.catalog.add_product(
                actor=SYSTEM_ACTOR, product=sample_product(product_id, [f"K{i}"])
            )
        self.listed: dict[str, set[str]] = {s: set() for s in STORES}
        self.version = 0
        self.history: dict[int, dict[str, set[str]]] = {0: {s: set() for s in STORES}}

    def teardown(self) -> None:
        if hasattr(self, "ms"):
            self.ms.close()
            self._tmp.cleanup()

    @rule(product=st.sampled_from(PRODUCTS), where=targets)
    def publish(self, product: str, where: PublishTarget) -> None:
        result = self.ms.catalog.publish(actor=SYSTEM_ACTOR, product_id=product, target=where)
        assert result.version == self.version + 1
        assert tuple(sorted(_reached(where))) == result.store_ids
        self.version = result.version
        for s in result.store_ids:
            self.listed[s].add(product)
        self.history[self.version] = {s: set(p) for s, p in self.listed.items()}

    @rule(product=st.sampled_from(PRODUCTS), where=targets)
    def unpublish(self, product: str, where: PublishTarget) -> None:
        listing = {s for s, p in self.listed.items() if product in p}
        expected = sorted(_reached(where) & listing)
        result = self.ms.catalog.unpublish(actor=SYSTEM_ACTOR, product_id=product, target=where)
        assert tuple(expected) == result.store_ids
        if not expected:
            assert self.version == result.version
            return
        assert result.version == self.version + 1
        self.version = result.version
        for s in expected:
            self.listed[s].discard(product)
        self.history[self.version] = {s: set(p) for s, p in self.listed.items()}

    @invariant()
    def sync_rebuilds_every_store(self) -> None:
        if not hasattr(self, "ms"):
            return
        assert self.version == self.ms.catalog.catalog_version()
        changes = list(self.ms.catalog.changes_since(version=0))
        assert [c.version for c in changes] == sorted(c.version for c in changes)
        for since, state in self.history.items():
            rebuilt = {s: set(p) for s, p in state.items()}
            for change in self.ms.catalog.changes_since(version=since):
                assert change.version > since
                if change.kind is ChangeKind.PUBLISHED:
                    rebuilt[change.store_id].add(change.product_id)
                else:
                    rebuilt[change.store_id].discard(change.product_id)
            assert self.listed == rebuilt
        for store_id, products in self.listed.items():
            assert sorted(products) == list(self.ms.catalog.assortment(store_id=store_id))


class SqliteAssortmentMachine(AssortmentMachine):
    url = "sqlite:///{tmp}/" + "assortment.db"


TestAssortmentOnMemory = AssortmentMachine.TestCase
TestAssortmentOnMemory.settings = settings(max_examples=30, stateful_step_count=20, deadline=None)

TestAssortmentOnSqlite = SqliteAssortmentMachine.TestCase
TestAssortmentOnSqlite.settings = settings(max_examples=8, stateful_step_count=15, deadline=None)
