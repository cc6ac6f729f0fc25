"""Ring-fenced quotas through the service: fencing, channel reservations, availability."""

from __future__ import annotations

import pytest

from multistore.app import Multistore
from multistore.errors import InsufficientStockError, NotFoundError, ValidationError
from multistore.inventory.model import Quota
from multistore.ports.security import SYSTEM_ACTOR

from .conftest import Probe


@pytest.fixture
def stocked(chain: Multistore) -> Multistore:
    chain.inventory.receive(actor=SYSTEM_ACTOR, store_id="E1", sku="K1", quantity=20)
    chain.inventory.set_safety_buffer(actor=SYSTEM_ACTOR, store_id="E1", sku="K1", units=2)
    return chain


def test_flash_sale_quota(stocked: Multistore) -> None:
    quota = stocked.inventory.set_quota(
        actor=SYSTEM_ACTOR, store_id="E1", sku="K1", channel="flash-1111", units=5
    )
    assert Quota("E1", "K1", "flash-1111", 5) == quota
    assert 13 == stocked.inventory.available_for(store_id="E1", sku="K1")
    assert 5 == stocked.inventory.available_for(store_id="E1", sku="K1", channel="flash-1111")
    assert 13 == stocked.inventory.available_for(store_id="E1", sku="K1", channel="tmall")
    stocked.inventory.reserve(
        actor=SYSTEM_ACTOR, key="F1", lines=[("E1", "K1", 3)], channel="flash-1111"
    )
    assert 2 == stocked.inventory.available_for(store_id="E1", sku="K1", channel="flash-1111")
    assert 13 == stocked.inventory.available_for(store_id="E1", sku="K1")
    with pytest.raises(InsufficientStockError):
        stocked.inventory.reserve(
            actor=SYSTEM_ACTOR, key="F2", lines=[("E1", "K1", 3)], channel="flash-1111"
        )
    with pytest.raises(InsufficientStockError):
        stocked.inventory.reserve(actor=SYSTEM_ACTOR, key="O1", lines=[("E1", "K1", 14)])
    stocked.inventory.reserve(actor=SYSTEM_ACTOR, key="O2", lines=[("E1", "K1", 13)])
    stocked.inventory.commit(actor=SYSTEM_ACTOR, key="F1")
    level = stocked.inventory.level(store_id="E1", sku="K1")
    assert (17, 15) == (level.on_hand, level.reserved)
    assert [Quota("E1", "K1", "flash-1111", 2)] == list(stocked.inventory.quotas(store_id="E1"))


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"units": 19}, InsufficientStockError, "stock.insufficient"),
        ({"units": -1}, ValidationError, "validation.negative_quantity"),
        ({"channel": " "}, ValidationError, "validation.empty_id"),
        ({"store_id": "NOPE"}, NotFoundError, "store.not_found"),
        ({"sku": "NOPE"}, NotFoundError, "catalog.sku_not_found"),
    ],
)
def test_bad_quotas_write_nothing(
    stocked: Multistore,
    probe: Probe,
    changes: dict[str, object],
    error: type[Exception],
    code: str,
) -> None:
    args: dict[str, object] = {
        "store_id": "E1",
        "sku": "K1",
        "channel": "flash",
        "units": 4,
        **changes,
    }
    before = probe.counts()
    with pytest.raises(error) as info:
        stocked.inventory.set_quota(actor=SYSTEM_ACTOR, **args)  # type: ignore[arg-type]
    assert code == getattr(info.value, "code", None)
    assert before == probe.counts()
    assert 0 == stocked.inventory.level(store_id="E1", sku="K1").reserved
