"""Who may do what, where, and the tamper-evident record of what they did.

Roles are granted in a scope: the whole chain (headquarters), one region, or one store. A store
manager (店长) manages everything in their store; a cashier (收银员) only takes payments.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from multistore._validation import check_id, valid_id

__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "AuditEntry",
    "AuditLog",
    "Authorizer",
    "RoleGrant",
    "Scope",
    "ScopeLevel",
]


class ScopeLevel(enum.StrEnum):
    """How far a grant reaches."""

    HQ = "hq"
    REGION = "region"
    STORE = "store"


@attrs.frozen
class Scope:
    """Where an action happens: the chain (``Scope.hq()``), a region, or a store.

    A store scope may carry its region so region-level grants reach it.
    """

    level: ScopeLevel
    id: str = ""
    region: str = ""

    @classmethod
    def hq(cls) -> Scope:
        """The whole chain."""
        return cls(ScopeLevel.HQ)

    @classmethod
    def of_region(cls, region: str) -> Scope:
        """One region."""
        return cls(ScopeLevel.REGION, check_id(region, "region"), region)

    @classmethod
    def of_store(cls, store_id: str, *, region: str = "") -> Scope:
        """One store (give its region so region-level grants apply)."""
        return cls(ScopeLevel.STORE, check_id(store_id, "store_id"), region)

    def within(self, grant: Scope) -> bool:
        """Whether a grant at ``grant`` reaches this scope."""
        if grant.level is ScopeLevel.HQ:
            return True
        if grant.level is ScopeLevel.REGION:
            return self.region == grant.id and self.level is not ScopeLevel.HQ
        return self.level is ScopeLevel.STORE and self.id == grant.id


@attrs.frozen
class RoleGrant:
    """A role held in a scope (``RoleGrant("store_manager", Scope.of_store("SH-001"))``)."""

    role: str
    scope: Scope


def _grant_tuple(grants: Iterable[RoleGrant]) -> tuple[RoleGrant, ...]:
    return tuple(grants)


@attrs.frozen
class Actor:
    """The person or system a service call acts for.

    Attributes:
        id: Stable id of the user or system.
        grants: Roles and where they apply.
    """

    id: str = attrs.field(validator=valid_id("actor.id"))
    grants: tuple[RoleGrant, ...] = attrs.field(default=(), converter=_grant_tuple)

    @classmethod
    def with_role(cls, actor_id: str, role: str, scope: Scope | None = None) -> Actor:
        """An actor holding one role, at headquarters unless a scope is given."""
        return cls(actor_id, (RoleGrant(role, scope or Scope.hq()),))


SYSTEM_ACTOR = Actor("system", (RoleGrant("system", Scope.hq()),))
"""The actor for internal jobs (relays, expiry sweeps); the default authorizer allows it."""


@runtime_checkable
class Authorizer(Protocol):
    """Decides whether an actor may perform an action in a scope."""

    def check(self, actor: Actor, action: str, scope: Scope) -> None:
        """Return if allowed; otherwise raise ``PermissionDeniedError`` (``permission.denied``).

        Guarantees: pure decision, no side effects; the caller audits the outcome.
        """
        ...


@attrs.frozen
class AuditEntry:
    """One append-only record of a state-changing call (or of a denial).

    Attributes:
        sequence: Position in the log, from 1, assigned by the log.
        occurred_at: When it happened (UTC).
        actor_id: Who acted.
        action: Dotted action name (``"stores.create"``).
        target: What it acted on (``"store:SH-001"``).
        outcome: ``"ok"`` or ``"denied"`` (or an error code).
        details: Extra context (no raw PII).
        prev_hash: Hash of the previous entry ("" for the first).
        hash: SHA-256 over this entry's fields and ``prev_hash``; editing an entry breaks the chain.
    """

    sequence: int
    occurred_at: datetime
    actor_id: str
    action: str
    target: str
    outcome: str
    details: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    prev_hash: str = ""
    hash: str = ""


@runtime_checkable
class AuditLog(Protocol):
    """Append-only, hash-chained record of every state change."""

    def append(
        self,
        *,
        occurred_at: datetime,
        actor_id: str,
        action: str,
        target: str,
        outcome: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append an entry and return it with its sequence and hash.

        Guarantees: entries are never updated or deleted; sequences are gap-free (a rolled-back
        unit of work leaves no hole); each hash covers the previous one. Adapters build the entry
        with :func:`multistore.security.audit_chain.chain_entry` (UTC timestamp, details as plain
        JSON) so every backend yields the same hashes and ``verify_chain`` checks any of them.
        """
        ...

    def entries(self, *, since_sequence: int = 0, limit: int | None = None) -> Sequence[AuditEntry]:
        """Return entries with ``sequence > since_sequence`` in order."""
        ...
