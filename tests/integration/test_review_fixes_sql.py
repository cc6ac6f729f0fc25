"""Service-layer review fixes that must behave alike on memory, SQLite and PostgreSQL.

Store fields are validated in the model, and integers beyond a signed 64-bit column (quantities,
stock that would grow past it, order totals and prices in minor units) are refused with the same
typed error everywhere; the SQL adapter also translates the driver's own overflow. The
PostgreSQL run is skipped unless ``MULTISTORE_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import create_engine

from multistore import money as m
from multistore._validation import MAX_INT
from multistore.adapters.events.inprocess import InProcessEventBus
from multistore.adapters.registry import create_storage
from multistore.adapters.sqlalchemy import AesGcmCipher, new_key
from multistore.adapters.sqlalchemy import create_storage as sql_storage
from multistore.adapters.sqlalchemy.engine import parse_url
from multistore.app import Multistore
from multistore.catalog import PublishTarget
from multistore.errors import MultistoreError, ValidationError
from multistore.inventory.model import MovementKind, StockMovement
from multistore.orders.model import OrderLine
from multistore.ports.security import SYSTEM_ACTOR
from multistore.ports.storage import Storage
from multistore.security.rbac import RoleBasedAuthorizer
from multistore.services.context import ServiceContext
from multistore.testing.builders import T0, sample_product, sample_store, unique_prefix
from multistore.testing.fakes import FixedClock, SequentialIdFactory

A = SYSTEM_ACTOR


def _app(storage: Storage) -> Multistore:
    context = ServiceContext(
        uow_factory=storage.unit_of_work,
        read_uow_factory=lambda: storage.unit_of_work(read_only=True),
        clock=FixedClock(),
        ids=SequentialIdFactory(),
        authorizer=RoleBasedAuthorizer(),
    )
    return Multistore(storage=storage, context=context, event_bus=InProcessEventBus())


@pytest.fixture(scope="module")
def pg_app(postgres_url: str) -> Iterator[Multistore]:
    """One multistore on a PostgreSQL schema private to this module (tests use unique ids)."""
    schema = f"ms_review_{uuid.uuid4().hex[:10]}"
    app = _app(sql_storage(postgres_url, schema=schema, cipher=AesGcmCipher(new_key())))
    yield app
    app.close()
    engine = create_engine(parse_url(postgres_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Multistore]:
    """The same services on each storage."""
    if request.param == "postgres":
        yield request.getfixturevalue("pg_app")
        return
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'ms.db'}"
    with _app(create_storage(url)) as ms:
        yield ms


@pytest.fixture
def ids(app: Multistore) -> tuple[str, str]:
    """A fresh store and SKU (with a product) in ``app``."""
    p = unique_prefix()
    app.stores.add(actor=A, store=sample_store(f"{p}S"))
    app.catalog.add_product(actor=A, product=sample_product(f"{p}P", [f"{p}K"]))
    return f"{p}S", f"{p}K"


def _code(call: Any) -> tuple[str, str]:
    try:
        call()
    except MultistoreError as exc:
        return type(exc).__name__, exc.code
    return "no error", ""


# --- store fields (review item 3) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("delivers", "no", "validation.invalid"),
        ("delivers", None, "validation.invalid"),
        ("pickup", None, "validation.invalid"),
        ("pickup", 1, "validation.invalid"),
        ("phone", 123, "validation.invalid"),
        ("phone", None, "validation.invalid"),
        ("format", "", "validation.empty_text"),
        ("format", "  ", "validation.empty_text"),
        ("format", 7, "validation.empty_text"),
    ],
)
def test_bad_store_fields_are_refused_alike(
    app: Multistore, field: str, value: object, code: str
) -> None:
    p = unique_prefix()
    app.stores.add(actor=A, store=sample_store(f"{p}S"))
    before = app.stores.get(store_id=f"{p}S")
    added = _code(
        lambda: app.stores.add(actor=A, store=attrs.evolve(before, id=f"{p}T", **{field: value}))
    )
    # update() reads None as "keep the value", so None is only refused by add().
    updated = _code(lambda: app.stores.update(actor=A, store_id=f"{p}S", **{field: value}))
    assert ("ValidationError", code) == added
    assert ("ValidationError", code) == updated or value is None
    assert [before] == [s for s in app.stores.list() if s.id.startswith(p)]


def test_valid_store_fields_round_trip(app: Multistore) -> None:
    p = unique_prefix()
    store = attrs.evolve(
        sample_store(f"{p}S"), phone="", delivers=False, pickup=True, format="convenience"
    )
    app.stores.add(actor=A, store=store)
    assert store == app.stores.get(store_id=f"{p}S")


# --- 64-bit bounds (review item 4) --------------------------------------------------------------


def test_quantities_beyond_64_bits_are_refused_alike(app: Multistore, ids: tuple[str, str]) -> None:
    s, k = ids
    p = unique_prefix()
    big = MAX_INT + 1
    expected = ("ValidationError", "validation.invalid")
    assert expected == _code(
        lambda: app.inventory.receive(actor=A, store_id=s, sku=k, quantity=2**63)
    )
    assert expected == _code(
        lambda: app.inventory.record_movement(
            actor=A, store_id=s, sku=k, kind="adjustment", quantity=-big
        )
    )
    assert expected == _code(
        lambda: app.inventory.reserve(actor=A, key=f"{p}R", lines=[(s, k, big)])
    )
    assert expected == _code(
        lambda: app.inventory.set_safety_buffer(actor=A, store_id=s, sku=k, units=big)
    )
    assert expected == _code(
        lambda: app.inventory.set_quota(actor=A, store_id=s, sku=k, channel="c", units=big)
    )
    assert 0 == app.inventory.level(store_id=s, sku=k).on_hand


def test_stock_may_reach_but_not_pass_64_bits(app: Multistore, ids: tuple[str, str]) -> None:
    s, k = ids
    assert MAX_INT == app.inventory.receive(actor=A, store_id=s, sku=k, quantity=MAX_INT).on_hand
    grown = _code(lambda: app.inventory.receive(actor=A, store_id=s, sku=k, quantity=1))
    assert ("ValidationError", "validation.invalid") == grown
    assert MAX_INT == app.inventory.level(store_id=s, sku=k).on_hand
    assert [MAX_INT] == [x.quantity for x in app.inventory.movements(store_id=s, sku=k)]


def test_order_amounts_beyond_64_bits_are_refused_alike(
    app: Multistore, ids: tuple[str, str]
) -> None:
    _, k = ids
    p = unique_prefix()
    app.catalog.add_product(actor=A, product=sample_product(f"{p}P", [f"{p}K2"]))

    def ingest(*lines: OrderLine) -> Any:
        return app.orders.ingest(
            actor=A, channel="web", external_id=f"{p}O", lines=list(lines), destination=(31, 121)
        )

    expected = ("ValidationError", "order.invalid_price")
    # the reviewer's order: the line itself is refused when it is built
    assert expected == _code(lambda: ingest(OrderLine(k, 2**40, m.money("99999999.99"))))
    half = m.from_minor(MAX_INT // 2 + 1, "CNY")  # each line fits, the total does not
    assert expected == _code(lambda: ingest(OrderLine(k, 1, half), OrderLine(f"{p}K2", 1, half)))
    fits = ingest(OrderLine(k, 1, m.from_minor(MAX_INT, "CNY")))
    assert MAX_INT == m.to_minor(app.orders.get(order_id=fits.id).total)


def test_store_price_beyond_64_bits_is_refused_alike(app: Multistore, ids: tuple[str, str]) -> None:
    s, k = ids
    too_big = m.from_minor(MAX_INT + 1, "CNY")
    refused = _code(
        lambda: app.catalog.set_store_price(
            actor=A, store_id=s, sku=k, price=too_big, valid_from=T0
        )
    )
    assert ("ValidationError", "catalog.invalid_price") == refused
    app.catalog.set_store_price(
        actor=A, store_id=s, sku=k, price=m.from_minor(MAX_INT, "CNY"), valid_from=T0
    )
    assert MAX_INT == m.to_minor(app.catalog.price_at(store_id=s, sku=k, at=T0).price)


def test_sql_overflow_from_the_driver_is_typed(app: Multistore, ids: tuple[str, str]) -> None:
    """Defence in depth: a movement that slipped past the model still fails typed, alike."""
    s, k = ids
    movement = StockMovement(
        store_id=s, sku=k, kind=MovementKind.RECEIPT, quantity=1, occurred_at=T0
    )
    object.__setattr__(movement, "quantity", 2**63)  # bypass the model's own check
    with pytest.raises(ValidationError) as err, app.unit_of_work() as uow:
        uow.stock.record(movement)
    assert "validation.invalid" == err.value.code
    assert 0 == app.inventory.level(store_id=s, sku=k).on_hand


# --- paging (review item 1) at the service level -------------------------------------------------


def test_changes_since_pages_cover_a_version_larger_than_the_limit(app: Multistore) -> None:
    p = unique_prefix()
    for i in range(3):
        app.stores.add(actor=A, store=sample_store(f"{p}S{i}", region=p))
    app.catalog.add_product(actor=A, product=sample_product(f"{p}P", [f"{p}K"]))
    start = app.catalog.catalog_version()
    app.catalog.publish(actor=A, product_id=f"{p}P", target=PublishTarget.regions(p))
    unpaged = [c for c in app.catalog.changes_since(version=start) if c.product_id == f"{p}P"]
    paged, seen = [], start
    while page := app.catalog.changes_since(version=seen, limit=2):
        paged += [c for c in page if c.product_id == f"{p}P"]
        seen = page[-1].version
    assert [f"{p}S0", f"{p}S1", f"{p}S2"] == [c.store_id for c in unpaged]
    assert unpaged == paged
