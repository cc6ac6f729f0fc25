"""Content review: product copy passes a reviewer before the catalog stores or publishes it.

A compliance adapter (advertising-law wording, banned claims, image checks) implements
:class:`ContentReviewer`; :class:`PassThroughReviewer`, the default of
:func:`multistore.connect`, approves everything. The catalog calls the reviewer before it writes
anything, so a rejected product leaves no trace but the rejection.

Example:
    >>> from multistore.testing.builders import sample_product
    >>> PassThroughReviewer().review(sample_product("P1", ["K1"])).approved
    True
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

from multistore.catalog.model import Product

__all__ = ["ContentReviewer", "PassThroughReviewer", "ReviewResult"]


def _reasons(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)  # type: ignore[attr-defined]


@attrs.frozen
class ReviewResult:
    """A reviewer's verdict on a product's copy.

    Attributes:
        approved: Whether the copy may be stored and published.
        reasons: Plain sentences: why it was rejected (or notes on an approval).
        reviewer: Who or what reviewed it (for the audit log).
    """

    approved: bool
    reasons: tuple[str, ...] = attrs.field(default=(), converter=_reasons)
    reviewer: str = "pass-through"

    @classmethod
    def approve(cls, *, reviewer: str = "pass-through") -> ReviewResult:
        """An approval without remarks."""
        return cls(approved=True, reviewer=reviewer)

    @classmethod
    def reject(cls, *reasons: str, reviewer: str) -> ReviewResult:
        """A rejection with the sentences that say what to change."""
        return cls(approved=False, reasons=reasons, reviewer=reviewer)


@runtime_checkable
class ContentReviewer(Protocol):
    """Reviews a product's copy (names, descriptions, specs, image references)."""

    def review(self, product: Product) -> ReviewResult:
        """Return the verdict. Must not write anything; may be called more than once."""
        ...


class PassThroughReviewer:
    """Approves every product (the default until a compliance adapter is configured)."""

    def review(self, product: Product) -> ReviewResult:
        """Approve ``product``."""
        return ReviewResult.approve()
