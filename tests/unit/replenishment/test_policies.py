import math
from decimal import Decimal

import pytest
from stockpyl.eoq import economic_order_quantity
from stockpyl.newsvendor import newsvendor_normal as sp_newsvendor
from stockpyl.rq import r_q_eoqss_approximation
from stockpyl.ss import s_s_power_approximation

from multistore.errors import FloatMoneyError, ValidationError
from multistore.money import money
from multistore.replenishment import (
    InvalidCostError,
    InvalidLeadTimeError,
    InvalidParameterError,
    InvalidServiceLevelError,
    NegativeDemandError,
    ReplenishmentPolicy,
    eoq,
    fill_rate_safety_factor,
    lead_time_demand,
    newsvendor_normal,
    normal,
    order_quantity_min_max,
    order_quantity_rq,
    order_quantity_rs,
    order_quantity_ss,
    policy_levels,
    reorder_point,
    round_order_quantity,
    rq_eoq_ss,
    safety_factor,
    safety_stock,
    ss_power_approximation,
)


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-6)


def test_eoq_textbook_anchor():
    result = eoq(demand_rate=1300, order_cost=Decimal(8), holding_cost=Decimal("0.225"))
    q, cost = economic_order_quantity(8, 0.225, 1300)
    assert close(q, result.quantity)
    assert close(cost, result.cost)
    assert 304.0468 == round(result.quantity, 4)
    assert Decimal("68.4105") == round(result.cost, 4)


def test_expected_costs_stay_decimal_and_exact_at_the_textbook_point():
    # K = 8, h = 0.5, lambda = 100: sqrt(2 K lambda h) = sqrt(800) = 20 * sqrt(2), no float.
    result = eoq(demand_rate=100, order_cost=Decimal(8), holding_cost=Decimal("0.5"))
    assert Decimal(800).sqrt() == result.cost
    ours = newsvendor_normal(
        demand_mean=50, demand_std=8, holding_cost=Decimal("0.18"), stockout_cost=Decimal("0.70")
    )
    assert isinstance(ours.cost, Decimal)


def test_eoq_accepts_money_costs():
    result = eoq(demand_rate=1300, order_cost=money("8.00"), holding_cost=Decimal("0.225"))
    assert 304.0468 == round(result.quantity, 4)


def test_newsvendor_anchor():
    ours = newsvendor_normal(
        demand_mean=50, demand_std=8, holding_cost=Decimal("0.18"), stockout_cost=Decimal("0.70")
    )
    s, cost = sp_newsvendor(0.18, 0.70, 50, 8)
    assert close(s, ours.base_stock)
    assert close(cost, ours.cost)


def test_newsvendor_with_lead_time_anchor():
    ours = newsvendor_normal(
        demand_mean=50,
        demand_std=8,
        holding_cost=Decimal("0.18"),
        stockout_cost=Decimal("0.70"),
        lead_time=3,
    )
    s, cost = sp_newsvendor(0.18, 0.70, 50, 8, lead_time=3)
    assert close(s, ours.base_stock)
    assert close(cost, ours.cost)


def test_ss_power_approximation_anchor():
    ours = ss_power_approximation(
        demand_mean=50,
        demand_std=8,
        holding_cost=Decimal("0.18"),
        stockout_cost=Decimal("0.70"),
        order_cost=Decimal("2.5"),
    )
    s, big_s = s_s_power_approximation(0.18, 0.70, 2.5, 50, 8)
    assert close(s, ours.reorder_point)
    assert close(big_s, ours.order_up_to)


def test_rq_eoq_ss_anchor():
    ours = rq_eoq_ss(
        demand_mean=1300,
        demand_std=150,
        lead_time=1 / 12,
        holding_cost=Decimal("0.225"),
        stockout_cost=Decimal("7.5"),
        order_cost=Decimal(8),
    )
    r, q = r_q_eoqss_approximation(0.225, 7.5, 8, 1300, 150, 1 / 12)
    assert close(r, ours.reorder_point)
    assert close(q, ours.order_quantity)


def test_safety_stock_formula_with_lead_time_variability():
    ss = safety_stock(
        demand_mean=20, demand_std=5, lead_time=9, lead_time_std=2, service_level=0.95
    )
    expected = normal.ppf(0.95) * math.sqrt(9 * 25 + 400 * 4)
    assert math.isclose(expected, ss)
    assert math.isclose(2 * 15, safety_stock(demand_mean=20, demand_std=5, lead_time=9, z=2))


def test_lead_time_demand_and_reorder_point():
    mean, std = lead_time_demand(demand_mean=10, demand_std=3, lead_time=4, lead_time_std=1)
    assert 40.0 == mean
    assert math.isclose(math.sqrt(36 + 100), std)
    assert 52.5 == reorder_point(demand_mean=10, lead_time=4, safety_stock=12.5)


def test_fill_rate_safety_factor_solves_loss_equation():
    k = fill_rate_safety_factor(fill_rate=0.98, demand_per_cycle=140, sigma=28)
    assert math.isclose(0.02 * 140 / 28, normal.loss(k), rel_tol=1e-9)
    assert 0.0 == fill_rate_safety_factor(fill_rate=0.98, demand_per_cycle=140, sigma=0)


def test_safety_factor_is_the_normal_quantile():
    assert math.isclose(1.6448536269514722, safety_factor(service_level=0.95), rel_tol=1e-12)


@pytest.mark.parametrize("level", [0, 1, 1.2, -0.5, 0.0, 1.0])
def test_service_level_outside_open_interval_is_rejected(level):
    with pytest.raises(InvalidServiceLevelError):
        safety_stock(demand_mean=1, demand_std=1, lead_time=1, service_level=level)
    with pytest.raises(InvalidServiceLevelError):
        fill_rate_safety_factor(fill_rate=level, demand_per_cycle=10, sigma=1)


@pytest.mark.parametrize("lead", [0, -1, float("nan"), float("inf")])
def test_non_positive_lead_time_is_rejected(lead):
    with pytest.raises(InvalidLeadTimeError) as info:
        safety_stock(demand_mean=1, demand_std=1, lead_time=lead, service_level=0.9)
    assert "replenishment.invalid_lead_time" == info.value.code


def test_negative_lead_time_std_is_rejected():
    with pytest.raises(InvalidLeadTimeError):
        lead_time_demand(demand_mean=1, demand_std=1, lead_time=2, lead_time_std=-1)


def test_negative_demand_is_rejected():
    with pytest.raises(NegativeDemandError):
        safety_stock(demand_mean=-1, demand_std=1, lead_time=1, service_level=0.9)
    with pytest.raises(NegativeDemandError):
        eoq(demand_rate=-5, order_cost=Decimal(1), holding_cost=Decimal(1))


@pytest.mark.parametrize("cost", [Decimal(0), Decimal(-3), 0])
def test_non_positive_order_cost_is_rejected(cost):
    with pytest.raises(InvalidCostError) as info:
        eoq(demand_rate=10, order_cost=cost, holding_cost=Decimal(1))
    assert "replenishment.invalid_cost" == info.value.code


def test_float_costs_are_rejected():
    with pytest.raises(FloatMoneyError):
        eoq(demand_rate=10, order_cost=8.0, holding_cost=Decimal(1))


def test_safety_stock_needs_exactly_one_of_level_and_z():
    with pytest.raises(InvalidParameterError):
        safety_stock(demand_mean=1, demand_std=1, lead_time=1)
    with pytest.raises(InvalidParameterError):
        safety_stock(demand_mean=1, demand_std=1, lead_time=1, z=1, service_level=0.9)


@pytest.mark.parametrize(
    ("wanted", "multiple", "moq", "expected"),
    [
        (0, 12, 24, 0),
        (-3, 1, 0, 0),
        (1, 12, 0, 12),
        (12, 12, 0, 12),
        (12.2, 12, 0, 24),
        (5, 1, 10, 10),
        (5, 12, 30, 36),
        (40, 12, 30, 48),
    ],
)
def test_round_order_quantity(wanted, multiple, moq, expected):
    assert expected == round_order_quantity(
        quantity=wanted, order_multiple=multiple, min_order_quantity=moq
    )


def test_round_order_quantity_rejects_bad_multiple():
    with pytest.raises(InvalidParameterError):
        round_order_quantity(quantity=5, order_multiple=0)


def test_policy_order_quantities():
    assert 0 == order_quantity_rq(inventory_position=11, reorder_point=10, order_quantity=30)
    assert 30 == order_quantity_rq(inventory_position=10, reorder_point=10, order_quantity=30)
    assert 60 == order_quantity_rq(inventory_position=-25, reorder_point=10, order_quantity=30)
    assert 0 == order_quantity_ss(inventory_position=11, reorder_point=10, order_up_to=50)
    assert 42 == order_quantity_ss(inventory_position=8, reorder_point=10, order_up_to=50)
    assert 48 == order_quantity_ss(
        inventory_position=8, reorder_point=10, order_up_to=50, order_multiple=12
    )
    assert 7 == order_quantity_rs(inventory_position=43, order_up_to=50)
    assert 0 == order_quantity_rs(inventory_position=60, order_up_to=50)
    assert 45 == order_quantity_min_max(inventory_position=5, minimum=10, maximum=50)
    with pytest.raises(InvalidParameterError):
        order_quantity_min_max(inventory_position=5, minimum=10, maximum=5)


def test_policy_levels_rq_with_eoq():
    policy = ReplenishmentPolicy(kind="rq", service_level=0.95, holding_cost_rate=Decimal("0.365"))
    levels = policy_levels(
        policy=policy,
        demand_mean=10,
        demand_std=3,
        lead_time=4,
        lead_time_std=1,
        order_cost=money("50.00"),
        unit_cost=money("10.00"),
    )
    sigma = math.sqrt(4 * 9 + 100)
    assert math.isclose(normal.ppf(0.95) * sigma, levels.safety_stock)
    assert math.isclose(40 + levels.safety_stock, levels.reorder_point)
    # h = 10 * 0.365 / 365 = 0.01 per day: Q = sqrt(2 * 50 * 10 / 0.01) = 316.2...
    assert math.isclose(math.sqrt(2 * 50 * 10 / 0.01), levels.order_quantity)
    assert levels.eoq_used
    assert math.isclose(levels.reorder_point + levels.order_quantity, levels.order_up_to)
    assert any("Safety stock" in line for line in levels.explanation)


def test_policy_levels_rs_protects_review_plus_lead_time():
    policy = ReplenishmentPolicy(kind="rs", service_level=0.9, review_period_days=7)
    levels = policy_levels(policy=policy, demand_mean=20, demand_std=6, lead_time=4)
    assert 11 == levels.protection_periods
    expected_ss = normal.ppf(0.9) * 6 * math.sqrt(11)
    assert math.isclose(expected_ss, levels.safety_stock)
    assert math.isclose(220 + expected_ss, levels.order_up_to)


def test_policy_levels_fill_rate_target():
    policy = ReplenishmentPolicy(kind="rq", service_target="fill_rate", service_level=0.99)
    levels = policy_levels(policy=policy, demand_mean=10, demand_std=3, lead_time=4)
    q = 10 * policy.cover_days
    sigma = 6.0
    assert math.isclose(0.01 * q / sigma, normal.loss(levels.z), rel_tol=1e-9)


def test_policy_levels_min_max():
    policy = ReplenishmentPolicy(kind="min_max", service_level=0.95, cover_days=10)
    levels = policy_levels(policy=policy, demand_mean=5, demand_std=0, lead_time=2)
    assert (10.0, 60.0) == (levels.reorder_point, levels.order_up_to)


def test_policy_load_reports_every_invalid_field():
    with pytest.raises(ValidationError) as info:
        ReplenishmentPolicy.load({"kind": "xyz", "service_level": 1.5, "review_period_days": 0})
    assert "replenishment.invalid_policy" == info.value.code
    fields = {e["field"] for e in info.value.details["errors"]}
    assert {"kind", "service_level", "review_period_days"} == fields


def test_policy_load_from_json_like_dict():
    policy = ReplenishmentPolicy.load(
        {"kind": "rs", "service_level": "0.97", "holding_cost_rate": "0.2", "forecaster": "sba"}
    )
    assert ("rs", 0.97, Decimal("0.2"), "sba") == (
        policy.kind,
        policy.service_level,
        policy.holding_cost_rate,
        policy.forecaster,
    )
