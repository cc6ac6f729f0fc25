"""Regression tests for the second routing review's findings (explanations, inputs, batches)."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import multistore.routing.router as router_module
from multistore.routing import (
    CandidateStore,
    OrderRequest,
    RoutingPlan,
    RoutingValidationError,
    ShipmentCosts,
    reroute,
    route,
    route_batch,
    shipment_cost,
)
from multistore.routing.cost import CostTerms
from multistore.routing.exact import SearchResult
from multistore.routing.explain import yuan

COSTS = ShipmentCosts(base="6", per_km="0.01", per_unit="0.20")


def _store(store_id: str, lat: float, lon: float, stock: dict[str, int]) -> CandidateStore:
    return CandidateStore(store_id=store_id, location=(lat, lon), stock=stock, costs=COSTS)


def _code(call: Callable[[], object]) -> str:
    with pytest.raises(RoutingValidationError) as err:
        call()
    return err.value.code


# 1. the first sentence of a partial plan counts what ships


def test_partial_plan_counts_the_lines_and_units_that_ship() -> None:
    a = _store("A", 31.23, 121.47, {"TEA": 2})
    plan = route(lines={"TEA": 5, "RICE": 3}, candidates=[a], destination=(31.21, 121.45))
    assert ("partial", 2) == (plan.status, plan.units_shipped)
    assert (
        "1 line(s), 2 unit(s) go in 1 shipment(s): A: TEA x2, 2.9 km, ¥6.43. Shipping costs ¥6.43."
    ) == plan.explanation[0]
    assert "A is the only eligible store holding TEA." == plan.explanation[1]


def _batch(policy: dict[str, Any]) -> RoutingPlan:
    """The second order's pinned store A was emptied of X by the first order."""
    a = _store("A", 31.20, 121.40, {"X": 3, "Y": 5})
    b = _store("B", 31.25, 121.45, {"X": 5, "Y": 5})
    dest = (31.2, 121.4)
    result = route_batch(
        orders=[
            {"order_id": "o1", "lines": {"X": 2}, "destination": dest},
            {"order_id": "o2", "lines": {"X": 2, "Y": 1}, "destination": dest, "pins": {"X": "A"}},
        ],
        candidates=[a, b],
        policy=policy,
    )
    return result.plans["o2"]


def test_batch_plan_with_a_consumed_pin_counts_what_ships() -> None:
    plan = _batch({})
    assert ("partial", ("A",)) == (plan.status, plan.store_ids)
    assert (
        "1 line(s), 1 unit(s) go in 1 shipment(s): A: Y x1, 0.0 km, ¥6.20. Shipping costs ¥6.20."
    ) == plan.explanation[0]


# 2. a re-route that keeps the other parcels explains the merged plan


def test_reroute_keeping_parcels_explains_the_merged_plan() -> None:
    a = _store("A", 31.20, 121.40, {"X": 5, "Y": 1})
    b = _store("B", 31.21, 121.41, {"Y": 5, "Z": 5})
    c = _store("C", 31.30, 121.50, {"Z": 5})
    plan = route(
        lines={"X": 2, "Y": 3, "Z": 1}, candidates=[a, b, c], destination=(31.205, 121.405)
    )
    assert ("A", "B") == plan.store_ids
    new = reroute(plan=plan, rejected_store="B", candidates=[a, b, c])
    assert ("reroute", False, ("A", "C")) == (new.mode, new.optimal, new.store_ids)
    assert (
        (
            "Store B rejected its shipment; the other 1 shipment(s) are kept and its lines move "
            "to C (Z x1)."
        ),
        (
            "3 line(s), 4 unit(s) go in 2 shipment(s): A: X x2, Y x1, 0.7 km, ¥6.61; "
            "C: Z x1, 13.9 km, ¥6.34. Shipping costs ¥12.95."
        ),
        "Y: 2 unit(s) cannot ship: no eligible store holds it.",
    ) == new.explanation


def test_reroute_onto_a_kept_store_quotes_the_merged_parcel_cost() -> None:
    b = _store("B", 31.21, 121.41, {"Z": 5})
    c = _store("C", 31.30, 121.50, {"Z": 5})
    dest = (31.205, 121.405)
    first = [_store("A", 31.20, 121.40, {"X": 5, "Y": 5}), b, c]
    plan = route(lines={"X": 2, "Z": 1}, candidates=first, destination=dest)
    assert ("A", "B") == plan.store_ids
    now = [_store("A", 31.20, 121.40, {"X": 5, "Z": 5}), b, c]
    new = reroute(plan=plan, rejected_store="B", candidates=now)
    assert ("complete", "6.61") == (new.status, str(new.shipping_cost.amount))
    assert (
        (
            "Store B rejected its shipment; the other 1 shipment(s) are kept and its lines move "
            "to A (Z x1, added to its kept shipment)."
        ),
        (
            "2 line(s), 3 unit(s) go in 1 shipment(s): A: X x2, Z x1, 0.7 km, ¥6.61. "
            "Shipping costs ¥6.61."
        ),
    ) == new.explanation


def _random_reroute(seed: int) -> tuple[RoutingPlan, RoutingPlan] | None:
    rng = random.Random(seed)
    skus = [f"K{k}" for k in range(rng.randint(2, 5))]
    stores = [
        CandidateStore(
            store_id=f"s{i}",
            location=(31.2 + rng.uniform(-0.2, 0.2), 121.4 + rng.uniform(-0.2, 0.2)),
            stock={k: rng.randint(0, 5) for k in skus if rng.random() < 0.6},
            costs=ShipmentCosts(
                base=str(rng.randint(0, 900) / 100), per_unit=str(rng.randint(0, 80) / 100)
            ),
            pickup=rng.random() < 0.5,
        )
        for i in range(rng.randint(3, 8))
    ]
    lines = {k: rng.randint(1, 5) for k in rng.sample(skus, rng.randint(1, len(skus)))}
    policy: dict[str, Any] = {}
    if rng.random() < 0.4:
        policy["max_shipments"] = rng.randint(1, 3)
    kw: dict[str, Any] = {"lines": lines, "candidates": stores, "policy": policy}
    homes = [s.store_id for s in stores if s.pickup]
    if homes and rng.random() < 0.3:
        kw |= {"pickup_store": rng.choice(homes), "policy": policy | {"pickup_transfers": True}}
    else:
        kw["destination"] = (31.2, 121.4)
    plan = route(**kw)
    rejectable = [sid for sid in plan.store_ids if sid != kw.get("pickup_store")]
    if not rejectable:
        return None
    new = reroute(
        plan=plan, rejected_store=rng.choice(rejectable), candidates=stores, policy=kw["policy"]
    )
    return plan, new


def test_merged_reroute_explanations_state_the_merged_figures() -> None:
    merged = 0
    for seed in range(80):
        got = _random_reroute(seed)
        if got is None or got[1].mode != "reroute":
            continue
        merged += 1
        new = got[1]
        text = " ".join(new.explanation)
        assert (False, False) == (new.optimal, "optimal" in text)
        if new.shipments:
            shipped = new.shipped()
            cur = new.shipping_cost.currency.value
            head = (
                f"{len(shipped)} line(s), {sum(shipped.values())} unit(s) go in "
                f"{len(new.shipments)} shipment(s): "
            )
            total = f"Shipping costs {yuan(int(new.shipping_cost.amount * 100), cur)}."
            assert (True, True) == (new.explanation[1].startswith(head), total in text)
            for s in new.shipments:
                assert f"{s.store_id}: " in text
                assert yuan(int(s.cost.amount * 100), cur) in text
        unfulfilled = [
            f"{u.sku}: {u.quantity} unit(s) cannot ship: {u.reason}." for u in new.unfulfilled
        ]
        assert unfulfilled == [line for line in new.explanation if "cannot ship" in line]
    assert merged >= 10  # the seeds exercise the kept-parcels path


# 3. a custom cost model that returns the wrong thing raises a typed error


class _Model:
    currency = "CNY"

    def __init__(self, terms: object) -> None:
        self.result = terms

    def terms(self, *, store: CandidateStore, distance_km: float) -> Any:
        return self.result


class _NoCurrency:
    def terms(self, *, store: CandidateStore, distance_km: float) -> CostTerms:
        return CostTerms(fixed=Decimal(6), per_unit=Decimal(1))


_ONE_STORE = [_store("A", 31.2, 121.4, {"X": 5})]


@pytest.mark.parametrize(
    ("returned", "shown"),
    [
        (None, "None"),
        (6.5, "6.5"),
        ((Decimal(6), Decimal(1)), "(Decimal('6'), Decimal('1'))"),
        (CostTerms(fixed=Decimal(6), per_unit=Decimal(1), per_sku=None), "per_sku=None"),  # type: ignore[arg-type]
    ],
)
def test_cost_model_returning_no_cost_terms_is_a_typed_error(returned: object, shown: str) -> None:
    with pytest.raises(RoutingValidationError) as err:
        route(
            lines={"X": 1},
            candidates=_ONE_STORE,
            destination=(31.21, 121.41),
            cost_model=_Model(returned),
        )
    assert ("routing.invalid_cost", True, True) == (
        err.value.code,
        "cost model _Model returned" in err.value.message,
        shown in err.value.message,
    )


@pytest.mark.parametrize(("model", "name"), [(_NoCurrency(), "_NoCurrency"), (object(), "object")])
def test_cost_model_without_currency_or_terms_is_a_typed_error(model: Any, name: str) -> None:
    kw: dict[str, Any] = {"lines": {"X": 1}, "destination": (31.21, 121.41)}
    with pytest.raises(RoutingValidationError) as err:
        route(**kw, candidates=_ONE_STORE, cost_model=model)
    assert ("routing.invalid_cost", True) == (
        err.value.code,
        f"cost model {name} has no" in err.value.message,
    )
    batch = [{"order_id": "o", **kw}]
    assert "routing.invalid_cost" == _code(
        lambda: route_batch(orders=batch, candidates=_ONE_STORE, cost_model=model)
    )
    assert "routing.invalid_cost" == _code(
        lambda: shipment_cost(
            store=_ONE_STORE[0], distance_km=1.0, lines={"X": 1}, cost_model=model
        )
    )


# 4. route_batch validates lines and pins as route() does


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("pins", [("X", "A")], "routing.invalid_order"),
        ("pins", "XA", "routing.invalid_order"),
        ("pins", 5, "routing.invalid_order"),
        ("lines", [("X", 1)], "routing.empty_order"),
        ("lines", "X", "routing.empty_order"),
        ("lines", 5, "routing.empty_order"),
    ],
)
def test_batch_orders_reject_what_route_rejects(field: str, value: object, code: str) -> None:
    a = _store("A", 31.20, 121.40, {"X": 3})
    order: dict[str, Any] = {"lines": {"X": 1}, "destination": (31.2, 121.4), field: value}
    as_route = _code(lambda: route(candidates=[a], **order))
    as_mapping = _code(lambda: route_batch(orders=[{"order_id": "o", **order}], candidates=[a]))
    as_request = _code(lambda: OrderRequest(order_id="o", **order))
    assert (code, code, code) == (as_route, as_mapping, as_request)


# 5. an all-or-nothing batch order names the pinned store earlier orders emptied


def test_all_or_nothing_batch_order_names_the_emptied_pinned_store() -> None:
    plan = _batch({"allow_partial": False})
    why = "pinned store A has 1 of the 2 unit(s) of X left after earlier orders of this batch"
    assert ("unfulfilled", f"Nothing ships: {why}.") == (plan.status, plan.explanation[0])
    assert [
        ("X", 2, "pinned store A has 1 left after earlier orders of this batch"),
        ("Y", 1, why),
    ] == [(u.sku, u.quantity, u.reason) for u in plan.unfulfilled]


# 6. auto mode counts the nodes of both searches


def _hard_auto_order() -> tuple[dict[str, int], list[CandidateStore]]:
    """12 stores, 6 lines: the cover search stops at its 3-node budget, the B&B proves."""
    rng = random.Random(3)
    skus = [f"K{j}" for j in range(6)]

    def amt(hi: int, places: int) -> str:
        return str(Decimal(rng.randint(0, hi)) / (Decimal(10) ** places))

    stores = [
        CandidateStore(
            store_id=f"s{i:02d}",
            location=(31.2 + rng.uniform(-0.5, 0.5), 121.4 + rng.uniform(-0.5, 0.5)),
            stock={k: rng.choice([1, 2, 3]) for k in skus if rng.random() < 0.3},
            costs=ShipmentCosts(
                base=amt(900, 2), per_km=amt(50, 3), per_unit=amt(80, 2), per_unit_km=amt(9, 4)
            ),
        )
        for i in range(12)
    ]
    return {k: rng.randint(1, 4) for k in skus}, stores


def test_auto_mode_nodes_count_the_cover_search_too(monkeypatch: pytest.MonkeyPatch) -> None:
    searches: dict[str, SearchResult] = {}
    cover, exact = router_module.solve_cover, router_module.solve_exact

    def spy_cover(*args: Any, **kw: Any) -> SearchResult:
        searches["cover"] = cover(*args, **kw)
        return searches["cover"]

    def spy_exact(*args: Any, **kw: Any) -> SearchResult:
        searches["exact"] = exact(*args, **kw)
        return searches["exact"]

    monkeypatch.setattr(router_module, "solve_cover", spy_cover)
    monkeypatch.setattr(router_module, "solve_exact", spy_exact)
    lines, stores = _hard_auto_order()
    plan = route(
        lines=lines, candidates=stores, destination=(31.2, 121.4), policy={"node_budget": 3}
    )
    both = searches["cover"].nodes + searches["exact"].nodes
    assert (False, True) == (searches["cover"].proven, plan.optimal)
    assert both == plan.nodes
    assert f"This plan is proven optimal (auto mode, {both} search node(s))." in plan.explanation
