"""Finance reports: VAT declaration, revenue breakdown, platform income, income-tax basis.

The platform income report carries the 2025 platform tax-reporting fields.

Every report is a :class:`Report`: documented columns, rows, and a totals row that is the exact
sum of the rows (money in integer minor units, shown as major units by the exports).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from enum import StrEnum
from typing import Literal

import attrs
from money.currency import Currency

from multistore import money as msmoney
from multistore.tax.allocation import EFFECT, AdjustmentKind, Effect
from multistore.tax.refunds import TaxedRefund, unit_slice
from multistore.tax.vat import TaxedOrder

__all__ = [
    "Column",
    "ColumnKind",
    "Report",
    "income_tax_basis",
    "period_of",
    "platform_income_report",
    "revenue_breakdown",
    "vat_declaration",
]

Cell = str | int | None
Period = Literal["month", "quarter", "year"]


class ColumnKind(StrEnum):
    """How a column's cells are typed: text, money (minor units) or a count."""

    TEXT = "text"
    MONEY = "money"
    COUNT = "count"


@attrs.frozen
class Column:
    """One documented report column.

    Attributes:
        key: Stable machine name.
        header: Header shown in exports.
        kind: Text, money (int minor units in the rows) or count.
        description: What the column holds.
    """

    key: str
    header: str
    kind: ColumnKind
    description: str


@attrs.frozen
class Report:
    """A report table whose totals are the sums of its rows.

    Attributes:
        name: Machine name (``vat_declaration``).
        title: Human title.
        columns: The columns.
        rows: Rows of cells, one per column (money as int minor units, ``None`` when unknown).
        currency: The currency of money columns.
        explanation: How the figures were made.
    """

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    currency: Currency
    explanation: tuple[str, ...] = ()

    @property
    def totals(self) -> tuple[Cell, ...]:
        """The totals row: sums of money and count columns, ``合计`` in the first column."""
        out: list[Cell] = []
        for i, col in enumerate(self.columns):
            if col.kind is ColumnKind.TEXT:
                out.append("合计" if i == 0 else "")
            else:
                out.append(sum(int(r[i] or 0) for r in self.rows))
        return tuple(out)

    def column(self, key: str) -> tuple[Cell, ...]:
        """Cells of one column by key."""
        i = [c.key for c in self.columns].index(key)
        return tuple(r[i] for r in self.rows)

    def as_dicts(self) -> list[dict[str, Cell]]:
        """Rows as ``{column key: cell}`` dictionaries."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, r, strict=True)) for r in self.rows]


def period_of(day: date, period: Period) -> str:
    """``2026-11`` (month), ``2026Q4`` (quarter) or ``2026`` (year)."""
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def _currency(orders: Sequence[TaxedOrder], refunds: Sequence[TaxedRefund]) -> Currency:
    zeros = [msmoney.zero(o.allocation.currency) for o in orders]
    zeros += [msmoney.zero(r.currency) for r in refunds]
    return msmoney.ensure_same_currency(*zeros) or msmoney.currency("CNY")


def _t(key: str, header: str, desc: str) -> Column:
    return Column(key, header, ColumnKind.TEXT, desc)


def _m(key: str, header: str, desc: str) -> Column:
    return Column(key, header, ColumnKind.MONEY, desc)


def _c(key: str, header: str, desc: str) -> Column:
    return Column(key, header, ColumnKind.COUNT, desc)


def _key_and_sums(key: tuple[str, ...], sums: list[int]) -> tuple[Cell, ...]:
    return (*key, *sums)


def _report(
    *,
    name: str,
    title: str,
    columns: tuple[Column, ...],
    acc: dict[tuple[str, ...], list[int]],
    currency: Currency,
    explanation: str,
    row: Callable[[tuple[str, ...], list[int]], tuple[Cell, ...]] = _key_and_sums,
) -> Report:
    """One row per key of ``acc`` in key order (``row`` makes it: by default key then sums)."""
    rows = tuple(row(k, acc[k]) for k in sorted(acc))
    return Report(name, title, columns, rows, currency, (explanation,))


def _accumulate(
    acc: dict[tuple[str, ...], list[int]], key: tuple[str, ...], values: Sequence[int]
) -> None:
    row = acc.setdefault(key, [0] * len(values))
    for i, v in enumerate(values):
        row[i] += v


def vat_declaration(
    *,
    orders: Sequence[TaxedOrder],
    refunds: Sequence[TaxedRefund] = (),
    period: Period = "month",
) -> Report:
    """VAT declaration summary by period, store, category and rate.

    Refunds reduce the period of the refund (negative rows merged into the same key).

    Args:
        orders: Taxed orders.
        refunds: Taxed refunds.
        period: ``month``, ``quarter`` or ``year``.

    Returns:
        A :class:`Report` with columns ``period, store_id, tax_category, rate, net, tax, gross,
        lines``.
    """
    cur = _currency(orders, refunds)
    acc: dict[tuple[str, ...], list[int]] = {}
    for o in orders:
        p = period_of(o.order.tax_date, period)
        for v in o.vat.lines:
            key = (p, o.order.store_id, v.rate.category, v.rate.label)
            _accumulate(acc, key, (v.net_minor, v.tax_minor, v.gross_minor, 1))
    for r in refunds:
        p = period_of(r.tax_date, period)
        for line in r.lines:
            key = (p, r.order.order.store_id, line.rate.category, line.rate.label)
            gross = line.net_minor + line.tax_minor
            _accumulate(acc, key, (line.net_minor, line.tax_minor, gross, 1))
    columns = (
        _t("period", "所属期 period", "Tax period of the sale or refund."),
        _t("store_id", "门店 store", "Selling store."),
        _t("tax_category", "税目 category", "Tax category of the rate table."),
        _t("rate", "税率 rate", "Rate label (13%, 9%, 6%, 0%, 免税...)."),
        _m("net", "销售额 net sales", "Sales excluding VAT, net of refunds."),
        _m("tax", "税额 tax", "Output VAT, net of refunds."),
        _m("gross", "价税合计 gross", "Net sales plus VAT."),
        _c("lines", "行数 lines", "Order and refund lines counted."),
    )
    return _report(
        name="vat_declaration",
        title="VAT declaration summary",
        columns=columns,
        acc=acc,
        currency=cur,
        explanation=(
            f"Grouped by {period}, store, category and rate; refunds are negative in their "
            "own period; every line's tax was computed per line and summed."
        ),
    )


_DISCOUNT_KINDS = [k for k in AdjustmentKind if EFFECT[k] is Effect.DISCOUNT]


def revenue_breakdown(
    *,
    orders: Sequence[TaxedOrder],
    refunds: Sequence[TaxedRefund] = (),
    period: Period = "month",
) -> Report:
    """Revenue and discount breakdown by period and store.

    Args:
        orders: Taxed orders.
        refunds: Taxed refunds.
        period: ``month``, ``quarter`` or ``year``.

    Returns:
        A :class:`Report`: gross sales, each discount kind split by funder, shipping, paid by
        customers, taxable sales, VAT, net revenue, refunds, platform fees.
    """
    cur = _currency(orders, refunds)
    acc: dict[tuple[str, ...], list[int]] = {}
    nk = len(_DISCOUNT_KINDS)
    for o in orders:
        key = (period_of(o.order.tax_date, period), o.order.store_id)
        for al, v in zip(o.allocation.lines, o.vat.lines, strict=True):
            by_kind = [0] * nk
            for s in al.shares:
                if EFFECT[s.kind] is Effect.DISCOUNT:
                    by_kind[_DISCOUNT_KINDS.index(s.kind)] += s.minor
            values = [
                al.gross_minor,
                *by_kind,
                al.merchant_discount_minor,
                al.platform_discount_minor,
                al.charges_minor,
                v.gross_minor - al.platform_discount_minor,
                v.gross_minor,
                v.tax_minor,
                v.net_minor,
                0,
                0,
                al.platform_fees_minor,
            ]
            _accumulate(acc, key, values)
    for r in refunds:
        key = (period_of(r.tax_date, period), r.order.order.store_id)
        for line in r.lines:
            values = [0] * (nk + 8) + [line.paid_minor, line.tax_minor, line.platform_fees_minor]
            values[nk + 7] = line.net_minor
            _accumulate(acc, key, values)
    columns = (
        _t("period", "期间 period", "Period of the sale or refund."),
        _t("store_id", "门店 store", "Selling store."),
        _m("gross_sales", "商品金额 gross sales", "Line amounts before order-level adjustments."),
        *(
            _m(k.value, f"{k.value}", f"Discount of kind {k.value} allocated to lines.")
            for k in _DISCOUNT_KINDS
        ),
        _m("merchant_discounts", "商家优惠 merchant-funded", "Discounts borne by the merchant."),
        _m("platform_discounts", "平台补贴 platform-funded", "Discounts borne by the platform."),
        _m("shipping", "运费 shipping", "Shipping charges allocated to lines."),
        _m("paid", "顾客实付 paid", "What customers paid, VAT included."),
        _m(
            "taxable",
            "含税销售额 taxable",
            "Sales incl. VAT: gross - merchant discounts + shipping (+ VAT for net prices).",
        ),
        _m("vat", "税额 VAT", "Output VAT of sales."),
        _m("net_revenue", "不含税收入 net revenue", "Revenue net of VAT and refunds."),
        _m("refunds_paid", "退款 refunds", "Refunded to customers (negative)."),
        _m("refund_vat", "退款税额 refund VAT", "VAT reversed by refunds (negative)."),
        _m(
            "platform_fees",
            "平台费用 platform fees",
            "Service fees and commissions, net of reversals.",
        ),
    )
    return _report(
        name="revenue_breakdown",
        title="Revenue and discount breakdown",
        columns=columns,
        acc=acc,
        currency=cur,
        explanation="Discounts by kind and by funder; refunds appear in their own period.",
    )


def platform_income_report(
    *,
    orders: Sequence[TaxedOrder],
    refunds: Sequence[TaxedRefund] = (),
    period: Period = "quarter",
) -> Report:
    """Platform income per platform, period (quarter by default) and store.

    The fields follow what the 2025 rules on internet platforms reporting their merchants'
    income (互联网平台企业涉税信息报送规定, 国务院令第810号) ask for: gross income, refunds, net
    sales, commissions and service fees, and subsidies.

    Args:
        orders: Taxed orders.
        refunds: Taxed refunds.
        period: Usually ``quarter``.

    Returns:
        A :class:`Report` with ``platform, period, store_id, gross_income, refunds, net_sales,
        commissions_and_fees, subsidies, orders, refund_count``.
    """
    cur = _currency(orders, refunds)
    acc: dict[tuple[str, ...], list[int]] = {}
    for o in orders:
        key = (o.order.platform, period_of(o.order.tax_date, period), o.order.store_id)
        a = o.allocation
        fees = sum(al.platform_fees_minor for al in a.lines)
        subsidy = sum(al.platform_discount_minor for al in a.lines)
        gross = o.settled_minor  # VAT included, also for tax-exclusive prices
        _accumulate(acc, key, (gross, 0, gross, fees, subsidy, 1, 0))
    for r in refunds:
        src = r.order.order
        key = (src.platform, period_of(r.tax_date, period), src.store_id)
        taxable = r.settled_minor
        fees = sum(line.platform_fees_minor for line in r.lines)
        subsidy = sum(line.platform_discount_minor for line in r.lines)
        _accumulate(acc, key, (0, taxable, taxable, fees, subsidy, 0, 1))
    columns = (
        _t("platform", "平台 platform", "Sales platform."),
        _t("period", "期间 period", "Reporting period."),
        _t("store_id", "店铺 store", "Store or shop on the platform."),
        _m("gross_income", "收入总额 gross income", "Sales incl. VAT and platform subsidies."),
        _m("refunds", "退款金额 refunds", "Sales reversed by refunds (negative)."),
        _m("net_sales", "净收入 net sales", "Gross income + refunds."),
        _m(
            "commissions_and_fees",
            "佣金及服务费 commissions and fees",
            "Platform commissions and service fees, net of refunded fees.",
        ),
        _m("subsidies", "平台补贴 subsidies", "Platform-funded discounts, net of refunds."),
        _c("orders", "订单数 orders", "Orders counted."),
        _c("refund_count", "退款笔数 refunds", "Refunds counted."),
    )
    return _report(
        name="platform_income",
        title="Platform income report",
        columns=columns,
        acc=acc,
        currency=cur,
        explanation="Refunds reduce the period in which they happen.",
    )


GroupBy = Literal["order", "store", "period"]


def income_tax_basis(
    *,
    orders: Sequence[TaxedOrder],
    refunds: Sequence[TaxedRefund] = (),
    group_by: GroupBy = "store",
    period: Period = "quarter",
) -> Report:
    """Corporate-income-tax basis: revenue net of VAT and merchant discounts, cost, margin.

    Args:
        orders: Taxed orders.
        refunds: Taxed refunds (their share of cost is reversed unit by unit).
        group_by: ``order``, ``store`` (with period) or ``period``.
        period: Period used for ``store`` and ``period`` grouping.

    Returns:
        A :class:`Report` with ``key, period, revenue, cost, gross_margin, cost_known``;
        ``cost`` and ``gross_margin`` are blank (``None``) for groups with any line of unknown
        cost, and count as zero in the totals.
    """
    cur = _currency(orders, refunds)
    acc: dict[tuple[str, ...], list[int]] = {}
    unknown: set[tuple[str, ...]] = set()

    def key_of(o: TaxedOrder, d: date) -> tuple[str, ...]:
        first = {"order": o.order.order_id, "store": o.order.store_id}.get(group_by, "*")
        return (first, period_of(d, period))

    for o in orders:
        key = key_of(o, o.order.tax_date)
        for al, v in zip(o.allocation.lines, o.vat.lines, strict=True):
            line_cost = al.line.cost
            if line_cost is None:
                unknown.add(key)
            _accumulate(acc, key, (v.net_minor, msmoney.to_minor(line_cost) if line_cost else 0))
    for r in refunds:
        key = key_of(r.order, r.tax_date)
        lines = {al.line_id: al.line for al in r.order.allocation.lines}
        for rl in r.lines:
            line = lines[rl.line_id]
            cost_minor = 0
            if line.cost is None:
                unknown.add(key)
            else:
                cost_minor = -unit_slice(
                    total=msmoney.to_minor(line.cost),
                    quantity=line.quantity,
                    start=rl.first_unit,
                    count=rl.units,
                )
            _accumulate(acc, key, (rl.net_minor, cost_minor))

    def row(key: tuple[str, ...], sums: list[int]) -> tuple[Cell, ...]:
        revenue, cost = sums
        known = key not in unknown
        return (
            *key,
            revenue,
            cost if known else None,
            revenue - cost if known else None,
            "yes" if known else "no",
        )

    columns = (
        _t(
            "key",
            {"order": "订单 order", "store": "门店 store", "period": "全部 all"}[group_by],
            f"The {group_by} the row belongs to.",
        ),
        _t("period", "期间 period", "Period."),
        _m(
            "revenue",
            "营业收入 revenue",
            "Revenue net of VAT and merchant-funded discounts, net of refunds.",
        ),
        _m("cost", "营业成本 cost", "Cost of goods sold where known."),
        _m("gross_margin", "毛利 gross margin", "Revenue - cost where cost is known."),
        _t("cost_known", "成本完整 cost known", "Whether every line of the group has a cost."),
    )
    return _report(
        name="income_tax_basis",
        title="Corporate income tax basis",
        columns=columns,
        acc=acc,
        currency=cur,
        explanation="Revenue excludes VAT; platform subsidies count as revenue.",
        row=row,
    )
