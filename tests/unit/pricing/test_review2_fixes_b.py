"""Regression tests for the second pricing review: flash-sale units and store coupons."""

from __future__ import annotations

import itertools
import random
from typing import Any

import attrs
import pytest
from pricing_helpers import NOW, cart, line, price

from multistore.money import money, to_minor
from multistore.pricing import (
    Cart,
    CartLine,
    PricedCart,
    PricingContext,
    lanes,
    load_policy,
    load_promotions,
    price_cart,
)

WINDOW = 'starts_at: "2026-11-01T00:00:00Z", ends_at: "2026-12-01T00:00:00Z"'
ITEM_BEST = load_policy({"lanes": [{"name": "item", "mode": "best"}]})
STORE_BEST = load_policy({"lanes": [{"name": "store", "mode": "best"}]})


def _outcome(priced: PricedCart) -> tuple[str, list[tuple[str, tuple[str, ...]]]]:
    return (
        str(priced.total.amount),
        sorted((a.promotion_id, tuple(sorted(a.units))) for a in priced.applied),
    )


def _both(c: Cart, promos: Any, **kwargs: Any) -> list[tuple[str, Any]]:
    """The search's and the oracle's outcome on the same input."""
    return [_outcome(price(c, promos, oracle=o, **kwargs)) for o in (False, True)]


# 2+3. Flash-sale units: the placement that saves most, whatever the line ids -------------------


@pytest.mark.parametrize(("x_line", "y_line"), [("A", "B"), ("B", "A")])
def test_flash_units_go_where_they_add_most_not_by_advantage_per_unit(
    x_line: str, y_line: str
) -> None:
    # Quota 2: both units on x (saves 100, beating 30 % = 60) beat one unit on y (30) + 30 %.
    c = cart(line(x_line, "100.00", 2, sku="x"), line(y_line, "80.00", sku="y"))
    promos = f"""
- {{id: flash, type: flash_sale, price: 50, quota: 2, scope: {{skus: [x, y]}}, {WINDOW}}}
- {{id: pct, type: percent_off, percent: 30, scope: {{skus: [x]}}}}
"""
    expected = ("180.00", [("flash", (x_line,))])
    assert [expected, expected] == _both(c, promos)


@pytest.mark.parametrize(("x_line", "y_line"), [("A", "B"), ("B", "A")])
def test_flash_units_do_not_depend_on_line_ids(x_line: str, y_line: str) -> None:
    # Quota 2: both units on y save 200; x (50) + one unit of y (100, tied with 50 off) 150.
    promos = f"""
- {{id: flash, type: flash_sale, price: 50, quota: 2, scope: {{skus: [x, y]}}, {WINDOW}}}
- {{id: minus, type: amount_off, amount: 50, scope: {{skus: [y]}}}}
"""
    lines = [line(x_line, "100.00", sku="x"), line(y_line, "150.00", 2, sku="y")]
    expected = ("200.00", [("flash", (y_line,))])
    for ordered in (lines, lines[::-1]):
        assert [expected, expected] == _both(cart(*ordered), promos)


def _yen(line_id: str, sku: str, qty: int, unit: str) -> CartLine:
    return CartLine(
        line_id=line_id, sku=sku, store_id="S1", quantity=qty, unit_price=money(unit, "JPY")
    )


@pytest.mark.parametrize("listed", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_several_flash_sales_share_the_lines_jointly(listed: tuple[int, int, int]) -> None:
    # F0 on L0 (177), F1 on L2 (71), F2 on L3 (102): 350; placed one after the other (with the
    # later ones' unplaced offers as rivals) the engine saved 306.
    c = Cart(
        lines=[
            _yen("L0", "s0", 3, "169"),
            _yen("L1", "s1", 1, "113"),
            _yen("L2", "s2", 2, "181"),
            _yen("L3", "s3", 2, "143"),
        ]
    )
    w = f"{WINDOW}, currency: JPY"
    every = "{skus: [s0, s1, s2, s3]}"
    flashes = [
        f"- {{id: F0, type: flash_sale, price: 110, quota: 3, scope: {every}, {w}}}",
        f"- {{id: F1, type: flash_sale, price: 110, quota: 1, scope: {every}, {w}}}",
        f"- {{id: F2, type: flash_sale, price: 41, quota: 1, scope: {{skus: [s0, s1, s3]}}, {w}}}",
    ]
    rival = "- {id: R0, type: amount_off, amount: 1, scope: {skus: [s2]}, currency: JPY}"
    promos = "\n".join([flashes[k] for k in listed] + [rival])
    got = [
        (
            str(p.discount_total.amount),
            sorted((a.promotion_id, a.units) for a in p.applied),
        )
        for p in (
            price_cart(
                cart=c,
                promotions=load_promotions(promos),
                context=PricingContext(now=NOW),
                policy=ITEM_BEST,
                oracle=o,
            )
            for o in (False, True)
        )
    ]
    expected = ("350", [("F0", ("L0",)), ("F1", ("L2",)), ("F2", ("L3",))])
    assert [expected, expected] == got


def test_a_lone_flash_sale_in_an_all_lane_still_fills_the_best_lines_first() -> None:
    # Quota 2 over a 3-unit line saving 10 per unit and a 1-unit line saving 50.
    c = cart(line("A", "60.00", 3, sku="phone"), line("B", "100.00", sku="phone"))
    promos = f"- {{id: flash, type: flash_sale, price: 50, quota: 2, {WINDOW}}}"
    all_lane = load_policy({"lanes": [{"name": "item", "mode": "all"}]})
    expected = ("220.00", [("flash", ("A", "B"))])
    assert [expected, expected] == _both(c, promos, policy=all_lane)


# Each flash sale restricted to every subset of its lines: the engine never saves less. --------


def _random_case(seed: int) -> tuple[Cart, list[dict[str, Any]]]:
    r = random.Random(seed)
    n = r.randint(2, 3)
    lines = [
        line(f"L{k}", f"{r.randint(20, 200)}.00", r.randint(1, 3), sku=f"s{k}") for k in range(n)
    ]
    skus = [f"s{k}" for k in range(n)]
    raw: list[dict[str, Any]] = [
        {
            "id": f"F{k}",
            "type": "flash_sale",
            "price": f"{r.randint(5, 150)}.00",
            "quota": r.randint(1, 4),
            "starts_at": "2026-11-01T00:00:00Z",
            "ends_at": "2026-12-01T00:00:00Z",
            "scope": {"skus": sorted(r.sample(skus, r.randint(1, n)))},
        }
        for k in range(r.randint(1, 2))
    ]
    raw += [
        {
            "id": f"R{k}",
            "type": "percent_off",
            "percent": r.choice([10, 30, 50]),
            "scope": {"skus": sorted(r.sample(skus, r.randint(1, n)))},
        }
        for k in range(r.randint(1, 2))
    ]
    return cart(*lines), raw


def _saving(c: Cart, raw: list[dict[str, Any]]) -> int:
    return to_minor(price(c, raw, policy=ITEM_BEST).discount_total)


@pytest.mark.parametrize("seed", [*range(20), 25, 89, 113, 114, 133, 212, 217, 236])
def test_flash_placement_is_at_least_any_restriction_and_id_free(seed: int) -> None:
    c, raw = _random_case(seed)
    choices = [
        [
            dict(p, scope={"skus": list(sub)})
            for size in range(1, len(p["scope"]["skus"]) + 1)
            for sub in itertools.combinations(p["scope"]["skus"], size)
        ]
        if p["type"] == "flash_sale"
        else [p]
        for p in raw
    ]
    brute = max(_saving(c, list(combo)) for combo in itertools.product(*choices))
    n = len(c.lines)
    renamed = Cart(
        lines=[attrs.evolve(ln, line_id=f"L{n - 1 - k}") for k, ln in enumerate(c.lines)]
    )
    reordered = Cart(lines=list(reversed(c.lines)))
    got = _saving(c, raw)
    assert [True, got, got] == [got >= brute, _saving(renamed, raw), _saving(reordered, raw)]


# 4. Store coupons in a best store lane are placed jointly ---------------------------------------


def test_two_store_coupons_take_the_stores_that_save_most_together() -> None:
    # C1 (10 off) alone would take S1 (tie with S2, smallest id), then C2 (20 %) takes S1
    # from it: 20 saved instead of 30.
    c = cart(line("L1", "100.00", sku="x", store="S1"), line("L2", "40.00", sku="y", store="S2"))
    promos = """
- {id: C1, type: coupon, codes: [ONE], amount: 10}
- {id: C2, type: coupon, codes: [TWO], percent: 20}
"""
    expected = ("110.00", [("C1", ("S2",)), ("C2", ("S1",))])
    assert [expected, expected] == _both(c, promos, policy=STORE_BEST, coupon_codes=("ONE", "TWO"))


def test_store_coupons_that_tie_take_the_smallest_store_ids_in_lane_order() -> None:
    c = cart(line("L1", "100.00", sku="x", store="S1"), line("L2", "100.00", sku="y", store="S2"))
    promos = """
- {id: C1, type: coupon, codes: [ONE], amount: 10}
- {id: C2, type: coupon, codes: [TWO], amount: 10}
"""
    expected = ("180.00", [("C1", ("S1",)), ("C2", ("S2",))])
    assert [expected, expected] == _both(c, promos, policy=STORE_BEST, coupon_codes=("ONE", "TWO"))


# Beyond the documented sizes: the one-at-a-time rules, still free of line ids ------------------


@pytest.mark.parametrize("names", [("A", "B"), ("B", "A")])
def test_past_the_search_size_flash_units_go_by_advantage_per_unit(
    monkeypatch: pytest.MonkeyPatch, names: tuple[str, str]
) -> None:
    monkeypatch.setattr(lanes, "_FLASH_STEPS", 0)
    # Quota 2 over a 3-unit line saving 10 per unit and a 1-unit line saving 50.
    three, one = names
    c = cart(line(three, "60.00", 3, sku="phone"), line(one, "100.00", sku="phone"))
    promos = f"- {{id: flash, type: flash_sale, price: 50, quota: 2, {WINDOW}}}"
    expected = ("220.00", [("flash", tuple(sorted(names)))])
    assert [expected, expected] == _both(c, promos, policy=ITEM_BEST)


def test_past_the_enumeration_size_store_coupons_are_placed_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lanes, "_COUPON_ASSIGNMENTS", 0)
    c = cart(line("L1", "100.00", sku="x", store="S1"), line("L2", "40.00", sku="y", store="S2"))
    promos = """
- {id: C1, type: coupon, codes: [ONE], amount: 10}
- {id: C2, type: coupon, codes: [TWO], percent: 20}
"""
    expected = ("120.00", [("C2", ("S1",))])
    assert [expected, expected] == _both(c, promos, policy=STORE_BEST, coupon_codes=("ONE", "TWO"))
