from __future__ import annotations

from datetime import date

import pytest

from multistore.money import money
from multistore.tax import (
    Adjustment,
    AdjustmentKind,
    InvoiceError,
    InvoiceKind,
    LineNature,
    OrderLine,
    RateTable,
    RefundError,
    TaxOrder,
    build_invoices,
    build_red_invoices,
    red_letter,
    refund,
    tax_order,
    unit_slice,
)

from .conftest import make_order


def test_unit_slices_cover_the_total() -> None:
    parts = [unit_slice(total=1000, quantity=3, start=i, count=1) for i in range(3)]
    assert [334, 333, 333] == parts
    with pytest.raises(RefundError):
        unit_slice(total=1, quantity=1, start=1, count=1)


def test_partial_returns_then_rest_reverse_everything(rates: RateTable) -> None:
    taxed = tax_order(order=make_order(), rates=rates)
    r1 = refund(order=taxed, returns={"milk": 1}, refund_id="R1", tax_date=date(2026, 11, 3))
    r2 = refund(
        order=taxed,
        returns={"milk": 2, "pot": 1, "bread": 2},
        refund_id="R2",
        tax_date=date(2026, 11, 4),
        already_returned={"milk": 1},
    )
    for al, v in zip(taxed.allocation.lines, taxed.vat.lines, strict=True):
        back = [rl for r in (r1, r2) for rl in r.lines if rl.line_id == al.line_id]
        assert al.taxable_minor + sum(b.taxable_minor for b in back) == 0
        assert v.tax_minor + sum(b.tax_minor for b in back) == 0
        assert v.net_minor + sum(b.net_minor for b in back) == 0
        assert al.gross_minor + sum(b.gross_minor for b in back) == 0
        for i, s in enumerate(al.shares):
            assert s.minor + sum(b.shares[i].minor for b in back) == 0
    assert taxed.allocation.paid_minor + r1.paid_minor + r2.paid_minor == 0


def test_returning_too_many_units_is_an_error(rates: RateTable) -> None:
    taxed = tax_order(order=make_order(), rates=rates)
    with pytest.raises(RefundError):
        refund(
            order=taxed,
            returns={"milk": 3},
            refund_id="R",
            tax_date=date(2026, 11, 3),
            already_returned={"milk": 1},
        )
    with pytest.raises(RefundError):
        refund(order=taxed, returns={"zz": 1}, refund_id="R", tax_date=date(2026, 11, 3))


def test_invoice_discount_line_follows_discounted_line(rates: RateTable) -> None:
    taxed = tax_order(order=make_order(), rates=rates)
    (inv,) = build_invoices(orders=taxed)
    natures = [line.nature for line in inv.lines]
    assert LineNature.DISCOUNT != natures[0]
    for i, line in enumerate(inv.lines):
        if line.nature is LineNature.DISCOUNT:
            prev = inv.lines[i - 1]
            assert LineNature.DISCOUNTED == prev.nature
            assert prev.rate == line.rate
            assert line.amount_minor < 0
        assert abs(line.tax_difference_minor) <= 6
    assert taxed.vat.tax_minor == inv.tax_minor
    assert taxed.vat.net_minor == inv.amount_minor
    assert abs(inv.tax_difference_minor) <= 127


def test_red_letter_flips_signs(rates: RateTable) -> None:
    taxed = tax_order(order=make_order(), rates=rates)
    (inv,) = build_invoices(orders=taxed)
    red = red_letter(invoice=inv)
    assert InvoiceKind.RED == red.kind
    assert -inv.total_minor == red.total_minor
    assert [line.nature for line in inv.lines] == [line.nature for line in red.lines]
    with pytest.raises(InvoiceError):
        red_letter(invoice=red)


def test_red_invoice_for_refund(rates: RateTable) -> None:
    taxed = tax_order(order=make_order(), rates=rates)
    r = refund(order=taxed, returns={"milk": 1}, refund_id="R1", tax_date=date(2026, 11, 3))
    (red,) = build_red_invoices(refund=r, original_reference="INV-1")
    assert red.total_minor == r.lines[0].taxable_minor
    assert red.total_minor < 0
    assert "INV-1" == red.original_reference


def test_split_by_max_lines_keeps_pairs_together(rates: RateTable) -> None:
    lines = [
        OrderLine(line_id=f"l{i}", quantity=1, amount=money("10.00"), tax_category="general")
        for i in range(7)
    ]
    order = TaxOrder(
        order_id="O",
        store_id="S",
        platform="p",
        tax_date=date(2026, 11, 2),
        lines=lines,
        adjustments=[
            Adjustment(adjustment_id="c", kind=AdjustmentKind.STORE_COUPON, amount=money("7.00"))
        ],
    )
    taxed = tax_order(order=order, rates=rates)
    invoices = build_invoices(orders=taxed, max_lines=5)
    assert [4, 4, 4, 2] == [len(i.lines) for i in invoices]
    assert taxed.vat.tax_minor == sum(i.tax_minor for i in invoices)
    assert all(i.lines[0].nature is LineNature.DISCOUNTED for i in invoices)
    with pytest.raises(InvoiceError):
        build_invoices(orders=taxed, max_lines=1)


def test_split_by_total_tolerance(rates: RateTable) -> None:
    # 1-fen lines at 13%: each tax rounds to 0 and leaves 0.13 fen difference
    lines = [
        OrderLine(line_id=f"l{i}", quantity=1, amount=money("0.04"), tax_category="general")
        for i in range(300)
    ]
    order = TaxOrder(
        order_id="O", store_id="S", platform="p", tax_date=date(2026, 11, 2), lines=lines
    )
    invoices = build_invoices(
        orders=tax_order(order=order, rates=rates),
        max_lines=1000,
        total_tolerance=__import__("decimal").Decimal("0.10"),
    )
    assert len(invoices) > 1
    assert all(abs(i.tax_difference_minor) <= 10 for i in invoices)
