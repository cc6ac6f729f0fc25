"""Regression tests for the pricing bugs confirmed by the independent review."""

from __future__ import annotations

from typing import Any

import pytest
from pricing_helpers import NOW, cart, ctx, line, price

from multistore.errors import ValidationError
from multistore.pricing import (
    Cart,
    PricedCart,
    load_policy,
    load_promotion,
    load_promotions,
    price_cart,
)
from multistore.pricing.errors import InvalidCartError, PromotionValidationError


def _finals(priced: PricedCart) -> dict[str, str]:
    return {ln.line_id: str(ln.final_amount.amount) for ln in priced.lines}


def _both(c: Cart, promos: Any, **kwargs: Any) -> tuple[PricedCart, PricedCart]:
    """The search's and the oracle's result on the same input."""
    policy = kwargs.pop("policy", None)
    return (
        price(c, promos, policy=policy, **kwargs),
        price(c, promos, policy=policy, oracle=True, **kwargs),
    )


# 1. A floor above the unit price ------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [("X", "Y"), ("Y", "X")])
def test_a_floor_above_the_price_does_not_shrink_the_other_lines_room(
    first: str, second: str
) -> None:
    c = cart(line("A", "10.00", sku="gift", floor="20.00"), line("B", "100.00", sku="tea"))
    promos = f"""
- {{id: {first}, type: percent_off, percent: 95, scope: {{skus: [tea]}}, exclusive_group: g}}
- {{id: {second}, type: percent_off, percent: 100, scope: {{skus: [tea]}}, exclusive_group: g}}
"""
    searched, oracle = _both(c, promos)
    assert [("10.00", ("Y",) if second == "Y" else ("X",))] * 2 == [
        (str(searched.total.amount), searched.applied_ids),
        (str(oracle.total.amount), oracle.applied_ids),
    ]
    assert {"A": "10.00", "B": "0.00"} == _finals(searched)


def test_a_floor_above_the_price_keeps_the_fewer_promotions_tie_break() -> None:
    c = cart(line("A", "10.00", sku="gift", floor="20.00"), line("B", "100.00", sku="tea"))
    promos = """
- {id: pts, type: points, points_per_unit: 100, max_percent: 100}
- {id: c5, type: coupon, codes: [C5], amount: 5}
"""
    searched, oracle = _both(c, promos, points_available=100000, coupon_codes=("C5",))
    assert [("10.00", ("pts",))] * 2 == [
        (str(searched.total.amount), searched.applied_ids),
        (str(oracle.total.amount), oracle.applied_ids),
    ]


# 2. The policy cap split over the lines --------------------------------------------------------


@pytest.mark.parametrize("order", [("A", "B"), ("B", "A")])
def test_a_capped_item_discount_is_split_over_the_lines_whatever_their_order(
    order: tuple[str, ...],
) -> None:
    by_id = {"A": line("A", "100.00", sku="tea"), "B": line("B", "100.00", sku="cup", store="S2")}
    c = cart(*(by_id[i] for i in order), shipping={"S2": "10.00"})
    promos = """
- {id: half, type: percent_off, percent: 50}
- {id: ship, type: shipping, min_spend: 80}
"""
    policy = load_policy({"cap": {"max_percent": 25}})
    priced = price(c, promos, policy=policy)
    assert ("160.00", {"A": "75.00", "B": "75.00"}, {"S2": "10.00"}) == (
        str(priced.total.amount),
        _finals(priced),
        {s.store_id: str(s.final_amount.amount) for s in priced.shipping},
    )


@pytest.mark.parametrize("mode", ["best", "all"])
@pytest.mark.parametrize("order", [("L2", "L10"), ("L10", "L2")])
def test_the_cap_is_split_by_largest_remainder_weighted_by_each_lines_discount(
    mode: str, order: tuple[str, ...]
) -> None:
    # 50 % off saves 50 on L2 and 150 on L10; the cap (25 % of 400) leaves 100 to split 1:3.
    by_id = {"L2": line("L2", "100.00", sku="a"), "L10": line("L10", "300.00", sku="b")}
    policy = load_policy({"cap": {"max_percent": 25}, "lanes": [{"name": "item", "mode": mode}]})
    priced = price(
        cart(*(by_id[i] for i in order)),
        "- {id: half, type: percent_off, percent: 50}",
        policy=policy,
    )
    assert {"L2": "75.00", "L10": "225.00"} == _finals(priced)


@pytest.mark.parametrize("order", [("A", "B"), ("B", "A")])
def test_a_capped_tie_goes_to_the_smaller_line_id_not_the_first_line(
    order: tuple[str, ...],
) -> None:
    # Each line would save 0.50; min_payable 1.99 leaves one fen of headroom.
    by_id = {"A": line("A", "1.00", sku="a"), "B": line("B", "1.00", sku="b")}
    policy = load_policy({"cap": {"min_payable": "1.99"}})
    priced = price(
        cart(*(by_id[i] for i in order)),
        "- {id: half, type: percent_off, percent: 50}",
        policy=policy,
    )
    assert {"A": "0.99", "B": "1.00"} == _finals(priced)


def test_a_capped_line_at_its_floor_passes_its_share_to_the_others() -> None:
    # Headroom 100 split 1:1 would give A 50, but A may drop only 20 (floor 80).
    c = cart(line("A", "100.00", sku="a", floor="80.00"), line("B", "100.00", sku="b"))
    policy = load_policy({"cap": {"max_percent": 50}})
    priced = price(c, "- {id: all, type: percent_off, percent: 100}", policy=policy)
    assert {"A": "80.00", "B": "20.00"} == _finals(priced)


# 3. A limited flash-sale quota ------------------------------------------------------------------


@pytest.mark.parametrize(("s1_line", "s2_line"), [("L1", "L2"), ("L2", "L1")])
def test_a_flash_sale_quota_goes_to_the_line_where_the_flash_sale_wins(
    s1_line: str, s2_line: str
) -> None:
    c = cart(
        line(s1_line, "100.00", sku="phone", store="S1"),
        line(s2_line, "100.00", sku="phone", store="S2"),
    )
    promos = """
- {id: flash, type: flash_sale, price: 50, quota: 1, scope: {skus: [phone]},
   starts_at: "2026-11-11T00:00:00Z", ends_at: "2026-11-12T00:00:00Z"}
- {id: s1price, type: fixed_price, price: 40, scope: {stores: [S1]}}
"""
    searched, oracle = _both(c, promos)
    expected = ("90.00", {s1_line: "40.00", s2_line: "50.00"})
    assert [expected, expected] == [
        (str(searched.total.amount), _finals(searched)),
        (str(oracle.total.amount), _finals(oracle)),
    ]


def test_a_flash_sale_quota_goes_to_the_largest_saving_per_unit_first() -> None:
    # Quota 2 over a 3-unit line saving 10 per unit and a 1-unit line saving 50: the 1-unit
    # line first, then one unit of the other (line ids would say the opposite).
    c = cart(line("A", "60.00", 3, sku="phone"), line("B", "100.00", sku="phone"))
    promos = """
- {id: flash, type: flash_sale, price: 50, quota: 2,
   starts_at: "2026-11-11T00:00:00Z", ends_at: "2026-11-12T00:00:00Z"}
"""
    priced = price(c, promos)
    assert {"A": "170.00", "B": "50.00"} == _finals(priced)


# 4. A store coupon in a best store lane ---------------------------------------------------------


def test_a_store_coupon_is_placed_in_the_store_where_it_wins() -> None:
    c = cart(line("A", "200.00", sku="tea", store="S1"), line("B", "100.00", sku="cup", store="S2"))
    promos = """
- {id: full, type: spend_tiers, tiers: [{threshold: 100, amount: 10}, {threshold: 200, amount: 50}]}
- {id: c20, type: coupon, codes: [C20], amount: 20, min_spend: 100}
"""
    policy = load_policy(
        {"lanes": [{"name": "item", "mode": "best"}, {"name": "store", "mode": "best"}]}
    )
    searched, oracle = _both(c, promos, policy=policy, coupon_codes=("C20",))
    expected = ("230.00", [("full", ("S1",)), ("c20", ("S2",))])
    assert [expected, expected] == [
        (str(p.total.amount), [(a.promotion_id, a.units) for a in p.applied])
        for p in (searched, oracle)
    ]


# 5. Reasons and hints of coupons not chosen -----------------------------------------------------


def test_a_coupon_short_after_the_item_lane_says_how_much_is_missing() -> None:
    promos = """
- {id: ten, type: percent_off, percent: 10}
- {id: c50, type: coupon, codes: [C50], amount: 50, min_spend: 300}
- {id: full, type: spend_tiers, tiers: [{threshold: 300, amount: 30}]}
"""
    priced = price(cart(line("L1", "310.00", sku="tea")), promos, coupon_codes=("C50",))
    reasons = {n.promotion_id: (n.code, n.reason) for n in priced.not_applied}
    assert ("threshold_not_met", "满300减50券 needs ¥21.00 more") == reasons["c50"]


def test_a_promotion_excluded_by_a_chosen_one_is_still_reported_excluded() -> None:
    # 满300减30 does not combine with the 10 % item discount that wins; after that discount
    # the cart is short of 300, but the reason is the exclusion, not the threshold.
    promos = """
- {id: ten, type: percent_off, percent: 10}
- {id: full, type: spend_tiers, tiers: [{threshold: 300, amount: 30}], combines_with: []}
"""
    priced = price(cart(line("L1", "310.00", sku="tea")), promos)
    assert [("ten",), ["excluded"]] == [
        priced.applied_ids,
        [n.code for n in priced.not_applied],
    ]


def test_a_coupon_threshold_within_reach_gives_a_hint_like_an_automatic_one() -> None:
    c = cart(line("A", "280.00", sku="tea"))
    coupon = price(
        c,
        "- {id: c50, type: coupon, codes: [C50], amount: 50, min_spend: 300}",
        coupon_codes=("C50",),
    )
    automatic = price(c, "- {id: m50, type: spend_tiers, tiers: [{threshold: 300, amount: 50}]}")
    assert [
        [("c50", "S1", "20.00", "Add ¥20.00 more from store S1 to reach 满300减50券.")],
        [("m50", "S1", "20.00", "Add ¥20.00 more from store S1 to reach 满300减50.")],
    ] == [
        [(h.promotion_id, h.unit, str(h.shortfall.amount), h.message) for h in p.hints]
        for p in (coupon, automatic)
    ]


def test_a_coupon_far_from_its_threshold_gives_no_hint() -> None:
    priced = price(
        cart(line("A", "100.00", sku="tea")),
        "- {id: c50, type: coupon, codes: [C50], amount: 50, min_spend: 300}",
        coupon_codes=("C50",),
    )
    assert ((), ["threshold_not_met"]) == (priced.hints, [n.code for n in priced.not_applied])


# 6. Points rounding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_unit", "offered", "unit_price", "max_percent", "saved", "used"),
    [
        (1, 10, "3.50", 100, "3.00", 3),
        (1, 10, "10.00", 15, "1.00", 1),
        (100, 1000, "10.00", 15, "1.50", 150),
        (3, 10, "100.00", 100, "3.33", 10),
        (100, 150, "1.00", 100, "1.00", 100),
        (1000, 1005, "1.00", 100, "1.00", 1000),
        (1000, 9, "1.00", 100, "0.00", 0),
    ],
)
def test_points_never_charge_more_than_the_value_they_give(
    per_unit: int, offered: int, unit_price: str, max_percent: int, saved: str, used: int
) -> None:
    promos = f"- {{id: pts, type: points, points_per_unit: {per_unit}, max_percent: {max_percent}}}"
    priced = price(cart(line("L1", unit_price, sku="tea")), promos, points_available=offered)
    assert (saved, used) == (str(priced.discount_total.amount), priced.points_used)


def test_points_clipped_by_the_cap_are_whole_points() -> None:
    # The cap leaves 2.50 of a 10.00 cart: 1 point = 1 yuan redeems 2 points for 2.00.
    policy = load_policy({"cap": {"max_percent": 25}})
    priced = price(
        cart(line("L1", "10.00", sku="tea")),
        "- {id: pts, type: points, points_per_unit: 1, max_percent: 100}",
        policy=policy,
        points_available=10,
    )
    assert ("2.00", 2) == (str(priced.discount_total.amount), priced.points_used)


# 7. Points must be an int ---------------------------------------------------------------------


@pytest.mark.parametrize("points", [150.5, 250.0, "100", None])
def test_points_that_are_not_an_int_are_a_typed_error(points: object) -> None:
    with pytest.raises(InvalidCartError) as err:
        ctx(points_available=points)
    assert ("pricing.invalid_context", True) == (
        err.value.code,
        isinstance(err.value, ValidationError),
    )


# 8. One coupon code, one promotion -------------------------------------------------------------

_SHARED = """
- {id: c1, type: coupon, codes: [X], amount: 10}
- {id: c2, type: coupon, codes: [Y, X], amount: 20}
"""


def test_loading_two_coupons_with_one_code_is_a_typed_error() -> None:
    with pytest.raises(PromotionValidationError) as err:
        load_promotions(_SHARED)
    assert ("promotion.duplicate_code", ["promotions.1.codes"]) == (
        err.value.code,
        [e["field"] for e in err.value.details["errors"]],
    )


def test_pricing_with_two_coupons_sharing_a_code_is_a_typed_error() -> None:
    c1 = load_promotion("{id: c1, type: coupon, codes: [X], amount: 10}")
    c2 = load_promotion("{id: c2, type: coupon, codes: [X], amount: 20}")
    with pytest.raises(PromotionValidationError) as err:
        price_cart(
            cart=cart(line("A", "100.00")),
            promotions=[c1, c2],
            context=ctx(now=NOW, coupon_codes=("X",)),
        )
    assert "promotion.duplicate_code" == err.value.code


def test_one_coupon_listing_a_code_twice_is_fine() -> None:
    priced = price(
        cart(line("A", "100.00")),
        "- {id: c1, type: coupon, codes: [X, X], amount: 10}",
        coupon_codes=("X",),
    )
    assert ("c1",) == priced.applied_ids
