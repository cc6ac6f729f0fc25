"""Role-based authorisation: which role may perform which action, in which scope.

A role grants a set of permission patterns. An action is a dotted name such as
``"inventory.reserve"``; a pattern is an action, ``"inventory.*"`` (every action of a context),
``"*.read"`` (one verb in every context) or ``"*"``. An actor may perform an action in a scope
when one of its grants holds a role whose patterns match the action and the grant's scope
reaches the scope of the call (HQ reaches everything, a region reaches its stores, a store
only itself).

Examples:
    >>> from multistore.ports.security import Actor, Scope
    >>> auth = RoleBasedAuthorizer()
    >>> manager = Actor.with_role("u1", "store_manager", Scope.of_store("SH-001", region="east"))
    >>> auth.check(manager, "inventory.receive", Scope.of_store("SH-001", region="east"))
    >>> auth.allows(manager, "inventory.receive", Scope.of_store("SH-002", region="east"))
    False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from multistore.errors import PermissionDeniedError, ValidationError
from multistore.ports.security import Actor, Scope

__all__ = [
    "DEFAULT_ROLES",
    "AllowAllAuthorizer",
    "AllowSystemAuthorizer",
    "RoleBasedAuthorizer",
    "matches",
]

DEFAULT_ROLES: Mapping[str, frozenset[str]] = {
    # Headquarters administrators run the whole chain.
    "hq_admin": frozenset({"*"}),
    # Internal jobs (order intake, relays, expiry sweeps).
    "system": frozenset({"*"}),
    # A region manager runs the stores of a region (but the central catalog stays with HQ,
    # because adding a product is an HQ-scope action a region grant does not reach).
    "region_manager": frozenset(
        {
            "stores.*",
            "inventory.*",
            "replenishment.*",
            "orders.*",
            "members.*",
            "payments.*",
            "*.read",
        }
    ),
    # 店长: everything in their own store, except opening, closing or moving it.
    "store_manager": frozenset(
        {
            "stores.update",
            "inventory.*",
            "replenishment.*",
            "orders.*",
            "members.*",
            "payments.*",
            "*.read",
        }
    ),
    # 收银员: takes payments and looks things up, nothing else.
    "cashier": frozenset({"payments.take", "payments.refund_request", "*.read"}),
    # Read-only access for auditors and analysts.
    "auditor": frozenset({"*.read", "audit.*"}),
}
"""The built-in role matrix: role -> permission patterns."""


def matches(pattern: str, action: str) -> bool:
    """Whether a permission ``pattern`` covers ``action``.

    Examples:
        >>> matches("inventory.*", "inventory.reserve"), matches("*.read", "orders.read")
        (True, True)
        >>> matches("orders.*", "inventory.reserve")
        False
    """
    if pattern in ("*", action):
        return True
    context, _, verb = action.partition(".")
    if pattern == f"{context}.*":
        return True
    return pattern == f"*.{verb}" and bool(verb)


class RoleBasedAuthorizer:
    """Authorises by role, permission and scope (see the module docs).

    Args:
        roles: Role name -> permission patterns; defaults to :data:`DEFAULT_ROLES`. Pass your own
            matrix (or ``{**DEFAULT_ROLES, "picker": {"inventory.read"}}``) to change it.

    Raises:
        ValidationError: ``security.invalid_roles`` for an empty role name or pattern.
    """

    def __init__(self, roles: Mapping[str, Iterable[str]] | None = None) -> None:
        source = DEFAULT_ROLES if roles is None else roles
        matrix: dict[str, frozenset[str]] = {}
        for role, patterns in source.items():
            if not isinstance(role, str) or not role.strip():
                raise ValidationError(
                    f"role names must be non-empty strings, got {role!r}",
                    code="security.invalid_roles",
                )
            if isinstance(patterns, str):
                raise ValidationError(
                    f"role {role!r} must map to a collection of patterns, not one string",
                    code="security.invalid_roles",
                )
            clean = frozenset(patterns)
            if any(not isinstance(p, str) or not p.strip() for p in clean):
                raise ValidationError(
                    f"role {role!r} has an empty permission pattern",
                    code="security.invalid_roles",
                )
            matrix[role] = clean
        self.roles: Mapping[str, frozenset[str]] = matrix

    def allows(self, actor: Actor, action: str, scope: Scope) -> bool:
        """Whether ``actor`` may perform ``action`` in ``scope``."""
        for grant in actor.grants:
            patterns = self.roles.get(grant.role)
            if patterns and scope.within(grant.scope) and any(matches(p, action) for p in patterns):
                return True
        return False

    def check(self, actor: Actor, action: str, scope: Scope) -> None:
        """Return if allowed; otherwise raise :class:`~multistore.errors.PermissionDeniedError`.

        Raises:
            PermissionDeniedError: ``permission.denied``, naming the actor, action and scope.
        """
        if not self.allows(actor, action, scope):
            raise _denied(actor, action, scope)


def _describe(scope: Scope) -> str:
    if scope.id:
        return f"{scope.level.value} {scope.id!r}"
    return "headquarters"


def _denied(actor: Actor, action: str, scope: Scope) -> PermissionDeniedError:
    roles = ", ".join(sorted({g.role for g in actor.grants})) or "no role"
    return PermissionDeniedError(
        f"actor {actor.id!r} ({roles}) may not {action} in {_describe(scope)}; ask an "
        "administrator for a role that grants it there",
        code="permission.denied",
        details={
            "actor_id": actor.id,
            "action": action,
            "scope": scope.level.value,
            "scope_id": scope.id,
        },
    )


class AllowSystemAuthorizer:
    """Allows only actors holding the ``system`` role (the minimal, safe default for jobs)."""

    def check(self, actor: Actor, action: str, scope: Scope) -> None:
        """Return for a system actor; raise ``permission.denied`` for anyone else."""
        if not any(g.role == "system" for g in actor.grants):
            raise _denied(actor, action, scope)


class AllowAllAuthorizer:
    """Allows everything: for tests and single-user tools only."""

    def check(self, actor: Actor, action: str, scope: Scope) -> None:
        """Always return."""
