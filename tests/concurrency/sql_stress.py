"""A reservation workload for the SQL concurrency tests, and the independent recount.

Keys come from a small shared pool so that many workers reserve under the same key at once; the
lines of a key are derived from the key alone (so duplicates carry the same lines and must be
idempotent) and handed over in shuffled order. The recount reads the tables with plain SQL and
checks the inventory invariants without trusting the repositories.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from multistore.adapters.sqlalchemy import SqlStorage, SqlUnitOfWork
from multistore.adapters.sqlalchemy.repositories import hold_now
from multistore.errors import ConflictError, InsufficientStockError
from multistore.inventory.model import MovementKind, Reservation, ReservationLine, StockMovement
from multistore.testing.builders import T0

Pair = tuple[str, str]


def pairs(stores: int, skus: int) -> list[Pair]:
    return [(f"S{s}", f"K{k}") for s in range(stores) for k in range(skus)]


def lines_for(key: str, universe: Sequence[Pair]) -> list[ReservationLine]:
    rng = random.Random(key)
    chosen = rng.sample(list(universe), rng.randint(1, min(3, len(universe))))
    rng.shuffle(chosen)
    return [ReservationLine(s, k, rng.randint(1, 2)) for s, k in chosen]


def seed(storage: SqlStorage, universe: Sequence[Pair], units: int) -> None:
    with storage.unit_of_work() as uow:
        for store_id, sku in universe:
            uow.stock.record(
                StockMovement(
                    store_id=store_id,
                    sku=sku,
                    kind=MovementKind.RECEIPT,
                    quantity=units,
                    occurred_at=T0,
                    reference="seed",
                )
            )
        uow.commit()


@dataclass
class Outcome:
    reserved: set[str] = field(default_factory=set)
    short: int = 0
    committed: set[str] = field(default_factory=set)
    released: set[str] = field(default_factory=set)
    closed_conflicts: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: Outcome) -> None:
        self.reserved |= other.reserved
        self.short += other.short
        self.committed |= other.committed
        self.released |= other.released
        self.closed_conflicts += other.closed_conflicts
        self.errors.extend(other.errors)


def run_worker(
    storage: SqlStorage,
    *,
    worker: int,
    rounds: int,
    key_pool: int,
    universe: Sequence[Pair],
    use_retry: bool,
    one_shot: bool = False,
) -> Outcome:
    """Reserve, then commit / release / keep, ``rounds`` times; collect what happened.

    ``one_shot`` reserves with :func:`hold_now` (a transaction of its own) instead of a unit
    of work.
    """
    rng = random.Random(worker)
    out = Outcome()

    def run(fn: Callable[[SqlUnitOfWork], Any]) -> Any:
        if use_retry:
            return storage.run_in_transaction(fn)
        with storage.unit_of_work() as uow:
            result = fn(uow)
            uow.commit()
            return result

    for _ in range(rounds):
        key = f"R-{rng.randrange(key_pool)}"
        hold = Reservation(key=key, lines=lines_for(key, universe), created_at=T0)
        try:
            if one_shot:
                hold_now(storage, hold)
            else:
                run(lambda uow, hold=hold: uow.stock.reserve(hold))
        except InsufficientStockError:
            out.short += 1
            continue
        except Exception as exc:
            out.errors.append(f"reserve {key}: {exc!r}")
            continue
        out.reserved.add(key)
        action = rng.choice(("commit", "release", "keep"))
        try:
            if action == "commit":
                run(lambda uow, key=key: uow.stock.commit(key, at=T0, actor_id=f"w{worker}"))
                out.committed.add(key)
            elif action == "release":
                run(lambda uow, key=key: uow.stock.release(key))
                out.released.add(key)
        except ConflictError as exc:
            if exc.code != "stock.reservation_closed":
                out.errors.append(f"{action} {key}: {exc!r}")
            out.closed_conflicts += 1
        except Exception as exc:
            out.errors.append(f"{action} {key}: {exc!r}")
    return out


@dataclass
class Recount:
    oversold: list[str]
    negative: list[str]
    ledger_mismatch: list[str]
    reserved_mismatch: list[str]
    lost: set[str]
    unexpected: set[str]
    duplicated_sales: list[str]
    wrong_lines: list[str]

    def problems(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


def recount(conn: Connection, universe: Sequence[Pair], units: int, out: Outcome) -> Recount:
    """Check every invariant with plain SQL, independently of the repositories."""
    levels = {
        (r[0], r[1]): (int(r[2]), int(r[3]))
        for r in conn.execute(text("SELECT store_id, sku, on_hand, reserved FROM stock_levels"))
    }
    ledger: dict[Pair, int] = defaultdict(int)
    sold: dict[Pair, int] = defaultdict(int)
    sale_rows: dict[tuple[str, str, str], int] = defaultdict(int)
    for store_id, sku, kind, qty, ref in conn.execute(
        text("SELECT store_id, sku, kind, quantity, reference FROM stock_movements")
    ):
        ledger[(store_id, sku)] += int(qty)
        if kind == "sale":
            sold[(store_id, sku)] -= int(qty)
            sale_rows[(ref, store_id, sku)] += 1
    status = dict(conn.execute(text("SELECT key, status FROM reservations")).all())
    held: dict[Pair, int] = defaultdict(int)
    committed_units: dict[Pair, int] = defaultdict(int)
    lines: dict[str, list[ReservationLine]] = defaultdict(list)
    for key, store_id, sku, qty in conn.execute(
        text("SELECT reservation_key, store_id, sku, quantity FROM reservation_lines")
    ):
        lines[key].append(ReservationLine(store_id, sku, int(qty)))
        if status[key] == "active":
            held[(store_id, sku)] += int(qty)
        if status[key] == "committed":
            committed_units[(store_id, sku)] += int(qty)
    oversold, negative, ledger_bad, reserved_bad = [], [], [], []
    for pair in universe:
        on_hand, reserved = levels[pair]
        if sold[pair] > units or reserved + sold[pair] > units:
            oversold.append(f"{pair}: sold {sold[pair]} + held {reserved} of {units}")
        if on_hand < 0 or reserved < 0 or reserved > on_hand:
            negative.append(f"{pair}: on hand {on_hand}, reserved {reserved}")
        if on_hand != ledger[pair] or sold[pair] != committed_units[pair]:
            ledger_bad.append(f"{pair}: on hand {on_hand}, ledger {ledger[pair]}")
        if reserved != held[pair]:
            reserved_bad.append(f"{pair}: reserved {reserved}, active holds {held[pair]}")
    stored = set(status)
    duplicated = [f"{ref}/{s}/{k} x{n}" for (ref, s, k), n in sale_rows.items() if n != 1]
    wrong = [
        key
        for key, got in lines.items()
        if sorted(got, key=lambda x: (x.store_id, x.sku))
        != sorted(lines_for(key, universe), key=lambda x: (x.store_id, x.sku))
    ]
    return Recount(
        oversold=oversold,
        negative=negative,
        ledger_mismatch=ledger_bad,
        reserved_mismatch=reserved_bad,
        lost=out.reserved - stored,
        unexpected=stored - out.reserved,
        duplicated_sales=duplicated,
        wrong_lines=wrong,
    )
