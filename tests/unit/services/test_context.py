from __future__ import annotations

import pytest

from multistore.adapters.memory import MemoryStorage
from multistore.errors import TransientStorageError
from multistore.ports.security import SYSTEM_ACTOR, Scope
from multistore.ports.storage import UnitOfWork
from multistore.security import AllowAllAuthorizer
from multistore.services.context import Outcome, ServiceContext
from multistore.testing.builders import sample_store
from multistore.testing.fakes import FixedClock, SequentialIdFactory


def context(storage: MemoryStorage, attempts: int = 3) -> ServiceContext:
    return ServiceContext(
        uow_factory=storage.unit_of_work,
        clock=FixedClock(),
        ids=SequentialIdFactory(),
        authorizer=AllowAllAuthorizer(),
        attempts=attempts,
    )


def test_transient_failures_are_retried_then_raised() -> None:
    storage = MemoryStorage()
    calls: list[int] = []

    def flaky(uow: UnitOfWork) -> Outcome[str]:
        calls.append(1)
        uow.stores.add(sample_store(f"S{len(calls)}"))
        if len(calls) < 3:
            raise TransientStorageError("busy")
        return Outcome("ok")

    ctx = context(storage)
    assert (
        ctx.run(
            actor=SYSTEM_ACTOR, action="x.y", target="t", scopes=lambda u: [Scope.hq()], work=flaky
        )
        == "ok"
    )
    with storage.unit_of_work() as uow:
        assert ["S3"] == [s.id for s in uow.stores.list()]
        assert 1 == len(uow.audit.entries())

    calls.clear()
    with pytest.raises(TransientStorageError):
        context(storage, attempts=2).run(
            actor=SYSTEM_ACTOR, action="x.y", target="t", scopes=lambda u: [Scope.hq()], work=flaky
        )
    assert 2 == len(calls)


def test_unchanged_outcomes_are_not_audited() -> None:
    storage = MemoryStorage()
    ctx = context(storage)
    ctx.run(
        actor=SYSTEM_ACTOR,
        action="inventory.expire",
        target="reservations",
        scopes=lambda u: [Scope.hq()],
        work=lambda u: Outcome([], changed=False),
    )
    with storage.unit_of_work() as uow:
        assert [] == list(uow.audit.entries())
