"""Typed errors raised by :mod:`multistore.routing`.

Every error carries a stable dotted code, for example ``routing.unknown_sku``, and a message that
says what to change. Bad input is rejected before any solving starts.

Codes:
    ``routing.empty_order``: the order has no lines (``lines`` is empty or not a mapping).
    ``routing.invalid_quantity``: a quantity or stock figure is not a non-negative int.
    ``routing.negative_quantity``: a quantity or stock figure is negative.
    ``routing.invalid_coordinate``: a destination or store location is out of range.
    ``routing.missing_destination``: neither a destination nor a pickup store was given.
    ``routing.no_candidates``: the candidate store list is empty.
    ``routing.duplicate_store``: two candidates share a store id.
    ``routing.unknown_store``: a pin, pickup store or rejected store is not a candidate.
    ``routing.unknown_sku``: a pin names a SKU that is not in the order.
    ``routing.pin_without_stock``: a pinned store lacks the stock for the whole pinned line.
    ``routing.pin_conflict``: a pinned store is also excluded.
    ``routing.pickup_unavailable``: the pickup store does not offer pickup.
    ``routing.invalid_zone``: a delivery zone is not a valid polygon or multipolygon.
    ``routing.invalid_cost``: a cost rate is negative, a float or too precise; or a custom
        cost model has no ``terms`` method or no ``currency``, or its ``terms()`` returns
        something other than :class:`~multistore.routing.cost.CostTerms` (or ``per_sku`` that
        is not a mapping).
    ``routing.currency_mismatch``: candidates price shipments in different currencies, or a
        Money ``split_penalty`` is in another currency.
    ``routing.invalid_policy``: the routing policy has invalid fields (``details["errors"]``).
    ``routing.milp_unavailable``: ``mode="milp"`` needs the optional ``highspy`` package.
    ``routing.invalid_candidate``: a candidate is not a ``CandidateStore`` or its ``priority``
        is not an int or ``None``.
    ``routing.invalid_radius``: ``max_radius_km`` is not a number or is negative.
    ``routing.invalid_order``: a batch order is malformed, an order line's SKU is not a str,
        ``pins`` is not a mapping of str to str (in :func:`~multistore.routing.route` and in
        batch orders alike) or ``excluded`` is not a collection of ids.
    ``routing.duplicate_order``: two orders of one batch share an order id.
"""

from __future__ import annotations

from multistore.errors import CurrencyMismatchError, ValidationError

__all__ = ["RoutingCurrencyError", "RoutingValidationError"]


class RoutingValidationError(ValidationError):
    """A routing request, candidate store, cost model or policy is invalid; fix it and retry."""

    default_code = "routing.invalid"


class RoutingCurrencyError(CurrencyMismatchError):
    """Candidates price their shipments in different currencies."""

    default_code = "routing.currency_mismatch"
