"""Tax: cost allocation to lines, VAT per line, e-invoice lines, bill reconciliation, reports.

The pure engine of 对账-计税-申报: it turns priced, paid and refunded orders into figures
finance can book and file, exact to the fen on every line, invoice and report.

Examples:
    >>> from datetime import date
    >>> from multistore.money import money
    >>> order = TaxOrder(
    ...     order_id="O1", store_id="S1", platform="wechat", tax_date=date(2026, 11, 2),
    ...     lines=[OrderLine(line_id="L1", quantity=2, amount=money("113.00"),
    ...                      tax_category="general")],
    ... )
    >>> taxed = tax_order(order=order, rates=default_rate_table())
    >>> str(taxed.vat.net.amount), str(taxed.vat.tax.amount)
    ('100.00', '13.00')
"""

from multistore.tax.allocation import (
    Adjustment,
    AdjustmentKind,
    AllocatedLine,
    Effect,
    Funder,
    OrderAllocation,
    OrderLine,
    Share,
    allocate,
    allocate_minor_lines,
)
from multistore.tax.batch import BatchResult, allocate_and_tax_batch
from multistore.tax.bills import (
    ALIPAY_COLUMNS,
    WECHAT_COLUMNS,
    WECHAT_SUMMARY,
    Bill,
    BillRecord,
    BillSummary,
    GenericBillMapping,
    RecordKind,
    load_bill_mapping,
    parse_alipay_bill,
    parse_generic_bill,
    parse_wechat_bill,
)
from multistore.tax.errors import (
    AllocationError,
    BillCurrencyError,
    BillError,
    InvoiceError,
    RateTableError,
    RefundError,
    UnknownTaxCategoryError,
)
from multistore.tax.export import to_csv, to_excel
from multistore.tax.invoice import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LineNature,
    build_invoices,
    build_red_invoices,
    red_letter,
)
from multistore.tax.rates import (
    RateEntry,
    RateTable,
    RateTableSpec,
    TaxRate,
    default_rate_table,
    load_rate_table,
)
from multistore.tax.reconciliation import (
    DaySummary,
    ExpectedEntry,
    MatchStatus,
    PaymentEntry,
    ReconciliationReport,
    ReconItem,
    expected_from_orders,
    reconcile,
)
from multistore.tax.refunds import RefundLine, TaxedRefund, refund, unit_slice
from multistore.tax.reports import (
    Column,
    ColumnKind,
    Report,
    income_tax_basis,
    period_of,
    platform_income_report,
    revenue_breakdown,
    vat_declaration,
)
from multistore.tax.vat import (
    TaxedOrder,
    TaxOrder,
    VatLine,
    VatResult,
    allocate_and_tax_minor,
    compute_vat,
    tax_order,
    vat_split_minor,
)

__all__ = [
    "ALIPAY_COLUMNS",
    "WECHAT_COLUMNS",
    "WECHAT_SUMMARY",
    "Adjustment",
    "AdjustmentKind",
    "AllocatedLine",
    "AllocationError",
    "BatchResult",
    "Bill",
    "BillCurrencyError",
    "BillError",
    "BillRecord",
    "BillSummary",
    "Column",
    "ColumnKind",
    "DaySummary",
    "Effect",
    "ExpectedEntry",
    "Funder",
    "GenericBillMapping",
    "Invoice",
    "InvoiceError",
    "InvoiceKind",
    "InvoiceLine",
    "LineNature",
    "MatchStatus",
    "OrderAllocation",
    "OrderLine",
    "PaymentEntry",
    "RateEntry",
    "RateTable",
    "RateTableError",
    "RateTableSpec",
    "ReconItem",
    "ReconciliationReport",
    "RecordKind",
    "RefundError",
    "RefundLine",
    "Report",
    "Share",
    "TaxOrder",
    "TaxRate",
    "TaxedOrder",
    "TaxedRefund",
    "UnknownTaxCategoryError",
    "VatLine",
    "VatResult",
    "allocate",
    "allocate_and_tax_batch",
    "allocate_and_tax_minor",
    "allocate_minor_lines",
    "build_invoices",
    "build_red_invoices",
    "compute_vat",
    "default_rate_table",
    "expected_from_orders",
    "income_tax_basis",
    "load_bill_mapping",
    "load_rate_table",
    "parse_alipay_bill",
    "parse_generic_bill",
    "parse_wechat_bill",
    "period_of",
    "platform_income_report",
    "reconcile",
    "red_letter",
    "refund",
    "revenue_breakdown",
    "tax_order",
    "to_csv",
    "to_excel",
    "unit_slice",
    "vat_declaration",
    "vat_split_minor",
]
