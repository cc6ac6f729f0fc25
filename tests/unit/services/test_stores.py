from __future__ import annotations

from datetime import time

import pytest

from multistore.app import Multistore
from multistore.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from multistore.geo import GeoPoint
from multistore.ports.security import SYSTEM_ACTOR
from multistore.stores.model import Address, OpeningHours, StoreStatus

from .conftest import Probe, cashier_of, manager_of, region_manager

ADDRESS = Address(province="浙江省", city="杭州市", district="西湖区", street="文三路1号")


def create(ms: Multistore, **overrides: object) -> object:
    args: dict[str, object] = {
        "actor": SYSTEM_ACTOR,
        "store_id": "HZ-1",
        "name": "杭州文三路店",
        "region": "east",
        "format": "convenience",
        "address": ADDRESS,
        "location": (30.2741, 120.1551),
        "opening_hours": OpeningHours.daily(time(7), time(23)),
    }
    args.update(overrides)
    return ms.stores.create(**args)  # type: ignore[arg-type]


def test_create_get_and_list(ms: Multistore, probe: Probe) -> None:
    store = create(ms)
    assert store == ms.stores.get(store_id="HZ-1")
    assert GeoPoint(30.2741, 120.1551) == ms.stores.get(store_id="HZ-1").location
    assert ["HZ-1"] == [s.id for s in ms.stores.list(region="east", format="convenience")]
    assert [] == list(ms.stores.list(region="west"))
    assert (1, 1) == probe.counts()
    entry = ms.audit.entries()[-1]
    assert ("system", "stores.create", "store:HZ-1", "ok") == (
        entry.actor_id,
        entry.action,
        entry.target,
        entry.outcome,
    )


def test_region_manager_creates_only_in_their_region(ms: Multistore, probe: Probe) -> None:
    create(ms, actor=region_manager("east"))
    with pytest.raises(PermissionDeniedError) as info:
        create(ms, actor=region_manager("east"), store_id="CD-1", region="west")
    assert info.value.code == "permission.denied"
    with pytest.raises(NotFoundError):
        ms.stores.get(store_id="CD-1")
    denied = ms.audit.entries()[-1]
    assert ("rm-east", "stores.create", "denied") == (
        denied.actor_id,
        denied.action,
        denied.outcome,
    )
    assert (2, 1) == probe.counts()


def test_update_changes_only_given_fields(chain: Multistore) -> None:
    before = chain.stores.get(store_id="E1")
    after = chain.stores.update(
        actor=manager_of("E1", "east"), store_id="E1", name="New name", delivers=False
    )
    assert ("New name", False, before.location, before.format) == (
        after.name,
        after.delivers,
        after.location,
        after.format,
    )
    assert after == chain.stores.get(store_id="E1")


def test_store_manager_cannot_touch_another_store(chain: Multistore) -> None:
    with pytest.raises(PermissionDeniedError):
        chain.stores.update(actor=manager_of("E1", "east"), store_id="E2", name="Mine now")
    assert chain.stores.get(store_id="E2").name == "Store E2"


def test_set_status_and_filter(chain: Multistore, probe: Probe) -> None:
    chain.stores.set_status(actor=region_manager("east"), store_id="E2", status="suspended")
    assert ["E2"] == [s.id for s in chain.stores.list(status=StoreStatus.SUSPENDED)]
    assert ["E1", "E2"] == [s.id for s in chain.stores.list(region="east")]
    with pytest.raises(PermissionDeniedError):
        chain.stores.set_status(actor=manager_of("E1", "east"), store_id="E1", status="closed")
    with pytest.raises(PermissionDeniedError):
        chain.stores.set_status(actor=cashier_of("E1", "east"), store_id="E1", status="closed")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"store_id": ""}, "validation.empty_id"),
        ({"store_id": "   "}, "validation.empty_id"),
        ({"name": ""}, "validation.empty_text"),
        ({"region": ""}, "validation.empty_id"),
        ({"location": (91.0, 0.0)}, "geo.invalid_coordinate"),
        ({"location": (0.0, 181.0)}, "geo.invalid_coordinate"),
        ({"location": "here"}, "geo.invalid_coordinate"),
        ({"status": "open-ish"}, "validation.invalid_choice"),
    ],
)
def test_bad_input_raises_and_writes_nothing(
    ms: Multistore, probe: Probe, overrides: dict[str, object], code: str
) -> None:
    with pytest.raises(ValidationError) as info:
        create(ms, **overrides)
    assert code == info.value.code
    assert (0, 0) == probe.counts()
    assert [] == list(ms.stores.list())


def test_duplicate_and_unknown(chain: Multistore, probe: Probe) -> None:
    before = probe.counts()
    with pytest.raises(ConflictError) as info:
        create(chain, store_id="E1")
    assert info.value.code == "store.duplicate"
    with pytest.raises(NotFoundError) as missing:
        chain.stores.update(actor=SYSTEM_ACTOR, store_id="nope", name="x")
    assert missing.value.code == "store.not_found"
    with pytest.raises(NotFoundError):
        chain.stores.set_status(actor=SYSTEM_ACTOR, store_id="nope", status="closed")
    assert before == probe.counts()


def test_update_with_bad_value_writes_nothing(chain: Multistore, probe: Probe) -> None:
    before = probe.counts()
    with pytest.raises(ValidationError):
        chain.stores.update(actor=SYSTEM_ACTOR, store_id="E1", name="")
    with pytest.raises(ValidationError):
        chain.stores.update(actor=SYSTEM_ACTOR, store_id="E1", location=(100.0, 0.0))
    assert before == probe.counts()
    assert chain.stores.get(store_id="E1").name == "Store E1"


def test_actor_is_required_to_be_an_actor(ms: Multistore) -> None:
    with pytest.raises(PermissionDeniedError) as info:
        create(ms, actor="system")
    assert info.value.code == "permission.no_actor"
