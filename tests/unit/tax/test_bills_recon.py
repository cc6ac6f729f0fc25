from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from multistore.errors import CurrencyMismatchError, ValidationError
from multistore.money import money
from multistore.tax import (
    BillError,
    ExpectedEntry,
    MatchStatus,
    PaymentEntry,
    RecordKind,
    load_bill_mapping,
    parse_alipay_bill,
    parse_generic_bill,
    parse_wechat_bill,
    reconcile,
)

P, R = RecordKind.PAYMENT, RecordKind.REFUND
DAY = date(2026, 11, 2)


def test_wechat_all_bill(fixtures: Path) -> None:
    bill = parse_wechat_bill(fixtures / "wechat_all_20261102.csv")
    assert [
        ("O1001", 12850, 77),
        ("O1002", 5600, 34),
        ("O1003", 199900, 1199),
        ("O1001", -3000, -18),
    ] == [(r.order_id, r.amount_minor, r.fee_minor) for r in bill.records]
    assert "R1001-1" == bill.records[3].refund_id
    assert "S001" == bill.records[0].store_id
    assert 1 == len(bill.skipped)
    assert bill.summary is not None


def test_wechat_variants(fixtures: Path) -> None:
    success = parse_wechat_bill((fixtures / "wechat_success_20261102.csv").read_bytes())
    assert 3 == len(success.records)
    refund = parse_wechat_bill((fixtures / "wechat_refund_20261102.csv").read_text("utf-8"))
    assert [(R, -3000)] == [(r.kind, r.amount_minor) for r in refund.records]
    assert 45 == refund.records[0].occurred_at.minute


def test_wechat_totals_mismatch_names_file_line_field(fixtures: Path) -> None:
    with pytest.raises(BillError) as err:
        parse_wechat_bill(fixtures / "wechat_bad_totals.csv")
    assert "tax.bill.totals_mismatch" == err.value.code
    assert err.value.file.endswith("wechat_bad_totals.csv")
    assert 8 == err.value.line
    assert "应结订单总金额" == err.value.field


def test_wechat_missing_column_and_encoding() -> None:
    with pytest.raises(BillError) as err:
        parse_wechat_bill(
            "交易时间,商户订单号,交易状态\n`2026-11-02 10:00:00,`O1,`SUCCESS\n", name="x.csv"
        )
    assert "tax.bill.missing_column" == err.value.code
    assert 1 == err.value.line
    with pytest.raises(BillError) as err2:
        parse_wechat_bill("交易时间,商户订单号".encode("gbk"), name="gbk.csv")
    assert "tax.bill.encoding" == err2.value.code


def test_wechat_currency_mismatch() -> None:
    text = (
        "交易时间,商户订单号,交易状态,货币种类,应结订单金额,手续费\n"
        "`2026-11-02 10:00:00,`O1,`SUCCESS,`CNY,`1.00,`0\n"
        "`2026-11-02 10:00:00,`O2,`SUCCESS,`USD,`1.00,`0\n"
    )
    with pytest.raises(CurrencyMismatchError):
        parse_wechat_bill(text, check_summary=False)


def test_alipay_bill(fixtures: Path) -> None:
    bill = parse_alipay_bill(fixtures / "alipay_business_20261102.csv")
    assert [
        ("O2001", 8800, 53),
        ("O2002", 25800, 155),
        ("O2003", 1550, 9),
        ("O2002", -12400, -74),
    ] == [(r.order_id, r.amount_minor, r.fee_minor) for r in bill.records]
    assert "RF2002-1" == bill.records[3].refund_id
    assert "20881234567890120156" == bill.meta["账号"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("alipay_bad_totals.csv", "tax.bill.totals_mismatch"),
        ("alipay_missing_column.csv", "tax.bill.missing_column"),
        ("alipay_utf16.csv", "tax.bill.encoding"),
    ],
)
def test_alipay_bad_files(fixtures: Path, name: str, code: str) -> None:
    with pytest.raises(BillError) as err:
        parse_alipay_bill(fixtures / name)
    assert code == err.value.code
    assert name in str(err.value)


def test_generic_mapping(fixtures: Path) -> None:
    mapping = load_bill_mapping(
        "platform: meituan\n"
        "columns: {order_id: 订单号, amount: 结算金额, fee: 佣金, occurred_at: 账单日期,"
        " kind: 类型, store_id: 门店}\n"
        "refund_values: [退款]\n"
        "total_row_marker: 合计\n"
    )
    bill = parse_generic_bill(fixtures / "meituan_settlement_20261102.csv", mapping=mapping)
    assert [(P, 6000, 540), (R, -1800, -162)] == [
        (r.kind, r.amount_minor, r.fee_minor) for r in bill.records
    ]
    with pytest.raises(ValidationError) as err:
        load_bill_mapping({"platform": "", "columns": {"order_id": "x", "bogus": "y"}})
    assert len(err.value.details["errors"]) >= 2


def _expected() -> list[ExpectedEntry]:
    return [
        ExpectedEntry(
            platform="wechat",
            order_id="O1001",
            kind=P,
            amount=money("128.50"),
            day=DAY,
            fee=money("0.77"),
        ),
        ExpectedEntry(
            platform="wechat",
            order_id="O1002",
            kind=P,
            amount=money("56.00"),
            day=DAY,
            fee=money("0.30"),
        ),
        ExpectedEntry(
            platform="wechat", order_id="O1003", kind=P, amount=money("1990.00"), day=DAY
        ),
        ExpectedEntry(
            platform="wechat",
            order_id="O1001",
            kind=R,
            amount=money("-30.00"),
            day=DAY,
            refund_id="R1001-1",
        ),
        ExpectedEntry(platform="wechat", order_id="O1004", kind=P, amount=money("10.00"), day=DAY),
    ]


def test_reconcile_statuses(fixtures: Path) -> None:
    bill = parse_wechat_bill(fixtures / "wechat_all_20261102.csv")
    extra = parse_wechat_bill(fixtures / "wechat_success_20261102.csv")
    report = reconcile(orders=_expected(), bills=[bill])
    status = {(i.order_id, i.kind): i.status for i in report.items}
    assert MatchStatus.MATCHED == status[("O1001", P)]
    assert MatchStatus.FEE_MISMATCH == status[("O1002", P)]
    assert MatchStatus.AMOUNT_MISMATCH == status[("O1003", P)]
    assert MatchStatus.MATCHED == status[("O1001", R)]
    assert MatchStatus.MISSING_FROM_BILL == status[("O1004", P)]
    (day,) = report.days
    assert sum(i.bill_minor or 0 for i in report.items) == day.bill_minor
    dup = reconcile(orders=_expected()[:1], bills=[bill, extra])
    assert MatchStatus.DUPLICATED == dup.items[0].status
    missing = reconcile(orders=[], bills=[extra])
    assert {MatchStatus.MISSING_FROM_ORDERS} == {i.status for i in missing.items}


def test_three_way_with_payments(fixtures: Path) -> None:
    bill = parse_wechat_bill(fixtures / "wechat_all_20261102.csv")
    orders = _expected()[:1]
    pays = [PaymentEntry(platform="wechat", order_id="O1001", kind=P, amount=money("128.00"))]
    report = reconcile(orders=orders, bills=[bill], payments=pays)
    first = next(i for i in report.items if i.order_id == "O1001" and i.kind is P)
    assert MatchStatus.AMOUNT_MISMATCH == first.status
    assert 12800 == first.payment_minor
    report2 = reconcile(orders=orders, bills=[bill], payments=[])
    first2 = next(i for i in report2.items if i.order_id == "O1001" and i.kind is P)
    assert MatchStatus.MISSING_PAYMENT == first2.status


def test_reconcile_currency_mismatch(fixtures: Path) -> None:
    bill = parse_wechat_bill(fixtures / "wechat_all_20261102.csv")
    with pytest.raises(CurrencyMismatchError):
        reconcile(
            orders=[
                ExpectedEntry(
                    platform="wechat", order_id="X", kind=P, amount=money("1", "USD"), day=DAY
                )
            ],
            bills=[bill],
        )


def test_wechat_legacy_layout_and_reordered_columns() -> None:
    text = (
        "商户订单号,交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号,用户标识,交易类型,交易状态,"
        "付款银行,货币种类,总金额,企业红包金额,微信退款单号,商户退款单号,退款金额,企业红包退款金额,"
        "退款类型,退款状态,商品名称,商户数据包,手续费,费率\r\n"
        "`L1,`2016-05-01 10:00:00,`wx1,`100,`0,`,`4001,`o1,`JSAPI,`SUCCESS,`CFT,`CNY,`0.01,`0.00,"
        "`0,`0,`0,`0,`,`,`test,`,`0.00000,`0.60%\r\n"
        "总交易单数,总交易额,总退款金额,总企业红包退款金额,手续费总金额\r\n"
        "`1,`0.01,`0.00,`0.00,`0.00000\r\n"
    )
    bill = parse_wechat_bill(text)
    assert [("L1", 1)] == [(r.order_id, r.amount_minor) for r in bill.records]


def test_wechat_missing_summary_is_an_error() -> None:
    text = (
        "交易时间,商户订单号,交易状态,应结订单金额,手续费\n"
        "`2026-11-02 10:00:00,`O1,`SUCCESS,`1.00,`0\n"
    )
    with pytest.raises(BillError) as err:
        parse_wechat_bill(text, name="cut.csv")
    assert "tax.bill.totals_mismatch" == err.value.code
    assert 1 == len(parse_wechat_bill(text, check_summary=False).records)


def test_wechat_bad_amount_names_line_and_field() -> None:
    text = (
        "交易时间,商户订单号,交易状态,应结订单金额,手续费\n"
        "`2026-11-02 10:00:00,`O1,`SUCCESS,`abc,`0\n"
    )
    with pytest.raises(BillError) as err:
        parse_wechat_bill(text, name="bad.csv", check_summary=False)
    assert ("tax.bill.invalid_value", 2, "应结订单金额") == (
        err.value.code,
        err.value.line,
        err.value.field,
    )
