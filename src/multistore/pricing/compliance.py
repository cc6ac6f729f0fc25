"""Reference-price ("was" price, 划线价) compliance.

Under the PRC rules on price markdowns, a "was" price shown with a promotion must not exceed
the lowest price the item actually sold for in the 7 days before the promotion starts; when it
did not sell in those 7 days, the last transaction price before that applies. A "was" price
with no sale at all to back it is flagged too.

The history comes through the :class:`multistore.ports.promotions.PriceHistory` port (any
object with its ``sales`` method), so this stays pure.

Examples:
    >>> from datetime import datetime, timezone
    >>> from multistore.pricing.promotions import load_promotion
    >>> promo = load_promotion({"id": "P", "type": "percent_off", "percent": 10,
    ...     "starts_at": "2026-11-11T00:00:00+08:00", "reference_prices": {"tea": "120"}})
    >>> class History:
    ...     def sales(self, *, sku, since, until):
    ...         return [SalePoint(sku="tea", at=datetime(2026, 11, 8, tzinfo=timezone.utc),
    ...                           unit_price=Decimal("99.00"))]
    >>> report = check_reference_prices(promotions=[promo], history=History())
    >>> report.ok, report.findings[0].allowed_max
    (False, Decimal('99.00'))
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol

import attrs

from multistore.pricing.errors import PromotionValidationError
from multistore.pricing.promotions import Promotion

__all__ = [
    "ComplianceFinding",
    "ComplianceReport",
    "SaleHistory",
    "SalePoint",
    "check_reference_prices",
]

LOOKBACK = timedelta(days=7)


@attrs.frozen
class SalePoint:
    """One actual sale of a SKU: when and at what unit price (major units, after discounts)."""

    sku: str
    at: datetime
    unit_price: Decimal


class SaleHistory(Protocol):
    """What the compliance check needs from a price history (see the PriceHistory port)."""

    def sales(self, *, sku: str, since: datetime | None, until: datetime) -> Sequence[SalePoint]:
        """Return the sales of ``sku`` in ``[since, until)`` (all before ``until`` if no since)."""
        ...


@attrs.frozen
class ComplianceFinding:
    """A "was" price above what the rules allow.

    Attributes:
        promotion_id: The promotion showing the price.
        sku: The product.
        reference_price: The "was" price shown.
        allowed_max: The highest "was" price allowed, or ``None`` when no sale backs any.
        basis: ``lowest_7_days``, ``last_transaction`` or ``no_sales``.
        message: A plain sentence.
    """

    promotion_id: str
    sku: str
    reference_price: Decimal
    allowed_max: Decimal | None
    basis: str
    message: str


@attrs.frozen
class ComplianceReport:
    """The result of a reference-price check.

    Attributes:
        findings: Every offending "was" price.
        checked: How many (promotion, SKU) reference prices were checked.
        explanation: Plain sentences.
    """

    findings: tuple[ComplianceFinding, ...]
    checked: int
    explanation: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether every reference price complies."""
        return not self.findings


def check_reference_prices(
    *,
    promotions: Sequence[Promotion],
    history: SaleHistory,
    mode: Literal["flag", "reject"] = "flag",
    now: datetime | None = None,
) -> ComplianceReport:
    """Check every promotion's ``reference_prices`` against the sale history.

    Args:
        promotions: Promotions to check; those without reference prices are skipped.
        history: Where actual sales come from.
        mode: ``flag`` returns the findings; ``reject`` raises when there are any.
        now: The start assumed for promotions without ``starts_at``.

    Returns:
        The report with one finding per offending (promotion, SKU).

    Raises:
        PromotionValidationError: ``promotion.reference_price_too_high`` in ``reject`` mode,
            listing every finding in ``details["errors"]``.
        ValueError: when a promotion has reference prices but neither ``starts_at`` nor
            ``now`` is given.
    """
    findings: list[ComplianceFinding] = []
    checked = 0
    for p in promotions:
        if not p.reference_prices:
            continue
        start = p.starts_at or now
        if start is None:
            raise PromotionValidationError(
                f"promotion {p.id!r} has reference prices but no starts_at; pass now=",
                code="promotion.invalid_window",
            )
        for sku, ref in sorted(p.reference_prices.items()):
            checked += 1
            recent = [
                s.unit_price for s in history.sales(sku=sku, since=start - LOOKBACK, until=start)
            ]
            if recent:
                allowed: Decimal | None = min(recent)
                basis = "lowest_7_days"
            else:
                before = sorted(history.sales(sku=sku, since=None, until=start), key=lambda s: s.at)
                allowed = before[-1].unit_price if before else None
                basis = "last_transaction" if before else "no_sales"
            if allowed is not None and ref <= allowed:
                continue
            if allowed is None:
                msg = f"{p.id}: was-price {ref} for {sku} has no sale to back it"
            elif basis == "lowest_7_days":
                msg = (
                    f"{p.id}: was-price {ref} for {sku} exceeds the lowest price in the 7 days "
                    f"before the promotion ({allowed})"
                )
            else:
                msg = (
                    f"{p.id}: was-price {ref} for {sku} exceeds the last transaction price "
                    f"({allowed}); it did not sell in the 7 days before the promotion"
                )
            findings.append(ComplianceFinding(p.id, sku, ref, allowed, basis, msg))
    if findings and mode == "reject":
        raise PromotionValidationError(
            f"{len(findings)} reference price(s) too high: "
            + "; ".join(f.message for f in findings),
            code="promotion.reference_price_too_high",
            details={
                "errors": [
                    {
                        "field": f"{f.promotion_id}.reference_prices.{f.sku}",
                        "problem": f.message,
                        "code": "promotion.reference_price_too_high",
                    }
                    for f in findings
                ]
            },
        )
    explanation = (
        f"Checked {checked} reference price(s); {len(findings)} too high.",
        *(f.message for f in findings),
    )
    return ComplianceReport(findings=tuple(findings), checked=checked, explanation=explanation)
