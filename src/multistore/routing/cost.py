"""The shipment cost model and the one place where a cost is rounded to the minor unit.

A shipment from store ``s`` carrying ``u`` units over ``d`` km costs::

    base + per_km * d + u * (per_unit + per_unit_km * d)

Rates are exact decimals in major units (``Decimal("0.002")`` yuan per unit per km is fine even
though it is a fraction of a fen). Inside the solver every amount is an integer number of
*nano-minor units* (10⁻⁹ fen for CNY) and distances are whole metres, so sums are exact. Each
shipment's exact cost is rounded half-up to the minor unit by :func:`round_shipment_cost`, the
single named rounding point; a plan's total is the sum of its rounded shipment costs.

A custom :class:`CostModel` may replace the default: it returns, per store and distance, a fixed
part and a per-unit part (optionally per SKU) in minor units as exact decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs
from money.money import Money

from multistore.money import currency as _currency
from multistore.money import from_minor, minor_per_major
from multistore.routing.errors import RoutingValidationError

if TYPE_CHECKING:
    from multistore.routing.request import CandidateStore

__all__ = [
    "NANO",
    "CostModel",
    "CostTerms",
    "LinearCostModel",
    "ShipmentCosts",
    "distance_metres",
    "model_currency",
    "round_shipment_cost",
    "shipment_cost",
]

NANO = 10**9
"""Internal cost units per minor unit (fen): amounts are exact integers of 10⁻⁹ fen."""


def distance_metres(distance_km: float) -> int:
    """Quantise a distance to whole metres (the precision at which costs are computed)."""
    return round(distance_km * 1000.0)


def round_shipment_cost(exact_nano: int) -> int:
    """Round one shipment's exact cost (nano-minor units) half-up to whole minor units (四舍五入).

    This is the only rounding of a cost in :mod:`multistore.routing`.
    """
    return (exact_nano + NANO // 2) // NANO


def _rate(value: object, what: str) -> tuple[Decimal, str | None]:
    """Convert a rate to a non-negative Decimal in major units; report the currency of Money."""
    if isinstance(value, float):
        raise RoutingValidationError(
            f"{what} must not be a float ({value!r}); pass a str or Decimal such as '{value}'",
            code="routing.invalid_cost",
        )
    cur: str | None = None
    if isinstance(value, Money):
        cur = value.currency.value
        dec = value.amount
    elif isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise RoutingValidationError(
            f"{what} must be Money, a str, int or Decimal, got {type(value).__name__}",
            code="routing.invalid_cost",
        )
    else:
        try:
            dec = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
        except InvalidOperation:
            raise RoutingValidationError(
                f"{what} {value!r} is not a number; write it like '0.002'",
                code="routing.invalid_cost",
            ) from None
    if not dec.is_finite() or dec < 0:
        raise RoutingValidationError(
            f"{what} {value!r} must be a finite amount of zero or more",
            code="routing.invalid_cost",
        )
    return dec, cur


def _to_nano(value: Decimal, scale: int, what: str) -> int:
    exact = value * scale
    if exact != exact.to_integral_value():
        raise RoutingValidationError(
            f"{what} {value} is too precise: costs are exact to 10⁻⁹ of the minor unit per "
            "metre; round the rate to fewer decimal places",
            code="routing.invalid_cost",
        )
    return int(exact)


Rate = Money | Decimal | str | int
"""A cost amount in major units: Money, Decimal, str or int (never a float)."""


@attrs.frozen(slots=True, init=False)
class ShipmentCosts:
    """Cost parameters of shipments from one store (all amounts in major units, e.g. yuan).

    Each rate accepts ``Money``, ``str``, ``int`` or ``Decimal`` (never a float).

    Args:
        base: Fixed cost of one shipment (¥6).
        per_km: Cost per km of the shipment (¥0.01 per km).
        per_unit: Handling cost per unit (¥0.20).
        per_unit_km: Cost per unit per km (¥0.002); sub-fen rates are exact.
        currency: ISO 4217 code; defaults to the Money arguments' currency, else ``"CNY"``.

    Raises:
        RoutingValidationError: ``routing.invalid_cost`` for a float, a negative amount or a rate
            finer than 10⁻⁹ minor unit per metre; ``routing.currency_mismatch`` when rates are
            in different currencies.

    Examples:
        >>> ShipmentCosts(base="6", per_km="0.01", per_unit="0.2", per_unit_km="0.002").base
        Decimal('6')
    """

    currency: str
    base: Decimal
    per_km: Decimal
    per_unit: Decimal
    per_unit_km: Decimal
    nano: tuple[int, int, int, int] = attrs.field(eq=False, repr=False)
    """(base, per metre, per unit, per unit per metre) in nano-minor units."""

    def __init__(
        self,
        base: Rate = 0,
        per_km: Rate = 0,
        per_unit: Rate = 0,
        per_unit_km: Rate = 0,
        currency: str | None = None,
    ) -> None:
        rates = {"base": base, "per_km": per_km, "per_unit": per_unit, "per_unit_km": per_unit_km}
        decs: dict[str, Decimal] = {}
        cur = None if currency is None else _currency(currency).value
        for name, value in rates.items():
            dec, money_cur = _rate(value, name)
            if money_cur is not None:
                if cur is not None and money_cur != cur:
                    raise RoutingValidationError(
                        f"{name} is in {money_cur} but the costs are in {cur}; use one currency",
                        code="routing.currency_mismatch",
                    )
                cur = money_cur
            decs[name] = dec
        cur = cur or "CNY"
        mpm = minor_per_major(cur)
        fixed_scale = mpm * NANO
        per_metre_scale = mpm * NANO // 1000
        object.__setattr__(self, "currency", cur)
        for name, dec in decs.items():
            object.__setattr__(self, name, dec)
        object.__setattr__(
            self,
            "nano",
            (
                _to_nano(decs["base"], fixed_scale, "base"),
                _to_nano(decs["per_km"], per_metre_scale, "per_km"),
                _to_nano(decs["per_unit"], fixed_scale, "per_unit"),
                _to_nano(decs["per_unit_km"], per_metre_scale, "per_unit_km"),
            ),
        )


@attrs.frozen(slots=True)
class CostTerms:
    """What one shipment from a store costs, as returned by a :class:`CostModel`.

    All amounts are exact decimals in **minor** units (fen), non-negative.

    Attributes:
        fixed: Cost of the shipment regardless of its size.
        per_unit: Cost per unit shipped.
        per_sku: Optional per-unit cost overriding ``per_unit`` for some SKUs.
    """

    fixed: Decimal
    per_unit: Decimal
    per_sku: Mapping[str, Decimal] = attrs.field(factory=dict, hash=False)


@runtime_checkable
class CostModel(Protocol):
    """A pluggable shipment cost: a fixed part plus a per-unit part per store and distance.

    The solver stays exact for any model of this shape (a fixed cost per opened store and a
    per-unit cost per store and SKU).
    """

    @property
    def currency(self) -> str:
        """ISO 4217 code of the amounts returned by :meth:`terms`."""
        ...

    def terms(self, *, store: CandidateStore, distance_km: float) -> CostTerms:
        """Return the cost terms of a shipment from ``store`` over ``distance_km``."""
        ...


@attrs.frozen(slots=True)
class LinearCostModel:
    """The default model: each store's :class:`ShipmentCosts` (base, per km, per unit, per unit-km).

    Passing it explicitly is the same as passing no model: :func:`~multistore.routing.route`
    and :func:`shipment_cost` price every shipment in its store's ``ShipmentCosts`` currency.

    Attributes:
        currency: Declared for the :class:`CostModel` protocol (``"CNY"``); the router and
            :func:`shipment_cost` use the stores' own currency instead.
    """

    currency: str = "CNY"

    def terms(self, *, store: CandidateStore, distance_km: float) -> CostTerms:
        """Return the store's linear terms at ``distance_km`` in minor units."""
        b, pkm, pu, pukm = store.costs.nano
        d = distance_metres(distance_km)
        return CostTerms(
            fixed=Decimal(b + pkm * d) / NANO,
            per_unit=Decimal(pu + pukm * d) / NANO,
        )


def shipment_cost(
    *,
    store: CandidateStore,
    distance_km: float,
    lines: Mapping[str, int],
    cost_model: CostModel | None = None,
) -> Money:
    """Recompute the cost of one shipment exactly as the router prices it.

    Args:
        store: The shipping store.
        distance_km: The shipment's distance as reported on the plan.
        lines: SKU -> units carried.
        cost_model: The model used for routing (default: :class:`LinearCostModel`).

    Returns:
        The shipment cost rounded half-up to the minor unit.

    Examples:
        >>> from multistore.routing import CandidateStore
        >>> s = CandidateStore(store_id="S1", location=(31.2, 121.4), stock={"A": 5},
        ...     costs=ShipmentCosts(base="6", per_km="0.01", per_unit="0.2", per_unit_km="0.002"))
        >>> str(shipment_cost(store=s, distance_km=10.0, lines={"A": 2}).amount)
        '6.54'
    """
    d = distance_metres(distance_km)
    if cost_model is None or isinstance(cost_model, LinearCostModel):
        b, pkm, pu, pukm = store.costs.nano
        units = sum(lines.values())
        exact = b + pkm * d + units * (pu + pukm * d)
        cur = store.costs.currency
    else:
        cur = model_currency(cost_model)
        fixed, unit, per_sku = terms_nano(cost_model, store, d)
        exact = fixed + sum(q * per_sku.get(k, unit) for k, q in lines.items())
    return from_minor(round_shipment_cost(exact), cur)


def _model_name(model: object) -> str:
    return type(model).__qualname__


def model_currency(model: object) -> str:
    """The currency of a custom cost model, checked to be a model at all.

    Raises:
        RoutingValidationError: ``routing.invalid_cost`` when ``model`` has no ``terms``
            method or no ``currency`` (an ISO 4217 code).
    """
    if not callable(getattr(model, "terms", None)):
        raise RoutingValidationError(
            f"cost model {_model_name(model)} has no terms(store=..., distance_km=...) method; "
            "pass a CostModel (see multistore.routing.cost.CostModel)",
            code="routing.invalid_cost",
            details={"model": _model_name(model)},
        )
    cur = getattr(model, "currency", None)
    if cur is None:
        raise RoutingValidationError(
            f"cost model {_model_name(model)} has no currency; give it a currency attribute "
            "with the ISO 4217 code of the amounts its terms() return",
            code="routing.invalid_cost",
            details={"model": _model_name(model)},
        )
    return cur  # type: ignore[no-any-return]


def terms_nano(
    model: CostModel, store: CandidateStore, d_m: int
) -> tuple[int, int, dict[str, int]]:
    """Ask a custom model for its terms and convert them to exact nano-minor integers.

    Raises:
        RoutingValidationError: ``routing.invalid_cost`` when the model returns something else
            than :class:`CostTerms` (or an object with its fields), ``per_sku`` is not a mapping,
            or an amount is not a valid cost; the message names the model and what it returned.
    """
    t = model.terms(store=store, distance_km=d_m / 1000.0)
    try:
        fixed_rate = t.fixed
        unit_rate = t.per_unit
        per_sku_rates = t.per_sku
    except AttributeError:
        raise _bad_terms(model, store, t, "return a CostTerms(fixed=..., per_unit=...)") from None
    if not isinstance(per_sku_rates, Mapping):
        raise _bad_terms(
            model, store, t, "per_sku must be a mapping of SKU -> per-unit cost (or left out)"
        )
    try:
        fixed = _to_nano(_rate(fixed_rate, "fixed cost")[0], NANO, "fixed cost")
        unit = _to_nano(_rate(unit_rate, "per-unit cost")[0], NANO, "per-unit cost")
        per_sku = {
            sku: _to_nano(_rate(v, f"per-unit cost of {sku}")[0], NANO, f"per-unit cost of {sku}")
            for sku, v in per_sku_rates.items()
        }
    except RoutingValidationError as exc:
        raise RoutingValidationError(
            f"cost model {_model_name(model)}, store {store.store_id!r}: {exc.message}",
            code=exc.code,
            details={"model": _model_name(model), "store_id": store.store_id},
        ) from None
    return fixed, unit, per_sku


def _bad_terms(
    model: object, store: CandidateStore, got: object, fix: str
) -> RoutingValidationError:
    return RoutingValidationError(
        f"cost model {_model_name(model)} returned {got!r} for store {store.store_id!r}; {fix}",
        code="routing.invalid_cost",
        details={"model": _model_name(model), "store_id": store.store_id},
    )
