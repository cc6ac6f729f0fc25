"""Route many orders against shared stock: each order consumes what it ships."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs

from multistore.routing.candidates import StoreNetwork
from multistore.routing.cost import CostModel
from multistore.routing.errors import RoutingValidationError
from multistore.routing.plan import RoutingPlan
from multistore.routing.policy import RoutingPolicy
from multistore.routing.request import CandidateStore, RouteRequest
from multistore.routing.router import route_request, validate_request

__all__ = ["BatchResult", "OrderRequest", "route_batch"]


def _frozen_map(value: object, field: str, code: str) -> Mapping[str, Any]:
    """A read-only copy of a mapping field (``None``: empty), else the error :func:`route` gives."""
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise RoutingValidationError(
            f"{field} must be a mapping, got a {type(value).__name__}; pass {field}="
            + ("{'SKU': quantity, ...}" if field == "lines" else "{'SKU': 'store id', ...}"),
            code=code,
            details={"field": field},
        )
    return MappingProxyType(dict(value))


def _lines(value: object) -> Mapping[str, int]:
    return _frozen_map(value, "lines", "routing.empty_order")


def _pins(value: object) -> Mapping[str, str]:
    return _frozen_map(value, "pins", "routing.invalid_order")


@attrs.frozen(slots=True, kw_only=True, eq=False)
class OrderRequest:
    """One order of a batch (the same fields as :func:`~multistore.routing.route`).

    Attributes:
        order_id: Unique id within the batch.
        lines: SKU -> quantity.
        destination: Delivery point ``(lat, lon)`` or GeoPoint, or ``None`` for pickup.
        pickup_store: Pickup store id, if any.
        pins: SKU -> store id.
        excluded: Store ids not to use.

    Raises:
        RoutingValidationError: as :func:`~multistore.routing.route` does for the same
            values: ``routing.empty_order`` when ``lines`` is not a mapping,
            ``routing.invalid_order`` when ``pins`` is not a mapping.
    """

    order_id: str = attrs.field(converter=str)
    lines: Mapping[str, int] = attrs.field(converter=_lines)
    destination: Any = None
    pickup_store: str | None = None
    pins: Mapping[str, str] = attrs.field(factory=dict, converter=_pins)
    excluded: Collection[str] = ()


@attrs.frozen(slots=True, kw_only=True, eq=False)
class BatchResult:
    """Plans of a batch, in the order routed, and the stock left afterwards.

    Attributes:
        plans: Order id -> plan, in input order.
        remaining_stock: Store id -> SKU -> units left after every plan of the batch.
        explanation: A summary of the batch.
    """

    plans: Mapping[str, RoutingPlan]
    remaining_stock: Mapping[str, Mapping[str, int]]
    explanation: tuple[str, ...]


def route_batch(
    *,
    orders: Sequence[OrderRequest | Mapping[str, Any]],
    candidates: Sequence[CandidateStore] | StoreNetwork,
    policy: RoutingPolicy | Mapping[str, Any] | None = None,
    cost_model: CostModel | None = None,
) -> BatchResult:
    """Route orders one after another against shared stock, in the given order.

    Every order is validated before any is routed, pins against the batch's starting stock.
    Each plan's shipments are taken out of the stock the following orders see, so the batch
    never promises a unit twice. When earlier orders of the batch took the stock of a pinned
    store, the pinned line of a later order is unfulfilled (the reason names the store and
    what it has left; the line is not moved to another store) and the other orders are routed
    as usual; with ``allow_partial=False`` that order is unfulfilled.

    Args:
        orders: :class:`OrderRequest` values or mappings with the same keys.
        candidates: The stores (their ``stock`` is the batch's starting stock).
        policy: The routing policy for every order.
        cost_model: A custom cost model, if any.

    Raises:
        RoutingValidationError: for any invalid order (``routing.duplicate_order`` when two
            orders share an id, ``routing.pin_without_stock`` when a pinned store's starting
            stock lacks the pinned line), before anything is routed.
        RoutingCurrencyError: ``routing.currency_mismatch`` for a split penalty in another
            currency than the stores', before anything is routed.
    """
    net = StoreNetwork.of(candidates)
    pol = RoutingPolicy.load(policy)
    requests: list[tuple[str, RouteRequest]] = []
    seen: set[str] = set()
    for n, o in enumerate(orders):
        order = o if isinstance(o, OrderRequest) else _order(o, n)
        if order.order_id in seen:
            raise RoutingValidationError(
                f"order id {order.order_id!r} appears twice in the batch; ids must be unique",
                code="routing.duplicate_order",
            )
        seen.add(order.order_id)
        try:
            req = RouteRequest.build(
                lines=order.lines,
                destination=order.destination,
                pickup_store=order.pickup_store,
                pins=order.pins,
                excluded=order.excluded,
            )
            validate_request(request=req, network=net, policy=pol, cost_model=cost_model)
        except RoutingValidationError as exc:
            raise RoutingValidationError(
                f"order {order.order_id!r}: {exc.message}", code=exc.code, details=exc.details
            ) from None
        requests.append((order.order_id, req))
    stock = [dict(s.stock) for s in net.stores]
    plans: dict[str, RoutingPlan] = {}
    shipped = 0
    for order_id, req in requests:
        try:
            plan = route_request(
                request=req,
                network=net,
                policy=pol,
                cost_model=cost_model,
                stock=stock,
                consumed=True,
            )
        except RoutingValidationError as exc:  # e.g. a custom cost model's invalid terms
            raise RoutingValidationError(
                f"order {order_id!r}: {exc.message}", code=exc.code, details=exc.details
            ) from None
        for s in plan.shipments:
            held = stock[net.index_of[s.store_id]]
            for line in s.lines:
                left = held.get(line.sku, 0) - line.quantity
                assert left >= 0, "a plan never ships more than the stock it was given"
                held[line.sku] = left
        plans[order_id] = plan
        shipped += len(plan.shipments)
    complete = sum(1 for p in plans.values() if p.status == "complete")
    remaining = {s.store_id: MappingProxyType(dict(stock[i])) for i, s in enumerate(net.stores)}
    return BatchResult(
        plans=MappingProxyType(plans),
        remaining_stock=MappingProxyType(remaining),
        explanation=(
            (
                f"{len(plans)} order(s) routed in input order against shared stock: {complete} "
                f"complete, {len(plans) - complete} partial or unfulfilled, {shipped} shipment(s)."
            ),
        ),
    )


def _order(data: Mapping[str, Any], n: int) -> OrderRequest:
    if not isinstance(data, Mapping):
        raise RoutingValidationError(
            f"order #{n} must be an OrderRequest or a mapping", code="routing.invalid_order"
        )
    unknown = set(data) - {"order_id", "lines", "destination", "pickup_store", "pins", "excluded"}
    if unknown:
        raise RoutingValidationError(
            f"order #{n} has unknown field(s) {sorted(unknown)}", code="routing.invalid_order"
        )
    order_id = data.get("order_id", str(n))
    try:
        return OrderRequest(
            order_id=order_id,
            lines=data.get("lines", {}),
            destination=data.get("destination"),
            pickup_store=data.get("pickup_store"),
            pins=data.get("pins"),
            excluded=data.get("excluded", ()),
        )
    except RoutingValidationError as exc:
        raise RoutingValidationError(
            f"order {str(order_id)!r}: {exc.message}", code=exc.code, details=exc.details
        ) from None
