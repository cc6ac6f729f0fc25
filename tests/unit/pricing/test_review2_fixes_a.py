"""Regression tests for the second pricing review (part A).

Search bound of store coupons in a ``best`` lane, usage counters validation, truthful
``beaten`` reasons under the cap, buy-x-get-y units with floors independent of line ids.
"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from typing import Any

import pytest
from pricing_helpers import NOW, adjustments, cart, line, price, reasons

from multistore.money import money, to_minor
from multistore.pricing import (
    Cart,
    CartLine,
    PricedCart,
    PricingContext,
    UsageState,
    load_policy,
    load_promotions,
    price_cart,
)
from multistore.pricing.errors import InvalidCartError

STORE_BEST = load_policy({"lanes": [{"name": "store", "mode": "best"}]})


def _both(c: Cart, promos: Any, **kwargs: Any) -> tuple[PricedCart, PricedCart]:
    """The search's and the oracle's result on the same input."""
    policy = kwargs.pop("policy", None)
    return (
        price(c, promos, policy=policy, **kwargs),
        price(c, promos, policy=policy, oracle=True, **kwargs),
    )


def _summary(p: PricedCart) -> tuple[str, tuple[str, ...], dict[str, list[tuple[str, str]]]]:
    return str(p.discount_total.amount), p.applied_ids, adjustments(p)


# 1. Store coupons in a best lane: one bound per store they can be redeemed in ---------------


def test_two_store_coupons_winning_in_two_stores_are_found() -> None:
    c = cart(
        line("L0", "180.57", 2, store="S2"),
        line("L1", "40.44", store="S2"),
        line("L2", "122.64", store="S1"),
    )
    promos = """
- {id: C0, type: coupon, codes: [K0], amount: 4, exclusive_group: g}
- {id: C1, type: coupon, codes: [K1], amount: 33}
- {id: C3, type: coupon, codes: [K3], amount: 16, min_spend: 200, exclusive_group: g}
"""
    searched, oracle = _both(c, promos, policy=STORE_BEST, coupon_codes=("K0", "K1", "K3"))
    expected = ("49.00", ("C1", "C3"), {"L0": [("C3", "14.39")], "L1": [("C3", "1.61")]})
    expected[2]["L2"] = [("C1", "33.00")]
    assert [expected, expected] == [_summary(searched), _summary(oracle)]


def test_store_coupons_tie_goes_to_fewer_promotions() -> None:
    c = cart(line("L1", "100.00", store="S1"), line("L2", "300.00", store="S2"))
    promos = """
- {id: C0, type: coupon, codes: [K0], percent: 20, max_off: 5}
- {id: C1, type: coupon, codes: [K1], percent: 20, max_off: 5, scope: {stores: [S2]}}
- {id: C2, type: coupon, codes: [K2], amount: 29}
"""
    searched, oracle = _both(c, promos, policy=STORE_BEST, coupon_codes=("K0", "K1", "K2"))
    expected = ("34.00", ("C0", "C2"), {"L1": [("C0", "5.00")], "L2": [("C2", "29.00")]})
    assert [expected, expected] == [_summary(searched), _summary(oracle)]
    assert searched == oracle


def _random_store_coupons(seed: int) -> tuple[Cart, list[dict[str, Any]], dict[str, Any]]:
    """Store coupons (2-4) and 满减 in a best store lane over 2-3 stores (review's fuzz7)."""
    r = random.Random(seed)
    lines = [
        line(
            f"L{k}",
            str(Decimal(r.randint(1000, 20000)) / 100),
            r.randint(1, 2),
            store=r.choice(["S1", "S2", "S3"]),
        )
        for k in range(r.randint(2, 5))
    ]
    raw: list[dict[str, Any]] = []
    for i in range(r.randint(2, 4)):
        p: dict[str, Any] = {"id": f"C{i}", "type": "coupon", "codes": [f"K{i}"]}
        p["min_spend"] = r.choice([0, 0, 100, 200])
        if r.random() < 0.5:
            p["amount"] = r.randint(1, 40)
        else:
            p["percent"] = r.choice([10, 20])
            p["max_off"] = r.choice([5, 15, 30])
        if r.random() < 0.3:
            p["scope"] = {"stores": r.sample(["S1", "S2", "S3"], r.randint(1, 2))}
        if r.random() < 0.2:
            p["exclusive_group"] = "g"
        raw.append(p)
    for i in range(r.randint(0, 2)):
        tier = {"threshold": r.choice([50, 150, 250]), "amount": r.randint(1, 30)}
        raw.append({"id": f"M{i}", "type": "spend_tiers", "tiers": [tier]})
    policy: dict[str, Any] = {
        "lanes": [
            {"name": "store", "mode": "best", "threshold_base": r.choice(["before", "after"])}
        ]
    }
    if r.random() < 0.3:
        policy["cap"] = {"max_percent": r.choice([5, 10])}
    return Cart(lines=lines), raw, policy


@pytest.mark.parametrize("first", [0, 100, 200])
def test_search_agrees_with_the_oracle_on_store_coupons(first: int) -> None:
    disagree = []
    for seed in range(first, first + 100):
        c, raw, policy = _random_store_coupons(seed)
        codes = tuple(f"K{i}" for i in range(len(raw)) if raw[i]["type"] == "coupon")
        searched, oracle = _both(c, raw, policy=load_policy(policy), coupon_codes=codes)
        if _summary(searched) != _summary(oracle):
            disagree.append((seed, _summary(searched), _summary(oracle)))
    assert [] == disagree


# 8. Usage counters: non-negative ints only -----------------------------------------------


@pytest.mark.parametrize(
    "usage",
    [
        {"member_used": {"F": -3}},
        {"remaining": {"F": -1}},
        {"remaining": {"F": 1.5}},
        {"remaining": {"F": "2"}},
        {"member_used": {"F": True}},
        {"remaining": {3: 1}},
    ],
)
def test_usage_counters_must_be_non_negative_ints(usage: dict[str, Any]) -> None:
    with pytest.raises(InvalidCartError) as err:
        UsageState(**usage)
    assert "pricing.invalid_context" == err.value.code


def test_valid_usage_counters_still_limit_a_flash_sale() -> None:
    promos = """
- {id: F, type: flash_sale, price: 50, quota: 10, per_member_limit: 2,
   starts_at: "2026-11-10T00:00:00Z", ends_at: "2026-11-12T00:00:00Z"}
"""
    usage = UsageState(remaining={"F": 10}, member_used={"F": 1})
    priced = price(cart(line("L1", "100.00", 3)), promos, member_id="m", usage=usage)
    assert {"L1": [("F", "50.00")]} == adjustments(priced)


# 6. A 'beaten' reason names a winner that applied --------------------------------------------


def test_a_loser_to_a_capped_winner_is_reported_capped() -> None:
    promos = """
- {id: P10, type: percent_off, percent: 10}
- {id: M1, type: spend_tiers, tiers: [{threshold: 100, amount: 50}]}
- {id: M2, type: spend_tiers, tiers: [{threshold: 100, amount: 40}]}
"""
    policy = load_policy(
        {
            "lanes": [{"name": "item", "mode": "all"}, {"name": "store", "mode": "best"}],
            "cap": {"max_percent": 10},
        }
    )
    searched, oracle = _both(cart(line("L1", "200.00")), promos, policy=policy)
    capped = "the discount cap or the lines' floor prices were already reached"
    expected = {"M1": capped, "M2": capped}
    assert [expected, expected] == [reasons(searched), reasons(oracle)]


def test_a_loser_is_beaten_where_the_winner_applied() -> None:
    # M1 wins both stores; the cap lets it save only in S1. M2 saves most in S2, where M1
    # saved nothing: its reason names M1 in S1, where M1 applied.
    promos = """
- {id: M1, type: spend_tiers, tiers: [{threshold: 100, amount: 50}]}
- {id: M2, type: spend_percent, tiers: [{threshold: 100, percent: 10}]}
"""
    policy = load_policy({"lanes": [{"name": "store", "mode": "best"}], "cap": {"max_percent": 10}})
    c = cart(line("L1", "100.00", store="S1"), line("L2", "300.00", store="S2"))
    searched, oracle = _both(c, promos, policy=policy)
    expected = {"M2": "a better offer (M1) applied in store S1"}
    assert [expected, expected] == [reasons(searched), reasons(oracle)]
    assert {"L1": [("M1", "40.00")], "L2": []} == adjustments(searched)


# 5. Buy-x-get-y: discounted units go where they can be taken, whatever the ids --------------


@pytest.mark.parametrize(("floored", "other"), [("A", "B"), ("B", "A")])
def test_bxgy_free_unit_skips_a_line_at_its_floor(floored: str, other: str) -> None:
    c = cart(
        line(floored, "10.00", sku="x", floor="10.00"),
        line(other, "10.00", sku="y"),
    )
    promos = "- {id: b1g1, type: buy_x_get_y, buy: 1, get: 1, percent: 100}"
    searched, oracle = _both(c, promos)
    expected = ("10.00", ("b1g1",), {floored: [], other: [("b1g1", "10.00")]})
    assert [expected, expected] == [_summary(searched), _summary(oracle)]


@pytest.mark.parametrize(("roomy", "tight"), [("A", "B"), ("B", "A")])
def test_bxgy_prefers_the_line_with_more_room(roomy: str, tight: str) -> None:
    c = cart(
        line(tight, "10.00", sku="x", floor="6.00"),
        line(roomy, "10.00", sku="y"),
    )
    promos = "- {id: b1g1, type: buy_x_get_y, buy: 1, get: 1, percent: 100}"
    assert {tight: [], roomy: [("b1g1", "10.00")]} == adjustments(price(c, promos))


def test_bxgy_units_fill_full_discounts_before_partial_ones() -> None:
    # Two free units at 10.00: A's room (15.00) holds one in full, not two; B takes the
    # other in full; C (room 2.00) would only take 2.00 of one.
    c = cart(
        line("A", "10.00", 3, sku="x", floor="5.00"),
        line("B", "10.00", 1, sku="y"),
        line("C", "10.00", 1, sku="z", floor="8.00"),
    )
    promos = "- {id: b, type: buy_x_get_y, buy: 1, get: 1, percent: 100}"
    got = adjustments(price(c, promos))
    assert {"A": [("b", "10.00")], "B": [("b", "10.00")], "C": []} == got


def test_bxgy_takes_part_of_a_unit_when_nothing_else_can() -> None:
    c = cart(line("A", "10.00", 2, sku="x", floor="8.00"))
    promos = "- {id: b, type: buy_x_get_y, buy: 1, get: 1, percent: 100}"
    assert {"A": [("b", "4.00")]} == adjustments(price(c, promos))


def _bxgy_cart(names: dict[str, str], order: list[int]) -> Cart:
    specs = [
        ("L0", "s0", "S2", 4, "10.00", "5.00"),
        ("L1", "s1", "S2", 2, "10.00", None),
        ("L2", "s2", "S1", 3, "10.00", "3.00"),
    ]
    lines = []
    for k in order:
        lid, sku, store, qty, unit, floor = specs[k]
        lines.append(
            CartLine(
                line_id=names[lid],
                sku=sku,
                store_id=store,
                quantity=qty,
                unit_price=money(unit),
                floor_price=None if floor is None else money(floor),
            )
        )
    return Cart(lines=lines)


def test_bxgy_total_does_not_depend_on_line_ids_or_order() -> None:
    # Two lines tie on unit price and room but face different rivals: the tie must not be
    # settled by their ids.
    promos = load_promotions(
        """
- {id: B, type: buy_x_get_y, buy: 2, get: 2, percent: 30}
- {id: P, type: percent_off, percent: 10, exclusive_group: g}
"""
    )
    totals = set()
    for perm in itertools.permutations(["L0", "L1", "L2"]):
        names = dict(zip(["L0", "L1", "L2"], [f"Z{p}" for p in perm], strict=True))
        for order in ([0, 1, 2], [2, 0, 1]):
            c = _bxgy_cart(names, order)
            for oracle in (False, True):
                priced = price_cart(
                    cart=c, promotions=promos, context=PricingContext(now=NOW), oracle=oracle
                )
                totals.add(to_minor(priced.total))
    assert 1 == len(totals)
