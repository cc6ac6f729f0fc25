"""The fast mode's cover search (multistore.routing.cover) on hand-made orders."""

from __future__ import annotations

from multistore.routing import CandidateStore, RoutingPolicy, StoreNetwork, route
from multistore.routing.cover import solve_cover
from multistore.routing.exact import solve_exact
from multistore.routing.heuristic import greedy_cover
from multistore.routing.request import RouteRequest
from multistore.routing.router import _prepare

from .conftest import COSTS, PEOPLE_SQUARE

LINES = {"A": 1, "B": 1, "C": 1, "D": 1, "E": 1, "F": 1}


def trap() -> list[CandidateStore]:
    """Greedy opens BIG (four lines at once) and then needs two more stores; two suffice."""
    return [
        CandidateStore(
            store_id="BIG",
            location=(31.2304, 121.4737),
            stock={"A": 1, "B": 1, "C": 1, "D": 1},
            costs=COSTS,
        ),
        CandidateStore(
            store_id="ABE",
            location=(31.2404, 121.4737),
            stock={"A": 1, "B": 1, "E": 1},
            costs=COSTS,
        ),
        CandidateStore(
            store_id="CDF",
            location=(31.2204, 121.4737),
            stock={"C": 1, "D": 1, "F": 1},
            costs=COSTS,
        ),
    ]


def problem_of(stores: list[CandidateStore]):
    request = RouteRequest.build(lines=LINES, destination=PEOPLE_SQUARE)
    ctx = _prepare(request, StoreNetwork(stores), RoutingPolicy(), None, None, frozenset())
    return ctx.problem


def test_greedy_falls_into_the_trap():
    p = problem_of(trap())
    assert 3 == sum(greedy_cover(p))


def test_fast_mode_escapes_the_trap_and_proves_it():
    fast = route(lines=LINES, candidates=trap(), destination=PEOPLE_SQUARE, policy={"mode": "fast"})
    exact = route(
        lines=LINES, candidates=trap(), destination=PEOPLE_SQUARE, policy={"mode": "exact"}
    )
    assert ("ABE", "CDF") == fast.store_ids
    assert exact.shipments == fast.shipments
    assert fast.optimal
    assert 0 == fast.gap


def test_search_without_budget_reports_a_true_bound():
    p = problem_of(trap())
    exact = solve_exact(p)
    found = solve_cover(p, budget=0, warm=False)  # stops at the first plan it finds
    assert found is not None
    assert found.cost is not None
    assert found.lower_bound is not None
    assert exact.cost is not None
    assert found.cost == p.evaluate(found.is_open)  # type: ignore[arg-type]
    assert found.lower_bound <= exact.cost <= found.cost
    assert found.proven == (found.cost == exact.cost == found.lower_bound)
