"""Order routing (智能分单与派单): which store(s) fulfil an order, at the lowest total cost.

The pure core: no storage, no clock, no randomness. Call :func:`route` with plain data::

    plan = route(lines={"TEA-250G": 2}, candidates=stores, destination=(31.23, 121.47))

and read ``plan.shipments``, ``plan.unfulfilled``, ``plan.objective``, ``plan.gap`` and
``plan.explanation``. :func:`route_batch` routes many orders against shared stock and
:func:`reroute` moves a rejected shipment elsewhere.
"""

from __future__ import annotations

from multistore.routing.batch import BatchResult, OrderRequest, route_batch
from multistore.routing.candidates import StoreNetwork
from multistore.routing.cost import (
    CostModel,
    CostTerms,
    LinearCostModel,
    ShipmentCosts,
    round_shipment_cost,
    shipment_cost,
)
from multistore.routing.errors import RoutingCurrencyError, RoutingValidationError
from multistore.routing.plan import PlanLine, RoutingPlan, Shipment, UnfulfilledLine
from multistore.routing.policy import RoutingPolicy
from multistore.routing.request import CandidateStore, RouteRequest
from multistore.routing.router import reroute, route

__all__ = [
    "BatchResult",
    "CandidateStore",
    "CostModel",
    "CostTerms",
    "LinearCostModel",
    "OrderRequest",
    "PlanLine",
    "RouteRequest",
    "RoutingCurrencyError",
    "RoutingPlan",
    "RoutingPolicy",
    "RoutingValidationError",
    "Shipment",
    "ShipmentCosts",
    "StoreNetwork",
    "UnfulfilledLine",
    "reroute",
    "round_shipment_cost",
    "route",
    "route_batch",
    "shipment_cost",
]
