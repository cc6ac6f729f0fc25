"""VAT per line, price-inclusive or price-exclusive, exact to the fen.

Per line (price-inclusive, the norm in Chinese retail)::

    net = round_half_up(gross / (1 + rate))      # multistore.money.round_minor, exact Fraction
    tax = gross - net

so ``net + tax == gross`` on every line and the header tax is the sum of the line taxes by
construction. Price-exclusive lines compute ``tax = round_half_up(net * rate)`` and
``gross = net + tax``. Exempt and zero-rated lines carry no tax.

Examples:
    >>> from fractions import Fraction
    >>> vat_split_minor(11300, Fraction(13, 100))
    (10000, 1300)
    >>> vat_split_minor(999, Fraction(13, 100))
    (884, 115)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from fractions import Fraction

import attrs
from money.currency import Currency

from multistore.money import div_round_half_up
from multistore.tax.allocation import (
    Adjustment,
    AllocatedLine,
    OrderAllocation,
    OrderLine,
    _money_prop,
    allocate,
)
from multistore.tax.rates import RateTable, TaxRate

__all__ = [
    "TaxOrder",
    "TaxedOrder",
    "VatLine",
    "VatResult",
    "compute_vat",
    "tax_order",
    "vat_split_minor",
]


def vat_split_minor(
    amount: int, rate: Fraction, *, prices_include_tax: bool = True
) -> tuple[int, int]:
    """Split one line amount into ``(net, tax)`` minor units.

    Args:
        amount: Gross (tax-inclusive) amount when ``prices_include_tax``, else the net amount.
        rate: The rate as an exact Fraction (``Fraction(13, 100)``).
        prices_include_tax: Whether ``amount`` includes VAT.

    Returns:
        ``(net, tax)``; for inclusive prices ``net + tax == amount``.
    """
    if not rate:
        return amount, 0
    p, q = rate.numerator, rate.denominator
    if prices_include_tax:
        # == multistore.money.round_minor(Fraction(amount) / (1 + rate)), in ints
        net = div_round_half_up(amount * q, q + p)
        return net, amount - net
    return amount, div_round_half_up(amount * p, q)


@attrs.frozen
class VatLine:
    """VAT of one line (minor-unit fields; Money properties without ``_minor``).

    Attributes:
        line_id: The order line.
        rate: The rate that applied.
        prices_include_tax: Whether the line's amount included VAT.
        gross_minor: Tax-inclusive amount.
        net_minor: Amount excluding VAT.
        tax_minor: VAT (``gross - net``).
        currency: The currency.
    """

    line_id: str
    rate: TaxRate
    prices_include_tax: bool
    gross_minor: int
    net_minor: int
    tax_minor: int
    currency: Currency

    gross = _money_prop("gross_minor", "Tax-inclusive amount.")
    net = _money_prop("net_minor", "Amount excluding VAT.")
    tax = _money_prop("tax_minor", "VAT amount.")


@attrs.frozen
class VatResult:
    """VAT of an order: its lines and header totals (sums of the lines).

    Attributes:
        lines: One VatLine per allocated line.
        currency: The currency.
        explanation: Plain sentences on the rates and the rounding.
    """

    lines: tuple[VatLine, ...]
    currency: Currency
    explanation: tuple[str, ...] = ()

    @property
    def gross_minor(self) -> int:
        """Header tax-inclusive total."""
        return sum(v.gross_minor for v in self.lines)

    @property
    def net_minor(self) -> int:
        """Header net total."""
        return sum(v.net_minor for v in self.lines)

    @property
    def tax_minor(self) -> int:
        """Header tax: the sum of line taxes."""
        return sum(v.tax_minor for v in self.lines)

    gross = _money_prop("gross_minor", "Header tax-inclusive total.")
    net = _money_prop("net_minor", "Header net total.")
    tax = _money_prop("tax_minor", "Header tax total.")


def compute_vat(
    *,
    allocation: OrderAllocation,
    rates: RateTable,
    on: date,
    prices_include_tax: bool = True,
) -> VatResult:
    """Compute VAT per allocated line on its taxable amount.

    Args:
        allocation: The result of :func:`~multistore.tax.allocate`.
        rates: The rate table.
        on: The tax date (date of the taxable event) that selects the rates.
        prices_include_tax: Whether line amounts include VAT (the norm in Chinese retail).

    Returns:
        The per-line VAT and header totals.

    Raises:
        UnknownTaxCategoryError: a line's category is not in the table.
        RateTableError: ``tax.no_rate`` when the table does not cover ``on``.
    """
    out = [
        _vat_line(al, rates.lookup(category=al.line.tax_category, on=on), prices_include_tax)
        for al in allocation.lines
    ]
    mode = "tax-inclusive" if prices_include_tax else "tax-exclusive"
    used = sorted({(v.rate.category, v.rate.label) for v in out})
    explanation = (
        f"Prices are {mode}; rates on {on.isoformat()}: "
        + ", ".join(f"{c} {lab}" for c, lab in used)
        + ".",
        "Each line's net is round_half_up(gross / (1 + rate)) and its tax is gross - net; "
        "the header tax is the sum of the line taxes."
        if prices_include_tax
        else "Each line's tax is round_half_up(net x rate); the header tax is the sum of the "
        "line taxes.",
    )
    return VatResult(tuple(out), allocation.currency, explanation)


def _vat_line(al: AllocatedLine, rate: TaxRate, inclusive: bool) -> VatLine:
    amount = al.taxable_minor
    net, tax = vat_split_minor(amount, rate.fraction, prices_include_tax=inclusive)
    return VatLine(al.line_id, rate, inclusive, net + tax, net, tax, al.currency)


def _lines(value: Iterable[OrderLine]) -> tuple[OrderLine, ...]:
    return tuple(value)


def _adjustments(value: Iterable[Adjustment]) -> tuple[Adjustment, ...]:
    return tuple(value)


@attrs.frozen
class TaxOrder:
    """An order as tax sees it.

    Attributes:
        order_id: The order id (the 商户订单号 on payment bills).
        store_id: The selling store.
        platform: Sales/payment platform (``"wechat"``, ``"alipay"``, ``"meituan"``...).
        tax_date: Date of the taxable event (in the store's local calendar).
        lines: The order lines.
        adjustments: Order-level adjustments, applied in order.
        prices_include_tax: Whether line amounts include VAT.
    """

    order_id: str
    store_id: str
    platform: str
    tax_date: date
    lines: tuple[OrderLine, ...] = attrs.field(converter=_lines)
    adjustments: tuple[Adjustment, ...] = attrs.field(default=(), converter=_adjustments)
    prices_include_tax: bool = True


@attrs.frozen
class TaxedOrder:
    """An order with its allocation and VAT.

    Attributes:
        order: The order.
        allocation: Adjustments per line.
        vat: VAT per line.
    """

    order: TaxOrder
    allocation: OrderAllocation
    vat: VatResult

    @property
    def explanation(self) -> tuple[str, ...]:
        """Allocation and VAT explanations."""
        return self.allocation.explanation + self.vat.explanation


def tax_order(*, order: TaxOrder, rates: RateTable) -> TaxedOrder:
    """Allocate an order's adjustments and compute its VAT in one call.

    Args:
        order: The order.
        rates: The rate table.

    Returns:
        The :class:`TaxedOrder`.
    """
    allocation = allocate(lines=order.lines, adjustments=order.adjustments)
    vat = compute_vat(
        allocation=allocation,
        rates=rates,
        on=order.tax_date,
        prices_include_tax=order.prices_include_tax,
    )
    return TaxedOrder(order, allocation, vat)


def vat_lines_minor(
    amounts: Sequence[int], rates: Sequence[Fraction], *, prices_include_tax: bool = True
) -> list[tuple[int, int]]:
    """Vectorised :func:`vat_split_minor` over parallel lists (used by the benchmark)."""
    return [
        vat_split_minor(a, r, prices_include_tax=prices_include_tax)
        for a, r in zip(amounts, rates, strict=True)
    ]
