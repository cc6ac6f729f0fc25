"""The shared shape of a benchmark result and helpers to time code fairly.

Each benchmark module ``benchmarks/bench_<name>.py`` defines::

    NAME = "routing"

    def run(scale: float) -> list[Row]:
        ...

``scale`` is 1.0 for the full suite described in the issue; smaller values (``--scale 0.05``)
shrink instance counts for a quick look. Rows compare a *subject* (multistore) with baselines
measured in the same process, so the ratios are meaningful on any machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["Row", "percentile", "time_per_call", "timed"]

Metric = float | int | str


@dataclass(frozen=True)
class Row:
    """One measured subject in one benchmark case.

    Attributes:
        case: What was measured (``"300 random orders, 50 stores x 10 lines"``).
        subject: Who was measured (``"multistore exact"``, ``"baseline: HiGHS MILP"``).
        metrics: Named figures (``{"orders/s": 812.0, "mean gap %": 0.0}``).
        note: Optional remark printed under the table.
    """

    case: str
    subject: str
    metrics: Mapping[str, Metric] = field(default_factory=dict)
    note: str = ""


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Run ``fn`` once; return (seconds, result) using a monotonic high-resolution clock."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def time_per_call(fn: Callable[[], object], *, min_seconds: float = 0.2, repeat: int = 3) -> float:
    """Best-of-``repeat`` seconds per call of ``fn``, looping until ``min_seconds`` per round."""
    best = float("inf")
    for _ in range(repeat):
        n = 0
        start = time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / n)
    return best


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (0-100) of ``values`` by linear interpolation; 0.0 when empty."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, int(pct) - 1))]
