"""Typed errors of the replenishment engine.

Every error is a :class:`multistore.errors.ValidationError` (the input is wrong; fix it and call
again) with a stable dotted ``code``:

* ``replenishment.negative_demand`` -- a sales quantity below zero (net returns out first).
* ``replenishment.invalid_service_level`` -- a service level or fill rate outside (0, 1).
* ``replenishment.invalid_lead_time`` -- a lead time that is not positive, or a negative spread.
* ``replenishment.invalid_cost`` -- a non-positive order or holding cost, a negative stockout cost.
* ``replenishment.empty_history`` -- a method needs at least one observation and got none.
* ``replenishment.invalid_parameter`` -- any other parameter out of range (smoothing constants,
  windows, order multiples, quantities, unknown forecaster names).
"""

from __future__ import annotations

from multistore.errors import ValidationError

__all__ = [
    "EmptyHistoryError",
    "InvalidCostError",
    "InvalidLeadTimeError",
    "InvalidParameterError",
    "InvalidServiceLevelError",
    "NegativeDemandError",
    "ReplenishmentError",
]


class ReplenishmentError(ValidationError):
    """Base class of the replenishment input errors."""

    default_code = "replenishment.invalid"


class NegativeDemandError(ReplenishmentError):
    """A demand (sales) quantity is negative; returns must be netted out before forecasting."""

    default_code = "replenishment.negative_demand"


class InvalidServiceLevelError(ReplenishmentError):
    """A cycle service level or fill-rate target lies outside the open interval (0, 1)."""

    default_code = "replenishment.invalid_service_level"


class InvalidLeadTimeError(ReplenishmentError):
    """A lead time is not positive (or its standard deviation is negative or not finite)."""

    default_code = "replenishment.invalid_lead_time"


class InvalidCostError(ReplenishmentError):
    """An order cost or holding cost is not positive, or a cost is not a Money/Decimal amount."""

    default_code = "replenishment.invalid_cost"


class EmptyHistoryError(ReplenishmentError):
    """A method needs at least one demand observation and the history is empty."""

    default_code = "replenishment.empty_history"


class InvalidParameterError(ReplenishmentError):
    """A parameter (smoothing constant, window, multiple, quantity, method name) is out of range."""

    default_code = "replenishment.invalid_parameter"
