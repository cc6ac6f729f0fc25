"""Transfers between stores, nearest and cheapest first.

Stock moves from stores above their order-up-to level to stores at or below their reorder point.

For one SKU, a store *has excess* when its inventory position exceeds its order-up-to level;
it can send ``min(on hand, position - order-up-to)`` whole units without dropping below its own
target. A store *needs* stock when its position is at or below its reorder point; it wants
``ceil(order-up-to - position)`` units. Needy stores are served most urgent first (fewest days of
cover left); for each, sources are tried by cost per unit moved (fixed cost per transfer plus a
rate per unit and kilometre), then by distance. A move is skipped when it is farther than
``max_km`` or costs at least the unit purchase price.

Examples:
    >>> from multistore.geo import GeoPoint
    >>> stocks = [
    ...     StoreStock(store_id="SH", on_hand=2, inventory_position=2, reorder_point=10,
    ...                order_up_to=30, demand_mean=2.0),
    ...     StoreStock(store_id="HZ", on_hand=80, inventory_position=80, reorder_point=10,
    ...                order_up_to=30, demand_mean=2.0),
    ... ]
    >>> sites = {"SH": GeoPoint(31.23, 121.47), "HZ": GeoPoint(30.27, 120.16)}
    >>> [(t.from_store, t.to_store, t.quantity) for t in suggest_transfers(
    ...     sku="TEA", stocks=stocks, locations=sites)]
    [('HZ', 'SH', 28)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

import attrs
from money.money import Money

from multistore import money as msmoney
from multistore.geo import GeoPoint, haversine_km
from multistore.replenishment import _checks
from multistore.replenishment.errors import InvalidParameterError

__all__ = ["StoreStock", "TransferCosts", "TransferSuggestion", "suggest_transfers"]


@attrs.frozen(slots=True)
class TransferCosts:
    """What moving stock between stores costs.

    Attributes:
        fixed_cost: Cost per transfer (a van trip, a handling fee).
        cost_per_unit_km: Cost per unit moved per kilometre, as a Decimal in the currency of
            ``fixed_cost`` (may be finer than a cent, e.g. ``Decimal("0.002")``).
    """

    fixed_cost: Money
    cost_per_unit_km: Decimal = Decimal(0)

    def __attrs_post_init__(self) -> None:
        _checks.cost_amount(self.fixed_cost, "transfer fixed cost", positive=False)
        if not isinstance(self.fixed_cost, Money):
            raise InvalidParameterError("transfer fixed_cost must be Money")
        _checks.cost_amount(self.cost_per_unit_km, "transfer cost per unit km", positive=False)

    def cost(self, *, quantity: int, distance_km: float) -> Money:
        """The cost of moving ``quantity`` units ``distance_km`` kilometres, rounded half up."""
        cur = self.fixed_cost.currency
        km = Decimal(str(round(distance_km, 3)))
        minor = msmoney.minor_per_major(cur)
        variable = self.cost_per_unit_km * km * quantity * minor
        exact = Decimal(msmoney.to_minor(self.fixed_cost)) + variable
        return msmoney.from_minor(int(exact.to_integral_value(rounding=ROUND_HALF_UP)), cur)


@attrs.frozen(slots=True)
class StoreStock:
    """One store's position in one SKU, as the transfer search sees it.

    Attributes:
        store_id: The store.
        on_hand: Units physically in the store (only these can be sent).
        inventory_position: On hand + on order - backorders.
        reorder_point: The store's reorder point.
        order_up_to: The store's order-up-to level.
        demand_mean: Forecast demand per day (ranks urgency by days of cover).
        unit_cost: Purchase price of one unit, when known (a transfer must cost less).
    """

    store_id: str
    on_hand: int
    inventory_position: float
    reorder_point: float
    order_up_to: float
    demand_mean: float = 0.0
    unit_cost: Money | None = None

    @property
    def excess(self) -> int:
        """Whole units that can leave without dropping below the order-up-to level."""
        if self.inventory_position <= self.order_up_to:
            return 0
        return max(0, min(self.on_hand, math.floor(self.inventory_position - self.order_up_to)))

    @property
    def need(self) -> int:
        """Units wanted when at or below the reorder point (up to the order-up-to level)."""
        if self.inventory_position > self.reorder_point:
            return 0
        return max(0, math.ceil(self.order_up_to - self.inventory_position - 1e-9))


@attrs.frozen(slots=True)
class TransferSuggestion:
    """Move ``quantity`` units of ``sku`` from one store to another.

    Attributes:
        sku: The SKU.
        from_store: Sending store (it has excess).
        to_store: Receiving store (at or below its reorder point).
        quantity: Whole units to move.
        distance_km: Great-circle distance between the stores.
        cost: Estimated cost of the move, when transfer costs were given.
        explanation: The numbers behind the suggestion.
    """

    sku: str
    from_store: str
    to_store: str
    quantity: int
    distance_km: float
    cost: Money | None
    explanation: tuple[str, ...]


def suggest_transfers(
    *,
    sku: str,
    stocks: Sequence[StoreStock],
    locations: Mapping[str, GeoPoint],
    costs: TransferCosts | None = None,
    max_km: float | None = None,
) -> list[TransferSuggestion]:
    """Suggest transfers of one SKU from stores with excess to stores that need stock.

    Args:
        sku: The SKU.
        stocks: One :class:`StoreStock` per store carrying the SKU.
        locations: Store coordinates by store id (every store in ``stocks`` must have one).
        costs: Transfer costs; without them moves are ranked by distance alone.
        max_km: Farthest allowed move (``None``: no limit).

    Returns:
        Suggestions in the order they were decided (most urgent receiver first).

    Raises:
        InvalidParameterError: when a store has no location or ``max_km`` is not positive.
    """
    limit = math.inf if max_km is None else _checks.number(max_km, "max_km")
    if limit <= 0:
        raise InvalidParameterError(f"max_km must be positive, got {max_km!r}")
    missing = sorted({s.store_id for s in stocks} - set(locations))
    if missing:
        raise InvalidParameterError(
            f"no location for store(s) {', '.join(missing)}; give a GeoPoint for every store",
            details={"field": "locations", "missing": missing},
        )
    spare = {s.store_id: s.excess for s in stocks}
    by_id = {s.store_id: s for s in stocks}
    needy = sorted(
        (s for s in stocks if s.need > 0),
        key=lambda s: (
            (s.inventory_position - s.reorder_point) / max(s.demand_mean, 1e-9),
            s.store_id,
        ),
    )
    result: list[TransferSuggestion] = []
    for dest in needy:
        wanted = dest.need
        options: list[tuple[Decimal, float, str]] = []
        for src_id, units in spare.items():
            if units <= 0 or src_id == dest.store_id:
                continue
            km = haversine_km(locations[src_id], locations[dest.store_id])
            if km > limit:
                continue
            qty = min(units, wanted)
            per_unit = (
                costs.cost(quantity=qty, distance_km=km).amount / qty if costs else Decimal(0)
            )
            if (
                dest.unit_cost is not None
                and costs is not None
                and per_unit >= dest.unit_cost.amount
            ):
                continue
            options.append((per_unit, km, src_id))
        options.sort()
        for _, km, src_id in options:
            if wanted <= 0:
                break
            qty = min(spare[src_id], wanted)
            if qty <= 0:
                continue
            spare[src_id] -= qty
            wanted -= qty
            src = by_id[src_id]
            cost = costs.cost(quantity=qty, distance_km=km) if costs else None
            lines = [
                (
                    f"{dest.store_id} is at or below its reorder point: position "
                    f"{dest.inventory_position:g} <= {dest.reorder_point:.2f}; it needs "
                    f"{dest.need} to reach {dest.order_up_to:.2f}."
                ),
                (
                    f"{src_id} holds {src.on_hand} on hand with position "
                    f"{src.inventory_position:g} above its order-up-to level "
                    f"{src.order_up_to:.2f}: {src.excess} spare."
                ),
                f"Move {qty} over {km:.1f} km"
                + (f" for {cost.amount} {cost.currency.value}." if cost is not None else "."),
            ]
            result.append(
                TransferSuggestion(
                    sku=sku,
                    from_store=src_id,
                    to_store=dest.store_id,
                    quantity=qty,
                    distance_km=km,
                    cost=cost,
                    explanation=tuple(lines),
                )
            )
    return result
