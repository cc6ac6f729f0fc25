from __future__ import annotations

import pytest

from multistore import money as m
from multistore.app import Multistore
from multistore.errors import (
    ConflictError,
    CurrencyMismatchError,
    FloatMoneyError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from multistore.geo import GeoPoint
from multistore.orders.fingerprint import order_fingerprint
from multistore.orders.model import OrderLine, OrderStatus
from multistore.ports.security import SYSTEM_ACTOR
from multistore.testing.builders import sample_member, sample_order
from multistore.testing.fakes import FixedClock

from .conftest import Probe, cashier_of, manager_of


def lines(*triples: tuple[str, int, str]) -> list[OrderLine]:
    return [OrderLine(sku, qty, m.money(price)) for sku, qty, price in triples]


def test_ingest_is_idempotent(chain: Multistore, clock: FixedClock, probe: Probe) -> None:
    before = probe.counts()
    first = chain.orders.ingest(
        actor=SYSTEM_ACTOR,
        channel="wechat_mini",
        external_id="WX-1001",
        lines=lines(("K1", 2, "12.50"), ("K2", 1, "3.00")),
        destination=(31.23, 121.47),
    )
    assert ("ord_000001", OrderStatus.PENDING, clock.now()) == (
        first.id,
        first.status,
        first.created_at,
    )
    assert m.same(m.money("28.00"), first.total)
    retry = chain.orders.ingest(
        actor=SYSTEM_ACTOR,
        channel="wechat_mini",
        external_id="WX-1001",
        lines=lines(("K2", 1, "3.00"), ("K1", 2, "12.50")),
        destination=GeoPoint(31.23, 121.47),
    )
    assert first == retry
    assert first == chain.orders.find(channel="wechat_mini", external_id="WX-1001")
    assert (before[0] + 2, before[1] + 1) == probe.counts()
    with pytest.raises(NotFoundError):
        chain.orders.get(order_id="ord_000002")


def test_same_external_id_with_other_content_conflicts(chain: Multistore, probe: Probe) -> None:
    chain.orders.ingest(
        actor=SYSTEM_ACTOR,
        channel="web",
        external_id="1",
        lines=lines(("K1", 1, "12.50")),
        destination=(31.0, 121.0),
    )
    before = probe.counts()
    with pytest.raises(ConflictError) as info:
        chain.orders.ingest(
            actor=SYSTEM_ACTOR,
            channel="web",
            external_id="1",
            lines=lines(("K1", 2, "12.50")),
            destination=(31.0, 121.0),
        )
    assert info.value.code == "order.duplicate_conflict"
    assert before == probe.counts()


def test_fingerprint_ignores_what_multistore_assigns() -> None:
    a = sample_order("ord_1", external_id="E", lines=[("A", 1, "1.00"), ("B", 2, "2.00")])
    b = sample_order(
        "ord_2", external_id="E", lines=[("B", 2, "2.00"), ("A", 1, "1.00")], created_at=None
    )
    c = sample_order("ord_3", external_id="E", lines=[("A", 1, "1.01"), ("B", 2, "2.00")])
    assert order_fingerprint(a) == order_fingerprint(b)
    assert order_fingerprint(a) != order_fingerprint(c)


def test_pickup_orders_are_scoped_to_the_store(chain: Multistore) -> None:
    order = chain.orders.ingest(
        actor=manager_of("E1", "east"),
        channel="pos",
        external_id="P1",
        lines=lines(("K1", 1, "12.50")),
        pickup_store_id="E1",
    )
    with pytest.raises(PermissionDeniedError):
        chain.orders.set_status(
            actor=manager_of("E2", "east"), order_id=order.id, status="accepted"
        )
    with pytest.raises(PermissionDeniedError):
        chain.orders.set_status(
            actor=cashier_of("E1", "east"), order_id=order.id, status="accepted"
        )
    accepted = chain.orders.set_status(
        actor=manager_of("E1", "east"), order_id=order.id, status="accepted"
    )
    assert OrderStatus.ACCEPTED == accepted.status
    assert accepted == chain.orders.get(order_id=order.id)


def test_status_machine(chain: Multistore, probe: Probe) -> None:
    order = chain.orders.ingest(
        actor=SYSTEM_ACTOR,
        channel="web",
        external_id="9",
        lines=lines(("K1", 1, "1.00")),
        destination=(31.0, 121.0),
    )
    before = probe.counts()
    with pytest.raises(ConflictError) as info:
        chain.orders.set_status(actor=SYSTEM_ACTOR, order_id=order.id, status=OrderStatus.DELIVERED)
    assert info.value.code == "order.invalid_transition"
    with pytest.raises(ValidationError):
        chain.orders.set_status(actor=SYSTEM_ACTOR, order_id=order.id, status="shipped-ish")
    with pytest.raises(NotFoundError):
        chain.orders.set_status(actor=SYSTEM_ACTOR, order_id="nope", status="accepted")
    assert before == probe.counts()
    for status in ("accepted", "out_of_warehouse", "in_delivery", "delivered"):
        order = chain.orders.set_status(actor=SYSTEM_ACTOR, order_id=order.id, status=status)
    assert OrderStatus.DELIVERED == order.status


def _bad_float_line() -> list[OrderLine]:
    return [OrderLine("K1", 1, 12.5)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"lines": []}, ValidationError, "validation.empty_lines"),
        ({"external_id": ""}, ValidationError, "validation.empty_id"),
        ({"channel": " "}, ValidationError, "validation.empty_id"),
        ({"destination": (95.0, 0.0)}, ValidationError, "geo.invalid_coordinate"),
        ({"destination": None}, ValidationError, "order.no_destination"),
        ({"lines": [{"sku": "K1"}]}, ValidationError, "validation.invalid"),
        ({"lines": "lines_float"}, FloatMoneyError, "money.float_rejected"),
        ({"lines": "lines_mixed"}, CurrencyMismatchError, "money.currency_mismatch"),
        ({"lines": "lines_dup"}, ValidationError, "order.duplicate_sku"),
        ({"lines": "lines_zero"}, ValidationError, "validation.non_positive_quantity"),
        ({"lines": "lines_unknown"}, NotFoundError, "catalog.sku_not_found"),
        ({"pickup_store_id": "NOPE", "destination": None}, NotFoundError, "store.not_found"),
        ({"member_id": "nobody"}, NotFoundError, "member.not_found"),
    ],
)
def test_bad_input_writes_nothing(
    chain: Multistore, probe: Probe, kwargs: dict[str, object], error: type[Exception], code: str
) -> None:
    args: dict[str, object] = {
        "actor": SYSTEM_ACTOR,
        "channel": "web",
        "external_id": "E-1",
        "lines": lines(("K1", 1, "12.50")),
        "destination": (31.0, 121.0),
    }
    args.update(kwargs)

    def build() -> object:
        special = args["lines"]
        if special == "lines_float":
            args["lines"] = _bad_float_line()
        elif special == "lines_mixed":
            args["lines"] = [
                OrderLine("K1", 1, m.money("1.00", "CNY")),
                OrderLine("K2", 1, m.money("1", "JPY")),
            ]
        elif special == "lines_dup":
            args["lines"] = lines(("K1", 1, "1.00"), ("K1", 2, "1.00"))
        elif special == "lines_zero":
            args["lines"] = lines(("K1", 0, "1.00"))
        elif special == "lines_unknown":
            args["lines"] = lines(("K1", 1, "1.00"), ("NOPE", 1, "1.00"))
        return chain.orders.ingest(**args)  # type: ignore[arg-type]

    before = probe.counts()
    with pytest.raises(error) as info:
        build()
    assert code == info.value.code  # type: ignore[attr-defined]
    assert before == probe.counts()
    assert chain.orders.find(channel="web", external_id="E-1") is None


def test_member_orders(chain: Multistore) -> None:
    member = chain.members.register(actor=SYSTEM_ACTOR, name="王五", phone="13900000000")
    order = chain.orders.ingest(
        actor=SYSTEM_ACTOR,
        channel="web",
        external_id="M1",
        lines=lines(("K1", 1, "1.00")),
        destination=(31.0, 121.0),
        member_id=member.id,
    )
    assert member.id == order.member_id
    assert sample_member("x").tier == "gold"
