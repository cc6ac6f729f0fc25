"""Purchase orders and transfers for many (store, sku) series: :func:`plan`.

For every (store, sku) with a demand history, :func:`plan` forecasts daily demand over the
protection interval (the method named by the policy, or the one its Syntetos-Boylan class
picks), computes safety stock, reorder point and order-up-to level under the policy
(:func:`~multistore.replenishment.policies.policy_levels`), then

1. suggests transfers from stores above their order-up-to level to stores at or below their
   reorder point (:func:`~multistore.replenishment.transfers.suggest_transfers`), and
2. orders what is still missing from each SKU's supplier, rounded to order multiples and the
   minimum order quantity, grouped into one purchase order per supplier.

Every figure is carried in ``explanation`` sentences so a buyer can check it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from money.money import Money

from multistore import money as msmoney
from multistore.geo import GeoPoint
from multistore.replenishment import _checks
from multistore.replenishment.errors import EmptyHistoryError, InvalidParameterError
from multistore.replenishment.forecasting import Forecast, forecast
from multistore.replenishment.history import DemandHistory
from multistore.replenishment.policies import (
    PolicyLevels,
    ReplenishmentPolicy,
    order_quantity_rq,
    order_quantity_rs,
    order_quantity_ss,
    policy_levels,
)
from multistore.replenishment.transfers import (
    StoreStock,
    TransferCosts,
    TransferSuggestion,
    suggest_transfers,
)

__all__ = [
    "ItemPlan",
    "LeadTime",
    "Plan",
    "PurchaseLine",
    "PurchaseOrder",
    "StockPosition",
    "SupplyTerms",
    "plan",
]


@attrs.frozen(slots=True)
class LeadTime:
    """A replenishment lead time in days.

    Attributes:
        mean_days: Mean days from order to usable stock (> 0).
        std_days: Standard deviation of the lead time (>= 0).

    Raises:
        InvalidLeadTimeError: ``replenishment.invalid_lead_time`` for a non-positive mean or a
            negative spread.
    """

    mean_days: float = attrs.field(converter=_checks.lead_time)
    std_days: float = attrs.field(default=0.0, converter=_checks.lead_time_std)


def _int_at_least(minimum: int, what: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise InvalidParameterError(
                f"{what} must be a whole number >= {minimum}, got {value!r}",
                details={"field": attribute.name},
            )

    return check


@attrs.frozen(slots=True)
class SupplyTerms:
    """How one SKU is bought.

    Attributes:
        sku: The SKU.
        supplier_id: Who supplies it; purchase orders are grouped by this.
        lead_time: Supplier lead time to any store without its own entry.
        store_lead_times: Lead time per store id, overriding ``lead_time``.
        unit_cost: Purchase price per unit (for EOQ and order values).
        order_cost: Fixed cost per purchase order line (for EOQ; must be positive).
        order_multiple: Orders are whole multiples of this (case size).
        min_order_quantity: Smallest order accepted by the supplier.
    """

    sku: str
    supplier_id: str
    lead_time: LeadTime
    store_lead_times: Mapping[str, LeadTime] = attrs.field(factory=dict)
    unit_cost: Money | None = None
    order_cost: Money | None = None
    order_multiple: int = attrs.field(default=1, validator=_int_at_least(1, "order_multiple"))
    min_order_quantity: int = attrs.field(
        default=0, validator=_int_at_least(0, "min_order_quantity")
    )

    def __attrs_post_init__(self) -> None:
        if self.unit_cost is not None:
            _checks.cost_amount(self.unit_cost, "unit cost")
        if self.order_cost is not None:
            _checks.cost_amount(self.order_cost, "order cost")

    def lead_time_for(self, store_id: str) -> LeadTime:
        """The lead time to ``store_id`` (its own entry, else the supplier default)."""
        return self.store_lead_times.get(store_id, self.lead_time)


@attrs.frozen(slots=True)
class StockPosition:
    """Stock of one SKU in one store.

    Attributes:
        store_id: The store.
        sku: The SKU.
        on_hand: Units in the store.
        on_order: Units ordered and not yet received.
        backorders: Units sold but not yet delivered.
    """

    store_id: str
    sku: str
    on_hand: int = attrs.field(validator=_int_at_least(0, "on_hand"))
    on_order: int = attrs.field(default=0, validator=_int_at_least(0, "on_order"))
    backorders: int = attrs.field(default=0, validator=_int_at_least(0, "backorders"))

    @property
    def inventory_position(self) -> int:
        """On hand + on order - backorders."""
        return self.on_hand + self.on_order - self.backorders


@attrs.frozen(slots=True)
class ItemPlan:
    """The numbers for one (store, sku).

    Attributes:
        store_id: The store.
        sku: The SKU.
        supplier_id: The SKU's supplier.
        forecast: The daily demand forecast over the protection interval.
        levels: Safety stock, reorder point, order-up-to level and batch size.
        position: On hand, on order and backorders.
        below_reorder_point: Whether the position is at or below the reorder point.
        explanation: Forecast and policy figures in plain sentences.
    """

    store_id: str
    sku: str
    supplier_id: str
    forecast: Forecast
    levels: PolicyLevels
    position: StockPosition
    below_reorder_point: bool
    explanation: tuple[str, ...]


@attrs.frozen(slots=True)
class PurchaseLine:
    """Order ``quantity`` units of ``sku`` for ``store_id``.

    Attributes:
        store_id: The receiving store.
        sku: The SKU.
        quantity: Units to order (a multiple of the order multiple, at least the MOQ).
        value: ``quantity * unit_cost`` when the unit cost is known.
        explanation: Forecast, safety stock, reorder point, on hand and on order behind it.
    """

    store_id: str
    sku: str
    quantity: int
    value: Money | None
    explanation: tuple[str, ...]


@attrs.frozen(slots=True)
class PurchaseOrder:
    """One suggested purchase order for a supplier.

    Attributes:
        supplier_id: The supplier.
        lines: The lines, by store then SKU.
        total_quantity: Units over all lines.
        total_value: Sum of the line values when every line has one, else ``None``.
        explanation: A summary sentence.
    """

    supplier_id: str
    lines: tuple[PurchaseLine, ...]
    total_quantity: int
    total_value: Money | None
    explanation: tuple[str, ...]


@attrs.frozen(slots=True)
class Plan:
    """Purchase and transfer suggestions for a set of (store, sku) series.

    Attributes:
        items: One :class:`ItemPlan` per (store, sku), sorted by key.
        purchase_orders: One per supplier with something to order, sorted by supplier id.
        transfers: Inter-store transfers, most urgent receiver first.
        explanation: A summary.
    """

    items: tuple[ItemPlan, ...]
    purchase_orders: tuple[PurchaseOrder, ...]
    transfers: tuple[TransferSuggestion, ...]
    explanation: tuple[str, ...]


def _histories(
    histories: Iterable[DemandHistory] | Mapping[tuple[str, str], DemandHistory],
) -> dict[tuple[str, str], DemandHistory]:
    values = histories.values() if isinstance(histories, Mapping) else histories
    result: dict[tuple[str, str], DemandHistory] = {}
    for h in values:
        if not isinstance(h, DemandHistory):
            raise InvalidParameterError(
                f"histories must hold DemandHistory values, got {type(h).__name__}; build them "
                "with build_histories(...)"
            )
        if h.key in result:
            raise InvalidParameterError(
                f"two histories for store {h.store_id!r}, sku {h.sku!r}; merge them first"
            )
        result[h.key] = h
    return result


def _forecast_item(history: DemandHistory, policy: ReplenishmentPolicy, horizon: int) -> Forecast:
    values = history.require_observations(exclude_stockouts=policy.exclude_stockouts)
    weekdays = history.weekdays(exclude_stockouts=policy.exclude_stockouts)
    return forecast(
        demand=values,
        method=policy.forecaster,
        horizon=horizon,
        weekdays=weekdays,
        alpha=policy.alpha,
        beta=policy.beta,
        window=policy.window,
    )


def _wanted(levels: PolicyLevels, position: float, terms: SupplyTerms) -> int:
    mult, moq = terms.order_multiple, terms.min_order_quantity
    if levels.kind == "rq":
        if levels.order_quantity <= 0:
            return 0
        return order_quantity_rq(
            inventory_position=position,
            reorder_point=levels.reorder_point,
            order_quantity=levels.order_quantity,
            order_multiple=mult,
            min_order_quantity=moq,
        )
    if levels.kind == "rs":
        return order_quantity_rs(
            inventory_position=position,
            order_up_to=levels.order_up_to,
            order_multiple=mult,
            min_order_quantity=moq,
        )
    return order_quantity_ss(
        inventory_position=position,
        reorder_point=levels.reorder_point,
        order_up_to=levels.order_up_to,
        order_multiple=mult,
        min_order_quantity=moq,
    )


@attrs.frozen(slots=True)
class _Inputs:
    default: ReplenishmentPolicy
    per_sku: dict[str, ReplenishmentPolicy]
    series: dict[tuple[str, str], DemandHistory]
    terms: dict[str, SupplyTerms]
    stock: dict[tuple[str, str], StockPosition]

    def policy_for(self, sku: str) -> ReplenishmentPolicy:
        return self.per_sku.get(sku, self.default)


def _inputs(
    histories: Iterable[DemandHistory] | Mapping[tuple[str, str], DemandHistory],
    positions: Iterable[StockPosition],
    supply: Iterable[SupplyTerms],
    policy: ReplenishmentPolicy | Mapping[str, Any] | None,
    sku_policies: Mapping[str, ReplenishmentPolicy | Mapping[str, Any]] | None,
) -> _Inputs:
    default = ReplenishmentPolicy.load(policy if policy is not None else {})
    per_sku = {sku: ReplenishmentPolicy.load(p) for sku, p in (sku_policies or {}).items()}
    series = _histories(histories)
    terms: dict[str, SupplyTerms] = {}
    for t in supply:
        if t.sku in terms:
            raise InvalidParameterError(f"two supply terms for sku {t.sku!r}; keep one")
        terms[t.sku] = t
    stock: dict[tuple[str, str], StockPosition] = {}
    for pos in positions:
        key = (pos.store_id, pos.sku)
        if key in stock:
            raise InvalidParameterError(f"two stock positions for store {key[0]!r}, sku {key[1]!r}")
        stock[key] = pos
    unknown = sorted({sku for _, sku in series} - set(terms))
    if unknown:
        raise InvalidParameterError(
            f"no supply terms for sku(s) {', '.join(unknown)}; give a SupplyTerms for each",
            code="replenishment.missing_supply_terms",
            details={"skus": unknown},
        )
    orphans = sorted(set(stock) - set(series))
    if orphans:
        raise EmptyHistoryError(
            f"stock positions without a demand history: {orphans[:5]}; include them in "
            "build_histories(keys=...) so missing days count as zero sales",
            details={"keys": [list(k) for k in orphans]},
        )
    return _Inputs(default=default, per_sku=per_sku, series=series, terms=terms, stock=stock)


def _item_plan(inputs: _Inputs, key: tuple[str, str]) -> ItemPlan:
    store_id, sku = key
    pol = inputs.policy_for(sku)
    term = inputs.terms[sku]
    lead = term.lead_time_for(store_id)
    protection = lead.mean_days + (pol.review_period_days if pol.kind == "rs" else 0)
    fc = _forecast_item(inputs.series[key], pol, max(1, math.ceil(protection)))
    levels = policy_levels(
        policy=pol,
        demand_mean=fc.mean,
        demand_std=fc.std,
        lead_time=lead.mean_days,
        lead_time_std=lead.std_days,
        order_cost=term.order_cost,
        unit_cost=term.unit_cost,
    )
    pos = inputs.stock.get(key) or StockPosition(store_id=store_id, sku=sku, on_hand=0)
    return ItemPlan(
        store_id=store_id,
        sku=sku,
        supplier_id=term.supplier_id,
        forecast=fc,
        levels=levels,
        position=pos,
        below_reorder_point=pos.inventory_position <= levels.reorder_point,
        explanation=fc.explanation + levels.explanation,
    )


def _transfers(
    inputs: _Inputs,
    items: list[ItemPlan],
    locations: Mapping[str, GeoPoint] | None,
    transfer_costs: TransferCosts | None,
) -> list[TransferSuggestion]:
    if not locations:
        return []
    by_sku: dict[str, list[ItemPlan]] = {}
    for item in items:
        by_sku.setdefault(item.sku, []).append(item)
    transfers: list[TransferSuggestion] = []
    for sku, group in sorted(by_sku.items()):
        if len(group) < 2:
            continue
        stocks = [
            StoreStock(
                store_id=i.store_id,
                on_hand=i.position.on_hand,
                inventory_position=i.position.inventory_position,
                reorder_point=i.levels.reorder_point,
                order_up_to=i.levels.order_up_to,
                demand_mean=i.levels.demand_mean,
                unit_cost=inputs.terms[sku].unit_cost,
            )
            for i in group
        ]
        transfers.extend(
            suggest_transfers(
                sku=sku,
                stocks=stocks,
                locations=locations,
                costs=transfer_costs,
                max_km=inputs.policy_for(sku).max_transfer_km,
            )
        )
    return transfers


def _purchase_line(item: ItemPlan, term: SupplyTerms, arriving: int) -> PurchaseLine | None:
    position = item.position.inventory_position + arriving
    qty = _wanted(item.levels, position, term)
    if qty <= 0:
        return None
    lv, pos, fc = item.levels, item.position, item.forecast
    value = None
    if term.unit_cost is not None:
        minor = msmoney.to_minor(term.unit_cost) * qty
        value = msmoney.from_minor(minor, term.unit_cost.currency)
    spread = f" ± {lv.lead_time_std:g}" if lv.lead_time_std else ""
    explanation = (
        (
            f"Forecast {fc.mean:.2f}/day by {fc.method} (error std {fc.std:.2f}); "
            f"lead time {lv.lead_time:g}{spread} days."
        ),
        (
            f"Safety stock {lv.safety_stock:.1f}, reorder point {lv.reorder_point:.1f}, "
            f"order-up-to {lv.order_up_to:.1f}."
        ),
        f"On hand {pos.on_hand}, on order {pos.on_order}"
        + (f", backorders {pos.backorders}" if pos.backorders else "")
        + (f", transfers in {arriving}" if arriving else "")
        + f": position {position}.",
        (
            f"Order {qty} ({_rule(lv)}; multiple {term.order_multiple}, "
            f"minimum {term.min_order_quantity})."
        ),
    )
    return PurchaseLine(
        store_id=item.store_id, sku=item.sku, quantity=qty, value=value, explanation=explanation
    )


def _purchase_orders(
    inputs: _Inputs, items: list[ItemPlan], transfers: list[TransferSuggestion]
) -> list[PurchaseOrder]:
    incoming: dict[tuple[str, str], int] = {}
    for move in transfers:
        key = (move.to_store, move.sku)
        incoming[key] = incoming.get(key, 0) + move.quantity
    lines_by_supplier: dict[str, list[PurchaseLine]] = {}
    for item in items:
        arriving = incoming.get((item.store_id, item.sku), 0)
        line = _purchase_line(item, inputs.terms[item.sku], arriving)
        if line is not None:
            lines_by_supplier.setdefault(item.supplier_id, []).append(line)
    orders = []
    for supplier, lines in sorted(lines_by_supplier.items()):
        total_qty = sum(line.quantity for line in lines)
        values = [line.value for line in lines if line.value is not None]
        total_value = msmoney.sum(values) if len(values) == len(lines) else None
        worth = f", worth {total_value.amount} {total_value.currency.value}" if total_value else ""
        stores = len({line.store_id for line in lines})
        orders.append(
            PurchaseOrder(
                supplier_id=supplier,
                lines=tuple(lines),
                total_quantity=total_qty,
                total_value=total_value,
                explanation=(
                    f"{len(lines)} line(s) for {stores} store(s), {total_qty} units{worth}.",
                ),
            )
        )
    return orders


def plan(
    *,
    histories: Iterable[DemandHistory] | Mapping[tuple[str, str], DemandHistory],
    positions: Iterable[StockPosition],
    supply: Iterable[SupplyTerms],
    policy: ReplenishmentPolicy | Mapping[str, Any] | None = None,
    sku_policies: Mapping[str, ReplenishmentPolicy | Mapping[str, Any]] | None = None,
    locations: Mapping[str, GeoPoint] | None = None,
    transfer_costs: TransferCosts | None = None,
) -> Plan:
    """Suggest purchase orders (by supplier) and inter-store transfers for many series.

    Args:
        histories: Daily demand per (store, sku), from
            :func:`~multistore.replenishment.history.build_histories`.
        positions: On hand / on order per (store, sku); a series without one counts as empty.
        supply: Supply terms per SKU (supplier, lead times, costs, multiples, MOQ).
        policy: The default :class:`ReplenishmentPolicy` (or a dict to load one).
        sku_policies: Policies per SKU overriding the default.
        locations: Store coordinates; without them no transfers are suggested.
        transfer_costs: Costs of moving stock, used to rank and price transfers.

    Returns:
        The :class:`Plan`.

    Raises:
        EmptyHistoryError: ``replenishment.empty_history`` for a series with no usable day.
        InvalidParameterError: for a SKU without supply terms, a position without a history,
            duplicate entries, or a store without a location.
        ValidationError: ``replenishment.invalid_policy`` for an invalid policy mapping.
    """
    inputs = _inputs(histories, positions, supply, policy, sku_policies)
    items = [_item_plan(inputs, key) for key in sorted(inputs.series)]
    transfers = _transfers(inputs, items, locations, transfer_costs)
    orders = _purchase_orders(inputs, items, transfers)
    below = sum(1 for i in items if i.below_reorder_point)
    return Plan(
        items=tuple(items),
        purchase_orders=tuple(orders),
        transfers=tuple(transfers),
        explanation=(
            f"Planned {len(items)} (store, sku) series: {below} at or below the reorder point.",
            f"{len(transfers)} transfer(s) and {len(orders)} purchase order(s) suggested.",
        ),
    )


def _rule(levels: PolicyLevels) -> str:
    if levels.kind == "rq":
        return f"batches of Q = {levels.order_quantity:.1f} once at or below the reorder point"
    if levels.kind == "rs":
        return "up to the order-up-to level at this review"
    return "up to the order-up-to level once at or below the reorder point"
