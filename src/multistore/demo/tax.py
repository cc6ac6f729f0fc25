"""Demo section ``tax``: invoice lines, a VAT summary and a reconciliation with one mismatch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from multistore.money import from_minor, money
from multistore.tax import (
    Adjustment,
    AdjustmentKind,
    OrderLine,
    TaxOrder,
    build_invoices,
    default_rate_table,
    expected_from_orders,
    parse_wechat_bill,
    reconcile,
    tax_order,
    vat_declaration,
)

__all__ = ["run"]

_DAY = date(2026, 11, 2)


def _orders() -> list[TaxOrder]:
    def line(lid: str, qty: int, amount: str, cat: str, name: str) -> OrderLine:
        return OrderLine(
            line_id=lid, quantity=qty, amount=money(amount), tax_category=cat, name=name
        )

    return [
        TaxOrder(
            order_id="D1001",
            store_id="S001",
            platform="wechat",
            tax_date=_DAY,
            lines=[
                line("1", 2, "25.80", "reduced", "鲜牛奶 1L"),
                line("2", 1, "199.00", "general", "电饭煲"),
            ],
            adjustments=[
                Adjustment(
                    adjustment_id="满200减20",
                    kind=AdjustmentKind.FULL_REDUCTION,
                    amount=money("20.00"),
                ),
                Adjustment(
                    adjustment_id="运费", kind=AdjustmentKind.SHIPPING_FEE, amount=money("6.00")
                ),
            ],
        ),
        TaxOrder(
            order_id="D1002",
            store_id="S001",
            platform="wechat",
            tax_date=_DAY,
            lines=[line("1", 3, "17.70", "reduced", "苹果 500g")],
        ),
        TaxOrder(
            order_id="D1003",
            store_id="S002",
            platform="wechat",
            tax_date=_DAY,
            lines=[
                line("1", 1, "88.00", "general", "保温杯"),
                line("2", 1, "30.00", "services", "刻字服务"),
            ],
            adjustments=[
                Adjustment(
                    adjustment_id="平台券",
                    kind=AdjustmentKind.PLATFORM_COUPON,
                    amount=money("10.00"),
                )
            ],
        ),
    ]


def _bill(paid: dict[str, int]) -> str:
    header = (
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
        "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
        "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
    )
    rows = []
    total = fee_total = 0
    for n, (order_id, expected) in enumerate(paid.items()):
        # the planted mismatch: the bill settled 1.00 less for D1003
        amount = expected - 100 if order_id == "D1003" else expected
        fee = (amount * 6 + 500) // 1000
        total += amount
        fee_total += fee
        yuan = f"{from_minor(amount, 'CNY').amount}"
        values = [
            f"2026-11-02 1{n}:00:00",
            "wxdemo",
            "1900000109",
            "0",
            "S001",
            f"42000{n}",
            order_id,
            "oUser",
            "JSAPI",
            "SUCCESS",
            "OTHERS",
            "CNY",
            yuan,
            "0.00",
            "0",
            "0",
            "0.00",
            "0.00",
            "",
            "",
            "demo",
            "",
            f"{from_minor(fee, 'CNY').amount}000",
            "0.60%",
            yuan,
            "0.00",
            "",
        ]
        rows.append(",".join("`" + v for v in values))
    summary = ",".join(
        "`" + v
        for v in [
            str(len(paid)),
            f"{from_minor(total, 'CNY').amount}",
            "0.00",
            "0.00",
            f"{from_minor(fee_total, 'CNY').amount}000",
            f"{from_minor(total, 'CNY').amount}",
            "0.00",
        ]
    )
    return (
        "\ufeff"
        + "\n".join(
            [
                header,
                *rows,
                "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
                summary,
            ]
        )
        + "\n"
    )


def run(out: Callable[[str], None]) -> None:
    """Tax demo: invoice lines and a VAT summary, then reconcile against a WeChat Pay bill."""
    rates = default_rate_table()
    taxed = [tax_order(order=o, rates=rates) for o in _orders()]
    for t in taxed:
        (invoice,) = build_invoices(orders=t)
        out(
            f"invoice {invoice.reference}: total {invoice.total.amount} "
            f"(amount {invoice.amount.amount} + tax {invoice.tax.amount})"
        )
        for line in invoice.lines:
            out(
                f"  [{int(line.nature)}] {line.item_name:<8} {line.rate.label:>4} "
                f"amount {line.amount.amount:>8} tax {line.tax.amount:>6}"
            )
    report = vat_declaration(orders=taxed)
    out("VAT summary (period, store, rate: net / tax):")
    for row in report.as_dicts():
        out(
            f"  {row['period']} {row['store_id']} {row['rate']:>4}: "
            f"{from_minor(int(row['net'] or 0), 'CNY').amount} / "
            f"{from_minor(int(row['tax'] or 0), 'CNY').amount}"
        )
    totals = report.totals
    out(f"  total tax {from_minor(int(totals[5] or 0), 'CNY').amount} = sum of the line taxes")
    paid = {t.order.order_id: t.settled_minor for t in taxed}
    bill = parse_wechat_bill(_bill(paid).encode("utf-8"), name="wechat_demo_20261102.csv")
    expected = expected_from_orders(orders=taxed)
    result = reconcile(orders=expected, bills=[bill])
    out("reconciliation with the WeChat Pay bill:")
    for item in result.items:
        out(
            f"  {item.order_id} {item.status.value}"
            + (f": {' '.join(item.explanation)}" if item.explanation else "")
        )
    for day in result.days:
        out(
            f"  {day.platform} {day.day}: orders {day.order_total.amount}, bill "
            f"{day.bill_total.amount}, difference {day.difference.amount}"
        )
