"""Closed-form policies and intermittent-demand fits for very many (store, sku) pairs.

:func:`bulk_policies` computes safety stock, reorder point, order-up-to level and (with costs)
the EOQ for a million pairs in about a second of pure Python, or much faster with NumPy when it
is importable (``backend="auto"``). NumPy is optional: it is imported lazily, and the pure-Python
path gives the same numbers (to floating-point rounding).

Examples:
    >>> out = bulk_policies(demand_mean=[10.0, 2.0], demand_std=[3.0, 1.0], lead_time=4.0,
    ...                     service_level=0.95, backend="python")
    >>> [round(x, 3) for x in out.reorder_point]
    [49.869, 11.29]
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from itertools import chain
from typing import Any, Literal, cast

import attrs

from multistore.replenishment import _checks, normal
from multistore.replenishment.errors import (
    EmptyHistoryError,
    InvalidLeadTimeError,
    InvalidParameterError,
    NegativeDemandError,
)
from multistore.replenishment.forecasting import METHODS, Forecast, _result
from multistore.replenishment.policies import Cost

__all__ = ["BulkPolicies", "bulk_policies", "fit_intermittent_many", "numpy_available"]

Column = Sequence[float] | float


@attrs.frozen(slots=True)
class BulkPolicies:
    """Policy levels for many pairs, one entry per input pair (lists, or NumPy arrays).

    Attributes:
        safety_stock: ``z sqrt(L sigma_d^2 + d^2 sigma_L^2)``.
        reorder_point: ``d L + safety stock``.
        order_quantity: EOQ ``sqrt(2 K d / h)`` when costs were given, else ``None``.
        order_up_to: ``reorder point + order quantity`` when costs were given, else ``None``.
        z: The safety factor of the cycle service level.
        backend: ``"python"`` or ``"numpy"``.
    """

    safety_stock: Sequence[float]
    reorder_point: Sequence[float]
    order_quantity: Sequence[float] | None
    order_up_to: Sequence[float] | None
    z: float
    backend: str


def numpy_available() -> bool:
    """Whether NumPy can be imported (the fast vectorised path)."""
    return importlib.util.find_spec("numpy") is not None


def _column(value: Column, n: int | None, what: str) -> Sequence[float] | float:
    if isinstance(value, bool):
        raise InvalidParameterError(f"{what} must be a number or a sequence of numbers")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str | bytes) or not hasattr(value, "__len__"):
        raise InvalidParameterError(f"{what} must be a number or a sequence of numbers")
    if n is not None and len(value) != n:
        raise InvalidParameterError(
            f"{what} has {len(value)} values for {n} pairs; give one per pair or a single number",
            details={"field": what},
        )
    return value


def bulk_policies(
    *,
    demand_mean: Sequence[float],
    demand_std: Sequence[float],
    lead_time: Column,
    lead_time_std: Column = 0.0,
    service_level: float = 0.95,
    order_cost: Cost | None = None,
    holding_cost: Cost | None = None,
    backend: Literal["auto", "python", "numpy"] = "auto",
) -> BulkPolicies:
    """Closed-form (r, Q) levels for many pairs at one cycle service level.

    Args:
        demand_mean: Mean demand per period of each pair.
        demand_std: Standard deviation of demand per period of each pair.
        lead_time: Lead time in periods: one number for all, or one per pair.
        lead_time_std: Lead-time standard deviation: one number, or one per pair.
        service_level: Cycle service level in (0, 1) shared by all pairs.
        order_cost: Fixed cost per order (Money or Decimal) for the EOQ, shared.
        holding_cost: Holding cost per unit per period (Money or Decimal) for the EOQ, shared.
        backend: ``"numpy"`` (requires NumPy), ``"python"``, or ``"auto"`` (NumPy if present).

    Returns:
        :class:`BulkPolicies`.

    Raises:
        InvalidServiceLevelError: for a service level outside (0, 1).
        NegativeDemandError: for a negative mean.
        InvalidLeadTimeError: for a non-positive lead time or a negative spread.
        InvalidCostError: for a non-positive cost.
        InvalidParameterError: for mismatched lengths, or only one of the two costs.
    """
    z = normal.ppf(_checks.service_level(service_level))
    n = len(demand_mean)
    dm = _column(demand_mean, None, "demand_mean")
    ds = _column(demand_std, n, "demand_std")
    lt = _column(lead_time, n, "lead_time")
    lts = _column(lead_time_std, n, "lead_time_std")
    assert not isinstance(dm, float)
    if (order_cost is None) != (holding_cost is None):
        raise InvalidParameterError("give both order_cost and holding_cost for the EOQ, or neither")
    ratio: float | None = None
    if order_cost is not None and holding_cost is not None:
        k = _checks.cost_amount(order_cost, "order cost")
        h = _checks.cost_amount(holding_cost, "holding cost")
        ratio = float(2 * k / h)
    use_numpy = backend == "numpy" or (backend == "auto" and numpy_available())
    if use_numpy:
        return _numpy(dm=dm, ds=ds, lt=lt, lts=lts, z=z, ratio=ratio)
    _validate(n_min(dm), n_min(ds), n_min(lt), n_min(lts))
    return _python(dm=dm, ds=ds, lt=lt, lts=lts, z=z, ratio=ratio)


def _validate(dm: float, ds: float, lt: float, lts: float) -> None:
    """Check the smallest value of each column (NaN fails every check)."""
    if not dm >= 0:
        raise NegativeDemandError("demand_mean holds a negative value; net returns out first")
    if not ds >= 0:
        raise InvalidParameterError("demand_std holds a negative or NaN value")
    if not lt > 0:
        raise InvalidLeadTimeError("lead_time holds a value that is not positive; use days > 0")
    if not lts >= 0:
        raise InvalidLeadTimeError("lead_time_std holds a negative value")


def n_min(values: Column) -> float:
    """Smallest value of a column (the number itself for a scalar); +inf when empty."""
    if isinstance(values, float):
        return values
    if not len(values):
        return math.inf
    return float(min(values))


def _python(
    *, dm: Sequence[float], ds: Column, lt: Column, lts: Column, z: float, ratio: float | None
) -> BulkPolicies:
    sqrt = math.sqrt
    if isinstance(lt, float) and isinstance(lts, float) and lts == 0.0:
        zl = z * sqrt(lt)
        if isinstance(ds, float):
            ss: list[float] = [zl * ds] * len(dm)
        else:
            ss = [zl * s for s in ds]
        rop = [d * lt + x for d, x in zip(dm, ss, strict=True)]
    else:
        n = len(dm)
        lt_col = [lt] * n if isinstance(lt, float) else lt
        var_l = [lts * lts] * n if isinstance(lts, float) else [v * v for v in lts]
        sd_col = [ds] * n if isinstance(ds, float) else ds
        ss = [
            z * sqrt(L * s * s + d * d * v)
            for d, s, L, v in zip(dm, sd_col, lt_col, var_l, strict=True)
        ]
        rop = [d * L + x for d, L, x in zip(dm, lt_col, ss, strict=True)]
    q: list[float] | None = None
    up: list[float] | None = None
    if ratio is not None:
        q = [sqrt(ratio * d) for d in dm]
        up = [r + x for r, x in zip(rop, q, strict=True)]
    return BulkPolicies(
        safety_stock=ss, reorder_point=rop, order_quantity=q, order_up_to=up, z=z, backend="python"
    )


def _numpy(
    *, dm: Sequence[float], ds: Column, lt: Column, lts: Column, z: float, ratio: float | None
) -> BulkPolicies:
    try:
        import numpy as np  # noqa: PLC0415 - optional dependency, imported lazily
    except ImportError:
        raise InvalidParameterError(
            "backend='numpy' needs NumPy installed; use backend='python' or 'auto'",
            code="replenishment.numpy_missing",
        ) from None
    d = np.asarray(dm, dtype=float)
    s = np.asarray(ds, dtype=float)
    lead = np.asarray(lt, dtype=float)
    spread = np.asarray(lts, dtype=float)
    _validate(*(float(a.min()) if a.size else math.inf for a in (d, s, lead, spread)))
    v = spread**2
    ss = z * np.sqrt(lead * s * s + d * d * v)
    rop = d * lead + ss
    q = None if ratio is None else np.sqrt(ratio * d)
    up = None if q is None else rop + q
    return BulkPolicies(
        safety_stock=cast("Sequence[float]", ss),
        reorder_point=cast("Sequence[float]", rop),
        order_quantity=cast("Sequence[float] | None", q),
        order_up_to=cast("Sequence[float] | None", up),
        z=z,
        backend="numpy",
    )


def fit_intermittent_many(
    *,
    demand: Sequence[Sequence[float]],
    method: Literal["croston", "sba", "tsb"] = "sba",
    alpha: float = 0.1,
    beta: float | None = None,
    horizon: int = 1,
    backend: Literal["auto", "python", "numpy"] = "auto",
) -> list[Forecast]:
    """Fit Croston, SBA or TSB to many demand series at once.

    The NumPy path advances every series one period at a time in lock-step (vectorised across
    series), which needs all series to have the same length (one window from
    :func:`~multistore.replenishment.history.build_histories`); the pure-Python path calls the
    single-series forecaster for each. Both follow the same recurrences and error measure as
    :func:`~multistore.replenishment.forecasting.croston`, :func:`~.forecasting.sba` and
    :func:`~.forecasting.tsb` (results agree to floating-point rounding).

    Args:
        demand: One demand series per (store, sku), zeros included: a list of lists, or a
            2-D NumPy array with one row per series (fastest: no conversion).
        method: ``"croston"``, ``"sba"`` or ``"tsb"``.
        alpha: Smoothing constant of the demand sizes, in (0, 1].
        beta: Interval (Croston, SBA) or probability (TSB) smoothing constant; default
            ``alpha`` for Croston and SBA, 0.1 for TSB.
        horizon: Periods to forecast.
        backend: ``"numpy"`` (requires NumPy), ``"python"``, or ``"auto"``.

    Returns:
        One :class:`~multistore.replenishment.forecasting.Forecast` per series, in order.

    Raises:
        EmptyHistoryError: for an empty series.
        NegativeDemandError: for a negative value.
        InvalidParameterError: for an unknown method, a bad smoothing constant, or series of
            different lengths on the NumPy path.
    """
    if method not in {"croston", "sba", "tsb"}:
        raise InvalidParameterError(
            f"method must be 'croston', 'sba' or 'tsb', got {method!r}",
            code="replenishment.unknown_method",
        )
    a = _checks.fraction(alpha, "alpha")
    b = _checks.fraction(beta if beta is not None else (0.1 if method == "tsb" else a), "beta")
    h = _checks.positive_int(horizon, "horizon")
    matrix = demand if getattr(demand, "ndim", None) == 2 else None
    series = list(demand)
    single = METHODS[method]
    use_numpy = (
        backend == "numpy" or (backend == "auto" and numpy_available() and len(series) >= 64)
    ) and len(series) > 0
    if not use_numpy:
        return [single(demand=s, alpha=a, beta=b, horizon=h) for s in series]
    return _fit_numpy(series, method, a, b, h, matrix=matrix)


def _fit_numpy(
    series: list[Sequence[float]],
    method: str,
    alpha: float,
    beta: float,
    horizon: int,
    *,
    matrix: object = None,
) -> list[Forecast]:
    try:
        import numpy as np  # noqa: PLC0415 - optional dependency, imported lazily
    except ImportError:
        raise InvalidParameterError(
            "backend='numpy' needs NumPy installed; use backend='python' or 'auto'",
            code="replenishment.numpy_missing",
        ) from None
    lengths = {len(s) for s in series}
    if len(lengths) != 1:
        raise InvalidParameterError(
            "the NumPy path needs series of one length (one date window); got lengths "
            f"{sorted(lengths)[:5]}; use backend='python' or build the histories over one window",
            details={"field": "demand"},
        )
    (n,) = lengths
    if n == 0:
        raise EmptyHistoryError(
            "a demand series is empty; give at least one period of sales (zeros count as data)"
        )
    by_period = _period_matrix(np, series if matrix is None else matrix, n)
    f, sse, first = _lockstep(np, by_period, method=method, alpha=alpha, beta=beta)
    firsts = [int(v) for v in first.tolist()]
    return _batch_results(
        series=series,
        method=method,
        forecasts=f.tolist(),
        sses=sse.tolist(),
        firsts=firsts,
        describe=f"{method} (batch) with alpha {alpha:g}, beta {beta:g}",
        horizon=horizon,
    )


def _period_matrix(np: Any, series: Any, n: int) -> Any:
    """Validate the series and lay them out with one contiguous row per period."""
    m = len(series)
    if isinstance(series, np.ndarray):
        flat = series.astype(float, copy=False).reshape(-1)
    else:
        flat = np.fromiter(chain.from_iterable(series), dtype=float, count=m * n)
    if not np.isfinite(flat).all():
        raise InvalidParameterError("demand contains a NaN or infinite quantity")
    if (flat < 0).any():
        raise NegativeDemandError("demand contains a negative quantity; net returns out first")
    return flat.reshape(m, n).T.copy()  # one contiguous row of all series per period


def _lockstep(
    np: Any, by_period: Any, *, method: str, alpha: float, beta: float
) -> tuple[Any, Any, Any]:
    """Advance Croston/SBA/TSB for every series one period at a time (vectorised)."""
    n, m = by_period.shape
    z = np.zeros(m)
    p = np.zeros(m)
    f = np.zeros(m)
    sse = np.zeros(m)
    q = np.zeros(m)
    first = np.full(m, -1.0)
    started = np.zeros(m, dtype=bool)
    err = np.empty(m)
    step = np.empty(m)
    factor = 1.0 - beta / 2.0 if method == "sba" else 1.0
    tsb = method == "tsb"
    for t in range(n):
        y = by_period[t]
        has = y > 0
        np.subtract(y, f, out=err)
        err *= err
        np.add(sse, err, out=sse, where=started)
        update = has & started
        init = has & ~started
        np.subtract(y, z, out=step)
        step *= alpha
        np.add(z, step, out=z, where=update)
        np.copyto(z, y, where=init)
        np.copyto(first, t, where=init)
        if tsb:
            # p += beta (1[y > 0] - p) for started series; 1 / (t + 1) at the first demand
            np.subtract(has, p, out=step)
            step *= beta
            np.add(p, step, out=p, where=started)
            np.copyto(p, 1.0 / (t + 1), where=init)
            started |= has
            np.multiply(p, z, out=f)
        else:
            q += 1.0
            np.subtract(q, p, out=step)
            step *= beta
            np.add(p, step, out=p, where=update)
            np.copyto(p, q, where=init)
            started |= has
            np.divide(z, p, out=step, where=has)
            step *= factor
            np.copyto(f, step, where=has)
            np.copyto(q, 0.0, where=has)
    return f, sse, first


def _batch_results(
    *,
    series: list[Sequence[float]],
    method: str,
    forecasts: list[float],
    sses: list[float],
    firsts: list[int],
    describe: str,
    horizon: int,
) -> list[Forecast]:
    results: list[Forecast] = []
    for data, fi, sse, first in zip(series, forecasts, sses, firsts, strict=True):
        n = len(data)
        errors = n - 1 - first if first >= 0 else n - 1
        results.append(
            _result(
                method,
                [fi if first >= 0 else 0.0] * horizon,
                sse=sse if first >= 0 else 0.0,
                errors=errors,
                data=data,
                describe=describe,
            )
        )
    return results
