from __future__ import annotations

import pytest
from pricing_helpers import adjustments, cart, finals, line, price, reasons

from multistore.pricing import UsageState

WINDOW = {"starts_at": "2026-11-11T00:00:00+08:00", "ends_at": "2026-11-12T00:00:00+08:00"}


def test_percent_off_rounds_half_up_per_line():
    priced = price(
        cart(line("A", "10.05"), line("B", "3.33", 3)),
        [{"id": "P", "type": "percent_off", "percent": 15}],
    )
    # 10.05 * 15% = 1.5075 -> 1.51; 9.99 * 15% = 1.4985 -> 1.50
    assert {"A": "8.54", "B": "8.49"} == finals(priced)


def test_amount_off_is_per_unit_and_never_below_zero():
    priced = price(
        cart(line("A", "30.00", 2), line("B", "4.00")),
        [{"id": "P", "type": "amount_off", "amount": 5}],
    )
    assert {"A": "50.00", "B": "0.00"} == finals(priced)


def test_fixed_price_only_when_lower():
    priced = price(
        cart(line("A", "30.00", 2), line("B", "10.00")),
        [{"id": "P", "type": "fixed_price", "price": "19.90"}],
    )
    assert {"A": "39.80", "B": "10.00"} == finals(priced)


def test_limited_time_discount_respects_its_window():
    promo = {"id": "L", "type": "limited_time", "percent": 20, **WINDOW}
    assert {"A": "80.00"} == finals(price(cart(line("A", "100.00")), [promo]))
    later = price(
        cart(line("A", "100.00")),
        [promo],
        now=__import__("datetime").datetime.fromisoformat("2026-11-12T08:00:00+08:00"),
    )
    assert {"A": "100.00"} == finals(later)
    assert "outside_window" == later.not_applied[0].code


def test_flash_sale_price_applies_to_the_quota_and_member_limit_only():
    promo = {
        "id": "F",
        "type": "flash_sale",
        "price": 1,
        "quota": 10,
        "per_member_limit": 2,
        **WINDOW,
    }
    priced = price(cart(line("A", "10.00", 5)), [promo])
    assert {"A": "32.00"} == finals(priced)  # 2 units at 1.00, 3 at 10.00
    used = price(
        cart(line("A", "10.00", 5)),
        [promo],
        usage=UsageState(remaining={"F": 5}, member_used={"F": 1}),
    )
    assert {"A": "41.00"} == finals(used)
    gone = price(cart(line("A", "10.00", 5)), [promo], usage=UsageState(remaining={"F": 0}))
    assert "quota_exhausted" == gone.not_applied[0].code


def test_spend_tiers_take_the_highest_tier_reached():
    promos = [
        {
            "id": "M",
            "type": "spend_tiers",
            "tiers": [{"threshold": 100, "amount": 10}, {"threshold": 200, "amount": 30}],
        }
    ]
    assert "220.00" == str(price(cart(line("A", "250.00")), promos).total.amount)
    assert "140.00" == str(price(cart(line("A", "150.00")), promos).total.amount)
    short = price(cart(line("A", "87.70")), promos)
    assert {"M": "满100减10 needs ¥12.30 more in store S1"} == reasons(short)


def test_spend_every_repeats_up_to_its_cap():
    promo = [{"id": "E", "type": "spend_every", "every": 100, "amount": 10, "cap": 25}]
    assert "-20.00" == str(price(cart(line("A", "250.00")), promo).total.amount - 250)
    assert "325.00" == str(price(cart(line("A", "350.00")), promo).total.amount)


def test_spend_percent_and_quantity_thresholds():
    sp = [{"id": "S", "type": "spend_percent", "tiers": [{"threshold": 100, "percent": 10}]}]
    assert "135.00" == str(price(cart(line("A", "150.00")), sp).total.amount)
    qp = [
        {
            "id": "Q",
            "type": "quantity_percent",
            "tiers": [{"min_quantity": 2, "percent": 10}, {"min_quantity": 3, "percent": 20}],
        }
    ]
    assert "90.00" == str(price(cart(line("A", "50.00", 2)), qp).total.amount)
    assert "120.00" == str(price(cart(line("A", "50.00", 3)), qp).total.amount)
    one = price(cart(line("A", "50.00")), qp)
    assert "满2件9折 needs 1 more item(s) in store S1" == reasons(one)["Q"]


def test_buy_two_get_one_frees_the_cheapest_units():
    promo = [{"id": "B", "type": "buy_x_get_y", "buy": 2, "get": 1}]
    priced = price(cart(line("A", "30.00"), line("B", "20.00"), line("C", "10.00", 2)), promo)
    # 4 units -> 1 free: the cheapest (a C unit)
    assert {"A": "30.00", "B": "20.00", "C": "10.00"} == finals(priced)
    second_half = [
        {
            "id": "H",
            "type": "buy_x_get_y",
            "buy": 1,
            "get": 1,
            "percent": 50,
            "discounted_units": "most_expensive",
        }
    ]
    priced = price(cart(line("A", "30.00"), line("B", "20.00")), second_half)
    assert {"A": "15.00", "B": "20.00"} == finals(priced)


def test_coupons_need_a_code_and_the_minimum_spend():
    promos = [
        {"id": "C1", "type": "coupon", "codes": ["TEN"], "amount": 10, "min_spend": 100},
        {"id": "C2", "type": "coupon", "codes": ["PCT"], "percent": 20, "max_off": 15},
    ]
    none = price(cart(line("A", "120.00")), promos)
    assert () == none.applied
    ten = price(cart(line("A", "120.00")), promos, coupon_codes=("TEN",))
    assert "110.00" == str(ten.total.amount)
    both = price(cart(line("A", "120.00")), promos, coupon_codes=("TEN", "PCT"))
    # 10 off, then 20% of 110 = 22 capped at 15
    assert "95.00" == str(both.total.amount)
    assert "TEN" == both.applied[0].coupon_code


def test_group_buy_price_needs_the_cart_to_be_in_the_group():
    promo = [
        {
            "id": "G",
            "type": "group_buy",
            "price": "59.00",
            "min_participants": 3,
            "scope": {"skus": ["a"]},
        }
    ]
    assert {"A": "79.00"} == finals(price(cart(line("A", "79.00")), promo))
    assert {"A": "59.00"} == finals(price(cart(line("A", "79.00")), promo, group_buys={"G"}))


def test_member_price_and_tier_discount():
    promos = [
        {"id": "MP", "type": "member_price", "prices": {"a": "8.00"}},
        {"id": "MT", "type": "member_tier_discount", "percents": {"gold": 15, "silver": 5}},
    ]
    guest = price(cart(line("A", "10.00"), line("B", "20.00")), promos)
    assert {"A": "10.00", "B": "20.00"} == finals(guest)
    gold = price(
        cart(line("A", "10.00"), line("B", "20.00")), promos, member_id="m", member_tier="gold"
    )
    # item lane is "best": A gets the member price (2.00 > 1.50), B the tier discount
    assert {"A": [("MP", "2.00")], "B": [("MT", "3.00")]} == adjustments(gold)


def test_points_pay_at_most_their_share_of_the_order():
    promo = [{"id": "PT", "type": "points", "points_per_unit": 100, "max_percent": 10}]
    priced = price(cart(line("A", "150.00")), promo, member_id="m", points_available=100000)
    assert "135.00" == str(priced.total.amount)
    assert 1500 == priced.points_used
    few = price(cart(line("A", "150.00")), promo, member_id="m", points_available=250)
    assert "147.50" == str(few.total.amount)
    assert 250 == few.points_used


def test_free_shipping_threshold_per_store():
    promo = [{"id": "SH", "type": "shipping", "min_spend": 99}]
    priced = price(
        cart(
            line("A", "120.00"),
            line("B", "50.00", store="S2"),
            shipping={"S1": "8.00", "S2": "6.00"},
        ),
        promo,
    )
    assert [("S1", "0.00"), ("S2", "6.00")] == [
        (s.store_id, str(s.final_amount.amount)) for s in priced.shipping
    ]
    assert "176.00" == str(priced.total.amount)
    off = price(
        cart(line("A", "120.00"), shipping={"S1": "8.00"}),
        [{"id": "SO", "type": "shipping", "amount": 5}],
    )
    assert "3.00" == str(off.shipping_total.amount)


@pytest.mark.parametrize(
    ("scope", "context", "applies"),
    [
        ({"stores": ["S2"]}, {}, False),
        ({"channels": ["app"]}, {"channel": "app"}, True),
        ({"channels": ["app"]}, {"channel": "pos"}, False),
        ({"categories": ["tea"]}, {}, True),
        ({"brands": ["other"]}, {}, False),
        ({"exclude_skus": ["a"]}, {}, False),
        ({"member_tiers": ["gold"]}, {"member_id": "m", "member_tier": "gold"}, True),
        ({"member_tiers": ["gold"]}, {"member_id": "m", "member_tier": "silver"}, False),
        ({"first_order_only": True}, {"member_id": "m", "first_order": True}, True),
        ({"first_order_only": True}, {"member_id": "m"}, False),
        ({"weekdays": [3]}, {}, True),  # 2026-11-11 is a Wednesday
        ({"weekdays": [6, 7]}, {}, False),
        ({"hours": [10, 14]}, {}, True),  # noon in Shanghai
        ({"hours": [18, 22]}, {}, False),
        ({"hours": [18, 22], "timezone": "America/New_York"}, {}, False),
        ({"regions": ["east"]}, {}, False),
    ],
)
def test_scope_and_conditions(scope, context, applies):
    priced = price(
        cart(line("A", "100.00", category="tea")),
        [{"id": "P", "type": "percent_off", "percent": 10, "scope": scope}],
        **context,
    )
    assert applies == (priced.applied_ids == ("P",))
