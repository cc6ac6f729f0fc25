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
from operator import add, sub

import attrs
from money.currency import Currency
from money.money import Money

from multistore.money import div_round_half_up, from_minor
from multistore.tax._fast import TERMS, rate_terms, split_minor
from multistore.tax.allocation import (
    Adjustment,
    AllocatedLine,
    Effect,
    OrderAllocation,
    OrderLine,
    _money_prop,
    allocate,
    allocate_minor_lines,
)
from multistore.tax.errors import AllocationError
from multistore.tax.rates import RateTable, TaxRate

__all__ = [
    "TaxOrder",
    "TaxedOrder",
    "VatLine",
    "VatResult",
    "allocate_and_tax_minor",
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


_DISCOUNT = Effect.DISCOUNT
_CHARGE = Effect.CHARGE


def allocate_and_tax_minor(  # noqa: PLR0912, PLR0915 - hot path, inlined
    amounts: Sequence[int],
    rates: Sequence[Fraction],
    adjustments: Sequence[tuple[Effect, int]],
    *,
    prices_include_tax: bool = True,
) -> tuple[list[list[int]], list[int], list[int], list[int]]:
    """Allocate one order's adjustments and compute VAT per line, all in minor units.

    The per-order integer path: the same integers as :func:`~multistore.tax.allocate_minor_lines`
    followed by :func:`vat_split_minor` on each line's taxable amount (property-tested), in
    plain int arithmetic without building Money, Decimal or Fraction values. Build Money from
    the results at your API boundary (:func:`multistore.money.from_minor`).

    Args:
        amounts: Line amounts in minor units (not negative).
        rates: One rate per line (exact Fractions such as ``Fraction(13, 100)``, not negative).
        adjustments: ``(effect, total)`` pairs applied in order, each over every line weighted by
            the lines' current amounts; totals are non-negative magnitudes.
        prices_include_tax: Whether line amounts include VAT.

    Returns:
        ``(shares, taxable, net, tax)``: one list of line shares per adjustment, then per line
        the taxable amount after discounts and charges, its net and its VAT.

    Raises:
        AllocationError: no lines, one rate per line missing, a negative amount, total or rate
            (``tax.allocation``), or a discount larger than the order
            (``tax.allocation_exceeds``).

    Examples:
        >>> allocate_and_tax_minor([600, 400], [Fraction(13, 100)] * 2,
        ...                        [(Effect.DISCOUNT, 101)])
        ([[61, 40]], [539, 360], [477, 319], [62, 41])
    """
    n = len(amounts)
    if not n or len(rates) != n:
        raise AllocationError("an order needs at least one line and one rate per line")
    if min(amounts) < 0:
        raise AllocationError("line amounts must not be negative")
    cur = list(amounts)
    rows: list[list[int]] = []
    for effect, total in adjustments:
        wsum = sum(cur)
        if total < 0 or wsum <= 0 or (total > wsum and effect is _DISCOUNT):
            # a bad total, nothing to weigh by, or a discount too large: the general path
            rows, cur = _general_minor(amounts, adjustments)
            break
        if n == 1:
            rows.append([total])
            if effect is _DISCOUNT:
                cur = [wsum - total]
            elif effect is _CHARGE:
                cur = [wsum + total]
            continue
        if n == 2:  # the most common multi-line order, in straight-line code
            a0, a1 = cur
            x0 = total * a0
            q0 = x0 // wsum
            q1 = total * a1 // wsum
            if q0 + q1 != total:  # one unit left: remainders sum to wsum, line 0 wins ties
                if 2 * (x0 - q0 * wsum) >= wsum:
                    q0 += 1
                else:
                    q1 += 1
            rows.append([q0, q1])
            if effect is _DISCOUNT:
                cur = [a0 - q0, a1 - q1]
            elif effect is _CHARGE:
                cur = [a0 + q0, a1 + q1]
            continue
        row = split_minor(total, cur, wsum)
        rows.append(row)
        if effect is _DISCOUNT:
            cur = list(map(sub, cur, row))
        elif effect is _CHARGE:
            cur = list(map(add, cur, row))
    nets: list[int] = []
    taxes: list[int] = []
    get = TERMS.get
    # lengths are checked above; zip(strict=...) would cost a tenth of a small order's time
    if prices_include_tax:
        for t, rate in zip(cur, rates):  # noqa: B905
            terms = get(id(rate)) or rate_terms(rate)
            net = (t * terms[1] + terms[2]) // terms[3]
            nets.append(net)
            taxes.append(t - net)
    else:
        for t, rate in zip(cur, rates):  # noqa: B905
            terms = get(id(rate)) or rate_terms(rate)
            nets.append(t)
            taxes.append((t * terms[4] + terms[5]) // terms[1])
    return rows, cur, nets, taxes


def _general_minor(
    amounts: Sequence[int], adjustments: Sequence[tuple[Effect, int]]
) -> tuple[list[list[int]], list[int]]:
    """``allocate_minor_lines`` and the resulting taxable amounts (the rare cases' path)."""
    for _, total in adjustments:
        if total < 0:
            raise AllocationError("adjustment totals must not be negative")
    rows = allocate_minor_lines(amounts=amounts, adjustments=adjustments)
    cur = list(amounts)
    for (effect, _), row in zip(adjustments, rows, strict=True):
        if effect is _DISCOUNT:
            cur = list(map(sub, cur, row))
        elif effect is _CHARGE:
            cur = list(map(add, cur, row))
    return rows, cur


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
    net, tax = vat_split_minor(al.taxable_minor, rate.fraction, prices_include_tax=inclusive)
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

    @property
    def settled_minor(self) -> int:
        """What the payment platform settles for the order, VAT included (minor units).

        The customer's payment plus the platform-funded discounts: the taxable sales with their
        VAT (WeChat Pay 应结订单金额, Alipay 商家实收), before the platform's fee.
        """
        return self.vat.gross_minor

    @property
    def paid_minor(self) -> int:
        """What the customer paid, VAT included (minor units).

        For tax-exclusive prices this adds the VAT, which
        :attr:`~multistore.tax.allocation.OrderAllocation.paid_minor` (tax-agnostic) leaves out.
        """
        return self.vat.gross_minor - self.allocation.platform_discount_minor

    @property
    def settled(self) -> Money:
        """What the payment platform settles for the order, VAT included."""
        return from_minor(self.settled_minor, self.vat.currency)

    @property
    def paid(self) -> Money:
        """What the customer paid, VAT included."""
        return from_minor(self.paid_minor, self.vat.currency)


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
