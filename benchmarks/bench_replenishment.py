"""Replenishment benchmark: closed-form policies for many pairs, Croston-family fits.

Cases (``scale`` = 1.0 is the issue's suite):

* Closed-form (r, Q) levels -- safety stock with lead-time variability, reorder point, EOQ --
  for 10^6 (store, sku) pairs from summary statistics: multistore pure Python and NumPy paths
  against stockpyl's ``r_q_eoqss_approximation`` called once per pair (its per-call speed
  measured on a sample), plus the largest relative difference from stockpyl on that sample.
* Croston, SBA and TSB fits on 2-year daily intermittent histories (730 days): series per second,
  against a textbook period-by-period Croston loop and stockpyl's per-call speed for one
  closed-form policy per series (stockpyl has no intermittent-demand forecaster).
"""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np
from stockpyl.newsvendor import newsvendor_normal
from stockpyl.rq import r_q_eoqss_approximation

from benchmarks.harness import Row, time_per_call, timed
from multistore.replenishment import (
    bulk_policies,
    croston,
    fit_intermittent_many,
    numpy_available,
    rq_eoq_ss,
    sba,
    tsb,
)

NAME = "replenishment"


def _pairs(n: int, rng: random.Random) -> tuple[list[float], list[float], list[float], list[float]]:
    dm = [rng.uniform(0.1, 50.0) for _ in range(n)]
    ds = [rng.uniform(0.1, 10.0) for _ in range(n)]
    lt = [float(rng.randint(1, 14)) for _ in range(n)]
    lts = [rng.uniform(0.0, 3.0) for _ in range(n)]
    return dm, ds, lt, lts


def _closed_form(scale: float) -> list[Row]:
    rng = random.Random(6)
    n = max(1000, int(1_000_000 * scale))
    dm, ds, lt, lts = _pairs(n, rng)
    case = f"closed-form (r, Q) levels for {n:,} (store, sku) pairs"
    k, h, p = Decimal(50), Decimal("0.02"), Decimal("1.5")
    rows: list[Row] = []
    py_s, _ = timed(
        lambda: bulk_policies(
            demand_mean=dm,
            demand_std=ds,
            lead_time=lt,
            lead_time_std=lts,
            service_level=0.95,
            order_cost=k,
            holding_cost=h,
            backend="python",
        )
    )
    rows.append(Row(case, "multistore pure Python", {"pairs/s": n / py_s, "seconds": py_s}))
    if numpy_available():
        arrays = [np.asarray(c) for c in (dm, ds, lt, lts)]
        np_s, _ = timed(
            lambda: bulk_policies(
                demand_mean=arrays[0],
                demand_std=arrays[1],
                lead_time=arrays[2],
                lead_time_std=arrays[3],
                service_level=0.95,
                order_cost=k,
                holding_cost=h,
                backend="numpy",
            )
        )
        rows.append(Row(case, "multistore NumPy", {"pairs/s": n / np_s, "seconds": np_s}))
    sample = list(range(min(n, max(200, int(2000 * scale)))))
    it = iter(sample * 1000)

    def one_call() -> None:
        i = next(it)
        r_q_eoqss_approximation(0.02, 1.5, 50.0, dm[i], ds[i], lt[i])

    per_call = time_per_call(one_call, min_seconds=0.3, repeat=3)
    worst = 0.0
    for i in sample:
        r, q = r_q_eoqss_approximation(0.02, 1.5, 50.0, dm[i], ds[i], lt[i])
        ours = rq_eoq_ss(
            demand_mean=dm[i],
            demand_std=ds[i],
            lead_time=lt[i],
            holding_cost=h,
            stockout_cost=p,
            order_cost=k,
        )
        worst = max(
            worst,
            abs(ours.reorder_point - r) / abs(r),
            abs(ours.order_quantity - q) / q,
        )
    base_rate = 1.0 / per_call
    rows.append(
        Row(
            case,
            "baseline: stockpyl r_q_eoqss_approximation per pair",
            {"pairs/s": base_rate, "seconds": n * per_call},
            note=f"max relative difference from stockpyl on {len(sample)} pairs: {worst:.1e}",
        )
    )
    for r in rows[:-1]:
        r.metrics["x stockpyl"] = float(r.metrics["pairs/s"]) / base_rate  # type: ignore[index]
    return rows


def _history(rng: random.Random, days: int = 730) -> list[int]:
    chance = rng.uniform(0.05, 0.6)
    return [rng.randint(1, 12) if rng.random() < chance else 0 for _ in range(days)]


def _textbook_croston(data: list[int], alpha: float = 0.1) -> float:
    z = p = 0.0
    q = 0
    started = False
    for y in data:
        q += 1
        if y > 0:
            if started:
                z += alpha * (y - z)
                p += alpha * (q - p)
            else:
                z, p, started = float(y), float(q), True
            q = 0
    return z / p if started else 0.0


def _croston_fits(scale: float) -> list[Row]:
    rng = random.Random(7)
    m = max(200, int(20_000 * scale))
    series = [_history(rng) for _ in range(m)]
    case = f"Croston-family fits, {m:,} series x 730 days"
    rows: list[Row] = []
    for fn in (croston, sba, tsb):
        seconds, _ = timed(lambda fn=fn: [fn(demand=s) for s in series])
        rows.append(Row(case, f"multistore {fn.__name__} (pure Python)", {"series/s": m / seconds}))
    if numpy_available():
        matrix = np.asarray(series, dtype=float)
        for method in ("croston", "sba", "tsb"):
            seconds, _ = timed(
                lambda method=method: fit_intermittent_many(
                    demand=matrix, method=method, backend="numpy"
                )
            )
            subject = f"multistore {method} (NumPy batch, 2-D array)"
            rows.append(Row(case, subject, {"series/s": m / seconds}))
        seconds, _ = timed(lambda: fit_intermittent_many(demand=series, method="sba"))
        subject = "multistore sba (NumPy batch, from lists)"
        rows.append(Row(case, subject, {"series/s": m / seconds}))
    ours = len(rows)
    seconds, _ = timed(lambda: [_textbook_croston(s) for s in series])
    rows.append(Row(case, "baseline: textbook per-period Croston loop", {"series/s": m / seconds}))
    per_call = time_per_call(lambda: newsvendor_normal(0.18, 0.7, 5.0, 2.0, lead_time=7))
    rows.append(
        Row(
            case,
            "baseline: stockpyl newsvendor_normal per series",
            {"series/s": 1.0 / per_call},
            note="stockpyl has no intermittent forecaster; its per-call speed for one policy",
        )
    )
    best_base = float(rows[-2].metrics["series/s"])
    for r in rows[:ours]:
        r.metrics["x textbook"] = float(r.metrics["series/s"]) / best_base  # type: ignore[index]
    return rows


def run(scale: float) -> list[Row]:
    """Both cases at ``scale``."""
    return _closed_form(scale) + _croston_fits(scale)


if __name__ == "__main__":  # pragma: no cover
    for row in run(0.1):
        print(row)
