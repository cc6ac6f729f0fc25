from __future__ import annotations

import pytest

from multistore.errors import PermissionDeniedError, ValidationError
from multistore.ports.security import SYSTEM_ACTOR, Actor, RoleGrant, Scope
from multistore.security import (
    AllowAllAuthorizer,
    AllowSystemAuthorizer,
    RoleBasedAuthorizer,
    matches,
)

E1 = Scope.of_store("E1", region="east")
E2 = Scope.of_store("E2", region="east")
W1 = Scope.of_store("W1", region="west")
EAST = Scope.of_region("east")
HQ = Scope.hq()

auth = RoleBasedAuthorizer()


def actor(role: str, scope: Scope) -> Actor:
    return Actor.with_role("u", role, scope)


@pytest.mark.parametrize(
    ("role", "grant", "action", "scope", "allowed"),
    [
        ("hq_admin", HQ, "catalog.add_product", HQ, True),
        ("hq_admin", HQ, "inventory.reserve", W1, True),
        ("system", HQ, "inventory.expire", HQ, True),
        ("region_manager", EAST, "inventory.receive", E1, True),
        ("region_manager", EAST, "stores.create", EAST, True),
        ("region_manager", EAST, "stores.create", Scope.of_region("west"), False),
        ("region_manager", EAST, "inventory.receive", W1, False),
        ("region_manager", EAST, "catalog.add_product", HQ, False),
        ("region_manager", EAST, "inventory.expire", HQ, False),
        ("store_manager", E1, "inventory.receive", E1, True),
        ("store_manager", E1, "orders.set_status", E1, True),
        ("store_manager", E1, "stores.update", E1, True),
        ("store_manager", E1, "stores.set_status", E1, False),
        ("store_manager", E1, "inventory.receive", E2, False),
        ("store_manager", E1, "inventory.receive", EAST, False),
        ("store_manager", E1, "catalog.read", E1, True),
        ("store_manager", E1, "replenishment.recompute", E1, True),
        ("store_manager", E1, "replenishment.recompute", E2, False),
        ("region_manager", EAST, "replenishment.set_reorder_point", E1, True),
        ("cashier", E1, "replenishment.recompute", E1, False),
        ("cashier", E1, "payments.take", E1, True),
        ("cashier", E1, "orders.read", E1, True),
        ("cashier", E1, "inventory.reserve", E1, False),
        ("cashier", E1, "orders.set_status", E1, False),
        ("cashier", E1, "payments.take", E2, False),
        ("auditor", HQ, "audit.read", HQ, True),
        ("auditor", HQ, "inventory.receive", E1, False),
        ("unknown_role", HQ, "stores.read", HQ, False),
    ],
)
def test_matrix(role: str, grant: Scope, action: str, scope: Scope, allowed: bool) -> None:
    assert allowed == auth.allows(actor(role, grant), action, scope)


def test_store_scope_without_region_is_not_reached_by_a_region_grant() -> None:
    assert not auth.allows(actor("region_manager", EAST), "inventory.receive", Scope.of_store("E1"))


def test_any_grant_suffices() -> None:
    both = Actor("u", (RoleGrant("cashier", E1), RoleGrant("store_manager", E2)))
    assert auth.allows(both, "inventory.receive", E2)
    assert not auth.allows(both, "inventory.receive", E1)


def test_denial_names_actor_action_and_scope() -> None:
    with pytest.raises(PermissionDeniedError) as info:
        auth.check(actor("cashier", E1), "inventory.reserve", E1)
    err = info.value
    assert "permission.denied" == err.code
    assert {
        "actor_id": "u",
        "action": "inventory.reserve",
        "scope": "store",
        "scope_id": "E1",
    } == dict(err.details)
    assert "cashier" in err.message


def test_no_grants_is_denied() -> None:
    with pytest.raises(PermissionDeniedError):
        auth.check(Actor("nobody"), "stores.read", HQ)


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("*", "a.b", True),
        ("a.b", "a.b", True),
        ("a.*", "a.b", True),
        ("*.b", "a.b", True),
        ("*.b", "a.c", False),
        ("a.*", "b.a", False),
        ("a", "a.b", False),
    ],
)
def test_matches(pattern: str, action: str, expected: bool) -> None:
    assert expected == matches(pattern, action)


def test_custom_matrix() -> None:
    custom = RoleBasedAuthorizer({"picker": ["inventory.read", "inventory.record_movement"]})
    assert custom.allows(actor("picker", E1), "inventory.record_movement", E1)
    assert not custom.allows(actor("hq_admin", HQ), "stores.create", HQ)


@pytest.mark.parametrize("roles", [{"": ["*"]}, {"r": [""]}, {"r": "inventory.*"}])
def test_bad_matrix(roles: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as info:
        RoleBasedAuthorizer(roles)  # type: ignore[arg-type]
    assert "security.invalid_roles" == info.value.code


def test_allow_system_and_allow_all() -> None:
    AllowSystemAuthorizer().check(SYSTEM_ACTOR, "anything.at_all", HQ)
    with pytest.raises(PermissionDeniedError):
        AllowSystemAuthorizer().check(actor("hq_admin", HQ), "stores.create", HQ)
    AllowAllAuthorizer().check(Actor("anyone"), "stores.create", HQ)
