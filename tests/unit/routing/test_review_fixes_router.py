"""Regression tests for the routing bugs an independent review reproduced (router and policy)."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from money.currency import Currency
from money.money import Money

from multistore.routing import (
    CandidateStore,
    LinearCostModel,
    RoutingCurrencyError,
    RoutingValidationError,
    ShipmentCosts,
    reroute,
    route,
    route_batch,
)

COSTS = ShipmentCosts(base="6", per_unit="0.2")
NEAR = (31.23, 121.475)


def _store(
    store_id: str, lat: float, lon: float, stock: dict[str, int], **kw: object
) -> CandidateStore:
    return CandidateStore(
        store_id=store_id, location=(lat, lon), stock=stock, costs=kw.pop("costs", COSTS), **kw
    )


def _rand_costs(rng: random.Random, cur: str) -> ShipmentCosts:
    places = {"JPY": 0, "CNY": 2}[cur]

    def amt(hi: int, dec: int) -> str:
        return str(Decimal(rng.randint(0, hi)) / (Decimal(10) ** dec))

    return ShipmentCosts(
        base=amt(900, places),
        per_km=amt(50, places + 1),
        per_unit=amt(80, places),
        per_unit_km=amt(9, places + 2),
        currency=cur,
    )


def _hard_order(seed: int) -> tuple[dict[str, int], list[CandidateStore]]:
    """60-120 stores, 10-16 lines: the cover search does not finish within its budget."""
    rng = random.Random(seed)
    n = rng.randint(60, 120)
    skus = [f"K{k}" for k in range(rng.randint(10, 16))]
    stores = [
        CandidateStore(
            store_id=f"s{i:02d}",
            location=(31.2 + rng.uniform(-0.5, 0.5), 121.4 + rng.uniform(-0.5, 0.5)),
            stock={k: rng.choice([1, 2, 3, 8]) for k in skus if rng.random() < 0.3},
            costs=_rand_costs(rng, "CNY"),
        )
        for i in range(n)
    ]
    return {k: rng.randint(1, 5) for k in skus}, stores


def _capped_order() -> tuple[dict[str, int], list[CandidateStore]]:
    """28 stores, 9 lines, 33 units: three shipments hold them all (the review's seed 166)."""
    rng = random.Random(166)
    cur = rng.choice(["CNY", "JPY"])
    n = rng.randint(8, 30)
    skus = [f"K{k}" for k in range(rng.randint(3, 10))]
    stores = [
        CandidateStore(
            store_id=f"s{i:02d}",
            location=(31.2 + rng.uniform(-0.5, 0.5), 121.4 + rng.uniform(-0.5, 0.5)),
            stock={
                k: rng.choice([1, 2, 3, 8, 20])
                for k in skus
                if rng.random() < rng.choice([0.2, 0.4, 0.7])
            },
            costs=_rand_costs(rng, cur),
            priority=rng.choice([None, None, 1, 2]),
        )
        for i in range(n)
    ]
    lines = {k: rng.randint(1, 6) for k in skus if rng.random() < 0.8}
    return lines, stores


# 1. auto mode keeps the cover search's plan when the branch and bound does no better


@pytest.mark.parametrize("seed", [23, 34])
def test_auto_is_never_dearer_than_the_cover_search(seed: int) -> None:
    lines, stores = _hard_order(seed)
    kw = {"lines": lines, "candidates": stores, "destination": (31.2, 121.4)}
    auto = route(**kw, policy={"explain": False})
    fast = route(**kw, policy={"mode": "fast", "explain": False})
    # the auto mode's cover search has more nodes than fast mode's, from the same start
    assert (False, True) == (auto.optimal, auto.objective <= fast.objective)
    assert auto.lower_bound is not None
    assert auto.lower_bound <= auto.objective


# 2. and 3. reroute respects max_shipments and allow_partial=False


def test_reroute_respects_max_shipments() -> None:
    stores = [
        _store("A", 31.23, 121.47, {"X": 1}),
        _store("B", 31.23, 121.48, {"Y": 1, "Z": 1}),
        _store("C", 31.24, 121.47, {"Y": 1}),
        _store("D", 31.22, 121.47, {"Z": 1}),
    ]
    policy = {"max_shipments": 2}
    lines = {"X": 1, "Y": 1, "Z": 1}
    plan = route(lines=lines, candidates=stores, destination=NEAR, policy=policy)
    assert ("complete", ("A", "B")) == (plan.status, plan.store_ids)
    again = reroute(plan=plan, rejected_store="B", candidates=stores, policy=policy)
    without_b = route(
        lines=lines, candidates=stores, destination=NEAR, excluded=["B"], policy=policy
    )
    assert (2, without_b.units_shipped) == (len(again.shipments), again.units_shipped)
    assert [("Z", 1, "does not fit within 2 shipment(s)")] == [
        (u.sku, u.quantity, u.reason) for u in again.unfulfilled
    ]


def test_reroute_gives_the_rejected_lines_the_shipments_left_under_the_cap() -> None:
    cheap = ShipmentCosts(base="1", per_unit="0.2")
    stores = [
        _store("A", 31.23, 121.47, {"X": 1}),
        _store("B", 31.23, 121.48, {"Y": 1, "Z": 1}),
        _store("C", 31.24, 121.47, {"Y": 1, "Z": 1}),
        _store("D", 31.22, 121.47, {"Y": 1}, costs=cheap),
        _store("E", 31.22, 121.48, {"Z": 1}, costs=cheap),
    ]
    policy = {"max_shipments": 2}
    plan = route(lines={"X": 1, "Y": 1, "Z": 1}, candidates=stores, destination=NEAR, policy=policy)
    assert ("A", "B") == plan.store_ids
    # without the cap, D + E (two cheap parcels) would carry B's lines: three shipments in all
    uncapped = reroute(plan=plan, rejected_store="B", candidates=stores)
    assert ("A", "D", "E") == tuple(sorted(uncapped.store_ids))
    again = reroute(plan=plan, rejected_store="B", candidates=stores, policy=policy)
    assert ("complete", ("A", "C"), "reroute") == (
        again.status,
        tuple(sorted(again.store_ids)),
        again.mode,
    )


def test_reroute_all_or_nothing_gives_routes_unfulfilled_plan() -> None:
    stores = [_store("A", 31.23, 121.47, {"X": 1}), _store("B", 31.23, 121.48, {"Y": 1})]
    policy = {"allow_partial": False}
    lines = {"X": 1, "Y": 1}
    plan = route(lines=lines, candidates=stores, destination=NEAR, policy=policy)
    assert ("complete", ("A", "B")) == (plan.status, plan.store_ids)
    again = reroute(plan=plan, rejected_store="B", candidates=stores, policy=policy)
    expected = route(
        lines=lines, candidates=stores, destination=NEAR, excluded=["B"], policy=policy
    )
    assert ("unfulfilled", (), expected.unfulfilled) == (
        again.status,
        again.shipments,
        again.unfulfilled,
    )


def test_reroute_all_or_nothing_still_keeps_shipments_when_complete() -> None:
    stores = [
        _store("A", 31.23, 121.47, {"X": 1}),
        _store("B", 31.23, 121.48, {"Y": 1}),
        _store("C", 31.24, 121.48, {"Y": 1}),
    ]
    policy = {"allow_partial": False}
    plan = route(lines={"X": 1, "Y": 1}, candidates=stores, destination=NEAR, policy=policy)
    again = reroute(plan=plan, rejected_store="B", candidates=stores, policy=policy)
    assert ("complete", ("A", "C")) == (again.status, tuple(sorted(again.store_ids)))


def test_reroute_when_the_pickup_store_rejects_raises() -> None:
    stores = [
        _store("HOME", 31.23, 121.47, {"X": 2}, pickup=True),
        _store("B", 31.24, 121.47, {"X": 5}),
    ]
    pol = {"pickup_transfers": True}
    plan = route(lines={"X": 2}, candidates=stores, pickup_store="HOME", policy=pol)
    with pytest.raises(RoutingValidationError) as err:
        reroute(plan=plan, rejected_store="HOME", candidates=stores, policy=pol)
    assert "routing.pickup_unavailable" == err.value.code


# 4. the default cost model, passed explicitly, prices in the stores' currency


def test_explicit_linear_model_uses_the_stores_currency() -> None:
    yen = ShipmentCosts(base="600", per_unit="20", currency="JPY")
    stores = [_store("TKY", 35.68, 139.76, {"TEA": 5}, costs=yen)]
    kw = {"lines": {"TEA": 2}, "candidates": stores, "destination": (35.69, 139.70)}
    default = route(**kw)
    explicit = route(**kw, cost_model=LinearCostModel())
    assert (default.shipping_cost, default.shipments[0].cost) == (
        explicit.shipping_cost,
        explicit.shipments[0].cost,
    )
    assert "JPY" == explicit.objective.currency.value


# 7. and 8. split penalty: whole minor units, in the shipments' currency


def _three_stores(costs: ShipmentCosts = COSTS) -> list[CandidateStore]:
    return [
        _store("A", 31.23, 121.47, {"X": 1}, costs=costs),
        _store("B", 31.23, 121.48, {"Y": 1}, costs=costs),
        _store("C", 31.23, 121.49, {"Z": 1}, costs=costs),
    ]


@pytest.mark.parametrize(("penalty", "currency"), [("0.009", "CNY"), ("0.5", "JPY")])
def test_split_penalty_finer_than_the_minor_unit_is_rejected(penalty: str, currency: str) -> None:
    stores = _three_stores(ShipmentCosts(base="10", currency=currency))
    with pytest.raises(RoutingValidationError) as err:
        route(
            lines={"X": 1, "Y": 1, "Z": 1},
            candidates=stores,
            destination=(31.23, 121.48),
            policy={"split_penalty": penalty},
        )
    assert ("routing.invalid_policy", "split_penalty") == (
        err.value.code,
        err.value.details["errors"][0]["field"],
    )


def test_split_penalty_in_whole_minor_units_is_charged() -> None:
    plan = route(
        lines={"X": 1, "Y": 1, "Z": 1},
        candidates=_three_stores(),
        destination=(31.23, 121.48),
        policy={"split_penalty": "0.01"},
    )
    assert (Money("0.02", Currency.CNY), plan.shipping_cost + Money("0.02", Currency.CNY)) == (
        plan.split_penalty,
        plan.objective,
    )


def test_split_penalty_money_in_another_currency_is_rejected() -> None:
    with pytest.raises(RoutingCurrencyError) as err:
        route(
            lines={"X": 1, "Y": 1},
            candidates=_three_stores(),
            destination=(31.235, 121.47),
            policy={"split_penalty": Money("5", Currency.USD)},
        )
    assert "routing.currency_mismatch" == err.value.code


def test_split_penalty_money_in_the_stores_currency_is_charged() -> None:
    plan = route(
        lines={"X": 1, "Y": 1},
        candidates=_three_stores(),
        destination=(31.235, 121.47),
        policy={"split_penalty": Money("5", Currency.CNY)},
    )
    assert Money("5", Currency.CNY) == plan.split_penalty


# 10. route_batch: pins checked against the starting stock; consumed pins leave the line short


def test_batch_pin_consumed_by_an_earlier_order_leaves_its_line_unfulfilled() -> None:
    stores = [_store("A", 31.23, 121.47, {"X": 1}), _store("B", 31.24, 121.47, {"X": 5, "Y": 2})]
    orders = [
        {"order_id": "o1", "lines": {"X": 1}, "destination": (31.23, 121.47)},
        {
            "order_id": "o2",
            "lines": {"X": 1, "Y": 1},
            "destination": (31.23, 121.47),
            "pins": {"X": "A"},
        },
        {"order_id": "o3", "lines": {"X": 2}, "destination": (31.24, 121.47)},
    ]
    res = route_batch(orders=orders, candidates=stores)
    summary = {
        k: (p.status, p.store_ids, [(u.sku, u.quantity, u.reason) for u in p.unfulfilled])
        for k, p in res.plans.items()
    }
    assert {
        "o1": ("complete", ("A",), []),
        "o2": (
            "partial",
            ("B",),
            [("X", 1, "pinned store A has 0 left after earlier orders of this batch")],
        ),
        "o3": ("complete", ("B",), []),
    } == summary
    assert {"A": {"X": 0}, "B": {"X": 3, "Y": 1}} == {
        k: dict(v) for k, v in res.remaining_stock.items()
    }


def test_batch_pin_consumed_all_or_nothing_order_is_unfulfilled() -> None:
    stores = [_store("A", 31.23, 121.47, {"X": 1}), _store("B", 31.24, 121.47, {"X": 5, "Y": 2})]
    orders = [
        {"order_id": "o1", "lines": {"X": 1}, "destination": (31.23, 121.47)},
        {
            "order_id": "o2",
            "lines": {"X": 1, "Y": 1},
            "destination": (31.23, 121.47),
            "pins": {"X": "A"},
        },
    ]
    res = route_batch(orders=orders, candidates=stores, policy={"allow_partial": False})
    o2 = res.plans["o2"]
    assert ("unfulfilled", ()) == (o2.status, o2.shipments)
    assert (
        "pinned store A has 0 left after earlier orders of this batch" in o2.unfulfilled[0].reason
    )


def test_batch_pin_short_at_the_start_raises_before_routing() -> None:
    stores = [_store("A", 31.23, 121.47, {"X": 1}), _store("B", 31.24, 121.47, {"X": 5})]
    orders = [
        {"order_id": "o1", "lines": {"X": 1}, "destination": (31.23, 121.47)},
        {"order_id": "o2", "lines": {"X": 2}, "destination": (31.23, 121.47), "pins": {"X": "A"}},
    ]
    with pytest.raises(RoutingValidationError) as err:
        route_batch(orders=orders, candidates=stores)
    assert ("routing.pin_without_stock", True) == (
        err.value.code,
        err.value.message.startswith("order 'o2': "),
    )


@pytest.mark.parametrize(
    ("order", "code"),
    [
        ({"lines": {"X": 1}, "pickup_store": "B"}, "routing.pickup_unavailable"),
        ({"lines": {"X": 1}, "destination": NEAR, "pins": {"X": "Q"}}, "routing.unknown_store"),
        (
            {"lines": {"X": 1}, "destination": NEAR, "pins": {"X": "A"}, "excluded": ["A"]},
            "routing.pin_conflict",
        ),
    ],
)
def test_batch_checks_stores_of_every_order_first(order: dict[str, object], code: str) -> None:
    stores = [_store("A", 31.23, 121.47, {"X": 1}), _store("B", 31.24, 121.47, {"X": 5})]
    with pytest.raises(RoutingValidationError) as err:
        route_batch(
            orders=[{"order_id": "o1", "lines": {"X": 1}, "destination": NEAR}, order],
            candidates=stores,
        )
    assert code == err.value.code


# 12. fast mode under a shipment cap: completeness first, honest reasons


def test_fast_mode_ships_every_unit_that_fits_under_the_cap() -> None:
    lines, stores = _capped_order()
    kw = {"lines": lines, "candidates": stores, "destination": (31.2, 121.4)}
    exact = route(**kw, policy={"mode": "exact", "max_shipments": 3})
    fast = route(**kw, policy={"mode": "fast", "max_shipments": 3})
    assert ("complete", 33) == (exact.status, exact.units_shipped)
    assert ("complete", 33, ()) == (fast.status, fast.units_shipped, fast.unfulfilled)


def test_units_left_short_within_the_budget_do_not_claim_they_cannot_fit() -> None:
    lines, stores = _capped_order()
    plan = route(
        lines=lines,
        candidates=stores,
        destination=(31.2, 121.4),
        policy={"max_shipments": 3, "node_budget": 30},
    )
    assert ("partial", False) == (plan.status, plan.optimal)
    reasons = {u.reason for u in plan.unfulfilled}
    expected = (
        "not placed within 3 shipment(s) by the search budget "
        "(raise node_budget or use mode 'exact')"
    )
    assert {expected} == reasons
