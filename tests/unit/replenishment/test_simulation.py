"""Simulate an (R, S) policy for 10^5 days and check the achieved service against the target.

Set-up (the regime the normal approximation is meant for): daily demand, weekly review
(R = 7), lead times drawn per order from {3, 4, 5} days with probabilities 1/4, 1/2, 1/4
(mean 4, standard deviation 0.707; they never exceed R, so orders do not cross), full
backordering. Normal demand N(20, 6) and Poisson(20) demand. The order-up-to level comes from
``policy_levels`` with ``safety stock = z sqrt((R + L) sigma_d^2 + d^2 sigma_L^2)``; for integer
(Poisson) demand it is rounded up to whole units, as any plan does.

Measured: cycle service level = share of replenishment cycles (arrival to next arrival) without a
stock-out; fill rate = share of demand served from stock on the day it occurs.
"""

import math

import numpy as np
import pytest

from multistore.replenishment import ReplenishmentPolicy, policy_levels

PERIODS = 100_000
REVIEW = 7
LEAD_MEAN, LEAD_STD = 4.0, math.sqrt(0.5)


def simulate(*, demand, order_up_to, lead_times):
    net = order_up_to
    pipeline = {}
    cycles = short_cycles = 0
    served = 0.0
    next_lead = iter(lead_times)
    for t, x in enumerate(demand):
        served += min(x, net) if net > 0 else 0.0
        net -= x
        q = pipeline.pop(t, None)
        if q is not None:
            cycles += 1
            short_cycles += net < 0
            net += q
        if t % REVIEW == 0:
            position = net + sum(pipeline.values())
            pipeline[t + next(next_lead)] = order_up_to - position
    return 1.0 - short_cycles / cycles, served / float(np.sum(demand))


def levels(target, level, d, sd):
    policy = ReplenishmentPolicy(
        kind="rs", service_target=target, service_level=level, review_period_days=REVIEW
    )
    return policy_levels(
        policy=policy, demand_mean=d, demand_std=sd, lead_time=LEAD_MEAN, lead_time_std=LEAD_STD
    )


def draws(kind, seed):
    rng = np.random.default_rng(seed)
    if kind == "normal":
        demand = np.maximum(rng.normal(20.0, 6.0, PERIODS), 0.0)
        d, sd = 20.0, 6.0
    else:
        demand = rng.poisson(20.0, PERIODS).astype(float)
        d, sd = 20.0, math.sqrt(20.0)
    lead_times = (3 + rng.binomial(2, 0.5, PERIODS // REVIEW + 2)).tolist()
    return demand.tolist(), lead_times, d, sd


@pytest.mark.parametrize("kind", ["normal", "poisson"])
def test_cycle_service_level_reached(kind):
    demand, lead_times, d, sd = draws(kind, seed=20240601)
    up_to = levels("cycle", 0.95, d, sd).order_up_to
    if kind == "poisson":
        up_to = math.ceil(up_to)
    csl, _ = simulate(demand=demand, order_up_to=up_to, lead_times=lead_times)
    assert abs(csl - 0.95) <= 0.005, csl


@pytest.mark.parametrize("kind", ["normal", "poisson"])
def test_fill_rate_reached(kind):
    demand, lead_times, d, sd = draws(kind, seed=20240602)
    up_to = levels("fill_rate", 0.98, d, sd).order_up_to
    if kind == "poisson":
        up_to = math.ceil(up_to)
    _, fill = simulate(demand=demand, order_up_to=up_to, lead_times=lead_times)
    assert abs(fill - 0.98) <= 0.005, fill
