"""Service-layer review fixes: expired-hold events, relay batch checks and the model bounds.

Storage-wide behaviour (paging, store fields and 64-bit bounds on memory, SQLite and
PostgreSQL) is checked in ``tests/integration/test_review_fixes_sql.py`` and the contract suites.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import attrs
import pytest

from multistore import money as m
from multistore._validation import (
    MAX_INT,
    check_bool,
    check_minor_units,
    check_non_negative_int,
    check_positive_int,
    check_str,
)
from multistore.app import Multistore, connect
from multistore.catalog.assortment import StorePrice
from multistore.catalog.model import Sku
from multistore.errors import MultistoreError, ValidationError
from multistore.inventory.model import MovementKind, ReservationLine, StockLevel, StockMovement
from multistore.orders.model import Order, OrderLine
from multistore.ports.events import Event
from multistore.ports.security import SYSTEM_ACTOR
from multistore.testing.builders import T0, sample_store
from multistore.testing.fakes import FixedClock

from .conftest import Probe

A = SYSTEM_ACTOR


def _code(call: Any) -> tuple[str, str]:
    try:
        call()
    except MultistoreError as exc:
        return type(exc).__name__, exc.code
    return "no error", ""


# --- stock.expired carries the levels (review item 5) -------------------------------------------


def _outbox(ms: Multistore, event_type: str) -> list[Event]:
    with ms.unit_of_work() as uow:
        return [r.event for r in uow.outbox.pending(limit=10_000) if r.event.type == event_type]


def test_expired_event_carries_the_levels_after_the_sweep(
    chain: Multistore, clock: FixedClock
) -> None:
    for store in ("E1", "E2"):
        chain.inventory.receive(actor=A, store_id=store, sku="K1", quantity=5)
    chain.inventory.receive(actor=A, store_id="E1", sku="K2", quantity=4)
    chain.inventory.reserve(
        actor=A, key="R1", lines=[("E1", "K1", 2), ("E1", "K2", 1)], ttl=timedelta(seconds=1)
    )
    chain.inventory.reserve(actor=A, key="R2", lines=[("E2", "K1", 3)], ttl=timedelta(seconds=1))
    chain.inventory.reserve(actor=A, key="R3", lines=[("E1", "K1", 1)])  # no expiry: stays
    clock.advance(timedelta(seconds=1))

    assert ["R1", "R2"] == [r.key for r in chain.inventory.expire(actor=A)]

    def level(store: str, sku: str) -> dict[str, object]:
        now = chain.inventory.level(store_id=store, sku=sku)
        return {
            "store_id": store,
            "sku": sku,
            "on_hand": now.on_hand,
            "reserved": now.reserved,
            "available": now.available,
        }

    expected = {
        "R1": [level("E1", "K1"), level("E1", "K2")],
        "R2": [level("E2", "K1")],
    }
    actual = {e.payload["key"]: e.payload["levels"] for e in _outbox(chain, "stock.expired")}
    assert expected == actual
    assert 1 == expected["R1"][0]["reserved"]  # R3 still holds one unit


def test_every_reservation_event_carries_levels(chain: Multistore, clock: FixedClock) -> None:
    chain.inventory.receive(actor=A, store_id="E1", sku="K1", quantity=5)
    chain.inventory.reserve(actor=A, key="R1", lines=[("E1", "K1", 1)], ttl=timedelta(seconds=1))
    chain.inventory.reserve(actor=A, key="R2", lines=[("E1", "K1", 1)])
    chain.inventory.release(actor=A, key="R2")
    chain.inventory.reserve(actor=A, key="R3", lines=[("E1", "K1", 1)])
    chain.inventory.commit(actor=A, key="R3")
    clock.advance(timedelta(seconds=1))
    chain.inventory.expire(actor=A)
    kinds = ("stock.reserved", "stock.released", "stock.committed", "stock.expired")
    events = [e for kind in kinds for e in _outbox(chain, kind)]
    assert sorted(kinds) == sorted({e.type for e in events})
    assert [] == [e.type for e in events if not e.payload.get("levels")]


# --- relay_events batch / limit (review item 6) --------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"batch": 0}, "validation.non_positive_quantity"),
        ({"batch": -1}, "validation.non_positive_quantity"),
        ({"batch": 2.5}, "validation.not_an_integer"),
        ({"batch": "10"}, "validation.not_an_integer"),
        ({"batch": True}, "validation.not_an_integer"),
        ({"limit": -5}, "validation.negative_quantity"),
        ({"limit": 1.0}, "validation.not_an_integer"),
    ],
)
def test_relay_events_refuses_a_bad_batch_before_reading(
    ms: Multistore, probe: Probe, kwargs: dict[str, object], code: str
) -> None:
    seen: list[str] = []
    ms.events.subscribe("*", lambda e: seen.append(e.id))
    for i in range(3):
        ms.stores.add(actor=A, store=sample_store(f"S{i}"))
    before = probe.outbox_count()
    box: list[tuple[str, str]] = []
    worker = threading.Thread(
        target=lambda: box.append(_code(lambda: ms.relay_events(**kwargs))),  # type: ignore[arg-type]
        daemon=True,
    )
    worker.start()
    worker.join(10)  # a generous bound only so that a regression fails instead of hanging
    assert [("ValidationError", code)] == box
    assert [] == seen
    assert before == probe.outbox_count()


def test_relay_events_with_batch_one_relays_everything(ms: Multistore) -> None:
    seen: list[str] = []
    ms.events.subscribe("*", lambda e: seen.append(e.id))
    for i in range(3):
        ms.stores.add(actor=A, store=sample_store(f"S{i}"))
    assert 3 == ms.relay_events(batch=1)
    assert 0 == ms.relay_events(limit=0)
    assert 3 == len(set(seen))


# --- the models refuse what no storage could hold (review items 3 and 4) -------------------------


def test_store_model_checks_format_phone_and_flags() -> None:
    store = sample_store("S1")
    cases = {
        "format": ("", "validation.empty_text"),
        "phone": (123, "validation.invalid"),
        "delivers": ("no", "validation.invalid"),
        "pickup": (None, "validation.invalid"),
    }
    actual = {
        field: _code(lambda f=field, v=value: attrs.evolve(store, **{f: v}))[1]
        for field, (value, _) in cases.items()
    }
    assert {field: code for field, (_, code) in cases.items()} == actual


def test_int_checks_stop_at_the_64_bit_bound() -> None:
    assert MAX_INT == check_positive_int(MAX_INT, "q")
    assert MAX_INT == check_non_negative_int(MAX_INT, "q")
    for check in (check_positive_int, check_non_negative_int):
        with pytest.raises(ValidationError) as err:
            check(MAX_INT + 1, "q")
        assert ("validation.invalid", "q", MAX_INT) == (
            err.value.code,
            err.value.details["field"],
            err.value.details["maximum"],
        )


@pytest.mark.parametrize(
    "build",
    [
        lambda: ReservationLine("S", "K", 2**63),
        lambda: StockLevel("S", "K", on_hand=2**63),
        lambda: StockMovement(
            store_id="S", sku="K", kind=MovementKind.ADJUSTMENT, quantity=-(2**63), occurred_at=T0
        ),
        lambda: OrderLine("K", 2**63, m.money("0.01")),
    ],
)
def test_quantities_beyond_64_bits_are_refused_by_the_models(build: Any) -> None:
    assert ("ValidationError", "validation.invalid") == _code(build)


def test_prices_and_totals_beyond_64_bits_are_refused_by_the_models() -> None:
    over = m.from_minor(MAX_INT + 1, "CNY")
    top = m.from_minor(MAX_INT, "CNY")
    half = m.from_minor(MAX_INT // 2 + 1, "CNY")
    sku = Sku(code="K", name="n", list_price=top)
    assert ("ValidationError", "catalog.invalid_price") == _code(
        lambda: attrs.evolve(sku, list_price=over)
    )
    assert ("ValidationError", "catalog.invalid_price") == _code(
        lambda: StorePrice(store_id="S", sku="K", price=over, valid_from=T0)
    )
    assert ("ValidationError", "order.invalid_price") == _code(lambda: OrderLine("K", 1, over))
    assert ("ValidationError", "order.invalid_price") == _code(lambda: OrderLine("K", 2, half))
    lines = [OrderLine("K1", 1, half), OrderLine("K2", 1, half)]
    assert ("ValidationError", "order.invalid_price") == _code(
        lambda: Order(id="O", channel="web", external_id="X", lines=lines, pickup_store_id="S")
    )
    order = Order(
        id="O", channel="web", external_id="X", lines=[OrderLine("K", 1, top)], pickup_store_id="S"
    )
    assert MAX_INT == m.to_minor(order.total)
    assert top == check_minor_units(top, "p", code="order.invalid_price")


def test_str_and_bool_checks() -> None:
    assert ("", True, False) == (
        check_str("", "s"),
        check_bool(value=True, what="b"),
        check_bool(value=False, what="b"),
    )
    assert ("ValidationError", "validation.invalid") == _code(lambda: check_bool(1, "b"))
    assert ("ValidationError", "validation.invalid") == _code(lambda: check_str(b"x", "s"))


def test_connect_still_accepts_defaults() -> None:
    with connect("memory://") as ms:
        assert 0 == ms.relay_events()
