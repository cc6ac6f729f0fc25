"""Typed errors of :mod:`multistore.tax`.

Every error subclasses a family of :mod:`multistore.errors`, carries a stable dotted ``code`` and a
message that says what to fix. Bill errors also name the file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multistore.errors import CurrencyMismatchError, ValidationError

__all__ = [
    "AllocationError",
    "BillCurrencyError",
    "BillError",
    "InvoiceError",
    "RateTableError",
    "RefundError",
    "UnknownTaxCategoryError",
]


class UnknownTaxCategoryError(ValidationError):
    """A line names a tax category that the rate table does not define (``tax.unknown_category``).

    Add the category to the rate table or fix the line's ``tax_category``.
    """

    default_code = "tax.unknown_category"


class RateTableError(ValidationError):
    """The rate table is invalid: gaps, overlaps or bad fields (``tax.rate_table``).

    ``details["errors"]`` lists every problem as ``{"field": ..., "problem": ...}``. A date that no
    entry covers raises this with code ``tax.no_rate``.
    """

    default_code = "tax.rate_table"


class AllocationError(ValidationError):
    """Order-level amounts cannot be allocated to the lines (``tax.allocation``)."""

    default_code = "tax.allocation"


class RefundError(ValidationError):
    """A return asks for more units than remain, or names an unknown line (``tax.refund``)."""

    default_code = "tax.refund"


class InvoiceError(ValidationError):
    """Invoice lines cannot be produced within the invoicing rules (``tax.invoice``)."""

    default_code = "tax.invoice"


class BillError(ValidationError):
    """A payment bill cannot be read: missing column, wrong encoding, bad value, wrong totals.

    Codes: ``tax.bill.missing_column``, ``tax.bill.encoding``, ``tax.bill.invalid_value``,
    ``tax.bill.totals_mismatch``, ``tax.bill.no_header``, ``tax.bill.unreadable``, and
    ``money.currency_mismatch`` (:class:`BillCurrencyError`). ``details`` holds ``file``,
    ``line`` (1-based, ``None`` when not tied to a line) and ``field``.

    Args:
        message: What is wrong and what to fix.
        code: The dotted error code.
        file: The bill's name (path or the name given by the caller).
        line: 1-based line number in the file.
        field: The column or summary field concerned.
        details: Extra context merged into ``details``.
    """

    default_code = "tax.bill.invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        file: str = "<bill>",
        line: int | None = None,
        field: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        where = file if line is None else f"{file}, line {line}"
        if field is not None:
            where += f", field {field!r}"
        merged = {"file": file, "line": line, "field": field, **dict(details or {})}
        super().__init__(f"{where}: {message}", code=code, details=merged)
        self.file = file
        self.line = line
        self.field = field


class BillCurrencyError(BillError, CurrencyMismatchError):
    """A bill row's currency differs from the bill's (``money.currency_mismatch``).

    Both a :class:`BillError` (it names the file, the line and the field) and a
    :class:`~multistore.errors.CurrencyMismatchError`. Split the bill by currency.
    """

    default_code = "money.currency_mismatch"
