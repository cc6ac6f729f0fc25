"""Argument checks shared by the replenishment modules (each raises a typed error)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from money.money import Money

from multistore.errors import FloatMoneyError
from multistore.replenishment.errors import (
    EmptyHistoryError,
    InvalidCostError,
    InvalidLeadTimeError,
    InvalidParameterError,
    InvalidServiceLevelError,
    NegativeDemandError,
)


def number(value: object, what: str) -> float:
    """Return ``value`` as a finite float or raise ``replenishment.invalid_parameter``."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidParameterError(
            f"{what} must be a number, got {type(value).__name__} {value!r}",
            details={"field": what},
        )
    result = float(value)
    if not math.isfinite(result):
        raise InvalidParameterError(
            f"{what} must be finite, got {value!r}", details={"field": what}
        )
    return result


def non_negative(value: object, what: str) -> float:
    """Return a finite float >= 0 or raise ``replenishment.invalid_parameter``."""
    result = number(value, what)
    if result < 0:
        raise InvalidParameterError(
            f"{what} must not be negative, got {value!r}", details={"field": what}
        )
    return result


def demand_mean(value: object, what: str = "demand mean") -> float:
    """Return a finite mean demand >= 0 or raise ``replenishment.negative_demand``."""
    result = number(value, what)
    if result < 0:
        raise NegativeDemandError(
            f"{what} must not be negative, got {value!r}; net returns out of sales first",
            details={"field": what},
        )
    return result


def fraction(value: object, what: str) -> float:
    """Return a smoothing constant in (0, 1] or raise ``replenishment.invalid_parameter``."""
    result = number(value, what)
    if not 0.0 < result <= 1.0:
        raise InvalidParameterError(
            f"{what} must lie in (0, 1], got {value!r} (typical values are 0.05 to 0.3)",
            details={"field": what},
        )
    return result


def service_level(value: object, what: str = "service level") -> float:
    """Return a probability in (0, 1) or raise ``replenishment.invalid_service_level``."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidServiceLevelError(
            f"{what} must be a number between 0 and 1, got {type(value).__name__}",
            details={"field": what, "value": repr(value)},
        )
    result = float(value)
    if not 0.0 < result < 1.0:
        raise InvalidServiceLevelError(
            f"{what} {value!r} must lie strictly between 0 and 1 (for example 0.95 for 95 %)",
            details={"field": what, "value": result},
        )
    return result


def lead_time(value: object, what: str = "lead time") -> float:
    """Return a positive finite lead time or raise ``replenishment.invalid_lead_time``."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidLeadTimeError(
            f"{what} must be a number of periods, got {type(value).__name__}",
            details={"field": what},
        )
    result = float(value)
    if not (math.isfinite(result) and result > 0):
        raise InvalidLeadTimeError(
            f"{what} must be positive, got {value!r}; give the supplier's delivery time in days",
            details={"field": what, "value": result},
        )
    return result


def lead_time_std(value: object, what: str = "lead time standard deviation") -> float:
    """Return a finite lead-time spread >= 0 or raise ``replenishment.invalid_lead_time``."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidLeadTimeError(
            f"{what} must be a number of periods, got {type(value).__name__}",
            details={"field": what},
        )
    result = float(value)
    if not (math.isfinite(result) and result >= 0):
        raise InvalidLeadTimeError(
            f"{what} must be zero or positive, got {value!r}", details={"field": what}
        )
    return result


def cost_amount(value: object, what: str, *, positive: bool = True) -> Decimal:
    """Return an exact cost (Money or Decimal or int) as a Decimal amount in major units.

    Raises:
        FloatMoneyError: for a float (money never travels as a float).
        InvalidCostError: ``replenishment.invalid_cost`` for a non-positive (or negative) cost.
    """
    if isinstance(value, float):
        raise FloatMoneyError(
            f"{what} must not be a float ({value!r}); pass Money or Decimal('{value}')",
            details={"field": what},
        )
    if isinstance(value, Money):
        amount = Decimal(value.amount)
    elif isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        amount = Decimal(value)
    else:
        raise InvalidCostError(
            f"{what} must be Money or a Decimal amount, got {type(value).__name__}",
            details={"field": what},
        )
    if not amount.is_finite() or (amount <= 0 if positive else amount < 0):
        rule = "positive" if positive else "zero or positive"
        raise InvalidCostError(f"{what} must be {rule}, got {value!r}", details={"field": what})
    return amount


def cost_ratio(numerator: Decimal, denominator: Decimal) -> float:
    """Return the ratio of two validated cost amounts as a dimensionless coefficient.

    EOQ, the newsvendor and the (s, S) / (r, Q) approximations only need costs through ratios
    (``K / h``, ``p / (p + h)``): the division is exact in :class:`~decimal.Decimal`, and only
    the unitless result enters the real-valued formulas. No amount of money becomes a float.

    Args:
        numerator: A cost validated by :func:`cost_amount`.
        denominator: A positive cost validated by :func:`cost_amount`.
    """
    return float(numerator / denominator)


def series(values: Sequence[float], what: str = "demand history") -> Sequence[float]:
    """Return the history unchanged after rejecting an empty, negative, NaN or infinite one."""
    if isinstance(values, str | bytes):
        raise InvalidParameterError(f"{what} must be a sequence of numbers")
    data = values if isinstance(values, list | tuple) else list(values)
    if not data:
        raise EmptyHistoryError(
            f"{what} is empty; give at least one period of sales (zeros count as data)",
            details={"field": what},
        )
    low = min(data)
    if not low >= 0:
        raise NegativeDemandError(
            f"{what} contains a negative quantity ({low!r}); net returns out first",
            details={"field": what},
        )
    if not math.isfinite(sum(data)):  # a NaN or an infinity anywhere makes the sum non-finite
        raise InvalidParameterError(
            f"{what} contains a NaN or infinite quantity", details={"field": what}
        )
    return data


def positive_int(value: object, what: str) -> int:
    """Return an int >= 1 or raise ``replenishment.invalid_parameter``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(
            f"{what} must be a whole number of at least 1, got {value!r}", details={"field": what}
        )
    return value


def non_negative_int(value: object, what: str) -> int:
    """Return an int >= 0 or raise ``replenishment.invalid_parameter``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterError(
            f"{what} must be a whole number of at least 0, got {value!r}", details={"field": what}
        )
    return value
