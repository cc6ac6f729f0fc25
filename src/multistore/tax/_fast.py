"""Hot-path integer kernels, bit-identical to :mod:`multistore.money`'s general functions.

:func:`multistore.money.allocate_minor` and :func:`multistore.money.round_minor` validate every
argument and accept Decimals and Fractions; the tax engine calls them millions of times with
already-validated ints. These kernels give the same results without the checks (the property
tests in ``tests/property/test_tax_properties.py`` assert the equality on random inputs).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["lr_split", "round_half_up_ratio"]


def lr_split(total: int, weights: Sequence[int]) -> list[int]:
    """Largest-remainder split of ``total`` over non-negative int ``weights`` (sum > 0).

    Same result as ``multistore.money.allocate_minor(total, weights)``: floors, then one unit
    each to the largest remainders, earlier parts first on ties; negative totals mirror.
    """
    wsum = sum(weights)
    mag = -total if total < 0 else total
    shares = [mag * w // wsum for w in weights]
    left = mag - sum(shares)
    if left:
        rems = [mag * w % wsum for w in weights]
        for i in sorted(range(len(rems)), key=rems.__getitem__, reverse=True)[:left]:
            shares[i] += 1
    if total < 0:
        return [-s for s in shares]
    return shares


def round_half_up_ratio(num: int, den: int) -> int:
    """``round_minor(Fraction(num, den))`` (half away from zero) for ``den > 0``, in ints."""
    if num >= 0:
        return (2 * num + den) // (2 * den)
    return -((-2 * num + den) // (2 * den))
