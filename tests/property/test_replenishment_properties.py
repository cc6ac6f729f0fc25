"""Property tests of the replenishment engine: stockpyl agreement, recurrences, rounding, alerts."""

import math
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from stockpyl.eoq import economic_order_quantity
from stockpyl.newsvendor import newsvendor_normal as sp_newsvendor
from stockpyl.rq import r_q_eoqss_approximation
from stockpyl.ss import s_s_power_approximation

from multistore.geo import GeoPoint
from multistore.money import money
from multistore.replenishment import (
    AlertState,
    DemandHistory,
    LeadTime,
    StockPosition,
    SupplyTerms,
    TransferCosts,
    bulk_policies,
    check_reorder,
    croston,
    eoq,
    newsvendor_normal,
    plan,
    round_order_quantity,
    rq_eoq_ss,
    safety_stock,
    sba,
    ss_power_approximation,
    tsb,
)

REL = 1e-6
costs = st.decimals(min_value="0.01", max_value="1000", places=3)
means = st.floats(min_value=0.5, max_value=5000, allow_nan=False)
stds = st.floats(min_value=0.1, max_value=500, allow_nan=False)


def close(a, b):
    return math.isclose(float(a), float(b), rel_tol=REL, abs_tol=1e-9)


@settings(max_examples=150, deadline=None)
@given(k=costs, h=costs, lam=st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_eoq_matches_stockpyl(k, h, lam):
    q, cost = economic_order_quantity(float(k), float(h), lam)
    ours = eoq(demand_rate=lam, order_cost=k, holding_cost=h)
    assert close(q, ours.quantity)
    assert close(cost, ours.cost)


@settings(max_examples=150, deadline=None)
@given(h=costs, p=costs, mu=means, sd=stds, lead=st.integers(min_value=0, max_value=30))
def test_newsvendor_matches_stockpyl(h, p, mu, sd, lead):
    s, cost = sp_newsvendor(float(h), float(p), mu, sd, lead_time=lead)
    ours = newsvendor_normal(
        demand_mean=mu, demand_std=sd, holding_cost=h, stockout_cost=p, lead_time=lead
    )
    assert math.isclose(float(s), ours.base_stock, rel_tol=REL, abs_tol=1e-6 * mu)
    assert close(cost, ours.cost)


@settings(max_examples=150, deadline=None)
@given(h=costs, p=costs, k=costs, mu=means, sd=stds)
def test_ss_power_approximation_matches_stockpyl(h, p, k, mu, sd):
    s, big_s = s_s_power_approximation(float(h), float(p), float(k), mu, sd)
    ours = ss_power_approximation(
        demand_mean=mu, demand_std=sd, holding_cost=h, stockout_cost=p, order_cost=k
    )
    scale = max(abs(s), abs(big_s), mu)
    assert math.isclose(s, ours.reorder_point, rel_tol=REL, abs_tol=1e-9 * scale)
    assert math.isclose(big_s, ours.order_up_to, rel_tol=REL, abs_tol=1e-9 * scale)


@settings(max_examples=150, deadline=None)
@given(
    h=costs,
    p=costs,
    k=costs,
    mu=means,
    sd=stds,
    lead=st.floats(min_value=0.01, max_value=60, allow_nan=False),
)
def test_rq_eoq_ss_matches_stockpyl(h, p, k, mu, sd, lead):
    r, q = r_q_eoqss_approximation(float(h), float(p), float(k), mu, sd, lead)
    ours = rq_eoq_ss(
        demand_mean=mu,
        demand_std=sd,
        lead_time=lead,
        holding_cost=h,
        stockout_cost=p,
        order_cost=k,
    )
    assert math.isclose(float(r), ours.reorder_point, rel_tol=REL, abs_tol=1e-9 * mu * lead)
    assert close(q, ours.order_quantity)


def reference_croston(data, alpha, beta, factor):
    """Period-by-period Croston/SBA as written in the literature."""
    z = p = None
    q = 0
    f = None
    sse, n = 0.0, 0
    for y in data:
        q += 1
        if f is not None:
            sse += (y - f) ** 2
            n += 1
        if y > 0:
            if z is None:
                z, p = float(y), float(q)
            else:
                z += alpha * (y - z)
                p += beta * (q - p)
            q = 0
        if z is not None:
            f = factor * z / p
    return (f or 0.0), sse, n


def reference_tsb(data, alpha, beta):
    """Period-by-period TSB as written in the literature."""
    z = p = None
    f = None
    sse, n = 0.0, 0
    for t, y in enumerate(data):
        if f is not None:
            sse += (y - f) ** 2
            n += 1
            p += beta * ((1.0 if y > 0 else 0.0) - p)
            if y > 0:
                z += alpha * (y - z)
        elif y > 0:
            z, p = float(y), 1.0 / (t + 1)
        if z is not None:
            f = p * z
    return (f or 0.0), sse, n


series = st.lists(
    st.one_of(st.just(0), st.just(0), st.integers(min_value=0, max_value=20)),
    min_size=1,
    max_size=80,
)
smoothing = st.floats(min_value=0.01, max_value=1.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(data=series, alpha=smoothing, beta=smoothing)
def test_croston_and_sba_follow_their_recurrences(data, alpha, beta):
    for fn, factor in ((croston, 1.0), (sba, 1.0 - beta / 2)):
        f, sse, n = reference_croston(data, alpha, beta, factor)
        fc = fn(demand=data, alpha=alpha, beta=beta)
        assert math.isclose(f, fc.mean, rel_tol=1e-9, abs_tol=1e-12)
        if n:
            assert math.isclose(math.sqrt(sse / n), fc.std, rel_tol=1e-7, abs_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(data=series, alpha=smoothing, beta=smoothing)
def test_tsb_follows_its_recurrence(data, alpha, beta):
    f, sse, n = reference_tsb(data, alpha, beta)
    fc = tsb(demand=data, alpha=alpha, beta=beta)
    assert math.isclose(f, fc.mean, rel_tol=1e-9, abs_tol=1e-12)
    if n:
        assert math.isclose(math.sqrt(sse / n), fc.std, rel_tol=1e-7, abs_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    wanted=st.floats(min_value=-10, max_value=10_000, allow_nan=False),
    multiple=st.integers(min_value=1, max_value=50),
    moq=st.integers(min_value=0, max_value=500),
)
def test_rounded_orders_are_minimal_multiples_meeting_moq(wanted, multiple, moq):
    q = round_order_quantity(quantity=wanted, order_multiple=multiple, min_order_quantity=moq)
    if wanted <= 1e-9:
        assert 0 == q
        return
    assert 0 == q % multiple
    assert q >= moq
    assert q >= math.ceil(wanted - 1e-9)
    assert q - multiple < max(math.ceil(wanted - 1e-9), moq)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=1000, allow_nan=False),
            st.floats(min_value=0, max_value=100, allow_nan=False),
            st.floats(min_value=0.1, max_value=60, allow_nan=False),
            st.floats(min_value=0, max_value=10, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    ),
    level=st.floats(min_value=0.5, max_value=0.999),
)
def test_bulk_matches_scalar_safety_stock(rows, level):
    d, s, lt, lts = (list(c) for c in zip(*rows, strict=True))
    out = bulk_policies(
        demand_mean=d,
        demand_std=s,
        lead_time=lt,
        lead_time_std=lts,
        service_level=level,
        order_cost=Decimal(10),
        holding_cost=Decimal("0.5"),
        backend="python",
    )
    for i, row in enumerate(rows):
        expected = safety_stock(
            demand_mean=row[0],
            demand_std=row[1],
            lead_time=row[2],
            lead_time_std=row[3],
            service_level=level,
        )
        assert math.isclose(expected, out.safety_stock[i], rel_tol=1e-12, abs_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(positions=st.lists(st.integers(min_value=-5, max_value=30), min_size=1, max_size=60))
def test_one_alert_per_downward_crossing(positions):
    rop = 10
    state = AlertState()
    alerts = 0
    for p in positions:
        state, alert = check_reorder(
            state=state, store_id="S", sku="A", inventory_position=p, reorder_point=rop
        )
        alerts += alert is not None
    expected = sum(
        1 for i, p in enumerate(positions) if p <= rop and (i == 0 or positions[i - 1] > rop)
    )
    assert expected == alerts


# --- plan(): invariants on random small store networks ------------------------------------

_SITES = {
    "SH": GeoPoint(31.2304, 121.4737),
    "HZ": GeoPoint(30.2741, 120.1551),
    "SZ": GeoPoint(31.2989, 120.5853),
    "NJ": GeoPoint(32.0603, 118.7969),
    "BJ": GeoPoint(39.9042, 116.4074),
}


@st.composite
def networks(draw):
    stores = draw(st.lists(st.sampled_from(sorted(_SITES)), min_size=1, max_size=5, unique=True))
    skus = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3, unique=True))
    histories, positions = [], []
    for store in stores:
        for sku in skus:
            days = draw(st.lists(st.integers(min_value=0, max_value=15), min_size=14, max_size=40))
            histories.append(
                DemandHistory(store_id=store, sku=sku, start=date(2024, 1, 1), quantities=days)
            )
            positions.append(
                StockPosition(
                    store_id=store,
                    sku=sku,
                    on_hand=draw(st.integers(min_value=0, max_value=400)),
                    on_order=draw(st.integers(min_value=0, max_value=50)),
                )
            )
    supply = [
        SupplyTerms(
            sku=sku,
            supplier_id=draw(st.sampled_from(["s1", "s2"])),
            lead_time=LeadTime(
                mean_days=draw(st.integers(min_value=1, max_value=10)),
                std_days=draw(st.sampled_from([0, 0.5, 2])),
            ),
            unit_cost=money("20.00"),
            order_cost=draw(st.sampled_from([None, money("50.00")])),
            order_multiple=draw(st.integers(min_value=1, max_value=12)),
            min_order_quantity=draw(st.integers(min_value=0, max_value=30)),
        )
        for sku in skus
    ]
    policy = {
        "kind": draw(st.sampled_from(["rq", "ss", "min_max"])),
        "service_level": draw(st.sampled_from([0.8, 0.95, 0.99])),
        "service_target": draw(st.sampled_from(["cycle", "fill_rate"])),
    }
    return histories, positions, supply, policy


@settings(max_examples=40, deadline=None)
@given(net=networks())
def test_plan_invariants(net):
    histories, positions, supply, policy = net
    result = plan(
        histories=histories,
        positions=positions,
        supply=supply,
        policy=policy,
        locations=_SITES,
        transfer_costs=TransferCosts(fixed_cost=money("10.00"), cost_per_unit_km=Decimal("0.001")),
    )
    terms = {t.sku: t for t in supply}
    items = {(i.store_id, i.sku): i for i in result.items}
    moved_out: dict[tuple[str, str], int] = {}
    moved_in: dict[tuple[str, str], int] = {}
    for move in result.transfers:
        assert move.quantity > 0
        assert move.from_store != move.to_store
        src, dst = items[move.from_store, move.sku], items[move.to_store, move.sku]
        assert dst.below_reorder_point
        assert src.position.inventory_position > src.levels.order_up_to
        moved_out[move.from_store, move.sku] = moved_out.get((move.from_store, move.sku), 0) + (
            move.quantity
        )
        moved_in[move.to_store, move.sku] = moved_in.get((move.to_store, move.sku), 0) + (
            move.quantity
        )
    for key, out in moved_out.items():
        item = items[key]
        assert out <= item.position.on_hand
        assert item.position.inventory_position - out >= item.levels.order_up_to - 1e-9
    bought: dict[tuple[str, str], int] = {}
    for po in result.purchase_orders:
        for line in po.lines:
            term = terms[line.sku]
            assert po.supplier_id == term.supplier_id
            assert line.quantity > 0
            assert 0 == line.quantity % term.order_multiple
            assert line.quantity >= term.min_order_quantity
            bought[line.store_id, line.sku] = line.quantity
    for key, item in items.items():
        final = item.position.inventory_position + moved_in.get(key, 0) + bought.get(key, 0)
        if item.levels.demand_mean > 0 and item.below_reorder_point:
            assert final > item.levels.reorder_point
