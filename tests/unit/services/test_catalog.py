from __future__ import annotations

import pytest

from multistore import money as m
from multistore.app import Multistore
from multistore.catalog.model import Product, Sku
from multistore.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from multistore.ports.security import SYSTEM_ACTOR, Actor
from multistore.testing.builders import sample_product

from .conftest import Probe, manager_of, region_manager


def test_add_get_and_list(ms: Multistore, probe: Probe) -> None:
    tea = sample_product("TEA", ["TEA-500G", "TEA-250G"], price="88.00")
    hq = Actor.with_role("admin", "hq_admin")
    assert tea == ms.catalog.add_product(actor=hq, product=tea)
    assert tea == ms.catalog.get(product_id="TEA")
    assert tea.skus[1] == ms.catalog.get_sku(code="TEA-250G")
    assert ["TEA"] == [p.id for p in ms.catalog.list()]
    assert (1, 1) == probe.counts()
    with ms.unit_of_work() as uow:
        [record] = uow.outbox.pending()
    assert {
        "code": "TEA-500G",
        "list_price_minor": 8800,
        "currency": "CNY",
        "tax_category": "general",
    } == record.event.payload["skus"][0]


@pytest.mark.parametrize("actor", [region_manager("east"), manager_of("E1", "east")])
def test_only_hq_edits_the_catalog(ms: Multistore, probe: Probe, actor: Actor) -> None:
    with pytest.raises(PermissionDeniedError):
        ms.catalog.add_product(actor=actor, product=sample_product("X", ["X1"]))
    assert (1, 0) == probe.counts()
    with pytest.raises(NotFoundError):
        ms.catalog.get(product_id="X")


def test_duplicates_conflict_and_write_nothing(ms: Multistore, probe: Probe) -> None:
    ms.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P1", ["K1"]))
    before = probe.counts()
    with pytest.raises(ConflictError) as info:
        ms.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P2", ["K2", "K1"]))
    assert info.value.code == "catalog.duplicate_sku"
    with pytest.raises(ConflictError) as info:
        ms.catalog.add_product(actor=SYSTEM_ACTOR, product=sample_product("P1", ["K3"]))
    assert info.value.code == "catalog.duplicate_product"
    assert before == probe.counts()
    with pytest.raises(NotFoundError) as missing:
        ms.catalog.get_sku(code="K2")
    assert missing.value.code == "catalog.sku_not_found"


def test_not_a_product(ms: Multistore, probe: Probe) -> None:
    with pytest.raises(ValidationError):
        ms.catalog.add_product(actor=SYSTEM_ACTOR, product={"id": "P"})  # type: ignore[arg-type]
    assert (0, 0) == probe.counts()


def test_prices_keep_their_currency(ms: Multistore) -> None:
    sku = Sku(code="JP-1", name="Matcha", list_price=m.money("1200", "JPY"))
    ms.catalog.add_product(actor=SYSTEM_ACTOR, product=Product(id="JP", name="Matcha", skus=(sku,)))
    assert m.same(m.money("1200", "JPY"), ms.catalog.get_sku(code="JP-1").list_price)
