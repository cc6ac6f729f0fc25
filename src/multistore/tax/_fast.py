"""Integer kernels behind the per-order hot paths of :mod:`multistore.tax`.

Plain Python ints only: no Money, Decimal or Fraction arithmetic inside the loops. Each kernel
returns exactly what its reference returns (property-tested):

* :func:`split_minor` is :func:`multistore.money.apportion` (largest remainder, earlier line
  first on ties) with straight-line code for one and two lines, the most common order sizes.
* :func:`rate_terms` turns a rate Fraction into the integers that
  :func:`~multistore.tax.vat_split_minor` divides by, once per rate object.

Callers validate their input once at the API boundary; these functions do not re-check it.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from multistore.tax.errors import AllocationError

__all__ = ["TERMS", "rate_terms", "split_minor"]

Terms = tuple[Fraction, int, int, int, int, int]

TERMS: dict[int, Terms] = {}
"""Cache of :func:`rate_terms` by ``id(rate)``; look up with ``TERMS.get(id(rate))``."""

_TERMS_MAX = 1024


def rate_terms(rate: Fraction) -> Terms:
    """Return ``(rate, 2q, q + p, 2(q + p), 2p, q)`` for ``rate = p / q``, cached per object.

    For a line amount ``t >= 0``: tax-inclusive ``net = (t * 2q + (q + p)) // (2(q + p))``,
    tax-exclusive ``tax = (t * 2p + q) // 2q``; both are ``round_half_up`` of the exact
    quotient, as :func:`multistore.money.div_round_half_up`.

    The cache is keyed by ``id(rate)`` and holds the rate itself, so a cached id cannot be
    reused by another object while its entry exists.

    Raises:
        AllocationError: a negative rate.
    """
    terms = TERMS.get(id(rate))
    if terms is None:
        if rate < 0:
            raise AllocationError(f"rate {rate} is negative; rates must be >= 0")
        p, q = rate.numerator, rate.denominator
        if len(TERMS) >= _TERMS_MAX:
            TERMS.clear()
        terms = (rate, 2 * q, q + p, 2 * (q + p), 2 * p, q)
        TERMS[id(rate)] = terms
    return terms


def split_minor(total: int, weights: Sequence[int], wsum: int) -> list[int]:
    """Largest-remainder split of ``total >= 0`` over ``weights >= 0`` summing to ``wsum > 0``.

    Same result as :func:`multistore.money.apportion`: floor shares, then one more unit to the
    largest remainders, the earlier weight first on ties.

    Examples:
        >>> split_minor(10, [1, 1, 1], 3)
        [4, 3, 3]
        >>> split_minor(101, [600, 400], 1000)
        [61, 40]
    """
    n = len(weights)
    if n == 1:
        return [total]
    if n == 2:
        x0 = total * weights[0]
        q0 = x0 // wsum
        q1 = total * weights[1] // wsum
        # one unit left at most; remainders r0 + r1 == wsum, so r0 >= r1 iff 2 r0 >= wsum
        if q0 + q1 != total:
            if 2 * (x0 - q0 * wsum) >= wsum:
                q0 += 1
            else:
                q1 += 1
        return [q0, q1]
    row = [total * w // wsum for w in weights]
    left = total - sum(row)
    if left:
        rem = [total * w % wsum for w in weights]
        if left == 1:
            row[rem.index(max(rem))] += 1
        else:
            for i in sorted(range(n), key=rem.__getitem__, reverse=True)[:left]:
                row[i] += 1
    return row
