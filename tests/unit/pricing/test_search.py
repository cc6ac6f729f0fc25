"""The fast paths of the pricing search agree with their plain definitions.

* the bit-mask enumeration of valid selections equals the definition (no conflict, every
  automatic promotion left out excluded by a chosen one);
* the search (prefix-tree best-first search, and the lane-by-lane walk it falls back to when
  there are more valid selections than ``max_selections``) returns what brute force returns;
* one largest-remainder round is what ``allocate_capped`` returns when the caps are the weights;
* ``money_maker`` builds the same Money as ``from_minor``.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from multistore.money import apportion, from_minor
from multistore.money import minor_maker as money_maker
from multistore.pricing import (
    Cart,
    CartLine,
    PricingContext,
    StackingPolicy,
    allocate_capped,
    load_policy,
    load_promotions,
    price_cart,
)
from multistore.pricing.best import (
    _ORDER_TYPES,
    _Search,
    _shape_of,
    _TrieSearch,
    _valid_masks,
    brute_force,
    search,
    valid_selections,
)
from multistore.pricing.engine import _collect
from multistore.pricing.lanes import apply_lane, initial_state, prepare

NOW = datetime(2026, 11, 11, 4, tzinfo=UTC)
SKUS = ["a", "b", "c", "d"]
STORES = ["S1", "S2", "S3"]


def _yuan(n: int) -> str:
    return f"{n // 100}.{n % 100:02d}"


def _masks_by_definition(enemies: list[int], automatic: int) -> list[int]:
    m = len(enemies)
    out = []
    for mask in range(1 << m):
        if any(mask >> k & 1 and enemies[k] & mask for k in range(m)):
            continue
        if any(
            automatic >> k & 1 and not mask >> k & 1 and not enemies[k] & mask for k in range(m)
        ):
            continue
        out.append(mask)
    return out


def test_valid_masks_are_exactly_the_valid_selections():
    rnd = random.Random(3)
    for _ in range(1500):
        m = rnd.randint(0, 9)
        density = rnd.choice((0.1, 0.3, 0.6))
        enemies = [0] * m
        for a in range(m):
            for b in range(a + 1, m):
                if rnd.random() < density:
                    enemies[a] |= 1 << b
                    enemies[b] |= 1 << a
        automatic = sum(1 << k for k in range(m) if rnd.random() < 0.6)
        got = _valid_masks(enemies, automatic, 10**6)
        assert got is not None
        assert len(set(got)) == len(got)
        assert _masks_by_definition(enemies, automatic) == sorted(got)


def test_valid_masks_give_up_past_the_limit():
    # Three independent coupons: 8 valid selections.
    assert _valid_masks([0, 0, 0], 0, 7) is None
    assert len(_valid_masks([0, 0, 0], 0, 8) or []) == 8


def _paths(shape: Any, spans: list[tuple[int, int]], j: int = 0, mask: int = 0) -> list[int]:
    if j == len(spans):
        return [mask]
    return [
        path
        for key, child in shape
        for path in _paths(child, spans, j + 1, mask | (key << spans[j][0]))
    ]


def _subtrees(shape: Any) -> list[Any]:
    return [shape, *(sub for _, child in shape for sub in _subtrees(child))]


def test_shared_prefix_tree_holds_exactly_the_valid_selections():
    rnd = random.Random(11)
    for _ in range(400):
        m = rnd.randint(0, 9)
        enemies = [0] * m
        for a in range(m):
            for b in range(a + 1, m):
                if rnd.random() < 0.3:
                    enemies[a] |= 1 << b
                    enemies[b] |= 1 << a
        automatic = sum(1 << k for k in range(m) if rnd.random() < 0.6)
        masks = _valid_masks(enemies, automatic, 10**6)
        assert masks is not None
        cuts = sorted(rnd.randint(0, m) for _ in range(4))
        bounds = [0, *cuts, m]
        spans = [(lo, (1 << (hi - lo)) - 1) for lo, hi in itertools.pairwise(bounds)]
        shape = _shape_of(masks, tuple(spans))
        assert sorted(masks) == sorted(_paths(shape, spans))
        subtrees = _subtrees(shape)
        for a in subtrees:  # equal subtrees are one object, so the search builds them once
            assert all(a is b for b in subtrees if a == b)


def test_entry_bound_covers_what_an_order_level_promotion_saves_in_an_all_lane():
    rnd = random.Random(12)
    checked = exact = 0
    for _ in range(300):
        cart, promos, ctx, policy = _scenario(rnd)
        candidates, _ = _collect(cart=cart, promotions=promos, policy=policy, context=ctx)
        prep = prepare(cart=cart, context=ctx, cap=policy.cap)
        run = _Search(prep, policy, candidates)
        state = initial_state(prep)
        for j, lane in enumerate(run.lanes):
            in_lane = [c for c in candidates if c.lane == lane.name]
            if lane.mode == "all":
                memo = run._memo(j, state)
                for r in range(1, min(3, len(in_lane)) + 1):
                    for subset in itertools.combinations(in_lane, r):
                        delta = memo.evaluate(subset, prep)
                        for c in subset:
                            if c.promo.type not in _ORDER_TYPES | {"coupon"}:
                                continue
                            saved = sum(
                                sum(e.lines.values()) for e in delta.effects if e.candidate is c
                            )
                            bound = memo.entry_goods(c, prep)
                            assert saved <= bound
                            if r == 1 and not prep.floored and state.headroom is None:
                                assert saved == bound  # alone at entry it saves just that
                                exact += 1
                            checked += 1
            state = apply_lane(state=state, lane=lane, chosen=in_lane, prep=prep)
    assert checked > 300
    assert exact > 20


def _promotion(rnd: random.Random, pid: str) -> dict[str, Any]:
    kind = rnd.choice(
        [
            "percent_off",
            "amount_off",
            "fixed_price",
            "buy_x_get_y",
            "flash_sale",
            "spend_tiers",
            "spend_every",
            "spend_percent",
            "quantity_percent",
            "coupon",
            "coupon",
            "points",
            "shipping",
        ]
    )
    p: dict[str, Any] = {"id": pid, "type": kind}
    if kind == "percent_off":
        p["percent"] = rnd.randint(1, 60)
    elif kind == "amount_off":
        p["amount"] = _yuan(rnd.randint(1, 3000))
    elif kind in {"fixed_price", "flash_sale"}:
        p["price"] = _yuan(rnd.randint(0, 20000))
        if kind == "flash_sale":
            p.update(
                quota=rnd.randint(1, 5),
                starts_at="2026-11-10T00:00:00+00:00",
                ends_at="2026-11-12T00:00:00+00:00",
            )
    elif kind == "buy_x_get_y":
        p.update(buy=rnd.randint(1, 2), get=1, percent=rnd.choice([50, 100]))
    elif kind == "spend_tiers":
        t = rnd.randint(100, 40000)
        a = rnd.randint(1, t)
        p["tiers"] = [
            {"threshold": _yuan(t), "amount": _yuan(a)},
            {"threshold": _yuan(2 * t), "amount": _yuan(2 * a)},
        ]
    elif kind == "spend_every":
        t = rnd.randint(100, 20000)
        p.update(every=_yuan(t), amount=_yuan(rnd.randint(1, t)))
    elif kind == "spend_percent":
        p["tiers"] = [{"threshold": _yuan(rnd.randint(0, 40000)), "percent": rnd.randint(1, 60)}]
    elif kind == "quantity_percent":
        p["tiers"] = [{"min_quantity": rnd.randint(1, 4), "percent": rnd.randint(1, 60)}]
    elif kind == "coupon":
        p["codes"] = [f"{pid}-code"]
        if rnd.random() < 0.5:
            p["amount"] = _yuan(rnd.randint(1, 5000))
            p["min_spend"] = _yuan(rnd.randint(5000, 30000))
        else:
            p.update(percent=rnd.randint(1, 60), max_off=_yuan(rnd.randint(1, 5000)))
    elif kind == "points":
        p.update(points_per_unit=rnd.choice([1, 10, 100]), max_percent=rnd.randint(1, 60))
    elif kind == "shipping":
        p["min_spend"] = _yuan(rnd.randint(0, 20000))
    if kind in {"spend_tiers", "spend_every", "spend_percent", "quantity_percent", "coupon"}:
        p["level"] = rnd.choice(["store", "platform"])
    if rnd.random() < 0.25:
        p["scope"] = {"skus": rnd.sample(SKUS, rnd.randint(1, 2))}
    if rnd.random() < 0.4:
        p["exclusive_group"] = rnd.choice(["g1", "g2"])
    if rnd.random() < 0.15:
        p["combines_with"] = []
    elif rnd.random() < 0.1:
        p["combines_with"] = [f"P{rnd.randint(0, 7)}", "g1"]
    return p


def _scenario(rnd: random.Random) -> tuple[Cart, list[Any], PricingContext, StackingPolicy]:
    lines = []
    for i in range(rnd.randint(1, 8)):
        price = rnd.randint(1, 30000)
        floor = None if rnd.random() < 0.7 else rnd.randint(0, price)
        lines.append(
            CartLine(
                line_id=f"L{i}",
                sku=rnd.choice(SKUS),
                store_id=rnd.choice(STORES),
                quantity=rnd.randint(1, 4),
                unit_price=from_minor(price, "CNY"),
                floor_price=None if floor is None else from_minor(floor, "CNY"),
            )
        )
    fees = {s: from_minor(rnd.choice([0, 500, 1000]), "CNY") for s in STORES}
    promos = load_promotions([_promotion(rnd, f"P{i}") for i in range(rnd.randint(0, 8))])
    codes = tuple(c for p in promos if p.type == "coupon" for c in p.codes)  # type: ignore[union-attr]
    ctx = PricingContext(
        now=NOW, member_id="m", coupon_codes=codes, points_available=rnd.choice([0, 500, 50000])
    )
    policy: dict[str, Any] = {
        "lanes": [
            {
                "name": name,
                "mode": rnd.choice(["all", "best"]),
                "threshold_base": rnd.choice(["before", "after"]),
            }
            for name in ["item", "store", "platform", "points", "shipping"]
        ],
        "objective": rnd.choice(["max_saving", "max_saving", "min_saving"]),
    }
    if rnd.random() < 0.3:
        policy["cap"] = {"max_percent": rnd.randint(1, 100)}
    return Cart(lines=lines, shipping_fees=fees), promos, ctx, load_policy(policy)


def _selection_view(sel: Any) -> tuple[Any, ...]:
    state = sel.state
    return (
        sorted(c.promo.id for c in sel.chosen),
        state.amounts,
        state.shipping,
        state.saving,
        [(e.candidate.promo.id, e.key, dict(e.lines), dict(e.shipping)) for e in state.effects],
        [(m.candidate.promo.id, m.key, m.code, m.shortfall, m.label) for m in state.misses],
    )


@pytest.mark.parametrize("max_selections", [1, 3, 4096])
def test_search_returns_what_brute_force_returns(max_selections):
    rnd = random.Random(max_selections)
    paths = {"tree": 0, "walk": 0}
    for _ in range(150):
        cart, promos, ctx, policy = _scenario(rnd)
        policy = policy.model_copy(update={"max_selections": max_selections})
        candidates, _ = _collect(cart=cart, promotions=promos, policy=policy, context=ctx)
        prep = prepare(cart=cart, context=ctx, cap=policy.cap)
        tree = _TrieSearch.plan(_Search(prep, policy, candidates), candidates)
        paths["tree" if tree is not None else "walk"] += 1
        fast = search(prep=prep, policy=policy, candidates=candidates)
        if not fast.exhaustive:
            continue  # the walk gave up (max_selections); nothing to prove
        slow = brute_force(
            prep=prepare(cart=cart, context=ctx, cap=policy.cap),
            policy=policy,
            candidates=candidates,
        )
        assert _selection_view(slow) == _selection_view(fast)
        assert len(list(valid_selections(candidates))) >= 1
    if max_selections == 4096:
        assert paths["walk"] == 0
    else:
        assert paths["walk"] > 0
        assert paths["tree"] > 0


def test_benchmark_shaped_carts_match_brute_force():
    from benchmarks.bench_pricing import _instance

    rnd = random.Random(20261111)
    for k in range(25):
        _, cart, promos, ctx = _instance(rnd, k)
        fast = price_cart(cart=cart, promotions=promos, context=ctx)
        slow = price_cart(cart=cart, promotions=promos, context=ctx, oracle=True)
        assert (slow.total, slow.applied_ids, slow.lines) == (
            fast.total,
            fast.applied_ids,
            fast.lines,
        )
        assert fast.exhaustive


def test_one_largest_remainder_round_is_the_capped_allocation_when_caps_are_weights():
    rnd = random.Random(5)
    for _ in range(3000):
        weights = [
            rnd.choice([0, 0, 1, rnd.randint(1, 50), rnd.randint(1, 100000)])
            for _ in range(rnd.randint(1, 12))
        ]
        room = sum(weights)
        if room == 0:
            continue
        total = rnd.randint(0, room + 50)
        left = min(total, room)
        expected = allocate_capped(total=total, weights=weights, caps=weights)
        assert expected == (apportion(left, weights) if left else [0] * len(weights))


@pytest.mark.parametrize("code", ["CNY", "JPY", "USD", "BHD", "KWD"])
def test_money_maker_builds_the_money_from_minor_builds(code):
    make = money_maker(from_minor(0, code).currency)
    for n in (0, 1, -1, 5, 99, 100, 1230, -98765, 10**12 + 7):
        expected = from_minor(n, code)
        actual = make(n)
        assert (expected.currency, str(expected.amount)) == (actual.currency, str(actual.amount))
        assert expected == actual


def test_tier_labels_are_formatted_when_read():
    cart = Cart(
        lines=[
            CartLine(
                line_id="L1",
                sku="a",
                store_id="S1",
                quantity=1,
                unit_price=from_minor(25000, "CNY"),
            )
        ]
    )
    promos = [
        {"id": "M", "type": "spend_tiers", "tiers": [{"threshold": 300, "amount": 50}]},
        {"id": "E", "type": "spend_every", "every": "300.5", "amount": 10, "level": "platform"},
        {"id": "Q", "type": "quantity_percent", "tiers": [{"min_quantity": 2, "percent": 10}]},
    ]
    priced = price_cart(cart=cart, promotions=promos, context=PricingContext(now=NOW))
    reasons = {n.promotion_id: n.reason for n in priced.not_applied}
    assert {
        "M": "满300减50 needs ¥50.00 more in store S1",
        "E": "每满300.5减10 needs ¥50.50 more",
        "Q": "满2件9折 needs 1 more item(s) in store S1",
    } == reasons
    assert [
        "Add ¥50.00 more from store S1 to reach 满300减50.",
        "Add ¥50.50 more to reach 每满300.5减10.",
    ] == [h.message for h in priced.hints]  # 1 of 2 items is beyond the 30 % hint reach
