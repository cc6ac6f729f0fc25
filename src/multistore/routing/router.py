"""The entry points: :func:`route` one order and :func:`reroute` after a store rejects it."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs
from money.money import Money

from multistore.geo import GeoPoint
from multistore.money import from_minor, minor_per_major
from multistore.routing.candidates import Eligibility, StoreNetwork
from multistore.routing.cost import (
    NANO,
    CostModel,
    LinearCostModel,
    model_currency,
    round_shipment_cost,
)
from multistore.routing.cover import solve_cover
from multistore.routing.errors import RoutingCurrencyError, RoutingValidationError
from multistore.routing.exact import SearchResult, solve_exact
from multistore.routing.explain import explain, explain_kept
from multistore.routing.heuristic import multi_start, solve_fast
from multistore.routing.plan import PlanLine, RoutingPlan, Shipment, UnfulfilledLine
from multistore.routing.policy import RoutingPolicy
from multistore.routing.problem import Problem, build_problem
from multistore.routing.request import CandidateStore, RouteRequest

__all__ = ["Context", "reroute", "route", "route_request", "validate_request"]

Assignment = dict[int, list[tuple[int, int]]]

EXACT_COVER_NODES = 1_000
"""Nodes the exact and auto modes give the cover search (:mod:`multistore.routing.cover`)
before handing a hard order to the branch and bound with Lagrangian bounds."""

FAST_NODES = 30
"""Search nodes the fast mode spends after its greedy start when the order may stay partly
unfulfilled under a shipment cap (a truncated branch and bound; when that leaves units short
without proof, the policy's ``node_budget`` settles whether they fit); other orders use
:func:`~multistore.routing.cover.solve_cover`."""


class Context:
    """Everything known about one routing call, shared by the solver, plan and explanation."""

    __slots__ = (
        "cost_model",
        "currency",
        "elig",
        "free",
        "minors",
        "net",
        "penalty_nano",
        "pickup",
        "policy",
        "problem",
        "request",
        "short",
        "short_reason",
        "sku_holders",
        "stock",
    )

    def __init__(self) -> None:
        self.request: RouteRequest
        self.net: StoreNetwork
        self.policy: RoutingPolicy
        self.cost_model: CostModel | None = None
        self.currency = "CNY"
        self.penalty_nano = 0
        self.pickup: int | None = None
        self.elig = Eligibility()
        self.problem: Problem
        self.short: dict[str, int] = {}
        self.short_reason: dict[str, str] = {}
        self.sku_holders: dict[str, int] = {}
        self.stock: Sequence[Mapping[str, int]] | None = None
        self.free: frozenset[int] = frozenset()
        self.minors: list[int] | None = None


def route(
    *,
    lines: Mapping[str, int],
    candidates: Sequence[CandidateStore] | StoreNetwork,
    destination: GeoPoint | tuple[float, float] | None = None,
    pickup_store: str | None = None,
    pins: Mapping[str, str] | None = None,
    excluded: Collection[str] | None = (),
    policy: RoutingPolicy | Mapping[str, Any] | None = None,
    cost_model: CostModel | None = None,
) -> RoutingPlan:
    """Decide which store(s) fulfil an order at the lowest total cost.

    Args:
        lines: SKU -> quantity ordered (positive ints).
        candidates: Candidate stores, or a prebuilt :class:`StoreNetwork` (faster when many
            orders share the same stores).
        destination: Delivery point as a GeoPoint or ``(lat, lon)``; ``None`` for pickup.
        pickup_store: Store id where the customer collects the order.
        pins: SKU -> store id (both str), forced by an operator (the whole line ships from
            that store).
        excluded: Store ids that must not be used (``None``: none).
        policy: A :class:`RoutingPolicy` or a mapping that loads into one (default policy).
        cost_model: A custom :class:`CostModel` (default: each store's :class:`ShipmentCosts`).

    Returns:
        The plan: shipments, unfulfilled lines, costs, bound, gap and explanation.

    Raises:
        RoutingValidationError: for bad input (see :mod:`multistore.routing.errors`), e.g.
            ``routing.invalid_policy`` for a ``split_penalty`` that is not a whole number of
            minor units of the stores' currency.
        RoutingCurrencyError: ``routing.currency_mismatch`` when the candidates price in
            several currencies or ``split_penalty`` is Money in another currency.

    Examples:
        >>> from multistore.routing import CandidateStore, ShipmentCosts, route
        >>> costs = ShipmentCosts(base="6", per_km="0.01", per_unit="0.2")
        >>> a = CandidateStore(
        ...     store_id="A", location=(31.23, 121.47), stock={"tea": 2}, costs=costs
        ... )
        >>> b = CandidateStore(
        ...     store_id="B", location=(31.20, 121.44), stock={"tea": 5, "rice": 1}, costs=costs
        ... )
        >>> plan = route(
        ...     lines={"tea": 2, "rice": 1}, candidates=[a, b], destination=(31.21, 121.45)
        ... )
        >>> plan.store_ids, str(plan.shipping_cost.amount)
        (('B',), '6.61')
    """
    req = RouteRequest.build(
        lines=lines,
        destination=destination,
        pickup_store=pickup_store,
        pins=pins,
        excluded=excluded,
    )
    return route_request(
        request=req,
        network=StoreNetwork.of(candidates),
        policy=RoutingPolicy.load(policy),
        cost_model=cost_model,
    )


def route_request(
    *,
    request: RouteRequest,
    network: StoreNetwork,
    policy: RoutingPolicy,
    cost_model: CostModel | None = None,
    stock: Sequence[Mapping[str, int]] | None = None,
    free: frozenset[int] = frozenset(),
    consumed: bool = False,
) -> RoutingPlan:
    """Route a validated request (used by :func:`route`, batches and re-routing).

    Args:
        request: The validated request.
        network: The store network.
        policy: The policy.
        cost_model: A custom cost model, if any.
        stock: Per-store available stock overriding the stores' own (network order).
        free: Network indices of stores already shipping (their fixed cost is sunk).
        consumed: ``stock`` is what earlier orders of a batch left, and the pins were checked
            against the batch's starting stock (:func:`validate_request`): a pinned store
            short now leaves its line unfulfilled (the line is not moved to another store)
            instead of raising ``routing.pin_without_stock``.

    Raises:
        RoutingValidationError: for bad input (see :mod:`multistore.routing.errors`).
    """
    ctx = _prepare(request, network, policy, cost_model, stock, free, consumed)
    if ctx.short and not policy.allow_partial:
        return _short_infeasible(ctx)
    p = ctx.problem
    mode = policy.mode
    result: SearchResult
    if not p.skus and not p.forced:
        result = SearchResult(bytearray(p.n), p.const, p.const, 0, proven=True)
    elif mode == "fast":
        result = _solve_fast_mode(p, policy.node_budget)
    elif mode == "milp":
        from multistore.routing.milp import solve_milp  # noqa: PLC0415 - optional dependency

        result = solve_milp(p)
    else:
        budget = policy.node_budget if mode == "auto" else None
        cover_budget = EXACT_COVER_NODES if budget is None else min(budget, EXACT_COVER_NODES)
        found = solve_cover(p, budget=cover_budget) if p.dummy is None else None
        if found is not None and found.proven:
            result = found  # the cover search ran to its end within its budget
        else:
            start, start_cost = multi_start(p, starts=2)
            result = solve_exact(p, start=start, start_cost=start_cost, budget=budget)
            if found is not None:  # keep the cover search's plan when the search did no better
                result = _best_of(result, found)
    if result.is_open is None or result.cost is None:
        limit = policy.max_shipments
        if not result.proven and mode != "milp":
            why = "no plan was found within the search budget (raise node_budget or use exact)"
        elif limit is not None:
            why = f"the order cannot be fulfilled within {limit} shipment(s)"
        else:
            why = "not enough stock at eligible stores"
        return _infeasible(ctx, why)
    assignment, short = p.assign(result.is_open)
    return _build_plan(ctx, assignment, short, result, mode)


def _solve_fast_mode(p: Problem, node_budget: int) -> SearchResult:
    """Fast mode: the cover search, or greedy and a short search when units may stay short.

    Completeness comes first: when the short search leaves units unfulfilled under a shipment
    cap without proving that they cannot fit, the exact search (within ``node_budget`` nodes)
    settles it, starting from the fast plan.
    """
    found = solve_cover(p) if p.dummy is None else None
    if found is not None:
        return found
    start, start_cost = solve_fast(p)
    result = solve_exact(p, start=start, start_cost=start_cost, budget=FAST_NODES)
    if result.cost is None:  # nothing found yet: let the search settle feasibility
        return solve_exact(p, budget=node_budget)
    dummy = p.dummy
    if dummy is not None and not result.proven and result.cost - p.const >= dummy:
        # some units are left short: a plan with every unit costs less than one short unit
        again = solve_exact(p, start=result.is_open, start_cost=result.cost, budget=node_budget)
        result = _best_of(again, result)
    return result


def _best_of(result: SearchResult, other: SearchResult) -> SearchResult:
    """The cheaper of two searches' plans of one problem, with the higher of their bounds.

    ``result`` wins ties; its plan and bound are kept unless ``other`` has a cheaper plan or a
    higher proven lower bound. The node count is both searches' (neither is modified).
    """
    cost = result.cost
    lb = result.lower_bound
    other_cost = other.cost
    other_lb = other.lower_bound
    nodes = result.nodes + other.nodes
    cheaper = other_cost is not None and (cost is None or other_cost < cost)
    higher = other_lb is not None and (lb is None or other_lb > lb)
    if not cheaper and not higher:
        return SearchResult(result.is_open, cost, lb, nodes, proven=result.proven)
    if cheaper:
        is_open, cost = other.is_open, other_cost
    else:
        is_open = result.is_open
    if higher:
        lb = other_lb
    proven = result.proven or other.proven or (cost is not None and lb is not None and lb >= cost)
    if cost is not None and lb is not None and lb > cost:
        lb = cost
    return SearchResult(is_open, cost, lb, nodes, proven=proven)


def _prepare(  # noqa: PLR0912, PLR0915, PLR0917 - validation in the order the rules apply
    req: RouteRequest,
    net: StoreNetwork,
    policy: RoutingPolicy,
    cost_model: CostModel | None,
    stock: Sequence[Mapping[str, int]] | None,
    free: frozenset[int],
    consumed: bool = False,
) -> Context:
    ctx = Context()
    ctx.request = req
    ctx.net = net
    ctx.policy = policy
    ctx.stock = stock
    ctx.free = free
    ctx.cost_model, ctx.currency = _model_currency(net, cost_model)
    ctx.penalty_nano = _penalty_nano(policy, ctx.currency)
    stores = net.stores
    skus = {s for s, _ in req.lines}
    target = req.destination
    home: int | None = None
    if req.pickup_store is not None:
        home = _pickup_index(net, req)
        ctx.pickup = home
        target = stores[home].location
    assert target is not None
    view: Sequence[Mapping[str, int]] = stock if stock is not None else net.stock_view
    if home is not None and not policy.pickup_transfers:
        elig = Eligibility()
        if any(k in view[home] for k in skus):
            elig.stores.append(home)
            elig.distances.append(0)
    else:
        elig = net.eligible(
            destination=target,
            excluded=req.excluded,
            skus=skus,
            home=home,
            stock=view if stock is not None else None,
        )
    ctx.elig = elig
    indices = list(elig.stores)
    distances = list(elig.distances)
    # pins
    forced: dict[int, list[tuple[str, int]]] = {}
    qty_of = dict(req.lines)
    for sku, sid in req.pins:
        i = _pin_index(net, req, sku, sid)
        have = view[i].get(sku, 0)
        if have < qty_of[sku]:
            if not consumed:
                raise _pin_without_stock(sku, sid, have, qty_of[sku])
            # the batch's starting stock held the line: earlier orders took it
            ctx.short[sku] = qty_of[sku]
            ctx.short_reason[sku] = (
                f"pinned store {sid} has {have} left after earlier orders of this batch"
            )
            continue
        forced.setdefault(i, []).append((sku, qty_of[sku]))
        if i not in indices:
            indices.append(i)
            distances.append(0 if i == home else net.distance_to(i, target))
    for i in free:
        if i not in indices and any(k in view[i] for k in skus):
            indices.append(i)
            distances.append(0 if i == home else net.distance_to(i, target))
    _check_pin_count(len(forced), policy)
    pinned = {sku for sku, _ in req.pins}
    demand: dict[str, int] = {}
    # units and number of holders of each (unpinned) SKU among the stores taking part
    avail_of = {sku: 0 for sku, _q in req.lines if sku not in pinned}
    holders_of = dict(avail_of)
    n_open = len(avail_of)
    held: list[list[tuple[str, int]]] = []  # per store taking part, its stock of those SKUs
    for i in indices:
        v = view[i]
        found: list[tuple[str, int]] = []
        if len(v) <= n_open:
            for sku, q in v.items():
                if q and sku in avail_of:
                    avail_of[sku] += q
                    holders_of[sku] += 1
                    found.append((sku, q))
        else:
            for sku in avail_of:
                q = v.get(sku, 0)
                if q:
                    avail_of[sku] += q
                    holders_of[sku] += 1
                    found.append((sku, q))
        held.append(found)
    sku_holders = ctx.sku_holders
    for sku, qty in req.lines:
        if sku in pinned:
            continue
        avail = avail_of[sku]
        sku_holders[sku] = holders_of[sku]
        if avail < qty:
            ctx.short[sku] = qty - avail
            ctx.short_reason[sku] = (
                "no eligible store holds it"
                if avail == 0
                else f"only {avail} in stock at eligible stores"
            )
        take = min(avail, qty)
        if take:
            demand[sku] = take
    ctx.problem = build_problem(
        stores=stores,
        indices=indices,
        distances=distances,
        demand=demand,
        forced=forced,
        penalty_nano=ctx.penalty_nano,
        cost_model=ctx.cost_model,
        partial_dummy=policy.allow_partial and policy.max_shipments is not None,
        max_open=policy.max_shipments,
        stock=stock,
        free=free,
        held=held,
    )
    return ctx


_PENALTY_CACHE: dict[tuple[str, Decimal, str | None], int] = {}
_MONEY_CACHE: dict[tuple[int, str], Money] = {}
_CACHE_LIMIT = 4096


def _model_currency(
    net: StoreNetwork, cost_model: CostModel | None
) -> tuple[CostModel | None, str]:
    """The custom cost model the solver must ask (``None`` for the linear one) and the currency.

    The default model, passed or not, prices in the stores' own currency.
    """
    if cost_model is None or isinstance(cost_model, LinearCostModel):
        return None, net.currency
    return cost_model, model_currency(cost_model)


def _penalty_nano(policy: RoutingPolicy, currency: str) -> int:
    """The split penalty in nano-minor units (validated, cached per value and currency).

    Raises:
        RoutingValidationError: ``routing.invalid_policy`` when the penalty is not a whole
            number of minor units of ``currency``.
        RoutingCurrencyError: ``routing.currency_mismatch`` when the penalty was given as Money
            in another currency.
    """
    penalty = policy.split_penalty
    penalty_currency = policy.split_penalty_currency
    key = (currency, penalty, penalty_currency)
    got = _PENALTY_CACHE.get(key)
    if got is not None:
        return got
    if penalty_currency is not None and penalty_currency != currency:
        raise RoutingCurrencyError(
            f"split_penalty is in {penalty_currency} but the shipments are priced in "
            f"{currency}; give the penalty in {currency}",
            code="routing.currency_mismatch",
            details={"field": "split_penalty", "currency": penalty_currency},
        )
    minor = penalty * minor_per_major(currency)
    if minor != minor.to_integral_value():
        raise RoutingValidationError(
            f"split_penalty {penalty} is finer than the minor unit of {currency}; round it to "
            "a whole number of minor units",
            code="routing.invalid_policy",
            details={"errors": [{"field": "split_penalty", "message": "too precise"}]},
        )
    if len(_PENALTY_CACHE) >= _CACHE_LIMIT:
        _PENALTY_CACHE.clear()
    got = _PENALTY_CACHE[key] = int(minor) * NANO
    return got


def _money(minor: int, currency: str) -> Money:
    """``from_minor(minor, currency)``, memoised (Money values are immutable)."""
    key = (minor, currency)
    m = _MONEY_CACHE.get(key)
    if m is None:
        if len(_MONEY_CACHE) >= _CACHE_LIMIT:
            _MONEY_CACHE.clear()
        m = _MONEY_CACHE[key] = from_minor(minor, currency)
    return m


def validate_request(
    *,
    request: RouteRequest,
    network: StoreNetwork,
    policy: RoutingPolicy,
    cost_model: CostModel | None = None,
) -> None:
    """Check what :func:`route_request` checks against the network, without routing.

    The pickup store, the pins (candidate stores, not excluded, holding each pinned line in the
    stores' own stock, no more pinned stores than ``max_shipments``) and the split penalty in
    the shipments' currency. :func:`~multistore.routing.route_batch` runs it on every order
    before routing any.

    Raises:
        RoutingValidationError: the code :func:`route_request` would raise for this request.
        RoutingCurrencyError: ``routing.currency_mismatch`` for a split penalty in another
            currency.
    """
    _penalty_nano(policy, _model_currency(network, cost_model)[1])
    if request.pickup_store is not None:
        _pickup_index(network, request)
    if not request.pins:
        return
    qty_of = dict(request.lines)
    view = network.stock_view
    pinned: set[int] = set()
    for sku, sid in request.pins:
        i = _pin_index(network, request, sku, sid)
        have = view[i].get(sku, 0)
        if have < qty_of[sku]:
            raise _pin_without_stock(sku, sid, have, qty_of[sku])
        pinned.add(i)
    _check_pin_count(len(pinned), policy)


def _pickup_index(net: StoreNetwork, req: RouteRequest) -> int:
    """Network index of the request's pickup store (which must offer pickup, not excluded)."""
    assert req.pickup_store is not None
    home = _store_index(net, req.pickup_store, "pickup store")
    ps = net.stores[home]
    if not ps.pickup:
        raise RoutingValidationError(
            f"store {ps.store_id!r} does not offer pickup; choose a store with pickup=True",
            code="routing.pickup_unavailable",
        )
    if ps.store_id in req.excluded:
        raise RoutingValidationError(
            f"pickup store {ps.store_id!r} is also excluded; remove it from excluded",
            code="routing.pickup_unavailable",
        )
    return home


def _pin_index(net: StoreNetwork, req: RouteRequest, sku: str, sid: str) -> int:
    """Network index of the store ``sku`` is pinned to (a candidate, not excluded)."""
    i = _store_index(net, sid, f"store pinned for {sku!r}")
    if sid in req.excluded:
        raise RoutingValidationError(
            f"SKU {sku!r} is pinned to store {sid!r}, which is also excluded; drop one",
            code="routing.pin_conflict",
        )
    return i


def _pin_without_stock(sku: str, sid: str, have: int, qty: int) -> RoutingValidationError:
    return RoutingValidationError(
        f"SKU {sku!r} is pinned to store {sid!r}, which has {have} of the "
        f"{qty} units; pin another store or lower the quantity",
        code="routing.pin_without_stock",
        details={"sku": sku, "store_id": sid, "available": have},
    )


def _check_pin_count(count: int, policy: RoutingPolicy) -> None:
    if policy.max_shipments is not None and count > policy.max_shipments:
        raise RoutingValidationError(
            f"pins need {count} shipments but max_shipments is {policy.max_shipments}",
            code="routing.pin_conflict",
        )


def _store_index(net: StoreNetwork, store_id: str, what: str) -> int:
    i = net.index_of.get(store_id)
    if i is None:
        raise RoutingValidationError(
            f"{what} {store_id!r} is not among the candidate stores",
            code="routing.unknown_store",
            details={"store_id": store_id},
        )
    return i


_NO_STOCK = "not enough stock at eligible stores"


def _short_infeasible(ctx: Context) -> RoutingPlan:
    """The plan of an all-or-nothing order that lacks stock: nothing ships.

    When earlier orders of a batch emptied a pinned store, the reason names the store and what
    it has left, and the pinned line gives that as its own reason.
    """
    req = ctx.request
    short = ctx.short
    pins = [(sku, sid) for sku, sid in req.pins if sku in short]
    if not pins:
        return _infeasible(ctx, _NO_STOCK)
    qty_of = dict(req.lines)
    view = ctx.stock if ctx.stock is not None else ctx.net.stock_view
    index_of = ctx.net.index_of
    parts = [
        f"pinned store {sid} has {view[index_of[sid]].get(sku, 0)} of the {qty_of[sku]} "
        f"unit(s) of {sku} left after earlier orders of this batch"
        for sku, sid in pins
    ]
    if len(pins) < len(short):
        parts.append(_NO_STOCK)
    return _infeasible(ctx, "; ".join(parts), pinned={sku for sku, _sid in pins})


def _infeasible(ctx: Context, why: str, *, pinned: Collection[str] = ()) -> RoutingPlan:
    """The plan of an order that does not ship, and why.

    ``pinned``: short pinned SKUs whose own reason is given alone (other short lines are then
    short at eligible stores).
    """
    cur = ctx.currency
    reasons = ctx.short_reason
    unf = tuple(
        UnfulfilledLine(sku=sku, quantity=qty, reason=_line_why(sku, why, reasons, pinned))
        for sku, qty in ctx.request.lines
    )
    zero = from_minor(0, cur)
    plan = RoutingPlan(
        status="unfulfilled",
        shipments=(),
        unfulfilled=unf,
        shipping_cost=zero,
        split_penalty=zero,
        objective=zero,
        lower_bound=None,
        gap=None,
        optimal=False,
        mode=ctx.policy.mode,
        nodes=0,
        explanation=(),
        request=ctx.request,
    )
    if ctx.policy.explain:
        _set_explanation(plan, explain(ctx=ctx, plan=plan, reason=why))
    return plan


def _line_why(sku: str, why: str, reasons: Mapping[str, str], pinned: Collection[str]) -> str:
    """Why a line of an order that does not ship cannot ship.

    A short line gives the order's reason with its own (a short pinned line its own alone,
    other short lines then being short at eligible stores); any other line the order's reason.
    """
    own = reasons.get(sku)
    if own is None:
        return why
    if not pinned:
        return f"{why}: {own}"
    return own if sku in pinned else f"{_NO_STOCK}: {own}"


def _with_explanation(plan: RoutingPlan, lines: tuple[str, ...]) -> RoutingPlan:
    return attrs.evolve(plan, explanation=lines)


def shipments_of(ctx: Context, assignment: Assignment) -> tuple[list[Shipment], int]:
    """Turn an assignment (problem store -> [(sku index, units)]) into priced shipments.

    Pinned units are added to their stores. Returns the shipments in rank order and the sum of
    their exact (unrounded) costs in nano-minor units.
    """
    out, exact_total, _minors = _shipments(ctx, assignment)
    return out, exact_total


def _shipments(ctx: Context, assignment: Assignment) -> tuple[list[Shipment], int, list[int]]:
    """:func:`shipments_of`, also returning each shipment's rounded cost in minor units."""
    p = ctx.problem
    cur = ctx.currency
    stores = ctx.net.stores
    skus = p.skus
    pinned_units = p.pinned_units
    out: list[Shipment] = []
    minors: list[int] = []
    exact_total = 0
    pickup = ctx.pickup
    fixed_nano = p.fixed_nano
    unit_nano = p.unit_nano
    net_index = p.net_index
    dist_m = p.dist_m
    line_of = _plan_line
    shipping = sorted({*assignment, *pinned_units}) if pinned_units else sorted(assignment)
    rank = {sku: n for n, (sku, _q) in enumerate(ctx.request.lines)} if pinned_units else {}
    for r in shipping:
        parts = assignment.get(r, ())
        # SKU indices follow the order's lines, so sorted parts are in line order
        lines = [(skus[k], t) for k, t in (sorted(parts) if len(parts) > 1 else parts)]
        pinned = pinned_units.get(r) if pinned_units else None
        if pinned:
            lines = sorted([*pinned, *lines], key=lambda x: rank[x[0]])
        if not lines:
            continue
        unit, per_sku = unit_nano[r]
        units = 0
        if per_sku:
            exact = fixed_nano[r]
            for sku, q in lines:
                units += q
                exact += q * per_sku.get(sku, unit)
        else:
            for _sku, q in lines:
                units += q
            exact = fixed_nano[r] + units * unit
        exact_total += exact
        ni = net_index[r]
        minor = round_shipment_cost(exact)
        minors.append(minor)
        out.append(
            Shipment(
                store_id=stores[ni].store_id,
                lines=tuple([line_of(sku, q) for sku, q in lines]),
                units=units,
                distance_km=dist_m[r] / 1000.0,
                cost=_money(minor, cur),
                pickup=ni == pickup,
                pinned=tuple(sku for sku, _q in pinned) if pinned else (),
            )
        )
    return out, exact_total, minors


_LINE_CACHE: dict[tuple[str, int], PlanLine] = {}


def _plan_line(sku: str, quantity: int) -> PlanLine:
    """``PlanLine(sku, quantity)``, memoised (plan lines are immutable values)."""
    key = (sku, quantity)
    line = _LINE_CACHE.get(key)
    if line is None:
        if len(_LINE_CACHE) >= _CACHE_LIMIT:
            _LINE_CACHE.clear()
        line = _LINE_CACHE[key] = PlanLine(sku, quantity)
    return line


def _build_plan(  # noqa: PLR0912 - the plan's fields in the order they are derived
    ctx: Context,
    assignment: Assignment,
    short: list[int],
    result: SearchResult,
    mode: str,
) -> RoutingPlan:
    p = ctx.problem
    cur = ctx.currency
    shipments, exact_total, minors = _shipments(ctx, assignment)
    unfulfilled: list[UnfulfilledLine] = []
    short_by_sku = {p.skus[k]: s for k, s in enumerate(short) if s}
    if ctx.short or short_by_sku:
        for sku, _qty in ctx.request.lines:
            missing = ctx.short.get(sku, 0)
            reasons = []
            if missing:
                reasons.append(ctx.short_reason[sku])
            extra = short_by_sku.get(sku, 0)
            if extra:
                reasons.append(_cap_reason(ctx.policy.max_shipments, proven=result.proven))
            if missing + extra:
                unfulfilled.append(
                    UnfulfilledLine(sku=sku, quantity=missing + extra, reason="; ".join(reasons))
                )
    count = len(shipments)
    free = ctx.free
    if free:
        index_of = ctx.net.index_of
        paid = sum(1 for s in shipments if index_of[s.store_id] not in free)
    else:
        paid = count
    penalty_minor = (ctx.penalty_nano // NANO) * max(0, paid - 1)
    shipping = sum(minors)
    objective_exact = exact_total + ctx.penalty_nano * max(0, paid - 1)
    lower: int | None = None
    if result.proven:
        lower = objective_exact
    elif result.lower_bound is not None and not short_by_sku and not free:
        lower = min(objective_exact, max(0, result.lower_bound // p.weight - ctx.penalty_nano))
    gap: Decimal | None = None
    if lower is not None:
        gap = (
            _ZERO
            if objective_exact == 0 or lower >= objective_exact
            else (Decimal(objective_exact - lower) / Decimal(objective_exact)).quantize(
                _GAP_QUANTUM, rounding=ROUND_HALF_UP
            )
        )
    if count == 0:
        status = "unfulfilled"
    elif unfulfilled:
        status = "partial"
    else:
        status = "complete"
    plan = RoutingPlan(
        status=status,
        shipments=tuple(shipments),
        unfulfilled=tuple(unfulfilled),
        shipping_cost=_money(shipping, cur),
        split_penalty=_money(penalty_minor, cur),
        objective=_money(shipping + penalty_minor, cur),
        lower_bound=None if lower is None else _money(lower // NANO, cur),
        gap=gap,
        optimal=result.proven,
        mode=mode,
        nodes=result.nodes,
        explanation=(),
        request=ctx.request,
    )
    if ctx.policy.explain:
        ctx.minors = minors
        _set_explanation(plan, explain(ctx=ctx, plan=plan, reason=None))
    return plan


def _cap_reason(limit: int | None, *, proven: bool) -> str:
    """Why units fitting no shipment under the cap stay unfulfilled (a claim only when proven)."""
    if proven:
        return f"does not fit within {limit} shipment(s)"
    return (
        f"not placed within {limit} shipment(s) by the search budget "
        "(raise node_budget or use mode 'exact')"
    )


_ZERO = Decimal(0)
_GAP_QUANTUM = Decimal("0.000001")


def _set_explanation(plan: RoutingPlan, lines: tuple[str, ...]) -> None:
    """Attach the explanation to a plan built here and not yet handed to anyone."""
    object.__setattr__(plan, "explanation", lines)


def round_shipment_cost_of(s: Shipment) -> int:
    """Minor units of a shipment's (already rounded) cost."""
    return int(s.cost.amount * minor_per_major(s.cost.currency.value))


def nearest_alternative(ctx: Context) -> tuple[list[str], int] | None:
    """The nearest-store fill for the same order: (store ids, shipping cost in minor units).

    Gives the same figures as pricing :func:`~multistore.routing.baselines.nearest_fill`: each
    SKU is filled from the nearest stores holding it (ties by rank), visited here store by store.
    """
    p = ctx.problem
    rem = list(p.demand)
    left = sum(1 for x in rem if x > 0)
    skus = p.skus
    items = p.items
    unit_nano = p.unit_nano
    exact_of: dict[int, int] = {}
    # without priorities the stores are already in (distance, id) order
    nearest = range(p.n) if p.by_distance else sorted(range(p.n), key=p.dist_m.__getitem__)
    for i in nearest:
        if not left:
            break
        unit, per_sku = unit_nano[i]
        exact = 0
        took = False
        for k, q, _c in items[i]:
            r = rem[k]
            if r > 0:
                t = q if q < r else r
                exact += t * (per_sku.get(skus[k], unit) if per_sku else unit)
                rem[k] = r - t
                if t == r:
                    left -= 1
                took = True
        if took:
            exact_of[i] = p.fixed_nano[i] + exact
    if left:
        return None
    total = 0
    ids: list[str] = []
    stores = ctx.net.stores
    for r in sorted(exact_of):
        total += round_shipment_cost(exact_of[r])
        ids.append(stores[p.net_index[r]].store_id)
    return ids, total


def reroute(
    *,
    plan: RoutingPlan,
    rejected_store: str,
    candidates: Sequence[CandidateStore] | StoreNetwork,
    policy: RoutingPolicy | Mapping[str, Any] | None = None,
    cost_model: CostModel | None = None,
) -> RoutingPlan:
    """Re-route an order after a store rejects its shipment.

    The rejected store is excluded. The other shipments are kept when the rejected lines can be
    placed elsewhere (on kept stores, whose fixed cost is already paid, or on new ones); when
    keeping them would leave more units unfulfilled, the whole order is routed again. The
    policy holds for the result as for :func:`route`: it has at most ``max_shipments``
    shipments (the rejected lines get the shipments the kept ones leave; otherwise the whole
    order is routed again), and with ``allow_partial=False`` it is complete or the same
    ``"unfulfilled"`` plan :func:`route` gives without the rejected store.

    Args:
        plan: The plan that was rejected.
        rejected_store: Id of the store that rejected its shipment.
        candidates: Current candidate stores (with current stock).
        policy: The routing policy.
        cost_model: The custom cost model used before, if any.

    Raises:
        RoutingValidationError: ``routing.unknown_store`` when the plan has no shipment from
            ``rejected_store``; ``routing.pickup_unavailable`` when ``rejected_store`` is the
            order's pickup store (the customer cannot collect at an excluded store: route a
            new order with another pickup store); any error :func:`route` raises for the
            order without the rejected store.
    """
    net = StoreNetwork.of(candidates)
    pol = RoutingPolicy.load(policy)
    rejected = next((s for s in plan.shipments if s.store_id == rejected_store), None)
    if rejected is None:
        raise RoutingValidationError(
            f"the plan has no shipment from store {rejected_store!r}; shipping stores are "
            f"{list(plan.store_ids)}",
            code="routing.unknown_store",
            details={"store_id": rejected_store},
        )
    old = plan.request
    excluded = old.excluded | {rejected_store}
    pins = tuple((sku, sid) for sku, sid in old.pins if sid != rejected_store)
    full_req = RouteRequest(
        lines=old.lines,
        destination=old.destination,
        pickup_store=old.pickup_store,
        pins=pins,
        excluded=excluded,
    )
    full = route_request(request=full_req, network=net, policy=pol, cost_model=cost_model)
    full = _note(
        full,
        f"Store {rejected_store} rejected its shipment; the whole order was routed again "
        "without it.",
    )
    kept = [s for s in plan.shipments if s.store_id != rejected_store]
    merged = _keep_others(plan, rejected, kept, full_req, net, pol, cost_model) if kept else None
    if (
        merged is None
        or (not pol.allow_partial and merged.status != "complete")
        or merged.units_shipped < full.units_shipped
    ):
        return full
    return merged


def _keep_others(  # noqa: PLR0917 - private helper of reroute
    plan: RoutingPlan,
    rejected: Shipment,
    kept: list[Shipment],
    full_req: RouteRequest,
    net: StoreNetwork,
    pol: RoutingPolicy,
    cost_model: CostModel | None,
) -> RoutingPlan | None:
    """Keep the other shipments and route only the rejected lines (``None`` when impossible).

    Under ``max_shipments`` the rejected lines first get the full cap (kept stores they reuse
    add no shipment); when the merged plan has too many shipments, they get the shipments the
    kept ones leave; when none is left, ``None``.
    """
    view = [dict(s.stock) for s in net.stores]
    free: set[int] = set()
    for s in kept:
        i = net.index_of.get(s.store_id)
        if i is None:
            return None
        free.add(i)
        for line in s.lines:
            view[i][line.sku] = view[i].get(line.sku, 0) - line.quantity
            if view[i][line.sku] < 0:
                return None
    rejected_skus = {x.sku for x in rejected.lines}
    part_req = RouteRequest(
        lines=tuple((line.sku, line.quantity) for line in rejected.lines),
        destination=full_req.destination,
        pickup_store=full_req.pickup_store,
        pins=tuple((sku, sid) for sku, sid in full_req.pins if sku in rejected_skus),
        excluded=full_req.excluded,
    )
    limit = pol.max_shipments
    caps: list[int | None] = [limit]
    if limit is not None and limit - len(kept) >= 1:
        caps.append(limit - len(kept))
    for cap in caps:
        # the merged plan gets its own explanation (the part's would describe the part alone)
        part = route_request(
            request=part_req,
            network=net,
            policy=pol.model_copy(update={"max_shipments": cap, "explain": False}),
            cost_model=cost_model,
            stock=view,
            free=frozenset(free),
        )
        if cap != limit and part.unfulfilled:
            part = _restate_cap(part, cap, limit)
        merged = _merge(plan, rejected.store_id, kept, part, full_req, net, pol, cost_model)
        if limit is None or len(merged.shipments) <= limit:
            return merged
    return None


def _restate_cap(part: RoutingPlan, cap: int | None, limit: int | None) -> RoutingPlan:
    """Reasons of a part routed under a lowered cap, stated with the order's own cap."""
    lowered = f"within {cap} shipment(s)"
    own = f"within {limit} shipment(s)"
    return attrs.evolve(
        part,
        unfulfilled=tuple(
            attrs.evolve(u, reason=u.reason.replace(lowered, own)) for u in part.unfulfilled
        ),
    )


def _note(plan: RoutingPlan, sentence: str) -> RoutingPlan:
    if not plan.explanation:
        return plan
    return _with_explanation(plan, (sentence, *plan.explanation))


def _merge(  # noqa: PLR0917 - private helper of reroute
    old: RoutingPlan,
    rejected_id: str,
    kept: list[Shipment],
    part: RoutingPlan,
    request: RouteRequest,
    net: StoreNetwork,
    policy: RoutingPolicy,
    cost_model: CostModel | None,
) -> RoutingPlan:
    from multistore.routing.cost import shipment_cost  # noqa: PLC0415

    cur = old.shipping_cost.currency.value
    by_store: dict[str, dict[str, int]] = {}
    dist: dict[str, float] = {}
    pickup: dict[str, bool] = {}
    pinned: dict[str, tuple[str, ...]] = {}
    for s in [*kept, *part.shipments]:
        d = by_store.setdefault(s.store_id, {})
        for line in s.lines:
            d[line.sku] = d.get(line.sku, 0) + line.quantity
        dist[s.store_id] = s.distance_km
        pickup[s.store_id] = s.pickup
        pinned[s.store_id] = tuple(dict.fromkeys((*pinned.get(s.store_id, ()), *s.pinned)))
    order = {sku: n for n, (sku, _q) in enumerate(request.lines)}
    ships: list[Shipment] = []
    for sid, lines in by_store.items():
        store = net.stores[net.index_of[sid]]
        ships.append(
            Shipment(
                store_id=sid,
                lines=tuple(
                    PlanLine(k, q) for k, q in sorted(lines.items(), key=lambda x: order[x[0]])
                ),
                units=sum(lines.values()),
                distance_km=dist[sid],
                cost=shipment_cost(
                    store=store, distance_km=dist[sid], lines=lines, cost_model=cost_model
                ),
                pickup=pickup[sid],
                pinned=pinned[sid],
            )
        )
    shipping = sum(round_shipment_cost_of(s) for s in ships)
    pen_minor = int(policy.split_penalty * minor_per_major(cur)) * max(0, len(ships) - 1)
    unfulfilled = (*old.unfulfilled, *part.unfulfilled)
    merged = RoutingPlan(
        status="complete" if not unfulfilled else ("partial" if ships else "unfulfilled"),
        shipments=tuple(ships),
        unfulfilled=unfulfilled,
        shipping_cost=from_minor(shipping, cur),
        split_penalty=from_minor(pen_minor, cur),
        objective=from_minor(shipping + pen_minor, cur),
        lower_bound=None,
        gap=None,
        optimal=False,
        mode="reroute",
        nodes=part.nodes,
        explanation=(),
        request=request,
    )
    if policy.explain:
        _set_explanation(
            merged,
            explain_kept(
                plan=merged,
                rejected_id=rejected_id,
                kept=kept,
                moved=part.shipments,
                net=net,
                currency=cur,
            ),
        )
    return merged
