# ruff: noqa: RUF001 - Chinese bill texts use full-width punctuation
"""Regression tests for the tax findings of the second review (archives, refunds, currency)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

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

ALIPAY = (
    "#支付宝业务明细查询\n"
    "商户订单号,业务类型,完成时间,订单金额（元）,商家实收（元）,服务费（元）,退款批次号/请求号\n"
    "A1\t,交易\t,2026-11-02 10:00:00\t,100.00\t,100.00\t,-0.60\t,\t\n"
    "#交易合计：1笔，商家实收共100.00元，服务费共-0.60元\n"
).encode("gbk")
DETAIL = "20881234567890120156_20261102_业务明细.csv"
SUMMARY = "20881234567890120156_20261102_业务明细(汇总).csv"
WX_SMALL = (
    "交易时间,商户订单号,交易状态,货币种类,应结订单金额,退款金额,手续费\n"
    "`2026-11-02 10:00:00,`O1,`SUCCESS,`CNY,`100.00,`0.00,`0.60000\n"
    "总交易单数,应结订单总金额,退款总金额,手续费总金额\n`1,`100.00,`0.00,`0.60000\n"
)


def _zip(members: dict[str, bytes], *, raw_names: str | None = None) -> bytes:
    """A zip of ``members``.

    ``raw_names=None`` writes names the standard way (UTF-8 flag set when not ASCII);
    ``"utf-8"`` or ``"gbk"`` writes the names' bytes in that encoding WITHOUT the UTF-8 flag,
    as macOS Archive Utility / Info-ZIP (UTF-8) or Windows tools in China (GBK) do.
    """
    buf = io.BytesIO()
    stand_ins: dict[bytes, bytes] = {}
    with zipfile.ZipFile(buf, "w") as z:
        for n, (name, data) in enumerate(members.items()):
            if raw_names is None:
                z.writestr(name, data)
                continue
            encoded = name.encode(raw_names)
            stand_in = f"{n:02d}".encode().ljust(len(encoded), b"_")
            stand_ins[stand_in] = encoded
            z.writestr(stand_in.decode(), data)  # ASCII: written without the flag
    raw = buf.getvalue()
    for stand_in, encoded in stand_ins.items():  # names are stored twice: local + central
        assert 2 == raw.count(stand_in)
        raw = raw.replace(stand_in, encoded)
    return raw


# 1. zip member names in UTF-8 without the UTF-8 flag


def test_utf8_member_names_without_the_flag_are_read_as_utf8() -> None:
    archive = _zip({SUMMARY: b"#x\n", DETAIL: ALIPAY}, raw_names="utf-8")
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert [0, 0] == [i.flag_bits & 0x800 for i in z.infolist()]
    bill = parse_alipay_bill(archive, name="b.zip")
    assert (f"b.zip/{DETAIL}", ["A1"]) == (bill.file, [r.order_id for r in bill.records])


@pytest.mark.parametrize("raw_names", ["utf-8", "gbk", None])
def test_member_names_are_listed_readably_whatever_wrote_the_zip(raw_names: str | None) -> None:
    archive = _zip({SUMMARY: b"#x\n", "说明.txt": b"x"}, raw_names=raw_names)
    with pytest.raises(BillError) as err:
        parse_alipay_bill(archive, name="b.zip")
    assert ("tax.bill.no_header", [SUMMARY, "说明.txt"]) == (
        err.value.code,
        err.value.details["members"],
    )


# 2. macOS re-zips (__MACOSX/, ._*) and other system entries are not bill files


def test_macos_rezipped_alipay_bill_ignores_the_resource_forks() -> None:
    archive = _zip(
        {
            SUMMARY: b"#x\n",
            DETAIL: ALIPAY,
            "__MACOSX/._" + DETAIL: b"\x00\x05\x16\x07AppleDouble",
            "__MACOSX/._" + SUMMARY: b"\x00\x05\x16\x07AppleDouble",
        }
    )
    bill = parse_alipay_bill(archive, name="b.zip")
    assert (f"b.zip/{DETAIL}", ["A1"]) == (bill.file, [r.order_id for r in bill.records])


@pytest.mark.parametrize(
    "clutter",
    [
        "__MACOSX/._All.csv",
        "._All.csv",
        ".DS_Store",
        "bills/.DS_Store",
        "Thumbs.db",
        "bills/desktop.ini",
        ".hidden/notes.txt",
    ],
)
def test_single_bill_zip_with_system_entries_gives_the_bill(clutter: str) -> None:
    bill = parse_wechat_bill(_zip({"All.csv": WX_SMALL.encode(), clutter: b"\x00"}), name="w.zip")
    assert ("w.zip/All.csv", 1) == (bill.file, len(bill.records))


def test_zip_of_only_system_entries_holds_no_bill() -> None:
    archive = _zip({"__MACOSX/._" + DETAIL: b"\x00", ".DS_Store": b"\x00"})
    with pytest.raises(BillError) as err:
        parse_alipay_bill(archive, name="b.zip")
    assert ("tax.bill.no_header", []) == (err.value.code, err.value.details["members"])


def test_dot_slash_member_paths_are_not_hidden() -> None:
    bill = parse_alipay_bill(_zip({"./" + DETAIL: ALIPAY, SUMMARY: b"#x\n"}), name="b.zip")
    assert ["A1"] == [r.order_id for r in bill.records]


# 3. a payment record naming another refund id than the bill refund is not a match

REFUND_BILL = (
    "交易时间,商户订单号,交易状态,货币种类,应结订单金额,商户退款单号,退款金额,手续费\n"
    "`2026-11-02 09:00:00,`O1,`SUCCESS,`CNY,`100.00,`,`0.00,`0.60000\n"
    "`2026-11-02 10:00:00,`O1,`REFUND,`CNY,`0.00,`R1,`30.00,`-0.18000\n"
    "总交易单数,应结订单总金额,退款总金额,手续费总金额\n`2,`100.00,`30.00,`0.42000\n"
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


def _pay(kind: RecordKind, amount: str, refund_id: str = "") -> PaymentEntry:
    return PaymentEntry(
        platform="wechat", order_id="O1", kind=kind, amount=money(amount), refund_id=refund_id
    )


def _three_way(
    orders: list[ExpectedEntry], pays: list[PaymentEntry], bill: str = REFUND_BILL
) -> list[tuple[object, ...]]:
    report = reconcile(orders=orders, bills=[parse_wechat_bill(bill)], payments=pays)
    return [
        (i.status, i.kind, i.refund_id, i.order_minor, i.payment_minor, i.bill_minor)
        for i in report.items
    ]


def test_payment_record_naming_another_refund_id_is_not_matched_to_the_bill_refund() -> None:
    outcome = _three_way(
        [_entry(P, "100.00"), _entry(R, "-30.00")],
        [_pay(P, "100.00"), _pay(R, "-30.00", "RX")],
    )
    assert [
        (MatchStatus.MATCHED, P, "", 10000, 10000, 10000),
        (MatchStatus.MISSING_PAYMENT, R, "R1", -3000, None, -3000),
        (MatchStatus.MISSING_FROM_ORDERS, R, "RX", None, -3000, None),
    ] == outcome


def test_payment_record_naming_an_id_still_pairs_with_a_refund_without_any_id() -> None:
    outcome = _three_way(
        [_entry(P, "100.00"), _entry(R, "-30.00"), _entry(R, "-5.00")],
        [_pay(P, "100.00"), _pay(R, "-30.00", "R1"), _pay(R, "-5.00", "RX")],
    )
    assert [
        (MatchStatus.MATCHED, P, "", 10000, 10000, 10000),
        (MatchStatus.MATCHED, R, "R1", -3000, -3000, -3000),
        (MatchStatus.MISSING_FROM_BILL, R, "RX", -500, -500, None),
    ] == outcome


def test_named_refund_absent_from_the_bill_does_not_take_a_record_of_another_id() -> None:
    outcome = _three_way(
        [_entry(P, "100.00"), _entry(R, "-30.00", "R1"), _entry(R, "-5.00", "R9")],
        [_pay(P, "100.00"), _pay(R, "-30.00", "R1"), _pay(R, "-5.00", "RX")],
    )
    assert [
        (MatchStatus.MATCHED, P, "", 10000, 10000, 10000),
        (MatchStatus.MATCHED, R, "R1", -3000, -3000, -3000),
        (MatchStatus.MISSING_FROM_BILL, R, "R9", -500, None, None),
        (MatchStatus.MISSING_FROM_ORDERS, R, "RX", None, -500, None),
    ] == outcome


# 4. an unknown currency in a generic statement is a bill error naming the cell


@pytest.mark.parametrize("value", ["RMB", "元"])
def test_generic_unknown_currency_is_a_bill_error_naming_file_line_field(value: str) -> None:
    mapping = load_bill_mapping(
        {
            "platform": "jd",
            "columns": {
                "order_id": "订单号",
                "amount": "金额",
                "occurred_at": "时间",
                "currency": "币种",
            },
        }
    )
    with pytest.raises(BillError) as err:
        parse_generic_bill(
            f"订单号,金额,时间,币种\nJ1,50.00,2026-11-02 10:00:00,{value}\n",
            mapping=mapping,
            name="jd.csv",
        )
    assert ("tax.bill.invalid_value", "jd.csv", 2, "币种", True) == (
        err.value.code,
        err.value.file,
        err.value.line,
        err.value.field,
        repr(value) in str(err.value),
    )


def test_generic_blank_or_lower_case_currency_cells_are_the_mapping_currency() -> None:
    mapping = load_bill_mapping(
        {
            "platform": "jd",
            "columns": {
                "order_id": "订单号",
                "amount": "金额",
                "occurred_at": "时间",
                "currency": "币种",
            },
        }
    )
    bill = parse_generic_bill(
        "订单号,金额,时间,币种\nJ1,50.00,2026-11-02 10:00:00,\nJ2,5.00,2026-11-02 11:00:00,cny\n",
        mapping=mapping,
    )
    assert [("J1", "CNY"), ("J2", "CNY")] == [(r.order_id, r.currency.value) for r in bill.records]


# 5. an id-less payment record pairs with a refund entry that has an id


def test_idless_payment_record_pairs_with_a_refund_entry_that_has_an_id() -> None:
    outcome = _three_way(
        [_entry(P, "100.00"), _entry(R, "-30.00", "R1")],
        [_pay(P, "100.00"), _pay(R, "-30.00")],
    )
    assert [
        (MatchStatus.MATCHED, P, "", 10000, 10000, 10000),
        (MatchStatus.MATCHED, R, "R1", -3000, -3000, -3000),
    ] == outcome


def test_idless_payment_record_does_not_take_a_refund_a_record_names() -> None:
    outcome = _three_way(
        [_entry(P, "100.00"), _entry(R, "-30.00", "R1")],
        [_pay(P, "100.00"), _pay(R, "-30.00", "R1"), _pay(R, "-30.00")],
    )
    assert [
        (MatchStatus.MATCHED, P, "", 10000, 10000, 10000),
        (MatchStatus.MISSING_FROM_ORDERS, R, "", None, -3000, None),
        (MatchStatus.MATCHED, R, "R1", -3000, -3000, -3000),
    ] == outcome


def test_idless_payment_records_pair_with_named_refunds_by_amount_then_day() -> None:
    bill = (
        "交易时间,商户订单号,交易状态,货币种类,应结订单金额,商户退款单号,退款金额,手续费\n"
        "`2026-11-02 09:00:00,`O1,`SUCCESS,`CNY,`100.00,`,`0.00,`0.60000\n"
        "`2026-11-02 10:00:00,`O1,`REFUND,`CNY,`0.00,`R1,`30.00,`-0.18000\n"
        "`2026-11-02 11:00:00,`O1,`REFUND,`CNY,`0.00,`R2,`20.00,`-0.12000\n"
        "`2026-11-02 12:00:00,`O1,`REFUND,`CNY,`0.00,`,`10.00,`-0.06000\n"
        "总交易单数,应结订单总金额,退款总金额,手续费总金额\n`4,`100.00,`60.00,`0.24000\n"
    )
    outcome = _three_way(
        [
            _entry(P, "100.00"),
            _entry(R, "-30.00", "R1"),
            _entry(R, "-20.00", "R2"),
            _entry(R, "-10.00"),
        ],
        [_pay(P, "100.00"), _pay(R, "-10.00"), _pay(R, "-20.00"), _pay(R, "-30.00")],
        bill,
    )
    assert [
        (MatchStatus.MATCHED, P, "", 10000, 10000, 10000),
        (MatchStatus.MATCHED, R, "", -1000, -1000, -1000),
        (MatchStatus.MATCHED, R, "R1", -3000, -3000, -3000),
        (MatchStatus.MATCHED, R, "R2", -2000, -2000, -2000),
    ] == outcome


def test_two_way_reconciliation_is_unchanged_for_named_refunds() -> None:
    report = reconcile(
        orders=[_entry(P, "100.00"), _entry(R, "-30.00", "R1")],
        bills=[parse_wechat_bill(REFUND_BILL)],
    )
    assert [(MatchStatus.MATCHED, "R1", None)] == [
        (i.status, i.refund_id, i.payment_minor) for i in report.items if i.kind is R
    ]
