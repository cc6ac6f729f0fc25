"""What the router returns: shipments, unfulfilled lines, costs, bounds and an explanation."""

from __future__ import annotations

from decimal import Decimal

import attrs
from money.money import Money

from multistore.routing.request import RouteRequest

__all__ = ["PlanLine", "RoutingPlan", "Shipment", "UnfulfilledLine"]


@attrs.frozen(slots=True)
class PlanLine:
    """Units of one SKU in a shipment.

    Attributes:
        sku: The SKU.
        quantity: Units carried.
    """

    sku: str
    quantity: int


@attrs.frozen(slots=True)
class Shipment:
    """One parcel: what a store sends and what it costs.

    Attributes:
        store_id: The shipping store.
        lines: SKUs and units, in the order's line order.
        units: Total units.
        distance_km: Great-circle distance to the destination (to the metre); 0 for pickup.
        cost: Shipment cost, rounded half-up to the minor unit.
        pickup: Whether the customer collects this shipment at the store.
        pinned: SKUs an operator pinned to this store.
    """

    store_id: str
    lines: tuple[PlanLine, ...]
    units: int
    distance_km: float
    cost: Money
    pickup: bool = False
    pinned: tuple[str, ...] = ()

    def quantity(self, sku: str) -> int:
        """Units of ``sku`` in this shipment (0 when absent)."""
        return sum(line.quantity for line in self.lines if line.sku == sku)


@attrs.frozen(slots=True)
class UnfulfilledLine:
    """Units the plan cannot ship, and why.

    Attributes:
        sku: The SKU.
        quantity: Units not shipped.
        reason: Plain-language reason.
    """

    sku: str
    quantity: int
    reason: str


@attrs.frozen(slots=True, kw_only=True)
class RoutingPlan:
    """The router's answer for one order.

    Attributes:
        status: ``"complete"`` (every unit ships), ``"partial"`` (some units unfulfilled) or
            ``"unfulfilled"`` (nothing ships).
        shipments: The parcels, cheapest-first by the tie-break order of their stores.
        unfulfilled: Lines (or parts of lines) that cannot be shipped.
        shipping_cost: Sum of the shipments' rounded costs.
        split_penalty: Penalty charged for shipments beyond the first (policy), not a real cost.
        objective: ``shipping_cost + split_penalty``: what the router minimised.
        lower_bound: A proven lower bound of the objective (before per-shipment rounding),
            rounded down to the minor unit; ``None`` when not known.
        gap: ``(objective - lower_bound) / objective`` as a fraction; ``0`` when proven optimal,
            ``None`` when not known.
        optimal: Whether the plan is proven optimal for the exact (unrounded) objective.
        mode: The solver that produced the plan (``"exact"``, ``"fast"``, ``"auto"``, ``"milp"``).
        nodes: Search nodes explored (0 for the heuristic alone).
        explanation: Plain sentences a store operator can read.
        request: The validated request (kept for :func:`~multistore.routing.reroute`).
    """

    status: str
    shipments: tuple[Shipment, ...]
    unfulfilled: tuple[UnfulfilledLine, ...]
    shipping_cost: Money
    split_penalty: Money
    objective: Money
    lower_bound: Money | None
    gap: Decimal | None
    optimal: bool
    mode: str
    nodes: int
    explanation: tuple[str, ...]
    request: RouteRequest = attrs.field(repr=False)

    @property
    def total_cost(self) -> Money:
        """The plan's total shipping cost (the sum of its shipments' costs)."""
        return self.shipping_cost

    @property
    def store_ids(self) -> tuple[str, ...]:
        """Ids of the shipping stores, in shipment order."""
        return tuple(s.store_id for s in self.shipments)

    @property
    def units_shipped(self) -> int:
        """Total units across shipments."""
        return sum(s.units for s in self.shipments)

    def shipped(self) -> dict[str, int]:
        """SKU -> units shipped across all shipments."""
        out: dict[str, int] = {}
        for s in self.shipments:
            for line in s.lines:
                out[line.sku] = out.get(line.sku, 0) + line.quantity
        return out
