"""CSV and Excel exports of :class:`~multistore.tax.reports.Report` tables.

Money cells are written as exact decimal strings in major units (``1234.50``) in CSV and as
numbers with two decimals in Excel; the last row is the totals row (``合计``), which equals the
sum of the rows above it exactly. The caller gives the path or the open file object.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from multistore import money as msmoney
from multistore.errors import ValidationError
from multistore.tax.reports import Cell, ColumnKind, Report

__all__ = ["to_csv", "to_excel"]


def _cell(report: Report, kind: ColumnKind, value: Cell) -> str | int | Decimal | None:
    if value is None:
        return None
    if kind is ColumnKind.MONEY:
        scale = msmoney.minor_per_major(report.currency)
        places = len(str(scale)) - 1
        return Decimal(int(value)).scaleb(-places)
    return value


def _matrix(report: Report, *, with_totals: bool) -> list[list[str | int | Decimal | None]]:
    kinds = [c.kind for c in report.columns]
    rows = list(report.rows) + ([report.totals] if with_totals else [])
    return [[_cell(report, k, v) for k, v in zip(kinds, r, strict=True)] for r in rows]


def to_csv(
    *,
    report: Report,
    target: str | os.PathLike[str] | IO[str],
    with_totals: bool = True,
    use_keys: bool = False,
) -> None:
    """Write ``report`` as CSV (UTF-8 with BOM when writing to a path, for Excel users).

    Args:
        report: The report.
        target: A path, or a text file object opened with ``newline=""``.
        with_totals: Append the totals row.
        use_keys: Use column keys instead of headers as the first row.
    """
    header = [c.key if use_keys else c.header for c in report.columns]
    body = _matrix(report, with_totals=with_totals)

    def write(f: IO[str]) -> None:
        w = csv.writer(f)
        w.writerow(header)
        for row in body:
            w.writerow(["" if v is None else str(v) for v in row])

    if isinstance(target, str | os.PathLike):
        with Path(target).open("w", encoding="utf-8-sig", newline="") as f:
            write(f)
    else:
        write(target)


def to_excel(
    *,
    reports: Report | Sequence[Report],
    target: str | os.PathLike[str] | IO[bytes],
    with_totals: bool = True,
) -> None:
    """Write one sheet per report to an ``.xlsx`` workbook (needs ``openpyxl``).

    Each sheet has the headers, the rows, the totals row in bold, and a second sheet
    ``columns`` documenting every column.

    Args:
        reports: One report or several (sheet names are the report names).
        target: A path or a binary file object.
        with_totals: Append the totals row.

    Raises:
        ValidationError: ``tax.export_dependency`` when openpyxl is not installed.
    """
    try:
        from openpyxl import Workbook  # noqa: PLC0415 - optional dependency
        from openpyxl.styles import Font  # noqa: PLC0415
    except ImportError:  # pragma: no cover - openpyxl is a dev dependency
        raise ValidationError(
            "Excel export needs openpyxl; pip install 'multistore[excel]'",
            code="tax.export_dependency",
        ) from None
    batch = [reports] if isinstance(reports, Report) else list(reports)
    wb: Any = Workbook()
    wb.remove(wb.active)
    doc = wb.create_sheet("columns")
    doc.append(["report", "column", "header", "kind", "description"])
    for report in batch:
        ws = wb.create_sheet(report.name[:31])
        ws.append([c.header for c in report.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in _matrix(report, with_totals=with_totals):
            ws.append(row)
        for j, col in enumerate(report.columns, 1):
            if col.kind is ColumnKind.MONEY:
                for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = "#,##0.00"
            doc.append([report.name, col.key, col.header, col.kind.value, col.description])
        if with_totals:
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
    wb.move_sheet("columns", offset=len(batch))
    wb.save(target)
