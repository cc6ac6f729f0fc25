"""E-invoice lines (数电票): normal, discount and discounted lines; red-letter invoices; splits.

Rules applied (as enforced by the national e-invoicing service and common invoicing platforms):

* Line nature (发票行性质) ``0`` normal, ``1`` discount line (折扣行), ``2`` discounted line
  (被折扣行). A discount line carries a negative amount at the same rate as the line it
  discounts and comes directly after it; it is never first.
* Amounts on invoice lines exclude tax; per line ``|amount x rate - tax| <= 0.06`` and per
  invoice the sum of those differences stays within ``1.27`` (both configurable).
* A red-letter invoice (红字发票) for a refund carries negative amounts and taxes.
* When a check or the maximum number of lines per invoice would be exceeded, the lines are split
  over several invoices automatically; a discount line never leaves the line it discounts.

The amounts come from :mod:`multistore.tax.vat`, so each discounted/discount pair adds up to the
line's VAT figures exactly, and the invoice totals equal the order's VAT totals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import IntEnum, StrEnum
from fractions import Fraction

import attrs
from money.currency import Currency

from multistore import money as msmoney
from multistore.tax.allocation import _money_prop
from multistore.tax.errors import InvoiceError
from multistore.tax.rates import TaxRate
from multistore.tax.refunds import TaxedRefund
from multistore.tax.vat import TaxedOrder, vat_split_minor

__all__ = [
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "LineNature",
    "build_invoices",
    "build_red_invoices",
    "red_letter",
]


class LineNature(IntEnum):
    """发票行性质: 0 normal line, 1 discount line, 2 discounted line."""

    NORMAL = 0
    DISCOUNT = 1
    DISCOUNTED = 2


class InvoiceKind(StrEnum):
    """Blue (normal) or red-letter (reversal) invoice."""

    BLUE = "blue"
    RED = "red"


@attrs.frozen
class InvoiceLine:
    """One invoice line; ``amount`` excludes tax.

    Attributes:
        nature: Line nature (0/1/2).
        item_name: Goods or service name.
        line_id: The order line it comes from.
        rate: The tax rate (``rate.label`` is what the invoice shows: ``13%``, ``免税``).
        amount_minor: Amount excluding tax, minor units (negative on discount lines and red
            invoices).
        tax_minor: Tax, minor units.
        currency: The currency.
        quantity: Units (``None`` on discount lines).
        unit_price: Unit price excluding tax (``None`` on discount lines).
        tax_code: Tax classification code (税收分类编码) when known.
    """

    nature: LineNature
    item_name: str
    line_id: str
    rate: TaxRate
    amount_minor: int
    tax_minor: int
    currency: Currency
    quantity: int | None = None
    unit_price: Decimal | None = None
    tax_code: str = ""

    @property
    def total_minor(self) -> int:
        """Amount plus tax."""
        return self.amount_minor + self.tax_minor

    @property
    def tax_difference_minor(self) -> Fraction:
        """``amount x rate - tax`` in minor units (exact)."""
        return self.amount_minor * self.rate.fraction - self.tax_minor

    amount = _money_prop("amount_minor", "Amount excluding tax.")
    tax = _money_prop("tax_minor", "Tax amount.")
    total = _money_prop("total_minor", "Amount plus tax.")


@attrs.frozen
class Invoice:
    """One invoice (part ``part`` of ``parts`` when split).

    Attributes:
        kind: Blue or red.
        reference: Our reference (``<order>-<part>`` or ``<refund>-R<part>``).
        order_ids: Orders on the invoice.
        lines: The lines, discount lines right after their discounted lines.
        currency: The currency.
        part: 1-based part number.
        parts: Number of parts the lines were split into.
        original_reference: For red invoices, the blue invoice (or order) it reverses.
        explanation: Plain sentences (why it was split, which checks passed).
    """

    kind: InvoiceKind
    reference: str
    order_ids: tuple[str, ...]
    lines: tuple[InvoiceLine, ...]
    currency: Currency
    part: int = 1
    parts: int = 1
    original_reference: str = ""
    explanation: tuple[str, ...] = ()

    @property
    def amount_minor(self) -> int:
        """Sum of line amounts (excl. tax)."""
        return sum(line.amount_minor for line in self.lines)

    @property
    def tax_minor(self) -> int:
        """Sum of line taxes."""
        return sum(line.tax_minor for line in self.lines)

    @property
    def total_minor(self) -> int:
        """价税合计: amount plus tax."""
        return self.amount_minor + self.tax_minor

    @property
    def tax_difference_minor(self) -> Fraction:
        """Sum of the line differences ``amount x rate - tax`` (minor units)."""
        return sum((line.tax_difference_minor for line in self.lines), Fraction(0))

    amount = _money_prop("amount_minor", "Sum of line amounts.")
    tax = _money_prop("tax_minor", "Sum of line taxes.")
    total = _money_prop("total_minor", "Amount plus tax.")


def _unit_price(amount_minor: int, quantity: int, cur: Currency) -> Decimal | None:
    if not quantity:
        return None
    scale = msmoney.minor_per_major(cur)
    return (Decimal(amount_minor) / (scale * quantity)).quantize(Decimal("0.00000001"))


def _tolerance_minor(value: Decimal, cur: Currency) -> Fraction:
    return Fraction(value) * msmoney.minor_per_major(cur)


def _pack(
    groups: list[list[InvoiceLine]],
    *,
    max_lines: int,
    line_tol: Fraction,
    total_tol: Fraction,
) -> list[list[InvoiceLine]]:
    for g in groups:
        for line in g:
            if abs(line.tax_difference_minor) > line_tol:
                raise InvoiceError(
                    f"line {line.line_id!r}: |amount x rate - tax| exceeds the per-line "
                    "tolerance; check the line's rate and amounts",
                    code="tax.invoice_line_tolerance",
                    details={"line_id": line.line_id},
                )
        if len(g) > max_lines:
            raise InvoiceError(
                f"max_lines={max_lines} cannot hold a discounted line with its discount line; "
                "use max_lines >= 2",
                code="tax.invoice_max_lines",
            )
    parts: list[list[InvoiceLine]] = []
    cur: list[InvoiceLine] = []
    diff = Fraction(0)
    for g in groups:
        gdiff = sum((line.tax_difference_minor for line in g), Fraction(0))
        if cur and (len(cur) + len(g) > max_lines or abs(diff + gdiff) > total_tol):
            parts.append(cur)
            cur, diff = [], Fraction(0)
        cur.extend(g)
        diff += gdiff
    if cur:
        parts.append(cur)
    return parts


def build_invoices(
    *,
    orders: TaxedOrder | Sequence[TaxedOrder],
    names: Mapping[str, str] | None = None,
    tax_codes: Mapping[str, str] | None = None,
    max_lines: int = 100,
    line_tolerance: Decimal = Decimal("0.06"),
    total_tolerance: Decimal = Decimal("1.27"),
) -> tuple[Invoice, ...]:
    """Build blue e-invoices for one or more taxed orders (one buyer).

    A line with a merchant-funded discount becomes a discounted line (nature 2) at its
    pre-discount amount followed by a discount line (nature 1) with the negative difference at
    the same rate; other lines are normal (nature 0). Lines with nothing to invoice are left out.

    Args:
        orders: The taxed order(s), all in one currency.
        names: Item name per line id (defaults to the line's ``name``, ``sku`` or id).
        tax_codes: Tax classification code per tax category.
        max_lines: Maximum lines per invoice; more lines split into more invoices.
        line_tolerance: Per-line limit of ``|amount x rate - tax|`` in major units.
        total_tolerance: Per-invoice limit of the summed differences in major units.

    Returns:
        The invoices, in order; their totals add up to the orders' VAT totals.

    Raises:
        InvoiceError: ``max_lines`` < 2 with a discount pair, or a line over the tolerance.
        CurrencyMismatchError: orders in different currencies.
    """
    batch = [orders] if isinstance(orders, TaxedOrder) else list(orders)
    if not batch:
        raise InvoiceError("no orders to invoice")
    if max_lines < 1:
        raise InvoiceError(f"max_lines must be >= 1, got {max_lines}")
    cur = batch[0].allocation.currency
    names = names or {}
    tax_codes = tax_codes or {}
    groups: list[list[InvoiceLine]] = []
    skipped: list[str] = []
    for taxed in batch:
        if taxed.allocation.currency is not cur:
            msmoney.ensure_same_currency(msmoney.zero(cur), msmoney.zero(taxed.allocation.currency))
        for al, v in zip(taxed.allocation.lines, taxed.vat.lines, strict=True):
            line = al.line
            name = names.get(line.line_id) or line.name or line.sku or line.line_id
            code = tax_codes.get(line.tax_category, "")
            pre = al.gross_minor + al.charges_minor
            if al.merchant_discount_minor and pre:
                pnet, ptax = vat_split_minor(
                    pre, v.rate.fraction, prices_include_tax=v.prices_include_tax
                )
                groups.append(
                    [
                        InvoiceLine(
                            LineNature.DISCOUNTED,
                            name,
                            line.line_id,
                            v.rate,
                            pnet,
                            ptax,
                            cur,
                            line.quantity,
                            _unit_price(pnet, line.quantity, cur),
                            code,
                        ),
                        InvoiceLine(
                            LineNature.DISCOUNT,
                            name,
                            line.line_id,
                            v.rate,
                            v.net_minor - pnet,
                            v.tax_minor - ptax,
                            cur,
                            None,
                            None,
                            code,
                        ),
                    ]
                )
            elif v.gross_minor:
                groups.append(
                    [
                        InvoiceLine(
                            LineNature.NORMAL,
                            name,
                            line.line_id,
                            v.rate,
                            v.net_minor,
                            v.tax_minor,
                            cur,
                            line.quantity,
                            _unit_price(v.net_minor, line.quantity, cur),
                            code,
                        )
                    ]
                )
            else:
                skipped.append(line.line_id)
    if not groups:
        raise InvoiceError("nothing to invoice: every line is zero", code="tax.invoice_empty")
    parts = _pack(
        groups,
        max_lines=max_lines,
        line_tol=_tolerance_minor(line_tolerance, cur),
        total_tol=_tolerance_minor(total_tolerance, cur),
    )
    order_ids = tuple(t.order.order_id for t in batch)
    base = order_ids[0] if len(order_ids) == 1 else f"{order_ids[0]}+{len(order_ids) - 1}"
    notes: list[str] = []
    if skipped:
        notes.append(f"Lines {', '.join(skipped)} have nothing to invoice and were left out.")
    if len(parts) > 1:
        notes.append(
            f"The {sum(len(p) for p in parts)} lines were split into {len(parts)} invoices to "
            f"stay within {max_lines} lines and a total tax difference of {total_tolerance}."
        )
    return tuple(
        Invoice(
            kind=InvoiceKind.BLUE,
            reference=f"{base}-{i}",
            order_ids=order_ids,
            lines=tuple(p),
            currency=cur,
            part=i,
            parts=len(parts),
            explanation=(
                *notes,
                (
                    f"Per-line |amount x rate - tax| <= {line_tolerance} and the invoice total "
                    f"difference <= {total_tolerance} hold."
                ),
            ),
        )
        for i, p in enumerate(parts, 1)
    )


def red_letter(*, invoice: Invoice) -> Invoice:
    """The red-letter invoice that fully reverses ``invoice``: every sign flipped, same order.

    Args:
        invoice: A blue invoice.

    Raises:
        InvoiceError: when ``invoice`` is already red.
    """
    if invoice.kind is InvoiceKind.RED:
        raise InvoiceError(f"invoice {invoice.reference!r} is already red-letter")
    lines = tuple(
        attrs.evolve(
            line,
            amount_minor=-line.amount_minor,
            tax_minor=-line.tax_minor,
            quantity=None if line.quantity is None else -line.quantity,
        )
        for line in invoice.lines
    )
    return Invoice(
        kind=InvoiceKind.RED,
        reference=f"{invoice.reference}-R",
        order_ids=invoice.order_ids,
        lines=lines,
        currency=invoice.currency,
        part=invoice.part,
        parts=invoice.parts,
        original_reference=invoice.reference,
        explanation=(f"Red-letter reversal of invoice {invoice.reference}: signs flipped.",),
    )


def build_red_invoices(
    *,
    refund: TaxedRefund,
    original_reference: str = "",
    names: Mapping[str, str] | None = None,
    tax_codes: Mapping[str, str] | None = None,
    max_lines: int = 100,
    line_tolerance: Decimal = Decimal("0.06"),
    total_tolerance: Decimal = Decimal("1.27"),
) -> tuple[Invoice, ...]:
    """Build red-letter invoices for a (partial) refund: one negative normal line per line.

    The amounts are the refund's reversed net and tax, so the blue and red invoices of an order
    returned in full add up to zero.

    Args:
        refund: The taxed refund.
        original_reference: The blue invoice being reversed (shown on the red invoice).
        names: Item name per line id.
        tax_codes: Tax classification code per tax category.
        max_lines: Maximum lines per invoice.
        line_tolerance: Per-line tolerance in major units.
        total_tolerance: Per-invoice tolerance in major units.

    Raises:
        InvoiceError: the refund has nothing to invoice.
    """
    cur = refund.currency
    names = names or {}
    tax_codes = tax_codes or {}
    lines_by_id = {al.line_id: al.line for al in refund.order.allocation.lines}
    groups: list[list[InvoiceLine]] = []
    for r in refund.lines:
        if not (r.net_minor or r.tax_minor):
            continue
        line = lines_by_id[r.line_id]
        name = names.get(r.line_id) or line.name or line.sku or r.line_id
        groups.append(
            [
                InvoiceLine(
                    LineNature.NORMAL,
                    name,
                    r.line_id,
                    r.rate,
                    r.net_minor,
                    r.tax_minor,
                    cur,
                    -r.units,
                    _unit_price(-r.net_minor, r.units, cur),
                    tax_codes.get(line.tax_category, ""),
                )
            ]
        )
    if not groups:
        raise InvoiceError(
            f"refund {refund.refund_id!r} has nothing to invoice", code="tax.invoice_empty"
        )
    parts = _pack(
        groups,
        max_lines=max_lines,
        line_tol=_tolerance_minor(line_tolerance, cur),
        total_tol=_tolerance_minor(total_tolerance, cur),
    )
    return tuple(
        Invoice(
            kind=InvoiceKind.RED,
            reference=f"{refund.refund_id}-R{i}",
            order_ids=(refund.order.order.order_id,),
            lines=tuple(p),
            currency=cur,
            part=i,
            parts=len(parts),
            original_reference=original_reference or refund.order.order.order_id,
            explanation=(
                (
                    f"Red-letter invoice for refund {refund.refund_id}: the returned units' net "
                    "and tax reversed from the original sale."
                ),
            ),
        )
        for i, p in enumerate(parts, 1)
    )
