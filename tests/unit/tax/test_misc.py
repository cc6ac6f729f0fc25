from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from multistore.demo.tax import run
from multistore.money import money
from multistore.tax import (
    Adjustment,
    AdjustmentKind,
    AllocationError,
    BillError,
    Effect,
    ExpectedEntry,
    GenericBillMapping,
    LineNature,
    MatchStatus,
    OrderLine,
    RateTable,
    RecordKind,
    TaxOrder,
    allocate_and_tax_batch,
    build_invoices,
    parse_generic_bill,
    parse_wechat_bill,
    reconcile,
    tax_order,
)


def test_exempt_and_zero_rated_invoice_lines(rates: RateTable) -> None:
    order = TaxOrder(
        order_id="O",
        store_id="S",
        platform="p",
        tax_date=date(2022, 6, 1),
        lines=[
            OrderLine(line_id="veg", quantity=1, amount=money("10.00"), tax_category="exempt"),
            OrderLine(line_id="ss", quantity=1, amount=money("10.30"), tax_category="small_scale"),
        ],
    )
    (inv,) = build_invoices(orders=tax_order(order=order, rates=rates))
    assert [("免税", 1000, 0), ("免税", 1030, 0)] == [
        (line.rate.label, line.amount_minor, line.tax_minor) for line in inv.lines
    ]


def test_exclusive_prices_with_discount_pair(rates: RateTable) -> None:
    order = TaxOrder(
        order_id="O",
        store_id="S",
        platform="p",
        tax_date=date(2026, 11, 2),
        lines=[OrderLine(line_id="a", quantity=2, amount=money("100.00"), tax_category="general")],
        adjustments=[
            Adjustment(adjustment_id="c", kind=AdjustmentKind.STORE_COUPON, amount=money("10.00"))
        ],
        prices_include_tax=False,
    )
    taxed = tax_order(order=order, rates=rates)
    (inv,) = build_invoices(orders=taxed)
    assert [(LineNature.DISCOUNTED, 10000, 1300), (LineNature.DISCOUNT, -1000, -130)] == [
        (line.nature, line.amount_minor, line.tax_minor) for line in inv.lines
    ]
    assert 9000 == taxed.vat.net_minor


def test_restricted_coupon_via_money_api(rates: RateTable) -> None:
    order = TaxOrder(
        order_id="O",
        store_id="S",
        platform="p",
        tax_date=date(2026, 11, 2),
        lines=[
            OrderLine(line_id="a", quantity=1, amount=money("5.00"), tax_category="general"),
            OrderLine(line_id="b", quantity=1, amount=money("50.00"), tax_category="general"),
        ],
        adjustments=[
            Adjustment(
                adjustment_id="c",
                kind=AdjustmentKind.STORE_COUPON,
                amount=money("8.00"),
                line_ids=("a",),
            )
        ],
    )
    taxed = tax_order(order=order, rates=rates)
    assert [500, 300] == [al.merchant_discount_minor for al in taxed.allocation.lines]


def test_batch_rejects_bad_input() -> None:
    with pytest.raises(AllocationError):
        allocate_and_tax_batch(amounts=[[100]], rates=[[]], adjustments=[[]])
    with pytest.raises(AllocationError):
        allocate_and_tax_batch(
            amounts=[[100]], rates=[[Fraction(13, 100)]], adjustments=[[(Effect.DISCOUNT, 101)]]
        )
    result = allocate_and_tax_batch(
        amounts=[[0, 0]], rates=[[Fraction(0), Fraction(0)]], adjustments=[[(Effect.FEE, 3)]]
    )
    assert [[2, 1]] == result.shares.tolist()


def test_generic_missing_column_and_bad_totals() -> None:
    mapping = GenericBillMapping(
        platform="jd",
        columns={"order_id": "单号", "amount": "金额", "occurred_at": "时间"},
        total_row_marker="合计",
    )
    with pytest.raises(BillError) as err:
        parse_generic_bill("单号,金额\nA,1.00\n", mapping=mapping, name="jd.csv")
    assert ("tax.bill.missing_column", "时间") == (err.value.code, err.value.field)
    with pytest.raises(BillError) as err2:
        parse_generic_bill(
            "单号,金额,时间\nA,1.00,2026-11-02 10:00:00\n合计,2.00,\n",
            mapping=mapping,
            name="jd.csv",
        )
    assert ("tax.bill.totals_mismatch", 3) == (err2.value.code, err2.value.line)


def test_refund_without_id_matches_any_refund_of_the_order() -> None:
    text = (
        "交易时间,商户订单号,交易状态,应结订单金额,退款金额,商户退款单号,手续费\n"
        "`2026-11-02 10:00:00,`O1,`REFUND,`0.00,`5.00,`RX,`-0.03000\n"
        "总交易单数,退款总金额,手续费总金额\n`1,`5.00,`-0.03000\n"
    )
    bill = parse_wechat_bill(text)
    report = reconcile(
        orders=[
            ExpectedEntry(
                platform="wechat",
                order_id="O1",
                kind=RecordKind.REFUND,
                amount=money("-5.00"),
                day=date(2026, 11, 2),
            )
        ],
        bills=[bill],
    )
    assert [MatchStatus.MATCHED] == [i.status for i in report.items]


def test_demo_shows_the_planted_mismatch() -> None:
    lines: list[str] = []
    run(lines.append)
    text = "\n".join(lines)
    assert "amount_mismatch" in text
    assert "invoice D1001-1" in text
    assert "VAT summary" in text


def test_batch_falls_back_to_exact_ints_for_huge_amounts() -> None:
    huge = 10**20
    result = allocate_and_tax_batch(
        amounts=[[huge, huge]],
        rates=[[Fraction(13, 100)] * 2],
        adjustments=[[(Effect.DISCOUNT, 3)]],
    )
    assert [[2, 1]] == result.shares.tolist()
    assert result.net.tolist()[0] + result.tax.tolist()[0] == huge - 2


def test_batch_chunks_agree_with_one_pass() -> None:
    from multistore.tax import batch

    amounts = [[100 + i % 7, 50 + i % 3] for i in range(20_000)]
    rates = [[Fraction(13, 100), Fraction(9, 100)]] * 20_000
    adjs = [[(Effect.DISCOUNT, i % 50)] * (i % 3) for i in range(20_000)]
    whole = batch.allocate_and_tax_batch(amounts=amounts, rates=rates, adjustments=adjs)
    first = batch._batch(amounts[:5], rates[:5], adjs[:5], prices_include_tax=True)
    assert first.shares.tolist() == whole.shares[:, :10].tolist()
    assert list(range(20_000)) == sorted(set(whole.order_index.tolist()))
    last = batch._batch(amounts[-3:], rates[-3:], adjs[-3:], prices_include_tax=True)
    assert last.net.tolist() == whole.net[-6:].tolist()
    assert last.shares.tolist() == whole.shares[:, -6:].tolist()


def test_expected_from_orders(rates: RateTable) -> None:
    from decimal import Decimal

    from multistore.tax import expected_from_orders, refund

    from .conftest import make_order

    taxed = tax_order(order=make_order(), rates=rates)
    back = refund(order=taxed, returns={"pot": 1}, refund_id="R1", tax_date=date(2026, 11, 3))
    entries = expected_from_orders(orders=[taxed], refunds=[back], fee_rate=Decimal("0.006"))
    pay, ref = entries
    assert (RecordKind.PAYMENT, taxed.settled_minor) == (
        pay.kind,
        int(pay.amount.amount * 100),
    )
    assert pay.fee is not None
    assert int(pay.fee.amount * 100) == (taxed.settled_minor * 6 + 500) // 1000
    assert ("R1", back.settled_minor) == (ref.refund_id, int(ref.amount.amount * 100))
