"""Largest-remainder allocation: multistore.money vs a straightforward Decimal implementation.

Both compute the same Hamilton apportionment; the baseline is how one would write it first
(Decimal shares, quantize down to the fen, hand out the leftover fen by remainder).
"""

from __future__ import annotations

import random
from decimal import ROUND_DOWN, Decimal

from money.money import Money

from benchmarks.harness import Row, time_per_call
from multistore import money as m

NAME = "money"
FEN = Decimal("0.01")


def decimal_allocate(total: Money, weights: list[int]) -> list[Money]:
    """Baseline: Decimal arithmetic on major units, as a first implementation would do it."""
    wsum = Decimal(sum(weights))
    exact = [total.amount * Decimal(w) / wsum for w in weights]
    floors = [e.quantize(FEN, rounding=ROUND_DOWN) for e in exact]
    left = int((total.amount - sum(floors)) / FEN)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += FEN
    return [Money(str(f), total.currency) for f in floors]


def run(scale: float) -> list[Row]:
    rng = random.Random(20261125)
    cases = [(5, "5-line cart"), (50, "50-line cart")]
    rows: list[Row] = []
    for n, label in cases:
        weights = [rng.randint(100, 100_000) for _ in range(n)]
        total = m.from_minor(rng.randint(100, 1_000_000), "CNY")
        assert [m.to_minor(x) for x in decimal_allocate(total, weights)] == [
            m.to_minor(x) for x in m.allocate(total, weights)
        ], "baseline and multistore must agree before they are timed"
        minor_total = m.to_minor(total)
        min_s = 0.2 * max(scale, 0.1)
        t_base = time_per_call(lambda t=total, w=weights: decimal_allocate(t, w), min_seconds=min_s)
        t_money = time_per_call(lambda t=total, w=weights: m.allocate(t, w), min_seconds=min_s)
        t_minor = time_per_call(
            lambda t=minor_total, w=weights: m.allocate_minor(t, w), min_seconds=min_s
        )
        case = f"allocate over a {label}"
        rows.append(Row(case, "baseline: Decimal", {"allocations/s": 1 / t_base, "speed-up": 1.0}))
        rows.append(
            Row(
                case,
                "multistore allocate (Money)",
                {"allocations/s": 1 / t_money, "speed-up": t_base / t_money},
            )
        )
        rows.append(
            Row(
                case,
                "multistore allocate_minor (int)",
                {"allocations/s": 1 / t_minor, "speed-up": t_base / t_minor},
            )
        )
    return rows
