"""Syntetos-Boylan demand classification (smooth, erratic, intermittent, lumpy).

Two statistics describe a demand series:

* **ADI**, the average inter-demand interval: periods per period with demand
  (``len(history) / count(demand > 0)``); 1.0 means a sale every period.
* **CV²**, the squared coefficient of variation of the non-zero demand sizes
  (population variance over squared mean).

The cut-offs of Syntetos, Boylan and Croston (2005) are ADI = 1.32 and CV² = 0.49:

| class        | ADI    | CV²    | default forecaster |
|--------------|--------|--------|--------------------|
| smooth       | < 1.32 | < 0.49 | `ses`              |
| erratic      | < 1.32 | ≥ 0.49 | `ses`              |
| intermittent | ≥ 1.32 | < 0.49 | `sba`              |
| lumpy        | ≥ 1.32 | ≥ 0.49 | `tsb`              |
| no_demand    | (no sale) | (no sale) | `tsb` (forecast 0) |

Examples:
    >>> classify(demand=[0, 0, 3, 0, 0, 4, 0, 0, 3]).demand_class
    <DemandClass.INTERMITTENT: 'intermittent'>
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence

import attrs

from multistore.replenishment import _checks

__all__ = [
    "ADI_CUTOFF",
    "CV2_CUTOFF",
    "Classification",
    "DemandClass",
    "classify",
    "default_method",
]

ADI_CUTOFF = 1.32
"""Average inter-demand interval above which demand counts as intermittent."""
CV2_CUTOFF = 0.49
"""Squared coefficient of variation of demand sizes above which demand counts as erratic."""


class DemandClass(enum.Enum):
    """The Syntetos-Boylan demand classes (plus ``NO_DEMAND`` for a series without sales)."""

    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    NO_DEMAND = "no_demand"


_DEFAULT_METHOD = {
    DemandClass.SMOOTH: "ses",
    DemandClass.ERRATIC: "ses",
    DemandClass.INTERMITTENT: "sba",
    DemandClass.LUMPY: "tsb",
    DemandClass.NO_DEMAND: "tsb",
}


def default_method(demand_class: DemandClass) -> str:
    """The forecaster name used for a demand class when the caller names none."""
    return _DEFAULT_METHOD[demand_class]


@attrs.frozen(slots=True)
class Classification:
    """The class of a demand series and the figures behind it.

    Attributes:
        demand_class: One of the :class:`DemandClass` values.
        adi: Average inter-demand interval (``inf`` when there is no demand).
        cv2: Squared coefficient of variation of the non-zero demand sizes (0 for fewer than two).
        periods: Number of periods in the series.
        demand_periods: Number of periods with demand > 0.
        method: The default forecaster for the class.
        explanation: The classification in plain sentences.
    """

    demand_class: DemandClass
    adi: float
    cv2: float
    periods: int
    demand_periods: int
    method: str
    explanation: tuple[str, ...]


def classify(
    *, demand: Sequence[float], adi_cutoff: float = ADI_CUTOFF, cv2_cutoff: float = CV2_CUTOFF
) -> Classification:
    """Classify a demand series by Syntetos-Boylan and pick its default forecaster.

    Args:
        demand: Demand per period, zeros included.
        adi_cutoff: ADI boundary (default 1.32).
        cv2_cutoff: CV² boundary (default 0.49).

    Returns:
        The :class:`Classification` with ADI, CV² and the chosen method.

    Raises:
        EmptyHistoryError: ``replenishment.empty_history`` for an empty series.
        NegativeDemandError: ``replenishment.negative_demand`` for a negative value.
    """
    data = _checks.series(demand)
    adi_cut = _checks.non_negative(adi_cutoff, "adi_cutoff")
    cv2_cut = _checks.non_negative(cv2_cutoff, "cv2_cutoff")
    sizes = [v for v in data if v > 0]
    n, k = len(data), len(sizes)
    if k == 0:
        return Classification(
            demand_class=DemandClass.NO_DEMAND,
            adi=math.inf,
            cv2=0.0,
            periods=n,
            demand_periods=0,
            method=default_method(DemandClass.NO_DEMAND),
            explanation=(f"No demand in {n} periods; the forecast is zero.",),
        )
    adi = n / k
    mean = math.fsum(sizes) / k
    cv2 = (math.fsum((s - mean) ** 2 for s in sizes) / k) / (mean * mean)
    if adi < adi_cut:
        cls = DemandClass.SMOOTH if cv2 < cv2_cut else DemandClass.ERRATIC
    else:
        cls = DemandClass.INTERMITTENT if cv2 < cv2_cut else DemandClass.LUMPY
    method = default_method(cls)
    return Classification(
        demand_class=cls,
        adi=adi,
        cv2=cv2,
        periods=n,
        demand_periods=k,
        method=method,
        explanation=(
            (
                f"Demand occurred in {k} of {n} periods: ADI = {adi:.2f} "
                f"({'<' if adi < adi_cut else '>='} {adi_cut})."
            ),
            f"Demand sizes vary with CV² = {cv2:.2f} ({'<' if cv2 < cv2_cut else '>='} {cv2_cut}).",
            f"Syntetos-Boylan class {cls.value}: forecast with {method}.",
        ),
    )
