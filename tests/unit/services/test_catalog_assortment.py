"""Publishing the catalog to stores, incremental sync, store prices and content review."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from multistore import money as m
from multistore.app import Multistore, connect
from multistore.catalog import ChangeKind, ContentRejectedError, Product, PublishTarget
from multistore.errors import (
    CurrencyMismatchError,
    FloatMoneyError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from multistore.ports.content_review import ReviewResult
from multistore.ports.security import SYSTEM_ACTOR
from multistore.testing.builders import sample_product, sample_store
from multistore.testing.fakes import FixedClock, SequentialIdFactory

from .conftest import Probe, region_manager

T = datetime(2026, 3, 1, tzinfo=UTC)


def test_publish_to_a_region_reaches_its_stores(chain: Multistore) -> None:
    result = chain.catalog.publish(
        actor=SYSTEM_ACTOR, product_id="P1", target=PublishTarget.regions("east")
    )
    assert ("E1", "E2") == result.store_ids
    assert ChangeKind.PUBLISHED == result.kind
    assert result.version == chain.catalog.catalog_version()
    assert ["P1"] == list(chain.catalog.assortment(store_id="E1"))
    assert [] == list(chain.catalog.assortment(store_id="W1"))
    assert ["E1", "E2"] == list(chain.catalog.stores_listing(product_id="P1"))
    assert "east" in result.explanation[0]


def test_publish_targets(chain: Multistore) -> None:
    everywhere = chain.catalog.publish(
        actor=SYSTEM_ACTOR, product_id="P1", target=PublishTarget.all()
    )
    assert ("E1", "E2", "W1") == everywhere.store_ids
    named = chain.catalog.publish(
        actor=SYSTEM_ACTOR, product_id="P1", target=PublishTarget.stores("W1")
    )
    assert ("W1",) == named.store_ids
    fmt = chain.stores.get(store_id="E1").format
    by_format = chain.catalog.publish(
        actor=SYSTEM_ACTOR, product_id="P1", target=PublishTarget.formats(fmt)
    )
    assert "E1" in by_format.store_ids
    assert everywhere.version < named.version < by_format.version


def test_changes_since_syncs_incrementally(chain: Multistore) -> None:
    chain.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P2", ["K3"]))
    v1 = chain.catalog.publish(
        actor=SYSTEM_ACTOR, product_id="P1", target=PublishTarget.regions("east")
    ).version
    v2 = chain.catalog.publish(
        actor=SYSTEM_ACTOR, product_id="P2", target=PublishTarget.stores("E1", "W1")
    ).version
    v3 = chain.catalog.unpublish(
        actor=SYSTEM_ACTOR, product_id="P1", target=PublishTarget.stores("E1")
    ).version
    assert v1 < v2 < v3
    e1 = [
        (c.version, c.product_id, c.kind)
        for c in chain.catalog.changes_since(version=v1, store_id="E1")
    ]
    assert [(v2, "P2", ChangeKind.PUBLISHED), (v3, "P1", ChangeKind.UNPUBLISHED)] == e1
    assert [] == list(chain.catalog.changes_since(version=v3))
    assert 5 == len(chain.catalog.changes_since(version=0))
    assert 2 == len(chain.catalog.changes_since(version=0, limit=2))
    assert ["P2"] == list(chain.catalog.assortment(store_id="E1"))


def test_unpublish_where_not_listed_changes_nothing(chain: Multistore, probe: Probe) -> None:
    before = probe.counts()
    result = chain.catalog.unpublish(
        actor=SYSTEM_ACTOR, product_id="P1", target=PublishTarget.all()
    )
    assert () == result.store_ids
    assert 0 == result.version
    assert before == probe.counts()


@pytest.mark.parametrize(
    ("product_id", "target", "error", "code"),
    [
        ("NOPE", PublishTarget.all(), NotFoundError, "catalog.product_not_found"),
        ("P1", PublishTarget.stores("NOPE"), NotFoundError, "store.not_found"),
        ("P1", PublishTarget.regions("north"), ValidationError, "catalog.no_store_matched"),
        (" ", PublishTarget.all(), ValidationError, "validation.empty_id"),
    ],
)
def test_bad_publishes_write_nothing(
    chain: Multistore,
    probe: Probe,
    product_id: str,
    target: PublishTarget,
    error: type[Exception],
    code: str,
) -> None:
    before = probe.counts()
    with pytest.raises(error) as info:
        chain.catalog.publish(actor=SYSTEM_ACTOR, product_id=product_id, target=target)
    assert code == getattr(info.value, "code", None)
    assert before == probe.counts()
    assert 0 == chain.catalog.catalog_version()


def test_empty_target_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        PublishTarget.regions()
    assert "catalog.empty_target" == info.value.code


def test_region_manager_may_not_publish(chain: Multistore) -> None:
    with pytest.raises(PermissionDeniedError):
        chain.catalog.publish(
            actor=region_manager("east"), product_id="P1", target=PublishTarget.regions("east")
        )
    assert 0 == chain.catalog.catalog_version()


def test_store_price_overrides_list_price_inside_its_window(chain: Multistore) -> None:
    list_price = chain.catalog.get_sku(code="K1").list_price
    chain.catalog.set_store_price(
        actor=SYSTEM_ACTOR,
        store_id="E1",
        sku="K1",
        price=m.money("1.99"),
        valid_from=T,
        valid_to=T + timedelta(days=7),
    )
    inside = chain.catalog.price_at(store_id="E1", sku="K1", at=T + timedelta(days=1))
    assert (m.money("1.99"), "store_override") == (inside.price, inside.source)
    after = chain.catalog.price_at(store_id="E1", sku="K1", at=T + timedelta(days=7))
    assert (list_price, "list_price") == (after.price, after.source)
    other_store = chain.catalog.price_at(store_id="E2", sku="K1", at=T + timedelta(days=1))
    assert "list_price" == other_store.source
    assert other_store.explanation


def test_latest_override_wins_where_windows_overlap(chain: Multistore, clock: FixedClock) -> None:
    chain.catalog.set_store_price(
        actor=SYSTEM_ACTOR, store_id="E1", sku="K1", price=m.money("5.00"), valid_from=T
    )
    clock.advance(timedelta(minutes=1))
    chain.catalog.set_store_price(
        actor=SYSTEM_ACTOR,
        store_id="E1",
        sku="K1",
        price=m.money("4.00"),
        valid_from=T + timedelta(days=2),
        valid_to=T + timedelta(days=3),
    )
    assert m.money("5.00") == chain.catalog.price_at(store_id="E1", sku="K1", at=T).price
    flash = chain.catalog.price_at(store_id="E1", sku="K1", at=T + timedelta(days=2))
    assert m.money("4.00") == flash.price
    assert 2 == len(flash.explanation)
    later = T + timedelta(days=3)
    assert m.money("5.00") == chain.catalog.price_at(store_id="E1", sku="K1", at=later).price


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"price": m.money("-1")}, ValidationError, "catalog.invalid_price"),
        ({"price": 1.5}, FloatMoneyError, "money.float_rejected"),
        ({"price": m.money("1", "USD")}, CurrencyMismatchError, "money.currency_mismatch"),
        ({"valid_to": T}, ValidationError, "catalog.invalid_window"),
        ({"valid_from": datetime(2026, 3, 1)}, ValidationError, "catalog.invalid_window"),
        ({"store_id": "NOPE"}, NotFoundError, "store.not_found"),
        ({"sku": "NOPE"}, NotFoundError, "catalog.sku_not_found"),
    ],
)
def test_bad_store_prices_write_nothing(
    chain: Multistore,
    probe: Probe,
    changes: dict[str, object],
    error: type[Exception],
    code: str,
) -> None:
    args: dict[str, object] = {
        "store_id": "E1",
        "sku": "K1",
        "price": m.money("2.00"),
        "valid_from": T,
        **changes,
    }
    before = probe.counts()
    with pytest.raises(error) as info:
        chain.catalog.set_store_price(actor=SYSTEM_ACTOR, **args)  # type: ignore[arg-type]
    assert code == getattr(info.value, "code", None)
    assert before == probe.counts()
    assert "list_price" == chain.catalog.price_at(store_id="E1", sku="K1", at=T).source


def test_price_at_unknown_store_or_sku(chain: Multistore) -> None:
    with pytest.raises(NotFoundError) as info:
        chain.catalog.price_at(store_id="NOPE", sku="K1", at=T)
    assert "store.not_found" == info.value.code
    with pytest.raises(NotFoundError) as info:
        chain.catalog.price_at(store_id="E1", sku="NOPE", at=T)
    assert "catalog.sku_not_found" == info.value.code


def test_price_at_needs_an_aware_instant(chain: Multistore) -> None:
    with pytest.raises(ValidationError):
        chain.catalog.price_at(store_id="E1", sku="K1", at=datetime(2026, 3, 1))


class BannedWords:
    """Rejects copy that makes absolute claims (a stand-in for an advertising-law check)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def review(self, product: Product) -> ReviewResult:
        self.seen.append(product.id)
        if "best" in product.name.lower():
            return ReviewResult.reject(
                "absolute claims such as 'best' are not allowed", reviewer="banned-words"
            )
        return ReviewResult.approve(reviewer="banned-words")


@pytest.fixture
def reviewed(tmp_path: Path) -> Iterator[tuple[Multistore, BannedWords]]:
    reviewer = BannedWords()
    with connect(
        f"sqlite:///{tmp_path / 'r.db'}",
        clock=FixedClock(),
        id_factory=SequentialIdFactory(),
        content_reviewer=reviewer,
    ) as ms:
        ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store("E1"))
        yield ms, reviewer


def test_rejected_copy_is_never_written(reviewed: tuple[Multistore, BannedWords]) -> None:
    ms, reviewer = reviewed
    probe = Probe(ms)
    before = probe.counts()
    bad = Product(id="PX", name="Best tea ever", skus=sample_product("PX", ["KX"]).skus)
    with pytest.raises(ContentRejectedError) as info:
        ms.catalog.add_product(actor=SYSTEM_ACTOR, product=bad)
    assert "catalog.content_rejected" == info.value.code
    assert ["absolute claims such as 'best' are not allowed"] == info.value.details["reasons"]
    assert before == probe.counts()
    assert [] == list(ms.catalog.list())
    ms.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P1", ["K1"]))
    ms.catalog.publish(actor=SYSTEM_ACTOR, product_id="P1", target=PublishTarget.all())
    assert ["PX", "P1", "P1"] == reviewer.seen
