"""The ports a service runs on, and the one way a state-changing use case runs.

Every state-changing call goes through :meth:`ServiceContext.run`:

1. it opens one unit of work;
2. it works out the scope(s) the call touches (which may need a read, e.g. a store's region);
3. it asks the :class:`~multistore.ports.security.Authorizer`; a denial closes the unit of work,
   writes a ``denied`` audit entry in a unit of work of its own, and raises;
4. it performs the change, writes the events to the outbox and appends an ``ok`` audit entry,
   all in the same unit of work, then commits. The audit entry is the last write before the
   commit, so the audit chain's lock (PostgreSQL) covers only the append and the commit; an
   audit log with ``append_and_commit`` (the SQL one) sends both in one round trip.

Anything that raises in step 4 rolls the whole unit of work back: nothing is written. A
:class:`~multistore.errors.TransientStorageError` makes :meth:`ServiceContext.run` try the whole
call again; a connection lost during the ``COMMIT`` itself is not transient (the storage raises
``storage.commit_unknown``: the commit may have been applied), so it is never repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from multistore.errors import PermissionDeniedError, TransientStorageError
from multistore.ports.clock import Clock, IdFactory
from multistore.ports.events import Event
from multistore.ports.security import Actor, Authorizer, Scope
from multistore.ports.storage import UnitOfWork, UnitOfWorkFactory

__all__ = ["Outcome", "ServiceContext", "Work", "require_actor"]

T = TypeVar("T")


@attrs.frozen
class Outcome(Generic[T]):
    """What a unit of work produced: the result, the events to emit and audit details.

    Attributes:
        result: Returned to the caller.
        events: ``(type, aggregate, payload)`` triples, written to the outbox.
        audit: Extra details for the audit entry (no personal data).
        changed: ``False`` when the call changed nothing (a sweep that found nothing to do);
            then no audit entry is written.
    """

    result: T
    events: Sequence[tuple[str, str, Mapping[str, Any]]] = ()
    audit: Mapping[str, Any] = attrs.field(factory=dict)
    changed: bool = True


Work = Callable[[UnitOfWork], Outcome[T]]


def require_actor(actor: object) -> None:
    """Refuse a call whose ``actor`` is not a multistore :class:`~multistore.ports.security.Actor`.

    Raises:
        PermissionDeniedError: ``permission.no_actor``.
    """
    if not isinstance(actor, Actor):
        raise PermissionDeniedError(
            f"actor must be a multistore Actor, got {type(actor).__name__}; pass "
            "actor=SYSTEM_ACTOR or Actor.with_role(...)",
            code="permission.no_actor",
        )


@attrs.frozen
class ServiceContext:
    """The ports shared by every service.

    Attributes:
        uow_factory: Opens a unit of work on the storage.
        clock: The source of "now".
        ids: The source of new ids.
        authorizer: Decides who may do what, where.
        read_uow_factory: Opens a unit of work for reads only (defaults to ``uow_factory``).
        attempts: How many times a use case is tried when the storage reports a transient
            failure (busy, deadlock) before the retryable error is raised.
    """

    uow_factory: UnitOfWorkFactory
    clock: Clock
    ids: IdFactory
    authorizer: Authorizer
    read_uow_factory: UnitOfWorkFactory | None = None
    attempts: int = 3

    def read(self, fn: Callable[[UnitOfWork], T]) -> T:
        """Run a read-only function in a unit of work that is never committed."""
        with (self.read_uow_factory or self.uow_factory)() as uow:
            return fn(uow)

    def run(
        self,
        *,
        actor: Actor,
        action: str,
        target: str,
        scopes: Callable[[UnitOfWork], Iterable[Scope]],
        work: Work[T],
    ) -> T:
        """Authorise, perform, audit and emit one state-changing use case atomically.

        Args:
            actor: Who acts.
            action: The permission asked for (``"inventory.reserve"``).
            target: What is acted on, for the audit log (``"reservation:R1"``).
            scopes: Returns every scope the call touches; each must be allowed.
            work: Performs the change and says what to return, emit and audit.

        Raises:
            PermissionDeniedError: when any scope is denied (after auditing the denial).
            TransientStorageError: the storage stayed busy through ``attempts`` tries; nothing
                was written.
            StorageError: ``storage.commit_unknown`` when the connection was lost during the
                commit (not retried: check whether the change was written before repeating it).
        """
        require_actor(actor)
        for attempt in range(1, max(1, self.attempts) + 1):
            try:
                return self._run_once(
                    actor=actor, action=action, target=target, scopes=scopes, work=work
                )
            except TransientStorageError:
                if attempt >= self.attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _run_once(
        self,
        *,
        actor: Actor,
        action: str,
        target: str,
        scopes: Callable[[UnitOfWork], Iterable[Scope]],
        work: Work[T],
    ) -> T:
        denial: PermissionDeniedError | None = None
        with self.uow_factory() as uow:
            try:
                for scope in scopes(uow):
                    self.authorizer.check(actor, action, scope)
            except PermissionDeniedError as exc:
                denial = exc
            else:
                outcome = work(uow)
                now = self.clock.now()
                for event_type, aggregate, payload in outcome.events:
                    uow.outbox.add(
                        Event(
                            id=self.ids.new_id("evt"),
                            type=event_type,
                            occurred_at=now,
                            aggregate=aggregate,
                            payload=dict(payload),
                        )
                    )
                # The audit entry goes last: on PostgreSQL appending takes the chain-wide lock,
                # which is then held only for the append and the commit, not for the work; an
                # audit log that can append and commit in one round trip does both at once.
                if not outcome.changed:
                    uow.commit()
                    return outcome.result
                entry: dict[str, Any] = {
                    "occurred_at": now,
                    "actor_id": actor.id,
                    "action": action,
                    "target": target,
                    "outcome": "ok",
                    "details": outcome.audit,
                }
                append_and_commit = getattr(uow.audit, "append_and_commit", None)
                if append_and_commit is not None:
                    append_and_commit(**entry)
                else:
                    uow.audit.append(**entry)
                    uow.commit()
                return outcome.result
        assert denial is not None  # the only way out of the block without returning
        self.audit_denial(actor=actor, action=action, target=target, denial=denial)
        raise denial

    def audit_denial(
        self, *, actor: Actor, action: str, target: str, denial: PermissionDeniedError
    ) -> None:
        """Record a refused call as a ``denied`` audit entry, in a unit of work of its own.

        Args:
            actor: Who was refused.
            action: The permission asked for.
            target: What the call would have acted on.
            denial: The refusal; its message and details go into the entry.
        """
        with self.uow_factory() as uow:
            uow.audit.append(
                occurred_at=self.clock.now(),
                actor_id=actor.id,
                action=action,
                target=target,
                outcome="denied",
                details={"reason": denial.message, **dict(denial.details)},
            )
            uow.commit()
