from __future__ import annotations

import pytest

from multistore.app import Multistore
from multistore.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from multistore.ports.security import SYSTEM_ACTOR

from .conftest import Probe, cashier_of, manager_of


def test_register_and_get(chain: Multistore, clock: object, probe: Probe) -> None:
    before = probe.counts()
    member = chain.members.register(
        actor=manager_of("E1", "east"), name="赵六", phone="13812345678", home_store_id="E1"
    )
    assert member == chain.members.get(member_id=member.id)
    assert member.id.startswith("mem_")
    assert (before[0] + 1, before[1] + 1) == probe.counts()
    entry = chain.audit.entries()[-1]
    assert "13812345678" not in str(entry.details)
    assert "赵六" not in str(entry.details)
    with chain.unit_of_work() as uow:
        payload = uow.outbox.pending(limit=1000)[-1].event.payload
    assert {"member_id": member.id, "tier": "standard", "home_store_id": "E1"} == payload


def test_permissions(chain: Multistore) -> None:
    with pytest.raises(PermissionDeniedError):
        chain.members.register(
            actor=cashier_of("E1", "east"), name="A", phone="13800000000", home_store_id="E1"
        )
    with pytest.raises(PermissionDeniedError):
        chain.members.register(actor=manager_of("E1", "east"), name="A", phone="13800000000")


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"phone": "12ab"}, ValidationError, "member.invalid_phone"),
        ({"phone": "123"}, ValidationError, "member.invalid_phone"),
        ({"name": ""}, ValidationError, "validation.empty_text"),
        ({"member_id": ""}, ValidationError, "validation.empty_id"),
        ({"home_store_id": "NOPE"}, NotFoundError, "store.not_found"),
    ],
)
def test_bad_input_writes_nothing(
    chain: Multistore, probe: Probe, kwargs: dict[str, object], error: type[Exception], code: str
) -> None:
    args: dict[str, object] = {"actor": SYSTEM_ACTOR, "name": "A", "phone": "13800000000"}
    args.update(kwargs)
    before = probe.counts()
    with pytest.raises(error) as info:
        chain.members.register(**args)  # type: ignore[arg-type]
    assert code == info.value.code  # type: ignore[attr-defined]
    assert before == probe.counts()


def test_duplicate_member(chain: Multistore, probe: Probe) -> None:
    chain.members.register(actor=SYSTEM_ACTOR, member_id="M1", name="A", phone="13800000000")
    before = probe.counts()
    with pytest.raises(ConflictError) as info:
        chain.members.register(actor=SYSTEM_ACTOR, member_id="M1", name="B", phone="13800000001")
    assert info.value.code == "member.duplicate"
    assert before == probe.counts()
    assert chain.members.get(member_id="M1").name == "A"
