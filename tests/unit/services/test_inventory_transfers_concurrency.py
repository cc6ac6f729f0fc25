"""Transfers, quota draws and reservations racing for the same units never oversell.

Threads ship transfers, reserve (plain and from a flash-sale quota) and receive transfers on one
source row at once, with duplicate transfer ids; an independent recount with plain SQL then
checks that nothing was oversold or lost.
"""

from __future__ import annotations

import os
import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from multistore.adapters.sqlalchemy import SqlStorage, create_storage
from multistore.errors import ConflictError, InsufficientStockError
from multistore.inventory.model import (
    MovementKind,
    Reservation,
    ReservationLine,
    StockMovement,
    Transfer,
)
from multistore.testing.builders import T0

UNITS = 60
WORKERS = 8
ROUNDS = 25


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStorage]:
    if request.param == "sqlite":
        store = create_storage(f"sqlite:///{tmp_path / 'race.db'}")
        yield store
        store.close()
        return
    url = os.environ.get("MULTISTORE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MULTISTORE_TEST_POSTGRES_URL is not set")
    schema = f"ms_race_{uuid.uuid4().hex[:10]}"
    store = create_storage(url, schema=schema)
    yield store
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    store.close()


def _worker(storage: SqlStorage, n: int, shipped: list[str], errors: list[str]) -> None:
    rng = random.Random(n)
    for i in range(ROUNDS):
        action = rng.choice(("ship", "reserve", "flash", "land"))
        qty = rng.randint(1, 3)
        try:
            if action == "ship":
                transfer_id = f"T-{rng.randrange(40)}"  # shared ids: duplicates must be no-ops
                quantity = 1 + int(transfer_id[2:]) % 3
                transfer = Transfer(
                    id=transfer_id,
                    from_store="A",
                    to_store="B",
                    sku="K",
                    quantity=quantity,
                    shipped_at=T0,
                )
                storage.run_in_transaction(lambda uow, t=transfer: uow.stock.ship_transfer(t))
                shipped.append(transfer_id)
            elif action in ("reserve", "flash"):
                hold = Reservation(
                    key=f"R-{n}-{i}", lines=(ReservationLine("A", "K", qty),), created_at=T0
                )
                if action == "flash":
                    storage.run_in_transaction(
                        lambda uow, h=hold: uow.stock.reserve_for_channel(h, channel="flash")
                    )
                else:
                    storage.run_in_transaction(lambda uow, h=hold: uow.stock.reserve(h))
            elif shipped:
                transfer_id = rng.choice(shipped)
                storage.run_in_transaction(
                    lambda uow, t=transfer_id: uow.stock.receive_transfer(t, at=T0)
                )
        except (InsufficientStockError, ConflictError):
            pass
        except Exception as exc:  # anything else is a bug the test must report
            errors.append(f"{action}: {exc!r}")


def test_racing_transfers_and_reservations_never_oversell(storage: SqlStorage) -> None:
    def seed(uow):  # type: ignore[no-untyped-def]
        uow.stock.record(
            StockMovement(
                store_id="A", sku="K", kind=MovementKind.RECEIPT, quantity=UNITS, occurred_at=T0
            )
        )
        uow.stock.set_quota("A", "K", "flash", 10)

    storage.run_in_transaction(seed)
    shipped: list[str] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_worker, args=(storage, n, shipped, errors)) for n in range(WORKERS)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [] == errors

    with storage.engine.connect() as conn:
        levels = {
            r.store_id: (int(r.on_hand), int(r.reserved))
            for r in conn.execute(text("SELECT store_id, on_hand, reserved FROM stock_levels"))
        }
        ledger = {
            r.store_id: int(r.total)
            for r in conn.execute(
                text("SELECT store_id, SUM(quantity) AS total FROM stock_movements GROUP BY 1")
            )
        }
        held = conn.execute(
            text(
                "SELECT COALESCE(SUM(l.quantity), 0) FROM reservation_lines l "
                "JOIN reservations r ON r.key = l.reservation_key WHERE r.status = 'active'"
            )
        ).scalar_one()
        fenced = conn.execute(text("SELECT COALESCE(SUM(units), 0) FROM stock_quotas")).scalar_one()
        transit = conn.execute(
            text(
                "SELECT COALESCE(SUM(quantity), 0) FROM stock_transfers WHERE status = 'in_transit'"
            )
        ).scalar_one()
        shipments = conn.execute(
            text("SELECT COUNT(*) FROM stock_movements WHERE kind = 'transfer_out'")
        ).scalar_one()
        transfers = conn.execute(text("SELECT COUNT(*) FROM stock_transfers")).scalar_one()

    a_on_hand, a_reserved = levels["A"]
    b_on_hand = levels.get("B", (0, 0))[0]
    assert a_on_hand >= 0
    assert a_reserved <= a_on_hand
    assert int(held) + int(fenced) == a_reserved
    assert ledger["A"] == a_on_hand
    assert ledger.get("B", 0) == b_on_hand
    assert UNITS == a_on_hand + b_on_hand + int(transit)
    assert transfers == shipments  # a duplicate id never shipped twice
