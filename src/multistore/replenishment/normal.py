"""The standard normal distribution without SciPy: density, CDF, inverse and loss functions.

The loss function ``G(z) = E[(Z - z)^+] = phi(z) - z * (1 - Phi(z))`` gives the expected shortage
per unit of standard deviation; it links a fill-rate target to a safety factor.

Examples:
    >>> round(ppf(0.95), 6)
    1.644854
    >>> round(loss(0.0), 6)
    0.398942
"""

from __future__ import annotations

import math
from statistics import NormalDist

from multistore.replenishment.errors import InvalidParameterError, InvalidServiceLevelError

__all__ = ["cdf", "complementary_loss", "inverse_loss", "loss", "pdf", "ppf", "sf"]

_STD = NormalDist()
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)


def pdf(z: float) -> float:
    """Standard normal density ``phi(z)``."""
    return _INV_SQRT_2PI * math.exp(-0.5 * z * z)


def cdf(z: float) -> float:
    """Standard normal cumulative distribution ``Phi(z)``."""
    return 0.5 * math.erfc(-z * _SQRT1_2)


def sf(z: float) -> float:
    """Standard normal survival function ``1 - Phi(z)``, accurate in the upper tail."""
    return 0.5 * math.erfc(z * _SQRT1_2)


def ppf(p: float) -> float:
    """Inverse of the standard normal CDF: the ``z`` with ``Phi(z) = p``.

    Args:
        p: A probability strictly between 0 and 1 (a cycle service level, a critical ratio).

    Raises:
        InvalidServiceLevelError: ``replenishment.invalid_service_level`` when ``p`` is not in
            (0, 1).
    """
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 < p < 1.0:
        raise InvalidServiceLevelError(
            f"service level {p!r} must lie strictly between 0 and 1 (for example 0.95)",
            details={"value": p},
        )
    return _STD.inv_cdf(p)


def loss(z: float) -> float:
    """Standard normal loss function ``G(z) = E[(Z - z)^+] = phi(z) - z * (1 - Phi(z))``."""
    return pdf(z) - z * sf(z)


def complementary_loss(z: float) -> float:
    """Complementary loss ``E[(z - Z)^+] = G(z) + z`` (expected leftover per unit of sigma)."""
    return loss(z) + z


def inverse_loss(g: float) -> float:
    """The ``z`` with ``G(z) = g``; ``G`` falls strictly from +inf to 0, so it is unique.

    Solved by Newton's method (``G'(z) = -(1 - Phi(z))``) safeguarded by bisection, to about
    1e-12 in ``z``.

    Raises:
        InvalidParameterError: ``replenishment.invalid_parameter`` when ``g`` is not positive.
    """
    if isinstance(g, bool) or not isinstance(g, int | float) or not g > 0 or math.isinf(g):
        raise InvalidParameterError(
            f"the loss-function value {g!r} must be a positive finite number",
            details={"value": g},
        )
    lo, hi = -1.0, 1.0
    while loss(lo) < g:
        lo *= 2.0
    while loss(hi) > g:
        hi *= 2.0
        if hi > 64.0:  # G(40) underflows to 0: nothing positive lies beyond
            return hi
    z = 0.5 * (lo + hi)
    for _ in range(200):
        value = loss(z) - g
        if value > 0:
            lo = z
        else:
            hi = z
        slope = -sf(z)
        step = value / slope if slope else 0.0
        candidate = z - step
        if not lo < candidate < hi:
            candidate = 0.5 * (lo + hi)
        if abs(candidate - z) <= 1e-13 * max(1.0, abs(z)):
            return candidate
        z = candidate
    return z
