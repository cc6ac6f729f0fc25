"""Refunds and partial returns: reverse exactly what was allocated to the returned units.

Every allocated amount of a line (gross, each adjustment share, net and tax) is split over the
line's units by largest remainder (:func:`multistore.money.allocate_minor` with equal weights).
Returning ``k`` units after ``r`` earlier returned units reverses units ``r .. r+k-1`` of that
split, so successive partial returns never drift and returning every unit reverses every
amount exactly: the order and all its refunds sum to zero.

VAT is reversed from the original sale's figures (same rate, same rounding), never recomputed,
which is what a red-letter invoice needs.

Examples:
    >>> unit_slice(total=1000, quantity=3, start=0, count=1)
    334
    >>> unit_slice(total=1000, quantity=3, start=1, count=2)
    666
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import attrs
from money.currency import Currency

from multistore.money import apportion
from multistore.tax.allocation import EFFECT, Effect, Funder, Share, _money_prop
from multistore.tax.errors import RefundError
from multistore.tax.rates import TaxRate
from multistore.tax.vat import TaxedOrder

__all__ = ["RefundLine", "TaxedRefund", "refund", "unit_slice"]


def unit_slice(*, total: int, quantity: int, start: int, count: int) -> int:
    """The part of ``total`` that belongs to units ``start .. start+count-1`` of ``quantity``.

    ``total`` is split over the units by largest remainder; the first units take the extra fen.

    Raises:
        RefundError: when the slice is outside ``0 .. quantity``.
    """
    if quantity <= 0 or start < 0 or count < 0 or start + count > quantity:
        raise RefundError(
            f"cannot take units {start}..{start + count - 1} of a line with {quantity} units"
        )
    if count == 0:
        return 0
    if count == quantity:
        return total
    return sum(apportion(total, [1] * quantity)[start : start + count])


@attrs.frozen
class RefundLine:
    """The reversal of one line for the returned units. Every amount is negative (or zero).

    Attributes:
        line_id: The order line.
        units: Units returned now.
        rate: The rate of the original sale.
        shares: Reversed adjustment shares (negative magnitudes).
        currency: The currency.
        gross_minor: Reversed gross line amount (taxable + merchant discounts - charges).
        merchant_discount_minor: Reversed merchant-funded discounts.
        platform_discount_minor: Reversed platform-funded discounts.
        charges_minor: Reversed charges.
        platform_fees_minor: Reversed platform fees.
        taxable_minor: Reversed taxable sales (``net + tax`` for tax-inclusive prices, ``net``
            for tax-exclusive ones).
        net_minor: Reversed net (excluding VAT).
        tax_minor: Reversed VAT.
        first_unit: 0-based index of the first returned unit (units returned earlier come first).
    """

    line_id: str
    units: int
    rate: TaxRate
    shares: tuple[Share, ...]
    currency: Currency
    gross_minor: int
    merchant_discount_minor: int
    platform_discount_minor: int
    charges_minor: int
    platform_fees_minor: int
    taxable_minor: int
    net_minor: int
    tax_minor: int
    first_unit: int = 0

    @property
    def settled_minor(self) -> int:
        """What the payment platform takes back for this line, VAT included (negative).

        The customer's refund plus the reversed platform-funded discounts: ``net + tax``.
        """
        return self.net_minor + self.tax_minor

    @property
    def paid_minor(self) -> int:
        """What goes back to the customer for this line, VAT included (negative).

        ``net + tax - platform-funded discounts``; for tax-exclusive prices the reversed VAT is
        refunded too, since the customer paid it.
        """
        return self.settled_minor - self.platform_discount_minor

    net = _money_prop("net_minor", "Reversed net.")
    tax = _money_prop("tax_minor", "Reversed VAT.")
    paid = _money_prop("paid_minor", "Refunded to the customer.")
    settled = _money_prop("settled_minor", "Taken back by the payment platform.")
    taxable = _money_prop("taxable_minor", "Reversed taxable sales.")


@attrs.frozen
class TaxedRefund:
    """A refund of returned units with every reversed amount.

    Attributes:
        refund_id: The merchant refund id (商户退款单号).
        order: The original taxed order.
        tax_date: Date of the refund.
        lines: Reversed lines (only lines with returned units).
        currency: The currency.
        explanation: Plain sentences on what was reversed.
    """

    refund_id: str
    order: TaxedOrder
    tax_date: date
    lines: tuple[RefundLine, ...]
    currency: Currency
    explanation: tuple[str, ...] = ()

    @property
    def paid_minor(self) -> int:
        """Total refunded to the customer (negative minor units)."""
        return sum(line.paid_minor for line in self.lines)

    @property
    def settled_minor(self) -> int:
        """Total the payment platform takes back, VAT included (negative)."""
        return sum(line.settled_minor for line in self.lines)

    @property
    def tax_minor(self) -> int:
        """Total reversed VAT (negative)."""
        return sum(line.tax_minor for line in self.lines)

    @property
    def net_minor(self) -> int:
        """Total reversed net (negative)."""
        return sum(line.net_minor for line in self.lines)

    paid = _money_prop("paid_minor", "Total refunded to the customer.")
    settled = _money_prop("settled_minor", "Total taken back by the payment platform.")


def refund(
    *,
    order: TaxedOrder,
    returns: Mapping[str, int],
    refund_id: str,
    tax_date: date,
    already_returned: Mapping[str, int] | None = None,
) -> TaxedRefund:
    """Reverse the allocations and VAT of returned units.

    Args:
        order: The taxed original order.
        returns: Units returned now, per line id.
        refund_id: The merchant refund id.
        tax_date: Date of the refund (for reports; the VAT rate stays the sale's).
        already_returned: Units of each line returned by earlier refunds.

    Returns:
        A :class:`TaxedRefund` whose amounts are negative.

    Raises:
        RefundError: unknown line, a non-positive unit count, or more units than remain.
    """
    done = dict(already_returned or {})
    by_id = {
        al.line_id: (al, v) for al, v in zip(order.allocation.lines, order.vat.lines, strict=True)
    }
    out: list[RefundLine] = []
    explanation: list[str] = []
    for line_id, units in returns.items():
        if line_id not in by_id:
            raise RefundError(
                f"refund {refund_id!r} returns unknown line {line_id!r} of order "
                f"{order.order.order_id!r}",
                details={"line_id": line_id},
            )
        al, v = by_id[line_id]
        qty = al.line.quantity
        start = done.get(line_id, 0)
        if units <= 0 or start + units > qty:
            raise RefundError(
                f"refund {refund_id!r} returns {units} unit(s) of line {line_id!r} which has "
                f"{qty - start} unit(s) left to return (of {qty})",
                details={"line_id": line_id, "units": units, "remaining": qty - start},
            )

        def rev(total: int, qty: int = qty, start: int = start, units: int = units) -> int:
            return -unit_slice(total=total, quantity=qty, start=start, count=units)

        shares = tuple(
            Share(s.adjustment_id, s.kind, s.funder, rev(s.minor), s.currency) for s in al.shares
        )
        md = pd = ch = fe = 0
        for s in shares:
            effect = EFFECT[s.kind]
            if effect is Effect.DISCOUNT:
                if s.funder is Funder.PLATFORM:
                    pd += s.minor
                else:
                    md += s.minor
            elif effect is Effect.CHARGE:
                ch += s.minor
            else:
                fe += s.minor
        taxable = rev(al.taxable_minor)
        tax = rev(v.tax_minor)
        net = taxable - tax if v.prices_include_tax else taxable
        out.append(
            RefundLine(
                line_id=line_id,
                units=units,
                rate=v.rate,
                shares=shares,
                currency=al.currency,
                gross_minor=taxable + md - ch,
                merchant_discount_minor=md,
                platform_discount_minor=pd,
                charges_minor=ch,
                platform_fees_minor=fe,
                taxable_minor=taxable,
                net_minor=net,
                tax_minor=tax,
                first_unit=start,
            )
        )
        explanation.append(
            f"Line {line_id}: units {start + 1}..{start + units} of {qty} returned; each amount "
            "of the line was split over its units by largest remainder and those units' parts "
            "reversed."
        )
    return TaxedRefund(
        refund_id, order, tax_date, tuple(out), order.allocation.currency, tuple(explanation)
    )
