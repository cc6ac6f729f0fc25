from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import openpyxl

from multistore.tax import (
    RateTable,
    Report,
    income_tax_basis,
    platform_income_report,
    refund,
    revenue_breakdown,
    tax_order,
    to_csv,
    to_excel,
    vat_declaration,
)

from .conftest import make_order


def _reports(rates: RateTable) -> list[Report]:
    a = tax_order(order=make_order("O1", "S1", "wechat"), rates=rates)
    b = tax_order(order=make_order("O2", "S2", "alipay"), rates=rates)
    r = refund(order=a, returns={"milk": 1}, refund_id="R1", tax_date=date(2026, 12, 1))
    return [
        vat_declaration(orders=[a, b], refunds=[r]),
        revenue_breakdown(orders=[a, b], refunds=[r]),
        platform_income_report(orders=[a, b], refunds=[r]),
        income_tax_basis(orders=[a, b], refunds=[r], group_by="order"),
    ]


def test_totals_equal_sum_of_rows(rates: RateTable) -> None:
    for report in _reports(rates):
        totals = report.totals
        for i, col in enumerate(report.columns):
            if col.kind.value != "text":
                assert sum(int(r[i] or 0) for r in report.rows) == totals[i]


def test_vat_declaration_matches_orders(rates: RateTable) -> None:
    a = tax_order(order=make_order(), rates=rates)
    report = vat_declaration(orders=[a])
    assert a.vat.tax_minor == report.totals[5]
    assert {"9%", "13%"} == set(report.column("rate"))


def test_platform_income_fields(rates: RateTable) -> None:
    a = tax_order(order=make_order(), rates=rates)
    r = refund(order=a, returns={"pot": 1}, refund_id="R1", tax_date=date(2026, 11, 5))
    report = platform_income_report(orders=[a], refunds=[r])
    (row,) = report.as_dicts()
    assert "2026Q4" == row["period"]
    assert row["gross_income"] == a.allocation.taxable_minor
    assert row["net_sales"] == a.allocation.taxable_minor + r.lines[0].taxable_minor
    assert row["commissions_and_fees"] == 1235 + r.lines[0].platform_fees_minor


def test_income_tax_basis_unknown_cost(rates: RateTable) -> None:
    a = tax_order(order=make_order(), rates=rates)
    report = income_tax_basis(orders=[a], group_by="store")
    (row,) = report.as_dicts()
    assert row["cost"] is None
    assert "no" == row["cost_known"]
    assert a.vat.net_minor == row["revenue"]


def test_csv_export(rates: RateTable, tmp_path: Path) -> None:
    report = _reports(rates)[0]
    buf = io.StringIO()
    to_csv(report=report, target=buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert len(report.rows) + 2 == len(rows)
    assert "合计" == rows[-1][0]
    path = tmp_path / "vat.csv"
    to_csv(report=report, target=path, use_keys=True)
    assert path.read_text("utf-8-sig").startswith("period,")


def test_excel_export(rates: RateTable, tmp_path: Path) -> None:
    reports = _reports(rates)
    path = tmp_path / "tax.xlsx"
    to_excel(reports=reports, target=path)
    wb = openpyxl.load_workbook(path)
    assert [r.name for r in reports] + ["columns"] == wb.sheetnames
    ws = wb["vat_declaration"]
    assert ws.max_row == len(reports[0].rows) + 2
