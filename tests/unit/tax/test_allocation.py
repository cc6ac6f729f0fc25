from __future__ import annotations

from decimal import Decimal

import pytest

from multistore.errors import CurrencyMismatchError
from multistore.money import money
from multistore.tax import (
    Adjustment,
    AdjustmentKind,
    AllocationError,
    Effect,
    Funder,
    OrderLine,
    allocate,
    allocate_minor_lines,
)

from .conftest import make_order


def line(lid: str, amount: str, qty: int = 1, cat: str = "general") -> OrderLine:
    return OrderLine(line_id=lid, quantity=qty, amount=money(amount), tax_category=cat)


def test_largest_remainder_split_sums_exactly() -> None:
    result = allocate(
        lines=[line("a", "10.00"), line("b", "10.00"), line("c", "10.00")],
        adjustments=[
            Adjustment(adjustment_id="c", kind=AdjustmentKind.STORE_COUPON, amount=money("10.00"))
        ],
    )
    assert [334, 333, 333] == [al.merchant_discount_minor for al in result.lines]
    assert ["6.66", "6.67", "6.67"] == [str(al.taxable.amount) for al in result.lines]


def test_weights_follow_amount_after_earlier_allocations() -> None:
    rows = allocate_minor_lines(
        amounts=[1000, 1000],
        adjustments=[(Effect.DISCOUNT, 500, [0], None), (Effect.DISCOUNT, 300)],
    )
    # second discount sees 500 vs 1000
    assert [[500, 0], [100, 200]] == rows


def test_discount_never_takes_a_line_below_zero_and_excess_is_carried() -> None:
    # explicit equal weights would give 150 each but line a only holds 100
    rows = allocate_minor_lines(
        amounts=[100, 1000], adjustments=[(Effect.DISCOUNT, 300, None, [1, 1])]
    )
    assert [[100, 200]] == rows


def test_excess_of_restricted_coupon_carries_to_other_lines() -> None:
    rows = allocate_minor_lines(
        amounts=[100, 1000], adjustments=[(Effect.DISCOUNT, 300, [0], None)]
    )
    assert [[100, 200]] == rows


def test_discount_larger_than_order_is_an_error() -> None:
    with pytest.raises(AllocationError) as err:
        allocate(
            lines=[line("a", "1.00")],
            adjustments=[
                Adjustment(
                    adjustment_id="x", kind=AdjustmentKind.STORE_COUPON, amount=money("2.00")
                )
            ],
        )
    assert "tax.allocation_exceeds" == err.value.code


def test_funder_split_and_fees() -> None:
    order = make_order()
    result = allocate(lines=order.lines, adjustments=order.adjustments)
    assert 2000 == sum(al.merchant_discount_minor for al in result.lines)
    assert 500 == sum(al.platform_discount_minor for al in result.lines)
    assert 600 == sum(al.charges_minor for al in result.lines)
    assert 1235 == sum(al.platform_fees_minor for al in result.lines)
    gross = 5970 + 19900 + 1500
    assert gross - 2000 + 600 == result.taxable_minor
    assert gross - 2500 + 600 == result.paid_minor
    assert all(
        s.funder is Funder.PLATFORM for s in result.lines[0].shares if s.adjustment_id == "pc"
    )
    assert len(result.explanation) == 4


def test_decimal_weights_and_zero_weight_lines() -> None:
    result = allocate(
        lines=[line("a", "0.00"), line("b", "10.00"), line("c", "10.00")],
        adjustments=[
            Adjustment(
                adjustment_id="f",
                kind=AdjustmentKind.SERVICE_FEE,
                amount=money("1.00"),
                weights=(Decimal("0"), Decimal("1.5"), Decimal("0.5")),
            ),
            Adjustment(adjustment_id="s", kind=AdjustmentKind.STORE_COUPON, amount=money("1.00")),
        ],
    )
    assert [0, 75, 25] == [al.platform_fees_minor for al in result.lines]
    assert [0, 50, 50] == [al.merchant_discount_minor for al in result.lines]


def test_bad_input_is_typed() -> None:
    with pytest.raises(CurrencyMismatchError):
        allocate(
            lines=[
                line("a", "1.00"),
                OrderLine(
                    line_id="b", quantity=1, amount=money("1", "USD"), tax_category="general"
                ),
            ]
        )
    with pytest.raises(AllocationError):
        allocate(lines=[line("a", "1.00"), line("a", "2.00")])
    with pytest.raises(AllocationError):
        allocate(
            lines=[line("a", "1.00")],
            adjustments=[
                Adjustment(
                    adjustment_id="x",
                    kind=AdjustmentKind.STORE_COUPON,
                    amount=money("0.10"),
                    line_ids=("zz",),
                )
            ],
        )
    with pytest.raises(AllocationError):
        allocate(lines=[])
