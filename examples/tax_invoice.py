"""Allocate an order's discounts, compute VAT, issue e-invoice lines, refund, and export.

Run: python examples/tax_invoice.py
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from multistore.money import money
from multistore.tax import (
    Adjustment,
    AdjustmentKind,
    OrderLine,
    TaxOrder,
    build_invoices,
    build_red_invoices,
    default_rate_table,
    refund,
    tax_order,
    to_csv,
    to_excel,
    vat_declaration,
)


def main() -> None:
    order = TaxOrder(
        order_id="O-20261102-001",
        store_id="S001",
        platform="wechat",
        tax_date=date(2026, 11, 2),
        lines=[
            OrderLine(
                line_id="1",
                quantity=3,
                amount=money("59.70"),
                tax_category="reduced",
                name="鲜牛奶",
            ),
            OrderLine(
                line_id="2",
                quantity=1,
                amount=money("199.00"),
                tax_category="general",
                name="电饭煲",
            ),
        ],
        adjustments=[
            Adjustment(
                adjustment_id="满250减25", kind=AdjustmentKind.FULL_REDUCTION, amount=money("25.00")
            ),
            Adjustment(
                adjustment_id="平台券", kind=AdjustmentKind.PLATFORM_COUPON, amount=money("5.00")
            ),
            Adjustment(adjustment_id="佣金", kind=AdjustmentKind.COMMISSION, amount=money("12.94")),
        ],
    )
    taxed = tax_order(order=order, rates=default_rate_table())
    for sentence in taxed.explanation:
        print(sentence)
    (invoice,) = build_invoices(orders=taxed)
    for line in invoice.lines:
        print(
            int(line.nature), line.item_name, line.rate.label, line.amount.amount, line.tax.amount
        )
    print("invoice total", invoice.total.amount, "tax", invoice.tax.amount)

    back = refund(order=taxed, returns={"1": 1}, refund_id="R1", tax_date=date(2026, 11, 5))
    (red,) = build_red_invoices(refund=back, original_reference=invoice.reference)
    print("red-letter", red.total.amount, "refunded to customer", back.paid.amount)

    report = vat_declaration(orders=[taxed], refunds=[back])
    with tempfile.TemporaryDirectory() as tmp:
        to_csv(report=report, target=Path(tmp) / "vat.csv")
        to_excel(reports=[report], target=Path(tmp) / "vat.xlsx")
        print((Path(tmp) / "vat.csv").read_text("utf-8-sig"))


if __name__ == "__main__":
    main()
