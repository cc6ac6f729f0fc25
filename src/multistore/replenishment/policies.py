"""Safety stock, reorder points, EOQ and the (s, S), (R, S), (r, Q) and min/max policies.

Conventions: one *period* is the unit of time of the demand statistics (a day in :func:`plan
<multistore.replenishment.plan>`); lead times are in periods; demand per period has mean ``d``
and standard deviation ``sigma_d``; the lead time has mean ``L`` and standard deviation
``sigma_L``. Demand over a protection interval of ``P`` periods is taken as normal with mean
``d P`` and standard deviation ``sqrt(P sigma_d^2 + d^2 sigma_L^2)`` (independent periods, lead
time independent of demand).

Money (order, holding and stockout costs) enters as :class:`~money.money.Money` or
:class:`~decimal.Decimal` and never becomes a float: the formulas use costs only through exact
ratios (``K / h``, ``p / (p + h)``), which are unitless, and the expected costs they report are
:class:`~decimal.Decimal` statistics in the currency's major units, not amounts to book.

Examples:
    >>> result = eoq(demand_rate=1300, order_cost=Decimal("8"), holding_cost=Decimal("0.225"))
    >>> round(result.quantity, 4), round(result.cost, 4)
    (304.0468, Decimal('68.4105'))
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Literal

import attrs
import pydantic
from money.money import Money

from multistore.errors import ValidationError
from multistore.replenishment import _checks, normal
from multistore.replenishment.errors import InvalidParameterError

__all__ = [
    "EOQResult",
    "NewsvendorResult",
    "PolicyLevels",
    "RQPolicy",
    "ReplenishmentPolicy",
    "SSPolicy",
    "eoq",
    "fill_rate_safety_factor",
    "lead_time_demand",
    "newsvendor_normal",
    "order_quantity_min_max",
    "order_quantity_rq",
    "order_quantity_rs",
    "order_quantity_ss",
    "policy_levels",
    "reorder_point",
    "round_order_quantity",
    "rq_eoq_ss",
    "safety_factor",
    "safety_stock",
    "ss_power_approximation",
]

Cost = Money | Decimal | int


@attrs.frozen(slots=True)
class EOQResult:
    """Economic order quantity and its cost.

    Attributes:
        quantity: ``Q* = sqrt(2 K lambda / h)`` units.
        cost: Ordering plus holding cost per period at ``Q*``, ``sqrt(2 K lambda h)``, in the
            currency's major units (a statistic, not an amount to book).
    """

    quantity: float
    cost: Decimal


@attrs.frozen(slots=True)
class NewsvendorResult:
    """Optimal base-stock level of the normal newsvendor.

    Attributes:
        base_stock: ``S* = mu + z_alpha sigma`` with ``alpha = p / (p + h)``.
        cost: Expected holding plus shortage cost per period, ``(h + p) phi(z_alpha) sigma``,
            in the currency's major units (a statistic, not an amount to book).
        critical_ratio: ``alpha = p / (p + h)``.
    """

    base_stock: float
    cost: Decimal
    critical_ratio: float


@attrs.frozen(slots=True)
class SSPolicy:
    """An (s, S) policy: when the inventory position is at or below ``s``, order up to ``S``."""

    reorder_point: float
    order_up_to: float


@attrs.frozen(slots=True)
class RQPolicy:
    """An (r, Q) policy: when the inventory position is at or below ``r``, order ``Q``."""

    reorder_point: float
    order_quantity: float


def safety_factor(*, service_level: float) -> float:
    """The safety factor ``z`` for a cycle service level: ``Phi(z) = service_level``.

    Raises:
        InvalidServiceLevelError: ``replenishment.invalid_service_level`` outside (0, 1).
    """
    return normal.ppf(_checks.service_level(service_level))


def fill_rate_safety_factor(*, fill_rate: float, demand_per_cycle: float, sigma: float) -> float:
    """The safety factor ``k`` that reaches a fill rate: ``G(k) = (1 - fill_rate) Q / sigma``.

    The expected shortage per replenishment cycle is ``sigma G(k)`` (standard normal loss
    function) and the demand per cycle is ``Q``, so the fill rate is ``1 - sigma G(k) / Q``.
    ``k`` may be negative when cycles are long compared with the uncertainty.

    Args:
        fill_rate: Target fraction of demand served from stock, in (0, 1).
        demand_per_cycle: Expected demand between two orders (``Q``, or ``d R``), > 0.
        sigma: Standard deviation of demand over the protection interval (0 gives ``k = 0``).

    Raises:
        InvalidServiceLevelError: for a fill rate outside (0, 1).
        InvalidParameterError: for a non-positive ``demand_per_cycle`` or a negative ``sigma``.
    """
    beta = _checks.service_level(fill_rate, "fill rate")
    q = _checks.non_negative(demand_per_cycle, "demand per cycle")
    s = _checks.non_negative(sigma, "sigma")
    if s == 0.0:
        return 0.0
    if q == 0.0:
        raise InvalidParameterError(
            "demand per cycle must be positive to target a fill rate; there is no demand to serve",
            details={"field": "demand_per_cycle"},
        )
    return normal.inverse_loss((1.0 - beta) * q / s)


def lead_time_demand(
    *, demand_mean: float, demand_std: float, lead_time: float, lead_time_std: float = 0.0
) -> tuple[float, float]:
    """Mean and standard deviation of demand over a random lead time.

    ``mean = d L`` and ``std = sqrt(L sigma_d^2 + d^2 sigma_L^2)``.

    Raises:
        NegativeDemandError: for a negative demand mean.
        InvalidParameterError: for a negative demand standard deviation.
        InvalidLeadTimeError: for a non-positive lead time or a negative lead-time spread.
    """
    d = _checks.demand_mean(demand_mean)
    sd = _checks.non_negative(demand_std, "demand standard deviation")
    lt = _checks.lead_time(lead_time)
    slt = _checks.lead_time_std(lead_time_std)
    return d * lt, math.sqrt(lt * sd * sd + d * d * slt * slt)


def safety_stock(
    *,
    demand_mean: float,
    demand_std: float,
    lead_time: float,
    lead_time_std: float = 0.0,
    service_level: float | None = None,
    z: float | None = None,
) -> float:
    """Safety stock ``z sqrt(L sigma_d^2 + d^2 sigma_L^2)`` for a cycle service level.

    Args:
        demand_mean: Mean demand per period ``d``.
        demand_std: Standard deviation of demand per period ``sigma_d``.
        lead_time: Mean lead time ``L`` in periods (> 0); for periodic review pass ``R + L``.
        lead_time_std: Standard deviation of the lead time ``sigma_L``.
        service_level: Cycle service level in (0, 1); give this or ``z``.
        z: Safety factor, instead of ``service_level``.

    Raises:
        InvalidServiceLevelError: for a service level outside (0, 1).
        InvalidParameterError: when both or neither of ``service_level`` and ``z`` are given.
        NegativeDemandError: for a negative demand mean.
        InvalidLeadTimeError: for a non-positive lead time.
    """
    if (service_level is None) == (z is None):
        raise InvalidParameterError(
            "give exactly one of service_level (for example 0.95) or z (a safety factor)"
        )
    factor = (
        safety_factor(service_level=service_level)
        if service_level is not None
        else _checks.number(z, "z")
    )
    _, sigma = lead_time_demand(
        demand_mean=demand_mean,
        demand_std=demand_std,
        lead_time=lead_time,
        lead_time_std=lead_time_std,
    )
    return factor * sigma


def reorder_point(*, demand_mean: float, lead_time: float, safety_stock: float) -> float:
    """Reorder point ``d L + safety stock``.

    Raises:
        NegativeDemandError: for a negative demand mean.
        InvalidLeadTimeError: for a non-positive lead time.
    """
    d = _checks.demand_mean(demand_mean)
    lt = _checks.lead_time(lead_time)
    return d * lt + _checks.number(safety_stock, "safety stock")


def eoq(*, demand_rate: float, order_cost: Cost, holding_cost: Cost) -> EOQResult:
    """Economic order quantity ``sqrt(2 K lambda / h)`` and its cost ``sqrt(2 K lambda h)``.

    Args:
        demand_rate: Demand per period ``lambda`` (>= 0).
        order_cost: Fixed cost per order ``K`` (Money or Decimal, > 0).
        holding_cost: Holding cost per unit per period ``h`` (Money or Decimal, > 0), in the
            same period as ``demand_rate``.

    Raises:
        InvalidCostError: ``replenishment.invalid_cost`` for a non-positive cost.
        FloatMoneyError: for a float cost.
        NegativeDemandError: for a negative demand rate.
    """
    lam = _checks.demand_mean(demand_rate, "demand rate")
    k = _checks.cost_amount(order_cost, "order cost")
    h = _checks.cost_amount(holding_cost, "holding cost")
    q = math.sqrt(2.0 * lam * _checks.cost_ratio(k, h))
    return EOQResult(quantity=q, cost=(2 * k * h * Decimal(lam)).sqrt())


def newsvendor_normal(
    *,
    demand_mean: float,
    demand_std: float,
    holding_cost: Cost,
    stockout_cost: Cost,
    lead_time: int = 0,
) -> NewsvendorResult:
    """The normal newsvendor (base-stock level over ``lead_time + 1`` periods).

    ``S* = mu + z_alpha sigma`` with ``mu = d (L + 1)``, ``sigma = sigma_d sqrt(L + 1)`` and
    ``alpha = p / (p + h)``; cost ``(h + p) phi(z_alpha) sigma``.

    Args:
        demand_mean: Mean demand per period.
        demand_std: Standard deviation of demand per period.
        holding_cost: Holding cost per unit left over per period ``h`` (> 0).
        stockout_cost: Shortage cost per unit short per period ``p`` (> 0).
        lead_time: Lead time in periods (>= 0).

    Raises:
        InvalidCostError: for a non-positive cost.
        NegativeDemandError: for a negative demand mean.
        InvalidLeadTimeError: for a negative lead time.
    """
    d = _checks.demand_mean(demand_mean)
    sd = _checks.non_negative(demand_std, "demand standard deviation")
    h = _checks.cost_amount(holding_cost, "holding cost")
    p = _checks.cost_amount(stockout_cost, "stockout cost")
    periods = _checks.lead_time_std(lead_time, "lead time") + 1.0
    mu, sigma = d * periods, sd * math.sqrt(periods)
    alpha = _checks.cost_ratio(p, p + h)
    z = normal.ppf(alpha)
    return NewsvendorResult(
        base_stock=mu + z * sigma,
        cost=(h + p) * Decimal(normal.pdf(z) * sigma),
        critical_ratio=alpha,
    )


def ss_power_approximation(
    *,
    demand_mean: float,
    demand_std: float,
    holding_cost: Cost,
    stockout_cost: Cost,
    order_cost: Cost,
    lead_time: int = 0,
) -> SSPolicy:
    """The (s, S) power approximation of Ehrhardt and Mosier (1984), periodic review.

    With ``mu_L = d (L + 1)`` and ``sigma_L = sigma_d sqrt(L + 1)``:
    ``Q = 1.30 d^0.494 (K / h)^0.506 (1 + sigma_L^2 / d^2)^0.116``,
    ``z = sqrt(Q h / (sigma_L p))``,
    ``s = 0.973 mu_L + sigma_L (0.183 / z + 1.063 - 2.192 z)``, ``S = s + Q``.

    Args:
        demand_mean: Mean demand per period (> 0).
        demand_std: Standard deviation of demand per period (> 0).
        holding_cost: Holding cost per unit per period ``h``.
        stockout_cost: Shortage cost per unit per period ``p``.
        order_cost: Fixed cost per order ``K``.
        lead_time: Lead time in periods (>= 0); 0 reproduces the single-period textbook form.

    Raises:
        InvalidCostError: for a non-positive cost.
        InvalidParameterError: for a demand mean or standard deviation that is not positive.
    """
    d = _checks.demand_mean(demand_mean)
    sd = _checks.non_negative(demand_std, "demand standard deviation")
    if d <= 0 or sd <= 0:
        raise InvalidParameterError(
            "the power approximation needs a positive demand mean and standard deviation",
            details={"field": "demand_mean" if d <= 0 else "demand_std"},
        )
    h = _checks.cost_amount(holding_cost, "holding cost")
    p = _checks.cost_amount(stockout_cost, "stockout cost")
    k = _checks.cost_amount(order_cost, "order cost")
    periods = _checks.lead_time_std(lead_time, "lead time") + 1.0
    mu_l, sigma_l = d * periods, sd * math.sqrt(periods)
    q = 1.30 * d**0.494 * _checks.cost_ratio(k, h) ** 0.506 * (1.0 + (sigma_l / d) ** 2) ** 0.116
    z = math.sqrt((q / sigma_l) * _checks.cost_ratio(h, p))
    s = 0.973 * mu_l + sigma_l * (0.183 / z + 1.063 - 2.192 * z)
    return SSPolicy(reorder_point=s, order_up_to=s + q)


def rq_eoq_ss(
    *,
    demand_mean: float,
    demand_std: float,
    lead_time: float,
    holding_cost: Cost,
    stockout_cost: Cost,
    order_cost: Cost,
) -> RQPolicy:
    """The "EOQ plus safety stock" (r, Q) approximation (continuous review).

    ``Q = sqrt(2 K lambda / h)`` and ``r = mu + z_alpha sigma`` with ``mu = lambda L``,
    ``sigma = tau sqrt(L)`` and ``alpha = p / (p + h)``.

    Args:
        demand_mean: Mean demand per unit time ``lambda``.
        demand_std: Standard deviation of demand per unit time ``tau``.
        lead_time: Lead time ``L`` (> 0).
        holding_cost: Holding cost per unit per unit time ``h``.
        stockout_cost: Shortage cost per unit ``p``.
        order_cost: Fixed cost per order ``K``.

    Raises:
        InvalidCostError: for a non-positive cost.
        InvalidLeadTimeError: for a non-positive lead time.
        NegativeDemandError: for a negative demand mean.
    """
    d = _checks.demand_mean(demand_mean)
    sd = _checks.non_negative(demand_std, "demand standard deviation")
    lt = _checks.lead_time(lead_time)
    h = _checks.cost_amount(holding_cost, "holding cost")
    p = _checks.cost_amount(stockout_cost, "stockout cost")
    q = eoq(demand_rate=d, order_cost=order_cost, holding_cost=holding_cost).quantity
    z = normal.ppf(_checks.cost_ratio(p, p + h))
    return RQPolicy(reorder_point=d * lt + z * sd * math.sqrt(lt), order_quantity=q)


def round_order_quantity(
    *, quantity: float, order_multiple: int = 1, min_order_quantity: int = 0
) -> int:
    """Round a wanted quantity up to whole order multiples, at least the minimum order quantity.

    ``0`` (or less) wanted orders nothing. The minimum order quantity is itself rounded up to a
    multiple, so the result is always a multiple of ``order_multiple``.

    Raises:
        InvalidParameterError: for a multiple below 1 or a negative minimum.
    """
    mult = _checks.positive_int(order_multiple, "order multiple")
    moq = _checks.non_negative_int(min_order_quantity, "minimum order quantity")
    wanted = _checks.number(quantity, "quantity")
    if wanted <= 1e-9:
        return 0
    units = math.ceil(wanted - 1e-9)
    packs = max(-(-units // mult), -(-moq // mult))
    return packs * mult


def order_quantity_rq(
    *,
    inventory_position: float,
    reorder_point: float,
    order_quantity: float,
    order_multiple: int = 1,
    min_order_quantity: int = 0,
) -> int:
    """(r, Q): at or below ``r`` order the fewest batches of ``Q`` that lift the position above.

    Raises:
        InvalidParameterError: for a non-positive ``order_quantity``.
    """
    ip = _checks.number(inventory_position, "inventory position")
    r = _checks.number(reorder_point, "reorder point")
    q = _checks.number(order_quantity, "order quantity")
    if q <= 0:
        raise InvalidParameterError(f"order quantity must be positive, got {order_quantity!r}")
    if ip > r:
        return 0
    batches = math.floor((r - ip) / q) + 1
    return round_order_quantity(
        quantity=batches * q, order_multiple=order_multiple, min_order_quantity=min_order_quantity
    )


def order_quantity_ss(
    *,
    inventory_position: float,
    reorder_point: float,
    order_up_to: float,
    order_multiple: int = 1,
    min_order_quantity: int = 0,
) -> int:
    """(s, S): at or below ``s`` order up to ``S`` (rounded up to multiples and MOQ)."""
    ip = _checks.number(inventory_position, "inventory position")
    s = _checks.number(reorder_point, "reorder point")
    big_s = _checks.number(order_up_to, "order-up-to level")
    if ip > s:
        return 0
    return round_order_quantity(
        quantity=big_s - ip, order_multiple=order_multiple, min_order_quantity=min_order_quantity
    )


def order_quantity_rs(
    *,
    inventory_position: float,
    order_up_to: float,
    order_multiple: int = 1,
    min_order_quantity: int = 0,
) -> int:
    """(R, S): at each review order up to ``S`` (rounded up to multiples and MOQ)."""
    ip = _checks.number(inventory_position, "inventory position")
    big_s = _checks.number(order_up_to, "order-up-to level")
    return round_order_quantity(
        quantity=big_s - ip, order_multiple=order_multiple, min_order_quantity=min_order_quantity
    )


def order_quantity_min_max(
    *,
    inventory_position: float,
    minimum: float,
    maximum: float,
    order_multiple: int = 1,
    min_order_quantity: int = 0,
) -> int:
    """Min/max: at or below ``minimum`` order up to ``maximum`` (multiples and MOQ applied).

    Raises:
        InvalidParameterError: when ``maximum`` is below ``minimum``.
    """
    low = _checks.number(minimum, "minimum")
    high = _checks.number(maximum, "maximum")
    if high < low:
        raise InvalidParameterError(
            f"maximum {maximum!r} is below minimum {minimum!r}; raise the maximum",
            details={"field": "maximum"},
        )
    return order_quantity_ss(
        inventory_position=inventory_position,
        reorder_point=low,
        order_up_to=high,
        order_multiple=order_multiple,
        min_order_quantity=min_order_quantity,
    )


PolicyKind = Literal["rq", "ss", "rs", "min_max"]


class ReplenishmentPolicy(pydantic.BaseModel):
    """How to replenish: policy kind, service target and forecasting choices (declarative).

    Load from a dict, JSON or YAML with :meth:`load`, which reports every invalid field at once.

    Attributes:
        kind: ``rq`` (order ``Q`` at the reorder point), ``ss`` (order up to ``S = s + Q``),
            ``rs`` (order up to ``S`` every ``review_period_days``) or ``min_max`` (at the minimum
            order up to the maximum, ``cover_days`` beyond the lead time).
        service_target: ``cycle`` (probability of no stock-out per cycle) or ``fill_rate``
            (fraction of demand served from stock).
        service_level: The target, strictly between 0 and 1.
        review_period_days: Days between reviews for ``rs``; also the default order cover.
        cover_days: Days of demand an order covers when no EOQ can be computed (no order cost),
            and the span between minimum and maximum for ``min_max``.
        holding_cost_rate: Yearly holding cost as a fraction of the unit cost (``0.25``), used
            with the supplier's order cost for EOQ.
        forecaster: A forecaster name; ``None`` chooses by Syntetos-Boylan class.
        alpha: Smoothing constant passed to the forecaster (its default when ``None``).
        beta: Second smoothing constant (trend, interval or probability).
        window: Window of the moving average and of the weekly profile level.
        exclude_stockouts: Leave stock-out days out of the demand statistics.
        max_transfer_km: Farthest distance a transfer between stores may travel.
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    kind: PolicyKind = "rq"
    service_target: Literal["cycle", "fill_rate"] = "cycle"
    service_level: float = pydantic.Field(default=0.95, gt=0.0, lt=1.0)
    review_period_days: int = pydantic.Field(default=7, ge=1)
    cover_days: int = pydantic.Field(default=14, ge=1)
    holding_cost_rate: Decimal = pydantic.Field(default=Decimal("0.25"), gt=0)
    forecaster: (
        Literal["moving_average", "ses", "holt", "seasonal", "croston", "sba", "tsb"] | None
    ) = None
    alpha: float | None = pydantic.Field(default=None, gt=0.0, le=1.0)
    beta: float | None = pydantic.Field(default=None, gt=0.0, le=1.0)
    window: int | None = pydantic.Field(default=None, ge=1)
    exclude_stockouts: bool = True
    max_transfer_km: float | None = pydantic.Field(default=None, gt=0.0)

    @classmethod
    def load(cls, data: Any) -> ReplenishmentPolicy:
        """Build a policy from a mapping (parsed JSON or YAML), reporting every bad field.

        Raises:
            ValidationError: ``replenishment.invalid_policy`` with ``details["errors"]`` listing
                ``{"field", "problem"}`` for each invalid field.
        """
        if isinstance(data, cls):
            return data
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in err["loc"]) or "(root)", "problem": err["msg"]}
                for err in exc.errors()
            ]
            listing = "; ".join(f"{e['field']}: {e['problem']}" for e in errors)
            raise ValidationError(
                f"invalid replenishment policy: {listing}",
                code="replenishment.invalid_policy",
                details={"errors": errors},
            ) from None


@attrs.frozen(slots=True)
class PolicyLevels:
    """The stock levels of one (store, sku) under a policy, with the numbers behind them.

    Attributes:
        kind: The policy kind.
        demand_mean: Forecast demand per period.
        demand_std: Forecast error per period.
        lead_time: Mean lead time in periods.
        lead_time_std: Lead-time standard deviation.
        protection_periods: Periods the safety stock protects (``L``, or ``R + L`` for ``rs``).
        z: Safety factor used.
        safety_stock: ``z sqrt(P sigma_d^2 + d^2 sigma_L^2)`` (never below zero).
        reorder_point: Order at or below this inventory position.
        order_up_to: Target position after ordering (``S``, ``max``, or ``r + Q``).
        order_quantity: Batch size ``Q`` (EOQ, or ``d * cover_days``).
        eoq_used: Whether ``order_quantity`` is an EOQ.
        explanation: The figures in plain sentences.
    """

    kind: str
    demand_mean: float
    demand_std: float
    lead_time: float
    lead_time_std: float
    protection_periods: float
    z: float
    safety_stock: float
    reorder_point: float
    order_up_to: float
    order_quantity: float
    eoq_used: bool
    explanation: tuple[str, ...]


def policy_levels(
    *,
    policy: ReplenishmentPolicy,
    demand_mean: float,
    demand_std: float,
    lead_time: float,
    lead_time_std: float = 0.0,
    order_cost: Cost | None = None,
    unit_cost: Cost | None = None,
) -> PolicyLevels:
    """Compute safety stock, reorder point, order-up-to level and batch size for one series.

    ``Q`` is the EOQ when both ``order_cost`` and ``unit_cost`` are given (holding cost per unit
    per period = ``unit_cost * holding_cost_rate / 365``), else ``d * cover_days``. For a fill-rate
    target the safety factor solves ``G(k) = (1 - beta) Q / sigma`` (``d R`` instead of ``Q`` for
    ``rs``); negative safety stock is raised to zero.

    Raises:
        InvalidServiceLevelError: for a service level outside (0, 1).
        InvalidLeadTimeError: for a non-positive lead time.
        InvalidCostError: for a non-positive order or unit cost.
        NegativeDemandError: for a negative demand mean.
    """
    d = _checks.demand_mean(demand_mean)
    sd = _checks.non_negative(demand_std, "demand standard deviation")
    lt = _checks.lead_time(lead_time)
    slt = _checks.lead_time_std(lead_time_std)
    level = _checks.service_level(policy.service_level)
    review = policy.review_period_days
    eoq_used = order_cost is not None and unit_cost is not None and d > 0
    if eoq_used:
        assert order_cost is not None
        assert unit_cost is not None
        per_day = (
            _checks.cost_amount(unit_cost, "unit cost") * policy.holding_cost_rate / Decimal(365)
        )
        q = eoq(demand_rate=d, order_cost=order_cost, holding_cost=per_day).quantity
    else:
        q = d * policy.cover_days
    protection = lt + review if policy.kind == "rs" else lt
    sigma = math.sqrt(protection * sd * sd + d * d * slt * slt)
    cycle_demand = d * review if policy.kind == "rs" else q
    if policy.service_target == "cycle":
        z = normal.ppf(level)
        target = f"a {level:.1%} cycle service level"
    elif sigma > 0 and cycle_demand > 0:
        z = fill_rate_safety_factor(fill_rate=level, demand_per_cycle=cycle_demand, sigma=sigma)
        target = f"a {level:.1%} fill rate (G(k) = {(1 - level) * cycle_demand / sigma:.4f})"
    else:
        z = 0.0
        target = f"a {level:.1%} fill rate"
    ss = max(0.0, z * sigma)
    if policy.kind == "rs":
        rop_sigma = math.sqrt(lt * sd * sd + d * d * slt * slt)
        rop = d * lt + max(0.0, z * rop_sigma)
        up_to = d * protection + ss
    else:
        rop = d * lt + ss
        up_to = rop + d * policy.cover_days if policy.kind == "min_max" else rop + q
    lines = [
        f"Demand {d:.3f}/day (error std {sd:.3f}); lead time {lt:g} days"
        + (f" ± {slt:g}" if slt else "")
        + ".",
        (
            f"Safety stock {ss:.2f} = z {z:.3f} * sqrt({protection:g} * {sd:.3f}² + {d:.3f}² * "
            f"{slt:g}²) for {target}."
        ),
        f"Reorder point {rop:.2f} = {d:.3f} * {lt:g} + safety stock.",
    ]
    if policy.kind == "rs":
        lines.append(
            f"Order-up-to level {up_to:.2f} covers the {review}-day review period plus the lead "
            "time."
        )
    elif policy.kind == "min_max":
        lines.append(f"Maximum {up_to:.2f} = reorder point + {policy.cover_days} days of demand.")
    else:
        how = "EOQ" if eoq_used else f"{policy.cover_days} days of demand"
        lines.append(f"Order quantity {q:.2f} ({how}); order-up-to level {up_to:.2f}.")
    return PolicyLevels(
        kind=policy.kind,
        demand_mean=d,
        demand_std=sd,
        lead_time=lt,
        lead_time_std=slt,
        protection_periods=protection,
        z=z,
        safety_stock=ss,
        reorder_point=rop,
        order_up_to=up_to,
        order_quantity=q,
        eoq_used=eoq_used,
        explanation=tuple(lines),
    )
