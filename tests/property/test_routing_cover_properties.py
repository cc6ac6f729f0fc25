"""Properties of the fast mode's cover search against the branch and bound, on small orders."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multistore.geo import GeoPoint
from multistore.routing import CandidateStore, RoutingPolicy, ShipmentCosts, StoreNetwork
from multistore.routing.cover import solve_cover
from multistore.routing.exact import solve_exact
from multistore.routing.heuristic import greedy_cover
from multistore.routing.problem import Problem
from multistore.routing.request import RouteRequest
from multistore.routing.router import _prepare

DEST = GeoPoint(31.23, 121.47)
SKUS = ["A", "B", "C", "D", "E"]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw: st.DrawFn, *, partial: bool = False) -> Problem:
    n = draw(st.integers(1, 9))
    stores = []
    for i in range(n):
        stock = {sku: draw(st.integers(1, 4)) for sku in SKUS if draw(st.booleans())}
        # cheap shipments and dear units too, so that opening a store that is not needed to
        # cover the order can pay for itself
        costs = ShipmentCosts(
            base=Decimal(draw(st.integers(0, 800) | st.integers(0, 60))) / 100,
            per_km=Decimal(draw(st.integers(0, 30))) / 1000,
            per_unit=Decimal(draw(st.integers(0, 80) | st.integers(0, 400))) / 100,
            per_unit_km=Decimal(draw(st.integers(0, 20))) / 10000,
        )
        loc = (31.0 + draw(st.integers(0, 500)) / 1000, 121.2 + draw(st.integers(0, 600)) / 1000)
        stores.append(
            CandidateStore(
                store_id=f"S{i}",
                location=loc,
                stock=stock,
                costs=costs,
                priority=draw(st.none() | st.integers(1, 3)),
            )
        )
    k = draw(st.integers(1, len(SKUS)))
    lines = {sku: draw(st.integers(1, 4)) for sku in SKUS[:k]}
    policy = RoutingPolicy.load(
        {
            "split_penalty": Decimal(draw(st.integers(0, 300))) / 100,
            "max_shipments": draw(st.none() | st.integers(1, 3)),
            # partial plans under a shipment cap price unfulfilled units with a dummy
            "allow_partial": draw(st.booleans()) if partial else False,
        }
    )
    request = RouteRequest.build(lines=lines, destination=DEST)
    ctx = _prepare(request, StoreNetwork(stores), policy, None, None, frozenset())
    return ctx.problem


def brute_force(p: Problem) -> int | None:
    """The least scaled cost over every set of stores that includes the pinned ones."""
    best = None
    for chosen in range(1 << p.n):
        is_open = bytearray((chosen >> i) & 1 for i in range(p.n))
        if any(not is_open[i] for i in p.forced):
            continue
        if p.max_open is not None and sum(is_open) > p.max_open:
            continue
        cost = p.evaluate(is_open)
        if cost is not None and (best is None or cost < best):
            best = cost
    return best


@SETTINGS
@given(problems(partial=True))
def test_branch_and_bound_from_scratch_equals_brute_force(p):
    assert brute_force(p) == solve_exact(p).cost


@SETTINGS
@given(problems())
def test_cover_search_run_to_its_end_equals_brute_force_and_branch_and_bound(p):
    exact = solve_exact(p)
    assert brute_force(p) == exact.cost
    found = solve_cover(p, budget=10**9)
    if found is None:  # only when the greedy start finds no plan within the shipment cap
        assert p.evaluate(greedy_cover(p)) is None
        return
    assert found.proven
    assert exact.cost is not None
    assert exact.cost == found.cost
    assert found.cost == p.evaluate(found.is_open)


@SETTINGS
@given(problems(), st.integers(0, 5))
def test_truncated_cover_search_is_a_valid_plan_with_a_true_bound(p, budget):
    exact = solve_exact(p)
    found = solve_cover(p, budget=budget)
    if found is None:
        assert p.evaluate(greedy_cover(p)) is None
        return
    assert found.is_open is not None
    assert found.cost is not None
    assert found.lower_bound is not None
    assert exact.cost is not None
    assert found.cost == p.evaluate(found.is_open)
    assert exact.cost <= found.cost
    assert found.lower_bound <= exact.cost
    assert all(found.is_open[i] for i in p.forced)
    if p.max_open is not None:
        assert sum(found.is_open) <= p.max_open
    if found.proven:
        assert exact.cost == found.cost


@SETTINGS
@given(problems())
def test_cover_search_from_scratch_finds_the_optimum(p):
    exact = solve_exact(p)
    found = solve_cover(p, budget=10**9, warm=False)
    assert brute_force(p) == exact.cost
    if exact.cost is None:
        assert found is None
        return
    assert found is not None
    assert found.proven
    assert exact.cost == found.cost
