# ruff: noqa: RUF001 - Chinese bill texts use full-width punctuation
"""Regression tests for the tax / bill-reconciliation bugs found by the independent review."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from multistore.errors import CurrencyMismatchError
from multistore.money import money
from multistore.tax import (
    Adjustment,
    AdjustmentKind,
    BillCurrencyError,
    BillError,
    ExpectedEntry,
    MatchStatus,
    OrderLine,
    PaymentEntry,
    RateTable,
    RecordKind,
    Report,
    TaxedOrder,
    TaxOrder,
    expected_from_orders,
    income_tax_basis,
    load_bill_mapping,
    parse_alipay_bill,
    parse_generic_bill,
    parse_wechat_bill,
    platform_income_report,
    reconcile,
    refund,
    revenue_breakdown,
    tax_order,
    vat_declaration,
)
from multistore.tax.bills.model import CHINA_TZ

P, R = RecordKind.PAYMENT, RecordKind.REFUND
DAY = date(2026, 11, 2)

WX_ALL = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
WX_SUMMARY = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)
WX_SMALL = (
    "交易时间,商户订单号,交易状态,货币种类,应结订单金额,退款金额,手续费\n"
    "`2026-11-02 10:00:00,`O1,`SUCCESS,`CNY,`100.00,`0.00,`0.60000\n"
    "总交易单数,应结订单总金额,退款总金额,手续费总金额\n`1,`100.00,`0.00,`0.60000\n"
)
ALIPAY = (
    "#支付宝业务明细查询\n"
    "商户订单号,业务类型,完成时间,订单金额（元）,商家实收（元）,服务费（元）,退款批次号/请求号\n"
    "A1\t,交易\t,2026-11-02 10:00:00\t,100.00\t,100.00\t,-0.60\t,\t\n"
    "#交易合计：1笔，商家实收共100.00元，服务费共-0.60元\n"
)


def _order(
    order_id: str,
    amount: str,
    *,
    quantity: int = 1,
    adjustments: tuple[Adjustment, ...] = (),
    prices_include_tax: bool = True,
    rates: RateTable,
) -> TaxedOrder:
    return tax_order(
        order=TaxOrder(
            order_id=order_id,
            store_id="S1",
            platform="wechat",
            tax_date=DAY,
            lines=[
                OrderLine(
                    line_id="1",
                    quantity=quantity,
                    amount=money(amount),
                    tax_category="general",
                    cost=money("50.00"),
                )
            ],
            adjustments=adjustments,
            prices_include_tax=prices_include_tax,
        ),
        rates=rates,
    )


def _column_totals(report: Report) -> dict[str, int]:
    """The report's integer totals by column key."""
    return {
        c.key: v for c, v in zip(report.columns, report.totals, strict=True) if isinstance(v, int)
    }


# 1. revenue_breakdown: a refund's net goes to net_revenue, not to vat


def test_revenue_breakdown_puts_refund_net_in_net_revenue(rates: RateTable) -> None:
    sale = _order("O1", "113.00", rates=rates)
    back = refund(order=sale, returns={"1": 1}, refund_id="R1", tax_date=DAY)
    totals = _column_totals(revenue_breakdown(orders=[sale], refunds=[back]))
    wanted = ("paid", "taxable", "vat", "net_revenue", "refunds_paid", "refund_vat")
    actual = {k: totals[k] for k in wanted}
    assert {
        "paid": 11300,
        "taxable": 11300,
        "vat": 1300,
        "net_revenue": 0,
        "refunds_paid": -11300,
        "refund_vat": -1300,
    } == actual


def test_every_report_nets_to_zero_after_a_full_refund(rates: RateTable) -> None:
    sale = tax_order(
        order=TaxOrder(
            order_id="O1",
            store_id="S1",
            platform="wechat",
            tax_date=DAY,
            lines=[
                OrderLine(
                    line_id="1",
                    quantity=3,
                    amount=money("59.70"),
                    tax_category="reduced",
                    cost=money("30.00"),
                ),
                OrderLine(
                    line_id="2",
                    quantity=1,
                    amount=money("199.00"),
                    tax_category="general",
                    cost=money("120.00"),
                ),
            ],
            adjustments=[
                Adjustment(
                    adjustment_id="a", kind=AdjustmentKind.FULL_REDUCTION, amount=money("25.00")
                ),
                Adjustment(
                    adjustment_id="b", kind=AdjustmentKind.PLATFORM_COUPON, amount=money("5.00")
                ),
            ],
        ),
        rates=rates,
    )
    backs = [
        refund(order=sale, returns={"1": 1}, refund_id="R1", tax_date=DAY),
        refund(
            order=sale,
            returns={"1": 2, "2": 1},
            refund_id="R2",
            tax_date=DAY,
            already_returned={"1": 1},
        ),
    ]
    breakdown = _column_totals(revenue_breakdown(orders=[sale], refunds=backs))
    assert (0, 0, 0) == (
        breakdown["net_revenue"],
        breakdown["paid"] + breakdown["refunds_paid"],
        breakdown["vat"] + breakdown["refund_vat"],
    )
    vat = _column_totals(vat_declaration(orders=[sale], refunds=backs))
    income = _column_totals(platform_income_report(orders=[sale], refunds=backs))
    basis = _column_totals(income_tax_basis(orders=[sale], refunds=backs))
    assert (0, 0, 0, 0) == (vat["tax"], vat["gross"], income["net_sales"], basis["revenue"])


# 2. tax-exclusive prices: what changed hands includes the VAT


def test_tax_exclusive_order_paid_and_refund_include_vat(rates: RateTable) -> None:
    sale = _order("O1", "100.00", prices_include_tax=False, rates=rates)
    back = refund(order=sale, returns={"1": 1}, refund_id="R1", tax_date=DAY)
    (pay, ref) = expected_from_orders(orders=[sale], refunds=[back], fee_rate=Decimal("0.006"))
    assert (11300, 11300, money("113.00"), money("0.68")) == (
        sale.paid_minor,
        sale.settled_minor,
        pay.amount,
        pay.fee,
    )
    assert (-11300, -10000, -1300, money("-113.00"), money("-0.68")) == (
        back.paid_minor,
        back.net_minor,
        back.tax_minor,
        ref.amount,
        ref.fee,
    )


def test_tax_exclusive_reports_count_the_vat_as_paid(rates: RateTable) -> None:
    sale = _order("O1", "100.00", prices_include_tax=False, rates=rates)
    back = refund(order=sale, returns={"1": 1}, refund_id="R1", tax_date=DAY)
    breakdown = _column_totals(revenue_breakdown(orders=[sale], refunds=[back]))
    income = _column_totals(platform_income_report(orders=[sale], refunds=[back]))
    assert (11300, 11300, -11300, 11300, -11300) == (
        breakdown["paid"],
        breakdown["taxable"],
        breakdown["refunds_paid"],
        income["gross_income"],
        income["refunds"],
    )


def test_unit_by_unit_refunds_of_a_tax_exclusive_order_sum_to_what_was_paid(
    rates: RateTable,
) -> None:
    coupon = Adjustment(
        adjustment_id="pc", kind=AdjustmentKind.PLATFORM_COUPON, amount=money("3.33")
    )
    sale = _order(
        "O1", "100.01", quantity=3, adjustments=(coupon,), prices_include_tax=False, rates=rates
    )
    backs = [
        refund(
            order=sale, returns={"1": 1}, refund_id=f"R{u}", tax_date=DAY, already_returned={"1": u}
        )
        for u in range(3)
    ]
    assert (-sale.paid_minor, -sale.settled_minor) == (
        sum(b.paid_minor for b in backs),
        sum(b.settled_minor for b in backs),
    )


# 12. expected_from_orders expects what the platform settles (platform coupons included)


def test_expected_from_orders_includes_platform_funded_coupons(rates: RateTable) -> None:
    coupon = Adjustment(
        adjustment_id="wx", kind=AdjustmentKind.PLATFORM_COUPON, amount=money("10.00")
    )
    with_coupon = _order("O1", "100.00", adjustments=(coupon,), rates=rates)
    exclusive = _order("O2", "100.00", prices_include_tax=False, rates=rates)
    bill = parse_wechat_bill(
        "交易时间,商户订单号,交易状态,货币种类,应结订单金额,代金券金额,退款金额,手续费,订单金额\n"
        "`2026-11-02 09:00:00,`O1,`SUCCESS,`CNY,`100.00,`10.00,`0.00,`0.60000,`100.00\n"
        "`2026-11-02 09:05:00,`O2,`SUCCESS,`CNY,`113.00,`0.00,`0.00,`0.68000,`113.00\n"
        "总交易单数,应结订单总金额,退款总金额,手续费总金额,订单总金额\n"
        "`2,`213.00,`0.00,`1.28000,`213.00\n"
    )
    entries = expected_from_orders(orders=[with_coupon, exclusive], fee_rate=Decimal("0.006"))
    report = reconcile(orders=entries, bills=[bill])
    assert [("O1", MatchStatus.MATCHED, 10000, 60), ("O2", MatchStatus.MATCHED, 11300, 68)] == [
        (i.order_id, i.status, i.order_minor, i.expected_fee_minor) for i in report.items
    ]
    assert (9000, 10000) == (with_coupon.paid_minor, with_coupon.settled_minor)


def test_expected_refund_includes_reversed_platform_coupon(rates: RateTable) -> None:
    coupon = Adjustment(
        adjustment_id="wx", kind=AdjustmentKind.PLATFORM_COUPON, amount=money("10.00")
    )
    sale = _order("O1", "100.00", quantity=2, adjustments=(coupon,), rates=rates)
    back = refund(order=sale, returns={"1": 1}, refund_id="R1", tax_date=DAY)
    (_, ref) = expected_from_orders(orders=[sale], refunds=[back])
    assert (money("-50.00"), -4500) == (ref.amount, back.paid_minor)


# 3, 4, 5. id-less refunds


def _refund_bill() -> str:
    return (
        "交易时间,商户订单号,交易状态,货币种类,应结订单金额,商户退款单号,退款金额,手续费\n"
        "`2026-11-02 09:00:00,`O1,`SUCCESS,`CNY,`100.00,`0,`0.00,`0.60000\n"
        "`2026-11-02 10:00:00,`O1,`REFUND,`CNY,`0.00,`R2,`20.00,`-0.12000\n"
        "`2026-11-02 11:00:00,`O1,`REFUND,`CNY,`0.00,`R1,`30.00,`-0.18000\n"
        "总交易单数,应结订单总金额,退款总金额,手续费总金额\n`3,`100.00,`50.00,`0.30000\n"
    )


def _entry(kind: RecordKind, amount: str, refund_id: str = "") -> ExpectedEntry:
    return ExpectedEntry(
        platform="wechat",
        order_id="O1",
        kind=kind,
        amount=money(amount),
        day=DAY,
        refund_id=refund_id,
    )


def _outcome(entries: list[ExpectedEntry]) -> list[tuple[object, ...]]:
    report = reconcile(orders=entries, bills=[parse_wechat_bill(_refund_bill())])
    return [(i.status, i.kind, i.refund_id, i.order_minor, i.bill_minor) for i in report.items]


def test_idless_refund_does_not_take_a_refund_another_entry_names() -> None:
    entries = [_entry(P, "100.00"), _entry(R, "-30.00"), _entry(R, "-20.00", "R2")]
    assert [
        (MatchStatus.MATCHED, P, "", 10000, 10000),
        (MatchStatus.MATCHED, R, "R1", -3000, -3000),
        (MatchStatus.MATCHED, R, "R2", -2000, -2000),
    ] == _outcome(entries)


def test_several_idless_refunds_of_one_order_pair_by_amount() -> None:
    entries = [_entry(P, "100.00"), _entry(R, "-30.00"), _entry(R, "-20.00")]
    assert [
        (MatchStatus.MATCHED, P, "", 10000, 10000),
        (MatchStatus.MATCHED, R, "R1", -3000, -3000),
        (MatchStatus.MATCHED, R, "R2", -2000, -2000),
    ] == _outcome(entries)


def test_idless_refunds_without_equal_amounts_pair_by_time() -> None:
    entries = [
        _entry(P, "100.00"),
        _entry(R, "-25.00"),
        _entry(R, "-21.00"),
        _entry(R, "-5.00"),
    ]
    outcome = _outcome(entries)
    assert [
        (MatchStatus.AMOUNT_MISMATCH, -2500, -2000),
        (MatchStatus.AMOUNT_MISMATCH, -2100, -3000),
        (MatchStatus.MISSING_FROM_BILL, -500, None),
    ] == sorted(
        ((s, o, b) for s, k, _, o, b in outcome if k is R),
        key=lambda t: t[1] or 0,
    )


def test_duplicate_refund_ids_are_still_duplicates() -> None:
    entries = [_entry(P, "100.00"), _entry(R, "-30.00", "R1"), _entry(R, "-30.00", "R1")]
    assert MatchStatus.DUPLICATED == next(s for s, k, rid, _, _ in _outcome(entries) if k is R)


def test_three_way_idless_refund_takes_the_payment_record_of_its_bill_refund() -> None:
    bill = parse_wechat_bill(
        "交易时间,商户订单号,交易状态,货币种类,应结订单金额,商户退款单号,退款金额,手续费\n"
        "`2026-11-02 09:00:00,`O1,`SUCCESS,`CNY,`100.00,`0,`0.00,`0.60000\n"
        "`2026-11-02 11:00:00,`O1,`REFUND,`CNY,`0.00,`R1,`30.00,`-0.18000\n"
        "总交易单数,应结订单总金额,退款总金额,手续费总金额\n`2,`100.00,`30.00,`0.42000\n"
    )
    payments = [
        PaymentEntry(platform="wechat", order_id="O1", kind=P, amount=money("100.00")),
        PaymentEntry(
            platform="wechat", order_id="O1", kind=R, amount=money("-30.00"), refund_id="R1"
        ),
    ]
    report = reconcile(
        orders=[_entry(P, "100.00"), _entry(R, "-30.00")], bills=[bill], payments=payments
    )
    assert [
        (MatchStatus.MATCHED, P, "", 10000),
        (MatchStatus.MATCHED, R, "R1", -3000),
    ] == [(i.status, i.kind, i.refund_id, i.payment_minor) for i in report.items]


def test_three_way_idless_payment_records_pair_by_amount() -> None:
    payments = [
        PaymentEntry(platform="wechat", order_id="O1", kind=P, amount=money("100.00")),
        PaymentEntry(platform="wechat", order_id="O1", kind=R, amount=money("-20.00")),
        PaymentEntry(platform="wechat", order_id="O1", kind=R, amount=money("-30.00")),
    ]
    entries = [_entry(P, "100.00"), _entry(R, "-30.00"), _entry(R, "-20.00")]
    report = reconcile(orders=entries, bills=[parse_wechat_bill(_refund_bill())], payments=payments)
    assert [
        (MatchStatus.MATCHED, "", 10000),
        (MatchStatus.MATCHED, "R1", -3000),
        (MatchStatus.MATCHED, "R2", -2000),
    ] == [(i.status, i.refund_id, i.payment_minor) for i in report.items]


# 6. the day of a bill row is its China calendar day


def test_bill_rows_in_another_zone_land_on_the_china_day() -> None:
    mapping = load_bill_mapping(
        {
            "platform": "jd",
            "columns": {"order_id": "订单号", "amount": "金额", "occurred_at": "时间"},
        }
    )
    bill = parse_generic_bill(
        "订单号,金额,时间\nJ1,50.00,2026-11-02T17:30:00+00:00\nJ2,10.00,2026-11-02T15:00:00+00:00\n",
        mapping=mapping,
    )
    order = ExpectedEntry(
        platform="jd", order_id="J1", kind=P, amount=money("50.00"), day=date(2026, 11, 3)
    )
    report = reconcile(orders=[order], bills=[bill])
    assert [("J1", date(2026, 11, 3)), ("J2", date(2026, 11, 2))] == sorted(
        (i.order_id, i.day) for i in report.items
    )
    assert [(date(2026, 11, 2), 1000), (date(2026, 11, 3), 5000)] == [
        (d.day, d.bill_minor) for d in report.days
    ]


def test_naive_china_times_keep_their_day() -> None:
    bill = parse_wechat_bill(WX_SMALL.replace("10:00:00", "23:59:59"))
    report = reconcile(orders=[], bills=[bill])
    assert (DAY, datetime(2026, 11, 2, 23, 59, 59, tzinfo=CHINA_TZ)) == (
        report.items[0].day,
        bill.records[0].occurred_at,
    )


# 7. WeChat values holding commas


def _wx_row(body: str, attach: str) -> str:
    return (
        "`2026-11-02 09:15:02,`wx88,`1900000109,`0,`S001,`4200000101,`O1001,`oUser,`JSAPI,"
        "`SUCCESS,`CMB_DEBIT,`CNY,`128.50,`0.00,`0,`0,`0.00,`0.00,`,`,"
        f"`{body},`{attach},`0.77000,`0.60%,`128.50,`0.00,`"
    )


def _wx_bill(row: str) -> bytes:
    return (
        "\ufeff"
        + WX_ALL
        + "\r\n"
        + row
        + "\r\n"
        + WX_SUMMARY
        + "\r\n`1,`128.50,`0.00,`0.00,`0.77000,`128.50,`0.00\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("body", "attach"),
    [("牛奶,2盒", '{"store":"S001","n":2}'), ("牛奶,2盒", ""), ("牛奶", "a,b,c")],
)
def test_wechat_values_may_hold_commas(body: str, attach: str) -> None:
    bill = parse_wechat_bill(_wx_bill(_wx_row(body, attach)), name="All.csv")
    r = bill.records[0]
    assert ("O1001", 12850, 77, Decimal("0.77000"), "S001") == (
        r.order_id,
        r.amount_minor,
        r.fee_minor,
        r.fee_exact,
        r.store_id,
    )


def test_wechat_row_with_more_fields_than_the_header_is_rejected() -> None:
    row = _wx_row("牛奶", "").replace("`牛奶,", "`牛奶,2盒,", 1).replace(",`", ",", 1)
    with pytest.raises(BillError) as err:
        parse_wechat_bill(_wx_bill(row), name="All.csv")
    assert ("tax.bill.invalid_value", 2) == (err.value.code, err.value.line)
    assert "but the header has 27" in str(err.value)


# 8, 9. refund time of a processing refund; separators inside values


def test_processing_refund_is_dated_by_its_request_time() -> None:
    header = WX_ALL.replace("代金券金额,", "代金券金额,退款申请时间,退款成功时间,")
    row = (
        "`2026-10-30 20:53:36,`wx88,`1900000109,`0,`,`4200000099,`O0999,`oUser,`JSAPI,`REFUND,"
        "`CFT,`CNY,`0.00,`0.00,`2026-11-02 20:53:36,`,`503009,`R0999,`10.00,`0.00,`ORIGINAL,"
        "`PROCESSING,`面包,`,`-0.06000,`0.60%,`0.00,`10.00,`"
    )
    bill = parse_wechat_bill(
        header
        + "\r\n"
        + row
        + "\r\n"
        + WX_SUMMARY
        + "\r\n`1,`0.00,`10.00,`0.00,`-0.06000,`0.00,`10.00\r\n"
    )
    assert datetime(2026, 11, 2, 20, 53, 36, tzinfo=CHINA_TZ) == bill.records[0].occurred_at


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85", "\x0c", "\x1c", "\x0b"])
def test_unicode_line_separators_inside_values_do_not_split_rows(sep: str) -> None:
    wechat = (
        "交易时间,商户订单号,交易状态,货币种类,应结订单金额,退款金额,手续费,商品名称,订单金额\n"
        f"`2026-11-02 10:00:00,`O1,`SUCCESS,`CNY,`100.00,`0.00,`0.60000,`新品{sep}牛奶,`100.00\n"
        "总交易单数,应结订单总金额,退款总金额,手续费总金额,订单总金额\n"
        "`1,`100.00,`0.00,`0.60000,`100.00\n"
    )
    alipay = ALIPAY.replace("商户订单号,", "商户订单号,商品名称,").replace(
        "A1\t,", f"A1\t,新品{sep}面包\t,"
    )
    mapping = load_bill_mapping(
        {"platform": "mt", "columns": {"order_id": "单号", "amount": "金额", "occurred_at": "时间"}}
    )
    generic = f"单号,名称,金额,时间\nM1,新品{sep}面包,50.00,2026-11-02 12:00:00\n"
    assert [("O1", 10000), ("A1", 10000), ("M1", 5000)] == [
        (b.records[0].order_id, b.records[0].amount_minor)
        for b in (
            parse_wechat_bill(wechat.encode()),
            parse_alipay_bill(alipay.encode("gb18030")),
            parse_generic_bill(generic, mapping=mapping),
        )
    ]


def test_line_numbers_count_only_real_line_breaks() -> None:
    text = WX_SMALL.replace("`O1,", "`O\u20281,").replace("`0.60000\n", "`x\n", 1)
    with pytest.raises(BillError) as err:
        parse_wechat_bill(text)
    assert (2, "手续费") == (err.value.line, err.value.field)


# 10. archives


def _zip(members: dict[str, bytes], *, utf8_names: bool = True) -> bytes:
    """A zip of ``members``; ``utf8_names=False`` writes GBK names without the UTF-8 flag."""
    buf = io.BytesIO()
    placeholders: dict[bytes, bytes] = {}
    with zipfile.ZipFile(buf, "w") as z:
        for n, (name, data) in enumerate(members.items()):
            if utf8_names:
                z.writestr(name, data)
                continue
            gbk = name.encode("gbk")
            stand_in = f"{n:02d}".encode().ljust(len(gbk), b"_")
            placeholders[stand_in] = gbk
            z.writestr(stand_in.decode(), data)
    raw = buf.getvalue()
    for stand_in, gbk in placeholders.items():  # names are stored twice: local + central
        assert 2 == raw.count(stand_in)
        raw = raw.replace(stand_in, gbk)
    return raw


def test_wechat_gzip_bytes_and_path(tmp_path: Path) -> None:
    packed = gzip.compress(WX_SMALL.encode())
    (tmp_path / "All.gzip").write_bytes(packed)
    assert [10000, 10000] == [
        parse_wechat_bill(packed, name="All.csv.gz").records[0].amount_minor,
        parse_wechat_bill(tmp_path / "All.gzip").records[0].amount_minor,
    ]


@pytest.mark.parametrize("utf8_names", [True, False])
def test_alipay_zip_picks_the_detail_file(tmp_path: Path, utf8_names: bool) -> None:
    detail = "20881234567890120156_20261102_业务明细.csv"
    archive = _zip(
        {
            "20881234567890120156_20261102_业务明细(汇总).csv": b"#summary only\n",
            detail: ALIPAY.encode("gbk"),
        },
        utf8_names=utf8_names,
    )
    (tmp_path / "bill.csv.zip").write_bytes(archive)
    bill = parse_alipay_bill(tmp_path / "bill.csv.zip")
    assert (["A1"], f"{tmp_path / 'bill.csv.zip'}/{detail}") == (
        [r.order_id for r in bill.records],
        bill.file,
    )


def test_zip_with_a_single_bill_file() -> None:
    bill = parse_wechat_bill(_zip({"All2026-11-02.csv": WX_SMALL.encode()}), name="wx.zip")
    assert ("wx.zip/All2026-11-02.csv", 1) == (bill.file, len(bill.records))


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ({}, "holds no bill"),
        ({"x_业务明细(汇总).csv": b"y"}, "holds no bill"),
        ({"readme.txt": b"a", "x_账务明细.csv": b"b"}, "holds no bill"),
        ({"a_业务明细.csv": b"a", "b_业务明细.csv": b"b"}, "several detail files"),
    ],
)
def test_zip_without_one_bill_says_so(members: dict[str, bytes], words: str) -> None:
    with pytest.raises(BillError) as err:
        parse_alipay_bill(_zip(members), name="bill.zip")
    assert ("tax.bill.no_header", True, "encod" not in str(err.value)) == (
        err.value.code,
        words in str(err.value) and all(n in str(err.value) for n in members),
        True,
    )


def test_damaged_archives_are_unreadable() -> None:
    broken_zip = _zip({"a_业务明细.csv": ALIPAY.encode("gbk")})[:40]
    broken_gzip = gzip.compress(WX_SMALL.encode())[:20]
    codes = []
    for parse, raw in ((parse_alipay_bill, broken_zip), (parse_wechat_bill, broken_gzip)):
        with pytest.raises(BillError) as err:
            parse(raw, name="bill")
        codes.append(err.value.code)
    assert ["tax.bill.unreadable", "tax.bill.unreadable"] == codes


def test_alipay_account_detail_bill_is_the_wrong_file_type() -> None:
    text = (
        "#支付宝账务明细查询\r\n#账号：[20881234567890120156]\r\n"
        "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,"
        "支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注\r\n"
    )
    with pytest.raises(BillError) as err:
        parse_alipay_bill(text.encode("gbk"), name="账务明细.csv")
    assert ("tax.bill.no_header", 3) == (err.value.code, err.value.line)


# 11. mixed currencies are a BillError (and still a CurrencyMismatchError)


def test_mixed_currencies_in_a_wechat_bill_are_a_bill_error() -> None:
    text = (
        "交易时间,商户订单号,交易状态,货币种类,应结订单金额,手续费\n"
        "`2026-11-02 10:00:00,`O1,`SUCCESS,`CNY,`1.00,`0\n"
        "`2026-11-02 10:00:00,`O2,`SUCCESS,`USD,`1.00,`0\n"
    )
    with pytest.raises(BillError) as err:
        parse_wechat_bill(text, name="mixed.csv", check_summary=False)
    assert (BillCurrencyError, True, "money.currency_mismatch", 3, "货币种类") == (
        type(err.value),
        isinstance(err.value, CurrencyMismatchError),
        err.value.code,
        err.value.line,
        err.value.field,
    )


def test_encrypted_zip_is_unreadable() -> None:
    raw = bytearray(_zip({"a_业务明细.csv": ALIPAY.encode("gbk")}))
    # mark the member encrypted (bit 0 of the flags), as in a password-protected download
    raw[6] |= 0x1  # local file header
    raw[raw.index(b"PK\x01\x02") + 8] |= 0x1  # central directory entry
    with pytest.raises(BillError) as err:
        parse_alipay_bill(bytes(raw), name="bill.zip")
    assert ("tax.bill.unreadable", "bill.zip") == (err.value.code, err.value.file)


def test_idless_refunds_on_both_sides_pair_by_amount() -> None:
    mapping = load_bill_mapping(
        {
            "platform": "mt",
            "columns": {"order_id": "单号", "amount": "金额", "occurred_at": "时间"},
        }
    )
    bill = parse_generic_bill(
        "单号,金额,时间\nM1,-5.00,2026-11-02 12:00:00\nM1,-7.00,2026-11-02 13:00:00\n",
        mapping=mapping,
    )
    entries = [
        ExpectedEntry(platform="mt", order_id="M1", kind=R, amount=money(a), day=DAY)
        for a in ("-7.00", "-5.00", "-1.00")
    ]
    report = reconcile(orders=entries, bills=[bill])
    assert [
        (MatchStatus.MISSING_FROM_BILL, -100, None),
        (MatchStatus.MATCHED, -500, -500),
        (MatchStatus.MATCHED, -700, -700),
    ] == sorted(
        ((i.status, i.order_minor, i.bill_minor) for i in report.items),
        key=lambda t: (t[2] is not None, -(t[1] or 0)),
    )
