from __future__ import annotations

import pytest
from pricing_helpers import adjustments, cart, finals, line, price, reasons

from multistore.pricing import (
    DEFAULT_POLICY,
    LANE_NAMES,
    CouponSpentError,
    PromotionCurrencyMismatchError,
    UnknownCouponCodeError,
    UsageState,
    load_policy,
)


def test_default_lane_order_is_pinned():
    assert ("item", "store", "platform", "points", "shipping") == LANE_NAMES
    assert [
        ("item", "best"),
        ("store", "all"),
        ("platform", "all"),
        ("points", "best"),
        ("shipping", "best"),
    ] == [(lane.name, lane.mode) for lane in DEFAULT_POLICY.lanes]
    assert {"after"} == {lane.threshold_base for lane in DEFAULT_POLICY.lanes}


def test_each_lane_works_on_the_price_left_by_earlier_lanes():
    promos = [
        {"id": "ITEM", "type": "percent_off", "percent": 10},
        {"id": "STORE", "type": "spend_tiers", "tiers": [{"threshold": 100, "amount": 10}]},
        {"id": "PLAT", "type": "coupon", "codes": ["P"], "percent": 10, "level": "platform"},
        {"id": "PTS", "type": "points", "points_per_unit": 100, "max_percent": 10},
        {"id": "SHIP", "type": "shipping", "min_spend": 50},
    ]
    priced = price(
        cart(line("A", "200.00"), shipping={"S1": "10.00"}),
        promos,
        coupon_codes=("P",),
        member_id="m",
        points_available=1_000_000,
    )
    # 200 -> 180 (item) -> 170 (store) -> 153 (platform 10%) -> 137.70 (10% points) ; ship 0
    assert [
        ("ITEM", "20.00"),
        ("STORE", "10.00"),
        ("PLAT", "17.00"),
        ("PTS", "15.30"),
    ] == adjustments(priced)["A"]
    assert ("ITEM", "STORE", "PLAT", "PTS", "SHIP") == priced.applied_ids
    assert "137.70" == str(priced.total.amount)


def test_threshold_base_after_versus_before():
    promos = [
        {"id": "ITEM", "type": "percent_off", "percent": 10},
        {"id": "M", "type": "spend_tiers", "tiers": [{"threshold": 300, "amount": 50}]},
    ]
    after = price(cart(line("A", "320.00")), promos)
    assert ("ITEM",) == after.applied_ids
    assert "满300减50 needs ¥12.00 more in store S1" == reasons(after)["M"]
    before = load_policy(
        {"lanes": [{"name": "item", "mode": "best"}, {"name": "store", "threshold_base": "before"}]}
    )
    assert ("ITEM", "M") == price(cart(line("A", "320.00")), promos, policy=before).applied_ids


def test_exclusive_group_picks_the_better_member_and_explains_the_other():
    promos = [
        {"id": "A10", "type": "percent_off", "percent": 10, "exclusive_group": "g"},
        {"id": "A20", "type": "amount_off", "amount": 15, "exclusive_group": "g"},
    ]
    priced = price(cart(line("A", "100.00")), promos)
    assert ("A20",) == priced.applied_ids
    assert "excluded by promotion 每件立减15 (A20; exclusive group 'g')" == reasons(priced)["A10"]


def test_coupon_that_does_not_combine_can_lose_to_automatic_promotions():
    promos = [
        {"id": "FLASH", "type": "percent_off", "percent": 30},
        {"id": "C", "type": "coupon", "codes": ["C"], "amount": 20, "combines_with": []},
    ]
    priced = price(cart(line("A", "100.00")), promos, coupon_codes=("C",))
    assert ("FLASH",) == priced.applied_ids
    assert "excluded by promotion 单品7折 (FLASH; they do not combine)" == reasons(priced)["C"]
    small = [dict(promos[0], percent=10), promos[1]]
    priced = price(cart(line("A", "100.00")), small, coupon_codes=("C",))
    assert ("C",) == priced.applied_ids
    assert reasons(priced)["FLASH"].startswith("excluded by coupon")


def test_combines_with_lists_allowed_partners():
    promos = [
        {
            "id": "M",
            "type": "spend_tiers",
            "tiers": [{"threshold": 100, "amount": 10}],
            "combines_with": ["C1"],
        },
        {"id": "C1", "type": "coupon", "codes": ["A"], "amount": 5},
        {"id": "C2", "type": "coupon", "codes": ["B"], "amount": 8},
    ]
    priced = price(cart(line("A", "150.00")), promos, coupon_codes=("A", "B"))
    assert ("M", "C1") == priced.applied_ids


def test_best_mode_keeps_one_per_unit_and_all_mode_stacks():
    promos = [
        {"id": "M1", "type": "spend_tiers", "tiers": [{"threshold": 100, "amount": 10}]},
        {"id": "M2", "type": "spend_tiers", "tiers": [{"threshold": 100, "amount": 12}]},
    ]
    assert "78.00" == str(price(cart(line("A", "100.00")), promos).total.amount)
    best = load_policy({"lanes": [{"name": "store", "mode": "best"}]})
    priced = price(cart(line("A", "100.00")), promos, policy=best)
    assert ("M2",) == priced.applied_ids
    assert "a better offer (M2) applied in store S1" == reasons(priced)["M1"]


def test_store_level_promotions_apply_per_store_and_platform_ones_across():
    promos = [
        {"id": "M", "type": "spend_tiers", "tiers": [{"threshold": 100, "amount": 10}]},
        {
            "id": "P",
            "type": "spend_tiers",
            "level": "platform",
            "tiers": [{"threshold": 250, "amount": 30}],
        },
    ]
    priced = price(
        cart(line("A", "120.00"), line("B", "90.00", store="S2"), line("C", "60.00", store="S2")),
        promos,
    )
    assert [("M", ("S1", "S2")), ("P", ("*",))] == [
        (a.promotion_id, a.units) for a in priced.applied
    ]
    # S1: 120-10=110; S2: 150-10=140; platform 250 reached on 250 -> 30 split by amount
    assert "220.00" == str(priced.total.amount)
    # the platform 30 is split over what each line has left: 110 : 84 : 56
    assert {
        "A": [("M", "10.00"), ("P", "13.20")],
        "B": [("M", "6.00"), ("P", "10.08")],
        "C": [("M", "4.00"), ("P", "6.72")],
    } == adjustments(priced)


def test_cap_keeps_the_total_discount_within_policy():
    promos = [
        {"id": "ITEM", "type": "percent_off", "percent": 50},
        {"id": "C", "type": "coupon", "codes": ["C"], "amount": 40},
    ]
    capped = load_policy({"cap": {"max_percent": 60}})
    priced = price(cart(line("A", "100.00")), promos, coupon_codes=("C",), policy=capped)
    assert "40.00" == str(priced.total.amount)
    floor = load_policy({"cap": {"min_payable": "0.01"}})
    priced = price(cart(line("A", "100.00")), promos, coupon_codes=("C",), policy=floor)
    assert "10.00" == str(priced.total.amount)
    free = price(cart(line("A", "60.00")), promos, coupon_codes=("C",), policy=floor)
    assert "0.01" == str(free.total.amount)


def test_line_floor_prices_are_respected():
    priced = price(
        cart(line("A", "100.00", floor="80.00"), line("B", "100.00")),
        [{"id": "C", "type": "coupon", "codes": ["C"], "amount": 60}],
        coupon_codes=("C",),
    )
    assert {"A": "80.00", "B": "60.00"} == finals(priced)


def test_best_combination_matches_brute_force_and_picks_the_best_coupon():
    promos = [
        {"id": "M", "type": "spend_tiers", "tiers": [{"threshold": 200, "amount": 20}]},
        {"id": "C1", "type": "coupon", "codes": ["A"], "amount": 30, "exclusive_group": "c"},
        {"id": "C2", "type": "coupon", "codes": ["B"], "percent": 12, "exclusive_group": "c"},
        {
            "id": "C3",
            "type": "coupon",
            "codes": ["D"],
            "amount": 50,
            "min_spend": 300,
            "exclusive_group": "c",
        },
    ]
    c = cart(line("A", "150.00"), line("B", "80.00"))
    fast = price(c, promos, coupon_codes=("A", "B", "D"))
    slow = price(c, promos, coupon_codes=("A", "B", "D"), oracle=True)
    assert fast.applied_ids == slow.applied_ids == ("M", "C1")
    assert fast.total == slow.total
    assert "满300减50券 needs ¥70.00 more" == reasons(fast)["C3"]


def test_ties_break_towards_fewer_promotions_then_smaller_ids():
    promos = [
        {"id": "Z", "type": "coupon", "codes": ["Z"], "amount": 10, "exclusive_group": "c"},
        {"id": "A", "type": "coupon", "codes": ["A"], "amount": 10, "exclusive_group": "c"},
    ]
    assert ("A",) == price(cart(line("X", "50.00")), promos, coupon_codes=("Z", "A")).applied_ids


def test_merchant_objective_picks_the_smallest_valid_saving():
    promos = [
        {"id": "P1", "type": "percent_off", "percent": 10, "exclusive_group": "g"},
        {"id": "P2", "type": "percent_off", "percent": 20, "exclusive_group": "g"},
    ]
    policy = load_policy({"objective": "min_saving"})
    assert ("P1",) == price(cart(line("X", "50.00")), promos, policy=policy).applied_ids


def test_hints_point_to_the_next_threshold_within_reach():
    promos = [
        {
            "id": "M",
            "type": "spend_tiers",
            "tiers": [{"threshold": 100, "amount": 10}, {"threshold": 300, "amount": 50}],
        }
    ]
    priced = price(cart(line("A", "280.00")), promos)
    assert ["Add ¥20.00 more from store S1 to reach 满300减50."] == [
        h.message for h in priced.hints
    ]
    far = price(cart(line("A", "120.00")), promos)
    assert () == far.hints


def test_explanation_lists_applied_and_not_applied():
    promos = [
        {"id": "M", "type": "spend_tiers", "tiers": [{"threshold": 300, "amount": 50}]},
        {"id": "C", "type": "coupon", "codes": ["C"], "amount": 5},
    ]
    priced = price(cart(line("A", "287.70")), promos, coupon_codes=("C",))
    assert (
        "List price ¥287.70; you pay ¥282.70 after saving ¥5.00.",
        "Applied 5元券 (C) in the store lane (S1) with code C: -¥5.00.",
        "Not applied 满300减50 (M): 满300减50 needs ¥12.30 more in store S1.",
    ) == priced.explanation[:3]


def test_bad_coupon_codes_and_currencies_raise_typed_errors():
    promos = [
        {
            "id": "C",
            "type": "coupon",
            "codes": ["C"],
            "amount": 5,
            "per_member_limit": 1,
            "total_limit": 10,
        }
    ]
    with pytest.raises(UnknownCouponCodeError) as unknown:
        price(cart(line("A", "50.00")), promos, coupon_codes=("NOPE",))
    assert "promotion.unknown_coupon_code" == unknown.value.code
    with pytest.raises(CouponSpentError):
        price(
            cart(line("A", "50.00")),
            promos,
            coupon_codes=("C",),
            member_id="m",
            usage=UsageState(member_used={"C": 1}),
        )
    with pytest.raises(CouponSpentError):
        price(
            cart(line("A", "50.00")),
            promos,
            coupon_codes=("C",),
            usage=UsageState(remaining={"C": 0}),
        )
    with pytest.raises(PromotionCurrencyMismatchError) as mismatch:
        price(
            cart(line("A", "50.00")),
            [{"id": "U", "type": "percent_off", "percent": 5, "currency": "USD"}],
        )
    assert "promotion.currency_mismatch" == mismatch.value.code


def test_lines_always_add_up_to_the_total():
    promos = [
        {"id": "M", "type": "spend_every", "every": "33.33", "amount": "3.33"},
        {"id": "C", "type": "coupon", "codes": ["C"], "percent": 7, "level": "platform"},
    ]
    priced = price(
        cart(line("A", "19.99", 3), line("B", "0.01"), line("C", "7.77", 7, store="S2")),
        promos,
        coupon_codes=("C",),
    )
    goods = sum(pl.final_amount.amount for pl in priced.lines)
    assert goods == priced.goods_total.amount
    assert priced.total.amount == goods + priced.shipping_total.amount
    for pl in priced.lines:
        assert pl.final_amount.amount == pl.list_amount.amount - sum(
            a.amount.amount for a in pl.adjustments
        )


def test_price_cart_accepts_dicts_yaml_and_a_policy_dict():
    from pricing_helpers import ctx

    from multistore.pricing import price_cart

    c = cart(line("A", "100.00"))
    yaml_text = "- {id: P, type: percent_off, percent: 10}"
    by_yaml = price_cart(cart=c, promotions=yaml_text, context=ctx())
    by_dict = price_cart(
        cart=c,
        promotions=[{"id": "P", "type": "percent_off", "percent": 10}],
        context=ctx(),
        policy={"cap": {"max_percent": 5}},
    )
    assert ("90.00", "95.00") == (str(by_yaml.total.amount), str(by_dict.total.amount))
