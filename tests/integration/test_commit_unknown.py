"""A connection lost while its COMMIT is on the way: the outcome is unknown, so nothing retries.

The server may have applied the COMMIT before the reply was lost. Repeating the work (as the
bounded retries of transient errors do) would then write it twice; these tests pin that such a
failure is ``storage.commit_unknown`` (not retryable) and that the work is written exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine

from multistore.adapters.sqlalchemy import (
    AesGcmCipher,
    RetryPolicy,
    SqlStorage,
    create_storage,
    new_key,
)
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.errors import StorageError
from multistore.inventory.model import MovementKind, StockMovement
from multistore.ports.security import SYSTEM_ACTOR, Scope
from multistore.ports.storage import UnitOfWork
from multistore.security import AllowAllAuthorizer
from multistore.services.context import Outcome, ServiceContext
from multistore.testing.builders import T0
from multistore.testing.fakes import FixedClock, SequentialIdFactory

pytestmark = pytest.mark.postgres
psycopg = pytest.importorskip("psycopg")  # the optional ``postgres`` extra


@pytest.fixture
def pg(postgres_url: str) -> Iterator[SqlStorage]:
    schema = f"ms_cu_{uuid.uuid4().hex[:10]}"
    s = create_storage(postgres_url, schema=schema, cipher=AesGcmCipher(new_key()))
    yield s
    s.close()
    engine = create_engine(parse_url(postgres_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def _movement(quantity: int) -> StockMovement:
    kind = MovementKind.RECEIPT if quantity > 0 else MovementKind.ADJUSTMENT
    return StockMovement(
        store_id="S1", sku="K1", kind=kind, quantity=quantity, occurred_at=T0, reason="test"
    )


@pytest.fixture
def lose_first_commit_reply(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Arm: the next COMMIT is applied by the server, then the connection drops unanswered."""
    original = psycopg.Connection.commit
    armed = {"on": False}

    def lossy_commit(self: Any) -> None:
        original(self)
        if armed["on"]:
            armed["on"] = False
            self.close()
            raise psycopg.OperationalError(
                "consuming input failed: server closed the connection unexpectedly"
            )

    monkeypatch.setattr(psycopg.Connection, "commit", lossy_commit)
    return lambda: armed.update(on=True)


def _on_hand_and_audit(storage: SqlStorage) -> tuple[int, list[tuple[int, str]]]:
    with storage.unit_of_work(read_only=True) as uow:
        return (
            uow.stock.get("S1", "K1").on_hand,
            [(e.sequence, e.action) for e in uow.audit.entries()],
        )


def test_a_use_case_whose_commit_reply_is_lost_is_not_run_again(
    pg: SqlStorage, lose_first_commit_reply: Callable[[], None]
) -> None:
    pg.run_in_transaction(lambda uow: uow.stock.record(_movement(10)))
    ctx = ServiceContext(
        uow_factory=pg.unit_of_work,
        clock=FixedClock(),
        ids=SequentialIdFactory(),
        authorizer=AllowAllAuthorizer(),
        attempts=3,
    )
    runs: list[int] = []

    def work(uow: UnitOfWork) -> Outcome[str]:
        runs.append(1)
        uow.stock.record(_movement(-1))
        return Outcome("ok")

    lose_first_commit_reply()
    with pytest.raises(StorageError) as raised:
        ctx.run(
            actor=SYSTEM_ACTOR,
            action="inventory.adjust",
            target="S1/K1",
            scopes=lambda uow: [Scope.hq()],
            work=work,
        )

    assert ("storage.commit_unknown", False, 1, (9, [(1, "inventory.adjust")])) == (
        raised.value.code,
        raised.value.retryable,
        len(runs),
        _on_hand_and_audit(pg),
    )


def test_a_unit_of_work_whose_commit_reply_is_lost_is_not_retried(
    pg: SqlStorage, lose_first_commit_reply: Callable[[], None]
) -> None:
    slept: list[float] = []
    pg.retry = RetryPolicy(attempts=3, sleep=slept.append)
    runs: list[int] = []

    def work(uow: Any) -> None:
        runs.append(1)
        uow.stock.record(_movement(5))

    lose_first_commit_reply()
    with pytest.raises(StorageError) as raised:
        pg.run_in_transaction(work)

    assert ("storage.commit_unknown", 1, [], (5, [])) == (
        raised.value.code,
        len(runs),
        slept,
        _on_hand_and_audit(pg),
    )
