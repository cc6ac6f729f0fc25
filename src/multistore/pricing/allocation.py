"""Allocation of a discount to lines: largest remainder, capped per line, excess carried on.

Examples:
    >>> allocate_capped(total=100, weights=[50, 50], caps=[30, 100])
    [30, 70]
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from multistore.money import apportion

__all__ = ["allocate_capped"]


def allocate_capped(*, total: int, weights: Sequence[int], caps: Sequence[int]) -> list[int]:
    """Split ``total`` minor units over lines by weight, never above a line's cap.

    Each round splits what is left by largest remainder (:func:`multistore.money.allocate_minor`,
    through its unchecked kernel :func:`multistore.money.apportion`)
    over the lines that still have room, weighted by ``weights``; a line's share above its cap is
    cut to the cap and the excess goes to the next round. Lines with zero weight receive only
    when no weighted line has room left (then by their remaining room). So the parts sum to
    ``min(total, sum(caps))``, each part lies in ``[0, cap]``, and the split is deterministic.

    Args:
        total: Non-negative minor units to distribute.
        weights: Non-negative weight per line (usually the line's amount at this lane).
        caps: Non-negative maximum per line (what is left on the line above its floor).

    Returns:
        The part of each line, in input order.
    """
    n = len(weights)
    room = [c if c > 0 else 0 for c in caps]
    left = min(total if total > 0 else 0, sum(room))
    if left <= 0:
        return [0] * n
    if min(weights) > 0 and min(room) > 0:
        # Common case: every line weighted and open. One largest-remainder round is the
        # answer when no share exceeds its line's room (``apportion`` is the checked-once
        # kernel of ``allocate_minor``: weights are validated positive ints here).
        first = apportion(left, weights)
        if not any(map(operator.gt, first, room)):
            return first
    parts = [0] * n
    while left > 0:
        open_idx = [i for i in range(n) if room[i] > 0 and weights[i] > 0]
        if open_idx:
            w = [weights[i] for i in open_idx]
        else:
            open_idx = [i for i in range(n) if room[i] > 0]
            w = [room[i] for i in open_idx]
        shares = apportion(left, w)
        for i, share in zip(open_idx, shares, strict=True):
            take = min(share, room[i])
            parts[i] += take
            room[i] -= take
            left -= take
    return parts
