from __future__ import annotations

import json
from decimal import Decimal

import pytest

from multistore.pricing import (
    Coupon,
    PromotionValidationError,
    SpendTiers,
    load_policy,
    load_promotion,
    load_promotions,
)


def codes(err: PromotionValidationError) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in err.details["errors"]]


def test_yaml_json_and_dicts_load_the_same_promotion():
    as_dict = {"id": "M", "type": "spend_tiers", "tiers": [{"threshold": "300", "amount": "50"}]}
    from_yaml = load_promotions(
        "- {id: M, type: spend_tiers, tiers: [{threshold: 300, amount: 50}]}"
    )
    from_json = load_promotions(json.dumps([as_dict]))
    from_dict = load_promotions([as_dict])
    assert from_dict == from_yaml == from_json
    assert isinstance(from_dict[0], SpendTiers)
    assert Decimal(50) == from_dict[0].tiers[0].amount


def test_a_document_with_a_promotions_key_loads():
    promos = load_promotions("promotions:\n  - {id: C, type: coupon, codes: [X], amount: 5}\n")
    assert isinstance(promos[0], Coupon)
    assert "store" == promos[0].effective_lane()


def test_every_invalid_field_is_reported_at_once():
    with pytest.raises(PromotionValidationError) as info:
        load_promotions(
            """
            - {id: T, type: spend_tiers,
               tiers: [{threshold: 300, amount: 50}, {threshold: 200, amount: 60}]}
            - {id: P, type: percent_off, percent: 120}
            - {id: U, type: mystery}
            - {id: W, type: flash_sale, price: 9, quota: 1,
               starts_at: "2026-11-12T00:00:00+08:00", ends_at: "2026-11-11T00:00:00+08:00"}
            - {id: N, type: amount_off, amount: -5}
            """
        )
    assert "promotion.invalid" == info.value.code
    assert [
        ("promotions.0.tiers.1", "promotion.invalid_tier"),
        ("promotions.1.percent", "promotion.invalid_percentage"),
        ("promotions.2", "promotion.unknown_type"),
        ("promotions.3.ends_at", "promotion.invalid_window"),
        ("promotions.4.amount", "promotion.invalid_amount"),
    ] == codes(info.value)


@pytest.mark.parametrize(
    ("definition", "code"),
    [
        ({"id": "a", "type": "bogus"}, "promotion.unknown_type"),
        ({"id": "a", "type": "percent_off", "percent": 0}, "promotion.invalid_percentage"),
        ({"id": "a", "type": "percent_off", "percent": "100.5"}, "promotion.invalid_percentage"),
        (
            {"id": "a", "type": "spend_tiers", "tiers": [{"threshold": 100, "amount": 10}] * 2},
            "promotion.invalid_tier",
        ),
        (
            {"id": "a", "type": "spend_tiers", "tiers": [{"threshold": 100, "amount": 200}]},
            "promotion.invalid_tier",
        ),
        (
            {
                "id": "a",
                "type": "spend_tiers",
                "tiers": [{"threshold": 100, "amount": 20}, {"threshold": 200, "amount": 10}],
            },
            "promotion.invalid_tier",
        ),
        ({"id": "a", "type": "spend_every", "every": 100, "amount": 150}, "promotion.invalid_tier"),
        (
            {
                "id": "a",
                "type": "quantity_percent",
                "tiers": [{"min_quantity": 3, "percent": 10}, {"min_quantity": 2, "percent": 20}],
            },
            "promotion.invalid_tier",
        ),
        ({"id": "a", "type": "limited_time", "percent": 10}, "promotion.invalid_window"),
        (
            {"id": "a", "type": "percent_off", "percent": 10, "starts_at": "2026-11-11T00:00:00"},
            "promotion.invalid_window",
        ),
        ({"id": "a", "type": "amount_off", "amount": "0.001"}, "promotion.invalid_amount"),
        ({"id": "a", "type": "coupon", "codes": ["X"]}, "promotion.invalid_offer"),
        ({"id": "a", "type": "coupon", "codes": [], "amount": 5}, "promotion.invalid"),
        (
            {"id": "a", "type": "percent_off", "percent": 5, "currency": "XYZ"},
            "promotion.unknown_currency",
        ),
        (
            {"id": "a", "type": "percent_off", "percent": 5, "colour": "red"},
            "promotion.unknown_field",
        ),
        (
            {"id": "a", "type": "percent_off", "percent": 5, "scope": {"hours": [14, 10]}},
            "promotion.invalid_window",
        ),
    ],
)
def test_bad_definitions_raise_typed_codes(definition, code):
    with pytest.raises(PromotionValidationError) as info:
        load_promotion(definition)
    assert code == info.value.code
    assert info.value.details["errors"]


def test_duplicate_ids_are_rejected():
    with pytest.raises(PromotionValidationError) as info:
        load_promotions([{"id": "a", "type": "percent_off", "percent": 5}] * 2)
    assert "promotion.duplicate_id" == info.value.code


def test_unreadable_text_is_a_validation_error():
    with pytest.raises(PromotionValidationError) as info:
        load_promotions("- {id: [unclosed")
    assert "promotion.unreadable" == info.value.code


def test_labels_are_generated_in_chinese_retail_terms():
    promos = load_promotions(
        """
        - {id: a, type: spend_tiers,
           tiers: [{threshold: 100, amount: 10}, {threshold: 200, amount: 30}]}
        - {id: b, type: spend_every, every: 100, amount: 10, cap: 50}
        - {id: c, type: quantity_percent, tiers: [{min_quantity: 2, percent: 10}]}
        - {id: d, type: buy_x_get_y, buy: 2, get: 1}
        - {id: e, type: buy_x_get_y, buy: 1, get: 1, percent: 50}
        - {id: f, type: coupon, codes: [X], amount: 20, min_spend: 199}
        - {id: g, type: shipping, min_spend: 99}
        - {id: h, type: percent_off, percent: 20, name: 双十一8折}
        """
    )
    assert [
        "满100减10,满200减30",
        "每满100减10(最多减50)",
        "满2件9折",
        "买2送1",
        "买1件第2件5折",
        "满199减20券",
        "满99包邮",
        "双十一8折",
    ] == [p.label() for p in promos]


def test_policy_loads_and_reports_bad_fields():
    policy = load_policy(
        {"lanes": [{"name": "item"}, {"name": "store", "mode": "best"}], "cap": {"max_percent": 50}}
    )
    assert ["item", "store"] == [lane.name for lane in policy.lanes]
    with pytest.raises(PromotionValidationError) as info:
        load_policy({"lanes": [{"name": "item"}, {"name": "item"}, {"name": "warp"}]})
    assert {e["field"] for e in info.value.details["errors"]} >= {"policy.lanes.2.name"}


def test_direct_construction_raises_the_typed_error():
    with pytest.raises(PromotionValidationError) as info:
        SpendTiers(id="x", tiers=[{"threshold": 100, "amount": 200}])
    assert "promotion.invalid_tier" == info.value.code
    assert "满100减20" == SpendTiers(id="x", tiers=[{"threshold": 100, "amount": 20}]).label()
