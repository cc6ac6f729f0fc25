"""Properties of price_cart: exact allocation, caps, order independence, optimality."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from money.money import Money

from multistore.money import from_minor, to_minor
from multistore.pricing import (
    Adjustment,
    Cart,
    CartLine,
    PricedCart,
    PricedLine,
    PricedShipping,
    PricingContext,
    load_policy,
    load_promotions,
    price_cart,
)

NOW = datetime(2026, 11, 11, 4, tzinfo=UTC)
SKUS = ["a", "b", "c", "d"]
STORES = ["S1", "S2"]

amounts = st.integers(min_value=1, max_value=30000)  # fen


@st.composite
def lines(draw: st.DrawFn) -> list[CartLine]:
    n = draw(st.integers(min_value=1, max_value=5))
    out = []
    for i in range(n):
        price = draw(amounts)
        floor = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=price)))
        out.append(
            CartLine(
                line_id=f"L{i}",
                sku=draw(st.sampled_from(SKUS)),
                store_id=draw(st.sampled_from(STORES)),
                quantity=draw(st.integers(min_value=1, max_value=4)),
                unit_price=_fen(price),
                category=draw(st.sampled_from(["x", "y"])),
                floor_price=None if floor is None else _fen(floor),
            )
        )
    return out


def _fen(n: int) -> Money:
    return from_minor(n, "CNY")


def _yuan(n: int) -> str:
    return f"{n // 100}.{n % 100:02d}"


@st.composite
def promotion(draw: st.DrawFn, pid: str) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            [
                "percent_off",
                "amount_off",
                "fixed_price",
                "buy_x_get_y",
                "spend_tiers",
                "spend_every",
                "spend_percent",
                "quantity_percent",
                "coupon",
                "points",
                "shipping",
                "flash_sale",
            ]
        )
    )
    p: dict[str, Any] = {"id": pid, "type": kind}
    pct = st.integers(min_value=1, max_value=60)
    if kind == "percent_off":
        p["percent"] = draw(pct)
    elif kind == "amount_off":
        p["amount"] = _yuan(draw(st.integers(min_value=1, max_value=3000)))
    elif kind in {"fixed_price", "flash_sale"}:
        p["price"] = _yuan(draw(st.integers(min_value=0, max_value=20000)))
        if kind == "flash_sale":
            p.update(
                quota=draw(st.integers(min_value=1, max_value=5)),
                starts_at="2026-11-10T00:00:00+00:00",
                ends_at="2026-11-12T00:00:00+00:00",
            )
    elif kind == "buy_x_get_y":
        p.update(buy=draw(st.integers(1, 2)), get=1, percent=draw(st.sampled_from([50, 100])))
    elif kind == "spend_tiers":
        t = draw(st.integers(min_value=100, max_value=40000))
        a = draw(st.integers(min_value=1, max_value=t))
        p["tiers"] = [
            {"threshold": _yuan(t), "amount": _yuan(a)},
            {"threshold": _yuan(2 * t), "amount": _yuan(2 * a)},
        ]
    elif kind == "spend_every":
        t = draw(st.integers(min_value=100, max_value=20000))
        p.update(every=_yuan(t), amount=_yuan(draw(st.integers(1, t))))
    elif kind == "spend_percent":
        p["tiers"] = [{"threshold": _yuan(draw(st.integers(0, 40000))), "percent": draw(pct)}]
    elif kind == "quantity_percent":
        p["tiers"] = [{"min_quantity": draw(st.integers(1, 4)), "percent": draw(pct)}]
    elif kind == "coupon":
        p["codes"] = [f"{pid}-code"]
        if draw(st.booleans()):
            p["amount"] = _yuan(draw(st.integers(1, 5000)))
        else:
            p.update(percent=draw(pct), max_off=_yuan(draw(st.integers(1, 5000))))
    elif kind == "points":
        p.update(points_per_unit=draw(st.sampled_from([1, 10, 100])), max_percent=draw(pct))
    elif kind == "shipping":
        p["min_spend"] = _yuan(draw(st.integers(0, 20000)))
    if kind in {
        "spend_tiers",
        "spend_every",
        "spend_percent",
        "quantity_percent",
        "coupon",
        "shipping",
    }:
        p["level"] = draw(st.sampled_from(["store", "platform"]))
    if draw(st.integers(0, 3)) == 0:
        p["scope"] = {"skus": draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=2))}
    if draw(st.integers(0, 2)) == 0:
        p["exclusive_group"] = draw(st.sampled_from(["g1", "g2"]))
    if draw(st.integers(0, 5)) == 0:
        p["combines_with"] = []
    return p


@st.composite
def scenario(draw: st.DrawFn) -> tuple[Cart, list[Any], PricingContext]:
    ls = draw(lines())
    stores = sorted({ln.store_id for ln in ls})
    fees = {s: _fen(draw(st.integers(0, 1500))) for s in stores}
    cart = Cart(lines=ls, shipping_fees=fees)
    n = draw(st.integers(min_value=0, max_value=5))
    promos = load_promotions([draw(promotion(f"P{i}")) for i in range(n)])
    codes = tuple(c for p in promos if p.type == "coupon" for c in p.codes)  # type: ignore[union-attr]
    ctx = PricingContext(
        now=NOW, member_id="m", coupon_codes=codes, points_available=draw(st.integers(0, 50000))
    )
    return cart, promos, ctx


def check_invariants(priced: PricedCart, cart: Cart) -> None:
    goods = 0
    for pl, ln in zip(priced.lines, cart.lines, strict=True):
        final = to_minor(pl.final_amount)
        assert to_minor(pl.list_amount) - sum(to_minor(a.amount) for a in pl.adjustments) == final
        floor = to_minor(ln.floor_price) * ln.quantity if ln.floor_price else 0
        assert final >= floor >= 0
        assert all(to_minor(a.amount) > 0 for a in pl.adjustments)
        goods += final
    ship = sum(to_minor(s.final_amount) for s in priced.shipping)
    assert all(to_minor(s.final_amount) >= 0 for s in priced.shipping)
    assert goods == to_minor(priced.goods_total)
    assert goods + ship == to_minor(priced.total)
    fees = sum(to_minor(s.fee) for s in priced.shipping)
    assert to_minor(priced.subtotal) + fees - to_minor(priced.total) == to_minor(
        priced.discount_total
    )


SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenario())
def test_lines_sum_to_the_total_and_never_go_negative(case):
    cart, promos, ctx = case
    check_invariants(price_cart(cart=cart, promotions=promos, context=ctx), cart)


@SETTINGS
@given(scenario(), st.integers(1, 100), st.integers(0, 100000))
def test_no_discount_beyond_the_cap(case, max_percent, min_payable):
    cart, promos, ctx = case
    policy = load_policy({"cap": {"max_percent": max_percent, "min_payable": _yuan(min_payable)}})
    priced = price_cart(cart=cart, promotions=promos, context=ctx, policy=policy)
    check_invariants(priced, cart)
    subtotal = to_minor(priced.subtotal)
    goods_discount = subtotal - to_minor(priced.goods_total)
    assert goods_discount * 100 <= subtotal * max_percent
    assert goods_discount <= max(0, subtotal - min_payable)


@SETTINGS
@given(scenario(), st.randoms(use_true_random=False))
def test_result_is_independent_of_line_order(case, rnd):
    cart, promos, ctx = case
    shuffled = list(cart.lines)
    rnd.shuffle(shuffled)
    other = Cart(lines=shuffled, shipping_fees=cart.shipping_fees)
    a = price_cart(cart=cart, promotions=promos, context=ctx)
    b = price_cart(cart=other, promotions=promos, context=ctx)
    assert a.total == b.total
    assert a.applied_ids == b.applied_ids
    by_id = {pl.line_id: pl for pl in b.lines}
    assert list(a.lines) == [by_id[pl.line_id] for pl in a.lines]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_best_combination_equals_brute_force(case):
    cart, promos, ctx = case
    fast = price_cart(cart=cart, promotions=promos, context=ctx)
    slow = price_cart(cart=cart, promotions=promos, context=ctx, oracle=True)
    assert fast.total == slow.total
    assert sorted(fast.applied_ids) == sorted(slow.applied_ids)
    assert fast.lines == slow.lines


policies = st.builds(
    lambda modes, bases, cap, objective: load_policy(
        {
            "lanes": [
                {"name": n, "mode": m, "threshold_base": b}
                for n, m, b in zip(
                    ["item", "store", "platform", "points", "shipping"], modes, bases, strict=True
                )
            ],
            "cap": cap,
            "objective": objective,
        }
    ),
    st.lists(st.sampled_from(["all", "best"]), min_size=5, max_size=5),
    st.lists(st.sampled_from(["before", "after"]), min_size=5, max_size=5),
    st.one_of(st.none(), st.builds(lambda p: {"max_percent": p}, st.integers(1, 100))),
    st.sampled_from(["max_saving", "max_saving", "min_saving"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), policies)
def test_best_combination_equals_brute_force_under_any_policy(case, policy):
    cart, promos, ctx = case
    fast = price_cart(cart=cart, promotions=promos, context=ctx, policy=policy)
    slow = price_cart(cart=cart, promotions=promos, context=ctx, policy=policy, oracle=True)
    check_invariants(fast, cart)
    assert fast.total == slow.total
    assert sorted(fast.applied_ids) == sorted(slow.applied_ids)


@SETTINGS
@given(scenario())
def test_lazy_result_amounts_equal_eager_money(case):
    """Lines and fees keep minor units and build Money on access: same values as eager ones."""
    cart, promos, ctx = case
    priced = price_cart(cart=cart, promotions=promos, context=ctx)
    saved: dict[str, int] = {}
    for pl, ln in zip(priced.lines, cart.lines, strict=True):
        assert from_minor(to_minor(ln.unit_price) * ln.quantity, "CNY") == pl.list_amount
        assert str(pl.list_amount.amount) == str(from_minor(to_minor(pl.list_amount), "CNY").amount)
        eager = PricedLine(
            pl.line_id,
            pl.sku,
            pl.store_id,
            pl.quantity,
            pl.list_amount,
            tuple(Adjustment(a.promotion_id, a.name, a.lane, a.amount) for a in pl.adjustments),
            pl.final_amount,
        )
        assert eager == pl
        assert hash(eager) == hash(pl)
        assert repr(eager) == repr(pl)
        for a in pl.adjustments:
            saved[a.promotion_id] = saved.get(a.promotion_id, 0) + to_minor(a.amount)
    for s in priced.shipping:
        assert cart.shipping_fees[s.store_id] == s.fee
        eager_fee = PricedShipping(s.store_id, s.fee, s.adjustments, s.final_amount)
        assert eager_fee == s
        assert repr(eager_fee) == repr(s)
        for a in s.adjustments:
            saved[a.promotion_id] = saved.get(a.promotion_id, 0) + to_minor(a.amount)
    assert {a.promotion_id: to_minor(a.amount) for a in priced.applied} == saved
