"""Demand forecasters: moving average, SES, Holt, weekly profile, Croston, SBA and TSB.

Every forecaster takes the demand per period (zeros included), returns a :class:`Forecast` with
the mean demand per period over the horizon, and measures its uncertainty the same way: ``std``
is the root mean squared **one-step-ahead** in-sample forecast error (the weekly profile uses its
in-sample residuals over the level window). When no one-step error exists (a single observation,
a moving-average window longer than the history) ``std`` falls back to the population standard
deviation of the history. The horizon's total error assumes independent errors:
``total_std = std * sqrt(horizon)``.

The defining recurrences (``y_t`` demand, ``f_t`` the forecast made after period ``t``):

* moving average (window ``n``): ``f_t = mean(y_{t-n+1} .. y_t)``.
* SES: ``l_0 = y_0``; ``l_t = l_{t-1} + alpha (y_t - l_{t-1})``; ``f_t = l_t``.
* Holt: ``l_0 = y_0``, ``b_0 = y_1 - y_0``; ``l_t = alpha y_t + (1 - alpha)(l_{t-1} + b_{t-1})``,
  ``b_t = beta (l_t - l_{t-1}) + (1 - beta) b_{t-1}``; ``f_{t+k} = max(0, l_t + k b_t)``.
* Croston: at the first demand ``z = y``, ``p = `` its period number (1-based); at each later
  demand ``z += alpha (y - z)``, ``p += beta (q - p)`` with ``q`` the periods since the previous
  demand; ``f = z / p``. SBA multiplies by ``1 - beta / 2`` (Syntetos-Boylan bias correction).
* TSB: at the first demand ``z = y``, ``p = 1 / `` its period number; every later period
  ``p += beta (1[y > 0] - p)`` and, on demand, ``z += alpha (y - z)``; ``f = p z``.

Examples:
    >>> fc = ses(demand=[10, 12, 8, 11], alpha=0.5)
    >>> round(fc.mean, 4)
    10.25
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import compress

import attrs

from multistore.replenishment import _checks
from multistore.replenishment.classification import Classification, classify
from multistore.replenishment.errors import InvalidParameterError

__all__ = [
    "METHODS",
    "Forecast",
    "croston",
    "forecast",
    "holt",
    "moving_average",
    "sba",
    "seasonal_weekly",
    "ses",
    "tsb",
]


@attrs.frozen(slots=True)
class Forecast:
    """A demand forecast for the next ``horizon`` periods.

    Attributes:
        method: Forecaster name (``"ses"``, ``"croston"``...).
        mean: Mean demand per period over the horizon.
        std: Standard deviation of the one-period forecast error.
        horizon: Number of periods forecast.
        path: Forecast for each period of the horizon.
        total: Expected demand over the whole horizon (``sum(path)``).
        total_std: Standard deviation of the horizon total (``std * sqrt(horizon)``).
        explanation: How the figures were obtained, in plain sentences.
        classification: The Syntetos-Boylan class when :func:`forecast` chose the method.
    """

    method: str
    mean: float
    std: float
    horizon: int
    path: tuple[float, ...]
    total: float
    total_std: float
    explanation: tuple[str, ...] = ()
    classification: Classification | None = None


def _fallback_std(data: Sequence[float]) -> float:
    n = len(data)
    if n < 2:
        return 0.0
    mean = math.fsum(data) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in data) / n)


def _result(
    method: str,
    path: Sequence[float],
    *,
    sse: float,
    errors: int,
    data: Sequence[float],
    describe: str,
    residuals: str = "one-step RMSE",
) -> Forecast:
    horizon = len(path)
    std = math.sqrt(sse / errors) if errors > 0 else _fallback_std(data)
    total = math.fsum(path)
    mean = total / horizon
    basis = (
        f"{residuals} over {errors} periods"
        if errors > 0
        else "no one-step error yet, so the history's standard deviation"
    )
    return Forecast(
        method=method,
        mean=mean,
        std=std,
        horizon=horizon,
        path=tuple(path),
        total=total,
        total_std=std * math.sqrt(horizon),
        explanation=(
            f"{describe} over {len(data)} periods.",
            (
                f"Forecast {mean:.3f} per period ({total:.2f} over {horizon} periods); "
                f"error std {std:.3f} per period ({basis})."
            ),
        ),
    )


def moving_average(*, demand: Sequence[float], window: int = 28, horizon: int = 1) -> Forecast:
    """Forecast the mean of the last ``window`` periods (all of them when fewer).

    Args:
        demand: Demand per period, zeros included.
        window: Number of most recent periods averaged.
        horizon: Periods to forecast.

    Raises:
        EmptyHistoryError: for an empty history.
        NegativeDemandError: for a negative value.
        InvalidParameterError: for a window or horizon below 1.
    """
    data = _checks.series(demand)
    w = _checks.positive_int(window, "window")
    h = _checks.positive_int(horizon, "horizon")
    n = len(data)
    sse, errors = 0.0, 0
    if n > w:
        rolling = math.fsum(data[:w])
        for t in range(w, n):
            e = data[t] - rolling / w
            sse += e * e
            rolling += data[t] - data[t - w]
        errors = n - w
    last = data[-w:] if n >= w else data
    level = math.fsum(last) / len(last)
    return _result(
        "moving_average",
        [level] * h,
        sse=sse,
        errors=errors,
        data=data,
        describe=f"Moving average of {w}",
    )


def ses(*, demand: Sequence[float], alpha: float = 0.2, horizon: int = 1) -> Forecast:
    """Simple exponential smoothing: a flat forecast at the smoothed level.

    Args:
        demand: Demand per period, zeros included.
        alpha: Smoothing constant in (0, 1].
        horizon: Periods to forecast.

    Raises:
        EmptyHistoryError: for an empty history.
        NegativeDemandError: for a negative value.
        InvalidParameterError: for ``alpha`` outside (0, 1] or a horizon below 1.
    """
    data = _checks.series(demand)
    a = _checks.fraction(alpha, "alpha")
    h = _checks.positive_int(horizon, "horizon")
    level = float(data[0])
    sse = 0.0
    for y in data[1:]:
        e = y - level
        sse += e * e
        level += a * e
    return _result(
        "ses",
        [level] * h,
        sse=sse,
        errors=len(data) - 1,
        data=data,
        describe=f"SES with alpha {a:g}",
    )


def holt(
    *, demand: Sequence[float], alpha: float = 0.2, beta: float = 0.1, horizon: int = 1
) -> Forecast:
    """Holt's linear trend method; the forecast path is clipped at zero.

    Args:
        demand: Demand per period, zeros included.
        alpha: Level smoothing constant in (0, 1].
        beta: Trend smoothing constant in (0, 1].
        horizon: Periods to forecast.

    Raises:
        EmptyHistoryError: for an empty history.
        NegativeDemandError: for a negative value.
        InvalidParameterError: for a smoothing constant outside (0, 1] or a horizon below 1.
    """
    data = _checks.series(demand)
    a = _checks.fraction(alpha, "alpha")
    b = _checks.fraction(beta, "beta")
    h = _checks.positive_int(horizon, "horizon")
    level = float(data[0])
    trend = float(data[1] - data[0]) if len(data) > 1 else 0.0
    sse = 0.0
    for y in data[1:]:
        e = y - (level + trend)
        sse += e * e
        new_level = a * y + (1.0 - a) * (level + trend)
        trend = b * (new_level - level) + (1.0 - b) * trend
        level = new_level
    path = [max(0.0, level + k * trend) for k in range(1, h + 1)]
    return _result(
        "holt",
        path,
        sse=sse,
        errors=len(data) - 1,
        data=data,
        describe=f"Holt with alpha {a:g}, beta {b:g}",
    )


def seasonal_weekly(
    *,
    demand: Sequence[float],
    weekdays: Sequence[int] | None = None,
    start_weekday: int = 0,
    window: int = 28,
    horizon: int = 7,
) -> Forecast:
    """Weekly seasonal profile: a deseasonalised recent level times a day-of-week index.

    ``index[d] = mean(demand on weekday d) / mean(demand)`` over the whole history (1.0 for a
    weekday never observed); ``level = mean(y_t / index[w_t])`` over the last ``window``
    observations (weekdays with index 0 skipped); the forecast for a day is ``level * index``.
    The forecast starts the day after the last observation. ``std`` is the RMSE of the in-sample
    residuals ``y_t - level * index[w_t]`` over the window.

    Args:
        demand: Demand per day, zeros included.
        weekdays: Weekday (Monday = 0) of each value; default consecutive days from
            ``start_weekday``.
        start_weekday: Weekday of the first value when ``weekdays`` is not given.
        window: Observations used for the level.
        horizon: Days to forecast.

    Raises:
        EmptyHistoryError: for an empty history.
        NegativeDemandError: for a negative value.
        InvalidParameterError: for weekdays outside 0..6 or of the wrong length, or a window or
            horizon below 1.
    """
    data = _checks.series(demand)
    w = _checks.positive_int(window, "window")
    h = _checks.positive_int(horizon, "horizon")
    n = len(data)
    if weekdays is None:
        if isinstance(start_weekday, bool) or start_weekday not in range(7):
            raise InvalidParameterError(
                f"start_weekday must be 0 (Monday) .. 6 (Sunday), got {start_weekday!r}"
            )
        days = [(start_weekday + t) % 7 for t in range(n)]
    else:
        days = list(weekdays)
        if len(days) != n or any(isinstance(d, bool) or d not in range(7) for d in days):
            raise InvalidParameterError(
                "weekdays must give one weekday 0..6 (Monday = 0) per demand value",
                details={"field": "weekdays"},
            )
    overall = math.fsum(data) / n
    sums = [0.0] * 7
    counts = [0] * 7
    for y, d in zip(data, days, strict=True):
        sums[d] += y
        counts[d] += 1
    if overall > 0:
        index = [(sums[d] / counts[d]) / overall if counts[d] else 1.0 for d in range(7)]
    else:
        index = [1.0] * 7
    recent = list(zip(data[-w:], days[-w:], strict=True))
    ratios = [y / index[d] for y, d in recent if index[d] > 0]
    level = math.fsum(ratios) / len(ratios) if ratios else 0.0
    sse = math.fsum((y - level * index[d]) ** 2 for y, d in recent)
    following = (days[-1] + 1) % 7
    path = [level * index[(following + k) % 7] for k in range(h)]
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    profile = ", ".join(f"{names[d]} {index[d]:.2f}" for d in range(7))
    return _result(
        "seasonal",
        path,
        sse=sse,
        errors=len(recent),
        data=data,
        describe=f"Weekly profile ({profile}), level {level:.3f}",
        residuals="in-sample residual RMSE",
    )


def _croston_family(
    data: Sequence[float], alpha: float, beta: float, factor: float
) -> tuple[float, float, int]:
    """Croston's method with bias factor; returns (forecast, sse, number of errors).

    Only demand periods are visited (``itertools.compress`` skips the zeros at C speed): the
    forecast is flat between demands, so a run of ``q - 1`` zeros adds ``(q - 1) f^2`` to the
    squared errors at once. Cost is linear in the number of non-zero periods.
    """
    z = p = f = sse = 0.0
    last = first = -1
    for i, y in compress(enumerate(data), data):
        q = i - last
        if first >= 0:
            e = y - f
            sse += (q - 1) * f * f + e * e
            z += alpha * (y - z)
            p += beta * (q - p)
        else:
            first = i
            z = float(y)
            p = float(q)
        f = factor * z / p
        last = i
    n = len(data)
    if first < 0:
        return 0.0, 0.0, n - 1
    return f, sse + (n - 1 - last) * f * f, n - 1 - first


def _tsb_core(data: Sequence[float], alpha: float, beta: float) -> tuple[float, float, int]:
    """TSB over demand periods only, zero runs in closed form; returns (forecast, sse, errors).

    Over ``k`` zero periods the probability decays to ``p r^k`` (``r = 1 - beta``) and the
    squared errors add ``(p z)^2 (1 - r^(2k)) / (1 - r^2)``.
    """
    r = 1.0 - beta
    r2 = r * r
    inv = 1.0 / (1.0 - r2)
    z = p = sse = 0.0
    last = first = -1
    for i, y in compress(enumerate(data), data):
        q = i - last
        if first >= 0:
            if q > 1:
                f = p * z
                sse += f * f * (1.0 - r2 ** (q - 1)) * inv
                p *= r ** (q - 1)
            e = y - p * z
            sse += e * e
            p += beta * (1.0 - p)
            z += alpha * (y - z)
        else:
            first = i
            z = float(y)
            p = 1.0 / q
        last = i
    n = len(data)
    if first < 0:
        return 0.0, 0.0, n - 1
    tail = n - 1 - last
    if tail:
        f = p * z
        sse += f * f * (1.0 - r2**tail) * inv
        p *= r**tail
    return p * z, sse, n - 1 - first


def _intermittent(
    method: str,
    demand: Sequence[float],
    alpha: float,
    beta: float | None,
    horizon: int,
) -> Forecast:
    data = _checks.series(demand)
    a = _checks.fraction(alpha, "alpha")
    b = a if beta is None else _checks.fraction(beta, "beta")
    h = _checks.positive_int(horizon, "horizon")
    if method == "tsb":
        f, sse, errors = _tsb_core(data, a, b)
        describe = f"TSB with alpha {a:g}, beta {b:g}"
    else:
        factor = 1.0 - b / 2.0 if method == "sba" else 1.0
        f, sse, errors = _croston_family(data, a, b, factor)
        name = "SBA" if method == "sba" else "Croston"
        describe = f"{name} with alpha {a:g}, beta {b:g}"
    return _result(method, [f] * h, sse=sse, errors=errors, data=data, describe=describe)


def croston(
    *, demand: Sequence[float], alpha: float = 0.1, beta: float | None = None, horizon: int = 1
) -> Forecast:
    """Croston's method: smoothed demand size over smoothed inter-demand interval.

    Args:
        demand: Demand per period, zeros included.
        alpha: Smoothing constant of the demand sizes, in (0, 1].
        beta: Smoothing constant of the intervals (default ``alpha``).
        horizon: Periods to forecast.

    Raises:
        EmptyHistoryError: for an empty history.
        NegativeDemandError: for a negative value.
        InvalidParameterError: for a smoothing constant outside (0, 1] or a horizon below 1.
    """
    return _intermittent("croston", demand, alpha, beta, horizon)


def sba(
    *, demand: Sequence[float], alpha: float = 0.1, beta: float | None = None, horizon: int = 1
) -> Forecast:
    """Syntetos-Boylan approximation: Croston times ``1 - beta / 2`` (removes Croston's bias).

    Args:
        demand: Demand per period, zeros included.
        alpha: Smoothing constant of the demand sizes, in (0, 1].
        beta: Smoothing constant of the intervals (default ``alpha``).
        horizon: Periods to forecast.

    Raises:
        EmptyHistoryError: for an empty history.
        NegativeDemandError: for a negative value.
        InvalidParameterError: for a smoothing constant outside (0, 1] or a horizon below 1.
    """
    return _intermittent("sba", demand, alpha, beta, horizon)


def tsb(
    *, demand: Sequence[float], alpha: float = 0.1, beta: float = 0.1, horizon: int = 1
) -> Forecast:
    """Teunter-Syntetos-Babai: demand probability updated every period (handles obsolescence).

    Args:
        demand: Demand per period, zeros included.
        alpha: Smoothing constant of the demand sizes, in (0, 1].
        beta: Smoothing constant of the demand probability, in (0, 1].
        horizon: Periods to forecast.

    Raises:
        EmptyHistoryError: for an empty history.
        NegativeDemandError: for a negative value.
        InvalidParameterError: for a smoothing constant outside (0, 1] or a horizon below 1.
    """
    return _intermittent("tsb", demand, alpha, beta, horizon)


METHODS: dict[str, Callable[..., Forecast]] = {
    "moving_average": moving_average,
    "ses": ses,
    "holt": holt,
    "seasonal": seasonal_weekly,
    "croston": croston,
    "sba": sba,
    "tsb": tsb,
}
"""Forecasters by name, as accepted by :func:`forecast` and the policy's ``forecaster``."""


def forecast(
    *,
    demand: Sequence[float],
    method: str | None = None,
    horizon: int = 1,
    weekdays: Sequence[int] | None = None,
    alpha: float | None = None,
    beta: float | None = None,
    window: int | None = None,
) -> Forecast:
    """Forecast with the named method, or with the one the Syntetos-Boylan class picks.

    Args:
        demand: Demand per period, zeros included.
        method: One of :data:`METHODS` (``None`` classifies the series and chooses).
        horizon: Periods to forecast.
        weekdays: Weekday of each value, used by the ``seasonal`` method.
        alpha: Smoothing constant, when the method has one (its default otherwise).
        beta: Second smoothing constant (Holt trend, Croston interval, TSB probability).
        window: Window of ``moving_average`` and ``seasonal``.

    Returns:
        The :class:`Forecast`, with its ``classification`` set when the method was chosen.

    Raises:
        InvalidParameterError: ``replenishment.unknown_method`` for an unknown method name.
        EmptyHistoryError: for an empty history.
        NegativeDemandError: for a negative value.
    """
    classification: Classification | None = None
    if method is None:
        classification = classify(demand=demand)
        method = classification.method
    fn = METHODS.get(method)
    if fn is None:
        raise InvalidParameterError(
            f"unknown forecaster {method!r}; use one of {', '.join(sorted(METHODS))}",
            code="replenishment.unknown_method",
            details={"field": "method"},
        )
    kwargs: dict[str, object] = {"demand": demand, "horizon": horizon}
    if alpha is not None and method != "moving_average":
        kwargs["alpha"] = alpha
    if beta is not None and method in {"holt", "croston", "sba", "tsb"}:
        kwargs["beta"] = beta
    if window is not None and method in {"moving_average", "seasonal"}:
        kwargs["window"] = window
    if weekdays is not None and method == "seasonal":
        kwargs["weekdays"] = weekdays
    if method == "seasonal" and alpha is not None:
        del kwargs["alpha"]
    result = fn(**kwargs)
    if classification is None:
        return result
    return attrs.evolve(
        result,
        classification=classification,
        explanation=classification.explanation + result.explanation,
    )
