"""Bad input to the domain models raises its typed error (issue #2's bad-input list)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import attrs
import pytest

from multistore import money as m
from multistore.catalog.model import Product, Sku
from multistore.errors import (
    ConflictError,
    CurrencyMismatchError,
    FloatMoneyError,
    MultistoreError,
    ValidationError,
)
from multistore.geo import GeoPoint
from multistore.inventory.model import (
    MovementKind,
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
)
from multistore.members.model import Member
from multistore.orders.model import Order, OrderLine, OrderStatus
from multistore.stores.model import Address, OpeningHours, OpeningPeriod, Store
from multistore.testing.builders import sample_order, sample_store

T = datetime(2026, 1, 5, 8, tzinfo=UTC)


def raises(
    error: type[MultistoreError], expected: str, fn: object, /, *args: object, **kwargs: object
) -> None:
    with pytest.raises(error) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    assert expected == info.value.code


# --- money on models -----------------------------------------------------------------------


def test_float_prices_are_rejected() -> None:
    raises(FloatMoneyError, "money.float_rejected", Sku, code="K", name="n", list_price=12.5)
    raises(FloatMoneyError, "money.float_rejected", OrderLine, "K", 1, 12.5)
    raises(FloatMoneyError, "money.float_rejected", m.money, 0.1)


def test_negative_prices_are_rejected() -> None:
    raises(
        ValidationError, "catalog.invalid_price", Sku, code="K", name="n", list_price=m.money("-1")
    )
    raises(ValidationError, "order.invalid_price", OrderLine, "K", 1, m.money("-0.01"))
    raises(
        ValidationError, "catalog.invalid_price", Sku, code="K", name="n", list_price=Decimal("1")
    )


def test_mixed_currencies_in_an_order_are_rejected() -> None:
    lines = (OrderLine("A", 1, m.money("1.00", "CNY")), OrderLine("B", 1, m.money("100", "JPY")))
    raises(
        CurrencyMismatchError,
        "money.currency_mismatch",
        Order,
        id="o",
        channel="web",
        external_id="e",
        lines=lines,
        destination=GeoPoint(31, 121),
    )


# --- quantities ----------------------------------------------------------------------------


@pytest.mark.parametrize("qty", [0, -1])
def test_non_positive_quantities(qty: int) -> None:
    raises(ValidationError, "validation.non_positive_quantity", OrderLine, "K", qty, m.money("1"))
    raises(ValidationError, "validation.non_positive_quantity", ReservationLine, "S", "K", qty)


@pytest.mark.parametrize("qty", [1.0, "2", True, None])
def test_non_integer_quantities(qty: object) -> None:
    raises(ValidationError, "validation.not_an_integer", ReservationLine, "S", "K", qty)


def test_negative_stock_levels() -> None:
    raises(ValidationError, "validation.negative_quantity", StockLevel, "S", "K", on_hand=-1)
    raises(ValidationError, "validation.negative_quantity", StockLevel, "S", "K", reserved=-1)
    raises(ValidationError, "validation.negative_quantity", StockLevel, "S", "K", safety_buffer=-2)
    raises(ValidationError, "stock.invalid_level", StockLevel, "S", "K", on_hand=1, reserved=2)


def test_zero_movement() -> None:
    raises(
        ValidationError,
        "validation.non_positive_quantity",
        StockMovement,
        store_id="S",
        sku="K",
        kind=MovementKind.SALE,
        quantity=0,
        occurred_at=T,
    )
    raises(
        ValidationError,
        "validation.invalid_choice",
        StockMovement,
        store_id="S",
        sku="K",
        kind="gift",
        quantity=1,
        occurred_at=T,
    )


def test_available_never_negative() -> None:
    assert 0 == StockLevel("S", "K", on_hand=3, reserved=2, safety_buffer=5).available
    assert 1 == StockLevel("S", "K", on_hand=3, reserved=2).available


# --- ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", None, 7])
def test_empty_ids(bad: object) -> None:
    raises(ValidationError, "validation.empty_id", sample_store, bad)
    raises(ValidationError, "validation.empty_id", Sku, code=bad, name="n", list_price=m.money("1"))
    raises(ValidationError, "validation.empty_id", ReservationLine, bad, "K", 1)
    raises(ValidationError, "validation.empty_id", ReservationLine, "S", bad, 1)
    raises(ValidationError, "validation.empty_id", Member, id=bad, name="n", phone="13800000000")
    raises(ValidationError, "validation.empty_id", sample_order, bad)
    raises(ValidationError, "validation.empty_id", sample_order, "o", channel=bad)


# --- coordinates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (90.01, 0),
        (-91, 0),
        (0, 180.5),
        (0, -181),
        (float("nan"), 0),
        (0, float("inf")),
        ("x", 0),
        (None, 0),
    ],
)
def test_bad_coordinates(lat: object, lon: object) -> None:
    raises(ValidationError, "geo.invalid_coordinate", GeoPoint, lat, lon)


def test_store_location_must_be_a_point() -> None:
    store = sample_store("S")
    raises(ValidationError, "geo.invalid_coordinate", attrs.evolve, store, location=(31.0, 121.0))


def test_order_destination_must_be_a_point() -> None:
    raises(ValidationError, "geo.invalid_coordinate", sample_order, "o", destination=(31.0, 121.0))


# --- structure -----------------------------------------------------------------------------


def test_order_structure() -> None:
    raises(ValidationError, "validation.empty_lines", sample_order, "o", lines=[])
    raises(
        ValidationError,
        "order.duplicate_sku",
        sample_order,
        "o",
        lines=[("A", 1, "1"), ("A", 1, "1")],
    )
    raises(
        ValidationError,
        "order.no_destination",
        Order,
        id="o",
        channel="c",
        external_id="e",
        lines=(OrderLine("A", 1, m.money("1")),),
    )


def test_order_status_machine() -> None:
    order = sample_order("o")
    raises(ConflictError, "order.invalid_transition", order.with_status, OrderStatus.DELIVERED)
    assert OrderStatus.ACCEPTED == order.with_status(OrderStatus.ACCEPTED).status


def test_reservation_structure() -> None:
    raises(ValidationError, "validation.empty_lines", Reservation, key="r", lines=())
    raises(
        ValidationError,
        "stock.duplicate_line",
        Reservation,
        key="r",
        lines=(ReservationLine("S", "K", 1), ReservationLine("S", "K", 2)),
    )
    raises(
        ValidationError,
        "validation.empty_id",
        Reservation,
        key="",
        lines=(ReservationLine("S", "K", 1),),
    )


def test_product_structure() -> None:
    sku = Sku(code="K", name="n", list_price=m.money("1"))
    raises(ValidationError, "catalog.no_sku", Product, id="p", name="n", skus=())
    raises(ValidationError, "catalog.duplicate_sku", Product, id="p", name="n", skus=(sku, sku))
    raises(
        ValidationError,
        "catalog.invalid_barcode",
        Sku,
        code="K",
        name="n",
        list_price=m.money("1"),
        barcode="12ab",
    )


def test_member_phone() -> None:
    raises(ValidationError, "member.invalid_phone", Member, id="m", name="n", phone="12-34")
    member = Member(id="m", name="张三", phone="13812345678")
    assert "138****5678" == member.masked_phone
    assert "13812345678" not in repr(member)


def test_store_parts() -> None:
    raises(ValidationError, "validation.empty_text", Address, province="p", city="")
    raises(ValidationError, "store.invalid_hours", OpeningPeriod, 7, time(9), time(10))
    raises(ValidationError, "store.invalid_hours", OpeningPeriod, 0, time(9), time(9))
    raises(ValidationError, "store.invalid_hours", OpeningHours, (), "Mars/Olympus")
    raises(
        ValidationError, "validation.invalid_choice", attrs.evolve, sample_store("S"), status="open"
    )
    hours = OpeningHours.daily(time(22), time(2))
    assert hours.is_open(datetime(2026, 1, 5, 17, 30, tzinfo=UTC))  # 01:30 next day in Shanghai
    raises(ValidationError, "validation.naive_datetime", hours.is_open, datetime(2026, 1, 5))
    assert isinstance(sample_store("S"), Store)
