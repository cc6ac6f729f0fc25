"""Cost allocation (成本分摊): spread order-level amounts over the order lines, exactly.

Coupons, 满减, points, platform subsidies, shipping fees, platform service fees and commissions
are recorded on the order; finance needs them per line (each line may carry another VAT rate,
another store or another cost). Each amount is split by largest remainder
(:func:`multistore.money.allocate_minor`), so the line shares always add up to the order amount
and each share is within one fen of its exact proportional value.

Rules:

* Adjustments are applied in the order given. Unless explicit weights are given, each is split
  in proportion to each line's *current* amount: the line amount after every earlier discount
  and charge.
* A discount never takes a line below zero: the excess is carried to the other eligible lines
  (in proportion to their weights), then to the other lines of the order; a discount larger
  than the whole order raises :class:`~multistore.tax.errors.AllocationError`.
* Each discount has a funder. Merchant-funded discounts reduce the taxable sale; platform-funded
  ones (platform coupons, subsidies) do not: the platform pays that part of the price, and it is
  reported separately as subsidy income.
* Platform service fees and commissions do not change what the customer pays; they are costs of
  the line, reported for margin and the platform income report.

Examples:
    >>> from multistore.money import money
    >>> lines = [
    ...     OrderLine(line_id="a", quantity=1, amount=money("60.00"), tax_category="general"),
    ...     OrderLine(line_id="b", quantity=2, amount=money("40.00"), tax_category="reduced"),
    ... ]
    >>> coupon = Adjustment(adjustment_id="c1", kind=AdjustmentKind.STORE_COUPON,
    ...                     amount=money("10.00"))
    >>> result = allocate(lines=lines, adjustments=[coupon])
    >>> [str(line.taxable.amount) for line in result.lines]
    ['54.00', '36.00']
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum

import attrs
from money.currency import Currency
from money.money import Money

from multistore import money as msmoney
from multistore.errors import CurrencyMismatchError
from multistore.money import apportion
from multistore.tax._fast import split_minor
from multistore.tax.errors import AllocationError

__all__ = [
    "Adjustment",
    "AdjustmentKind",
    "AllocatedLine",
    "Effect",
    "Funder",
    "OrderAllocation",
    "OrderLine",
    "Share",
    "allocate",
    "allocate_minor_lines",
]

Weight = int | Decimal


class AdjustmentKind(StrEnum):
    """What an order-level amount is."""

    STORE_COUPON = "store_coupon"
    PLATFORM_COUPON = "platform_coupon"
    FULL_REDUCTION = "full_reduction"
    POINTS = "points"
    PLATFORM_SUBSIDY = "platform_subsidy"
    SHIPPING_FEE = "shipping_fee"
    SERVICE_FEE = "service_fee"
    COMMISSION = "commission"


class Funder(StrEnum):
    """Who bears a discount (or pays a fee)."""

    MERCHANT = "merchant"
    PLATFORM = "platform"
    CUSTOMER = "customer"


class Effect(StrEnum):
    """How an adjustment acts on the line: reduces it, adds to it, or is a fee beside it."""

    DISCOUNT = "discount"
    CHARGE = "charge"
    FEE = "fee"


EFFECT: dict[AdjustmentKind, Effect] = {
    AdjustmentKind.STORE_COUPON: Effect.DISCOUNT,
    AdjustmentKind.PLATFORM_COUPON: Effect.DISCOUNT,
    AdjustmentKind.FULL_REDUCTION: Effect.DISCOUNT,
    AdjustmentKind.POINTS: Effect.DISCOUNT,
    AdjustmentKind.PLATFORM_SUBSIDY: Effect.DISCOUNT,
    AdjustmentKind.SHIPPING_FEE: Effect.CHARGE,
    AdjustmentKind.SERVICE_FEE: Effect.FEE,
    AdjustmentKind.COMMISSION: Effect.FEE,
}

DEFAULT_FUNDER: dict[AdjustmentKind, Funder] = {
    AdjustmentKind.STORE_COUPON: Funder.MERCHANT,
    AdjustmentKind.PLATFORM_COUPON: Funder.PLATFORM,
    AdjustmentKind.FULL_REDUCTION: Funder.MERCHANT,
    AdjustmentKind.POINTS: Funder.MERCHANT,
    AdjustmentKind.PLATFORM_SUBSIDY: Funder.PLATFORM,
    AdjustmentKind.SHIPPING_FEE: Funder.CUSTOMER,
    AdjustmentKind.SERVICE_FEE: Funder.MERCHANT,
    AdjustmentKind.COMMISSION: Funder.MERCHANT,
}


@attrs.frozen
class OrderLine:
    """One order line before order-level adjustments.

    Attributes:
        line_id: Unique id of the line within the order.
        quantity: Units on the line (> 0).
        amount: Line amount after line-level promotions (tax-inclusive unless the order says
            otherwise), not negative.
        tax_category: Category in the rate table (``"general"``, ``"reduced"``...).
        sku: SKU id (informational).
        name: Item name used on invoices.
        cost: Cost of goods for the whole line, when known (for gross margin).
    """

    line_id: str
    quantity: int
    amount: Money
    tax_category: str
    sku: str = ""
    name: str = ""
    cost: Money | None = None


@attrs.frozen
class Adjustment:
    """An order-level amount to spread over lines.

    Attributes:
        adjustment_id: Id of the coupon, fee or promotion.
        kind: What it is.
        amount: Its magnitude (not negative); discounts and fees are given as positive amounts.
        funder: Who bears it; defaults by kind (store coupon, 满减, points: merchant; platform
            coupon and subsidy: platform).
        line_ids: Lines it applies to; empty means every line.
        weights: Explicit weights, one per eligible line (in ``line_ids`` order, or order line
            order); ``None`` means each line's current amount.
    """

    adjustment_id: str
    kind: AdjustmentKind
    amount: Money
    funder: Funder | None = None
    line_ids: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    weights: tuple[Weight, ...] | None = None

    @property
    def effective_funder(self) -> Funder:
        """The funder, or the default funder of the kind."""
        return self.funder if self.funder is not None else DEFAULT_FUNDER[self.kind]


@attrs.frozen
class Share:
    """What one line received of one adjustment.

    Attributes:
        adjustment_id: The adjustment.
        kind: Its kind.
        funder: Who bears it.
        minor: The share in minor units (as a magnitude, like the adjustment's amount).
        currency: The currency.
    """

    adjustment_id: str
    kind: AdjustmentKind
    funder: Funder
    minor: int
    currency: Currency

    @property
    def amount(self) -> Money:
        """The share as Money."""
        return msmoney.from_minor(self.minor, self.currency)


def _money_prop(name: str, doc: str) -> property:
    def getter(self: AllocatedLine | OrderAllocation) -> Money:
        return msmoney.from_minor(getattr(self, name), self.currency)

    getter.__doc__ = doc
    return property(getter)


@attrs.frozen
class AllocatedLine:
    """A line with its shares of every order-level adjustment.

    Integer fields are minor units (fen); the properties of the same name without ``_minor``
    return Money.

    Attributes:
        line: The original line.
        shares: One share per adjustment, in adjustment order.
        currency: The currency of every amount.
        gross_minor: The line amount before adjustments.
        merchant_discount_minor: Discounts borne by the merchant (reduce taxable sales).
        platform_discount_minor: Discounts borne by the platform (subsidy income).
        charges_minor: Charges added to the line (shipping).
        platform_fees_minor: Platform service fees and commissions.
    """

    line: OrderLine
    shares: tuple[Share, ...]
    currency: Currency
    gross_minor: int
    merchant_discount_minor: int
    platform_discount_minor: int
    charges_minor: int
    platform_fees_minor: int

    @property
    def line_id(self) -> str:
        """The line id."""
        return self.line.line_id

    @property
    def taxable_minor(self) -> int:
        """Sales amount subject to VAT: gross - merchant discounts + charges (minor units)."""
        return self.gross_minor - self.merchant_discount_minor + self.charges_minor

    @property
    def paid_minor(self) -> int:
        """Taxable amount minus platform-funded discounts (minor units).

        This is what the customer paid for tax-inclusive prices; the allocation knows nothing of
        VAT, so for tax-exclusive prices use :attr:`multistore.tax.TaxedOrder.paid_minor`,
        which adds the VAT.
        """
        return self.taxable_minor - self.platform_discount_minor

    @property
    def settlement_minor(self) -> int:
        """What the merchant receives: paid + platform subsidy - platform fees (minor units)."""
        return self.taxable_minor - self.platform_fees_minor

    gross = _money_prop("gross_minor", "The line amount before adjustments.")
    merchant_discount = _money_prop("merchant_discount_minor", "Merchant-funded discounts.")
    platform_discount = _money_prop("platform_discount_minor", "Platform-funded discounts.")
    charges = _money_prop("charges_minor", "Charges (shipping) allocated to the line.")
    platform_fees = _money_prop("platform_fees_minor", "Service fees and commissions.")
    taxable = _money_prop("taxable_minor", "The taxable sales amount of the line.")
    paid = _money_prop("paid_minor", "What the customer paid for the line.")
    settlement = _money_prop("settlement_minor", "What the merchant receives for the line.")


@attrs.frozen
class OrderAllocation:
    """The result of :func:`allocate`.

    Attributes:
        lines: Allocated lines in order-line order.
        adjustments: The adjustments, in the order applied.
        currency: The currency.
        explanation: Plain sentences on how each adjustment was spread.
    """

    lines: tuple[AllocatedLine, ...]
    adjustments: tuple[Adjustment, ...]
    currency: Currency
    explanation: tuple[str, ...] = ()

    def _total(self, name: str) -> int:
        return sum(getattr(line, name) for line in self.lines)

    @property
    def gross_minor(self) -> int:
        """Sum of line amounts (minor units)."""
        return self._total("gross_minor")

    @property
    def taxable_minor(self) -> int:
        """Sum of taxable line amounts (minor units)."""
        return self._total("taxable_minor")

    @property
    def paid_minor(self) -> int:
        """Sum of the lines' :attr:`AllocatedLine.paid_minor` (VAT-exclusive for net prices)."""
        return self._total("paid_minor")

    @property
    def platform_discount_minor(self) -> int:
        """Sum of platform-funded discounts (minor units)."""
        return self._total("platform_discount_minor")

    @property
    def platform_fees_minor(self) -> int:
        """Sum of platform fees (minor units)."""
        return self._total("platform_fees_minor")

    gross = _money_prop("gross_minor", "Sum of line amounts.")
    taxable = _money_prop("taxable_minor", "Sum of taxable line amounts.")
    paid = _money_prop("paid_minor", "What the customer paid for the order.")


def _lr(total: int, weights: Sequence[Weight]) -> list[int]:
    """Largest remainder: the int fast path, or ``allocate_minor`` for Decimal weights."""
    for w in weights:
        if type(w) is not int or w < 0:
            return msmoney.allocate_minor(total, weights)
    return apportion(total, weights)  # type: ignore[arg-type]


def _split(total: int, weights: Sequence[Weight], caps: Sequence[int] | None) -> list[int]:
    """Largest-remainder split of ``total`` over ``weights``, no part above its cap."""
    n = len(weights)
    if total == 0:
        return [0] * n
    if not any(weights):
        weights = list(caps) if caps is not None and any(caps) else [1] * n
    shares = _lr(total, weights)
    if caps is None:
        return shares
    frozen: set[int] = set()
    while True:
        excess = 0
        for i in range(n):
            if shares[i] > caps[i]:
                excess += shares[i] - caps[i]
                shares[i] = caps[i]
                frozen.add(i)
        if not excess:
            return shares
        room = [i for i in range(n) if i not in frozen and shares[i] < caps[i]]
        if not room:
            raise AllocationError("internal: no room left", code="tax.allocation_exceeds")
        sub = [weights[i] for i in room]
        if not any(sub):
            sub = [caps[i] - shares[i] for i in room]
        for i, extra in zip(room, _lr(excess, sub), strict=True):
            shares[i] += extra


def _fast_row(current: list[int], total: int, effect: Effect) -> list[int] | None:
    """Hot path: every line, weights = current amounts; ``None`` when it does not apply.

    Same result as the general path: proportional to current amounts, a discount share never
    exceeds its line (ceil(total * c / sum) <= c when total <= sum), so no cap can bind.
    """
    wsum = sum(current)
    if wsum <= 0 or (effect is Effect.DISCOUNT and total > wsum):
        return None
    row = split_minor(total, current, wsum)
    if effect is Effect.DISCOUNT:
        for i, x in enumerate(row):
            current[i] -= x
    elif effect is Effect.CHARGE:
        for i, x in enumerate(row):
            current[i] += x
    return row


def allocate_minor_lines(  # noqa: PLR0912 - fast path, eligible lines and carry-over
    *,
    amounts: Sequence[int],
    adjustments: Sequence[tuple[Effect, int]]
    | Sequence[tuple[Effect, int, Sequence[int] | None, Sequence[Weight] | None]],
) -> list[list[int]]:
    """The integer core of :func:`allocate`: split each adjustment over lines in minor units.

    Args:
        amounts: Line amounts in minor units (not negative).
        adjustments: ``(effect, total)`` or ``(effect, total, eligible_indexes, weights)`` per
            adjustment, applied in order; ``total`` is a non-negative magnitude.

    Returns:
        One list of line shares per adjustment, each summing exactly to its total.

    Raises:
        AllocationError: ``tax.allocation_exceeds`` when a discount exceeds what the lines hold.

    Examples:
        >>> allocate_minor_lines(amounts=[600, 400], adjustments=[(Effect.DISCOUNT, 101)])
        [[61, 40]]
    """
    current = list(amounts)
    n = len(current)
    out: list[list[int]] = []
    for adj in adjustments:
        effect, total = adj[0], adj[1]
        eligible: Sequence[int] | None = adj[2] if len(adj) > 2 else None
        weights: Sequence[Weight] | None = adj[3] if len(adj) > 3 else None
        if eligible is None and weights is None and total >= 0:
            fast = _fast_row(current, total, effect)
            if fast is not None:
                out.append(fast)
                continue
        idx = list(range(n)) if not eligible else list(eligible)
        w: Sequence[Weight] = [current[i] for i in idx] if weights is None else weights
        row = [0] * n
        if effect is Effect.DISCOUNT:
            caps = [current[i] for i in idx]
            room = sum(caps)
            first = min(total, room)
            for i, s in zip(idx, _split(first, w, caps), strict=True):
                row[i] = s
            rest = total - first
            if rest:
                others = [i for i in range(n) if i not in set(idx)]
                ocaps = [current[i] for i in others]
                if rest > sum(ocaps):
                    raise AllocationError(
                        f"a discount of {total} minor units exceeds the {sum(current)} the "
                        "order's lines hold; reduce the discount",
                        code="tax.allocation_exceeds",
                    )
                for i, s in zip(others, _split(rest, ocaps, ocaps), strict=True):
                    row[i] = s
            for i in range(n):
                current[i] -= row[i]
        else:
            for i, s in zip(idx, _split(total, w, None), strict=True):
                row[i] = s
            if effect is Effect.CHARGE:
                for i in range(n):
                    current[i] += row[i]
        out.append(row)
    return out


def allocate(  # noqa: PLR0912 - validation and bookkeeping in one pass
    *, lines: Sequence[OrderLine], adjustments: Sequence[Adjustment] = ()
) -> OrderAllocation:
    """Allocate order-level adjustments to order lines by largest remainder.

    Args:
        lines: The order lines (at least one; unique ids; one currency).
        adjustments: Coupons, 满减, points, subsidies, shipping and platform fees, applied in
            this order.

    Returns:
        An :class:`OrderAllocation` whose line shares sum exactly to each adjustment.

    Raises:
        AllocationError: no lines, duplicate or unknown line ids, a negative amount or quantity,
            wrong weights, or a discount larger than the order.
        CurrencyMismatchError: when amounts use different currencies.
    """
    if not lines:
        raise AllocationError("an order needs at least one line to allocate to")
    cur = lines[0].amount.currency
    index: dict[str, int] = {}
    amounts: list[int] = []
    for i, line in enumerate(lines):
        if line.line_id in index:
            raise AllocationError(f"duplicate line id {line.line_id!r}; line ids must be unique")
        index[line.line_id] = i
        if line.amount.currency is not cur:
            raise CurrencyMismatchError(
                f"line {line.line_id!r} is in {line.amount.currency.value} but the order is in "
                f"{cur.value}; use one currency per order",
                details={"line_id": line.line_id},
            )
        if line.quantity <= 0:
            raise AllocationError(f"line {line.line_id!r} has quantity {line.quantity}; use >= 1")
        minor = msmoney.to_minor(line.amount)
        if minor < 0:
            raise AllocationError(f"line {line.line_id!r} has a negative amount; use >= 0")
        amounts.append(minor)
    specs: list[tuple[Effect, int, Sequence[int] | None, Sequence[Weight] | None]] = []
    for adj in adjustments:
        if adj.amount.currency is not cur:
            raise CurrencyMismatchError(
                f"adjustment {adj.adjustment_id!r} is in {adj.amount.currency.value} but the "
                f"order is in {cur.value}",
                details={"adjustment_id": adj.adjustment_id},
            )
        total = msmoney.to_minor(adj.amount)
        if total < 0:
            raise AllocationError(
                f"adjustment {adj.adjustment_id!r} is negative; give discounts and fees as "
                "positive amounts"
            )
        unknown = [lid for lid in adj.line_ids if lid not in index]
        if unknown:
            raise AllocationError(
                f"adjustment {adj.adjustment_id!r} names unknown lines {unknown}",
                details={"adjustment_id": adj.adjustment_id},
            )
        eligible = [index[lid] for lid in adj.line_ids] or None
        count = len(eligible) if eligible else len(lines)
        if adj.weights is not None and len(adj.weights) != count:
            raise AllocationError(
                f"adjustment {adj.adjustment_id!r} has {len(adj.weights)} weights for {count} "
                "lines; give one weight per eligible line"
            )
        specs.append((EFFECT[adj.kind], total, eligible, adj.weights))
    rows = allocate_minor_lines(amounts=amounts, adjustments=specs)
    funders = [adj.effective_funder for adj in adjustments]  # enum lookups once per order
    meta = [
        (adj.adjustment_id, adj.kind, funder, spec[0], row)
        for adj, funder, spec, row in zip(adjustments, funders, specs, rows, strict=True)
    ]
    out: list[AllocatedLine] = []
    for i, line in enumerate(lines):
        shares: list[Share] = []
        md = pd = ch = fe = 0
        for adj_id, kind, funder, effect, row in meta:
            s = row[i]
            shares.append(Share(adj_id, kind, funder, s, cur))
            if effect is Effect.DISCOUNT:
                if funder is Funder.PLATFORM:
                    pd += s
                else:
                    md += s
            elif effect is Effect.CHARGE:
                ch += s
            else:
                fe += s
        out.append(AllocatedLine(line, tuple(shares), cur, amounts[i], md, pd, ch, fe))
    explanation = _explain(lines, adjustments, funders, rows, cur)
    return OrderAllocation(tuple(out), tuple(adjustments), cur, explanation)


def _explain(
    lines: Sequence[OrderLine],
    adjustments: Sequence[Adjustment],
    funders: Sequence[Funder],
    rows: Sequence[Sequence[int]],
    cur: Currency,
) -> tuple[str, ...]:
    """One sentence per adjustment: what it was, who funds it, the shares it gave."""
    code = cur.value
    return tuple(
        f"{adj.kind.value} {adj.adjustment_id} of {adj.amount.amount} {code} "
        f"(funded by {funder.value}) was split over "
        f"{len(adj.line_ids) or len(lines)} line(s) by largest remainder "
        + ("with the given weights: " if adj.weights is not None else "by current amount: ")
        + ", ".join(f"{line.line_id}={s}" for line, s in zip(lines, row, strict=True) if s)
        + " (minor units)."
        for adj, funder, row in zip(adjustments, funders, rows, strict=True)
    )
