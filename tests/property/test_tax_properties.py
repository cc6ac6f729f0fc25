from __future__ import annotations

from datetime import date
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from multistore.money import allocate_minor, apportion, div_round_half_up, from_minor, round_minor
from multistore.tax import (
    Adjustment,
    AdjustmentKind,
    Effect,
    OrderLine,
    TaxOrder,
    allocate_and_tax_batch,
    allocate_and_tax_minor,
    allocate_minor_lines,
    default_rate_table,
    refund,
    tax_order,
    vat_split_minor,
)
from multistore.tax._fast import split_minor

RATES = default_rate_table()
CATS = ["general", "reduced", "services", "zero", "exempt", "small_scale"]
KINDS = list(AdjustmentKind)


@st.composite
def orders(draw: st.DrawFn) -> TaxOrder:
    n = draw(st.integers(1, 6))
    lines = [
        OrderLine(
            line_id=f"l{i}",
            quantity=draw(st.integers(1, 5)),
            amount=from_minor(draw(st.integers(0, 200_000)), "CNY"),
            tax_category=draw(st.sampled_from(CATS)),
        )
        for i in range(n)
    ]
    total = sum(int(line.amount.amount * 100) for line in lines)
    adjustments = []
    remaining = total
    for j in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(KINDS))
        if kind in (
            AdjustmentKind.SHIPPING_FEE,
            AdjustmentKind.SERVICE_FEE,
            AdjustmentKind.COMMISSION,
        ):
            amount = draw(st.integers(0, 5_000))
            if kind is AdjustmentKind.SHIPPING_FEE:
                remaining += amount
        else:
            amount = draw(st.integers(0, max(0, remaining)))
            remaining -= amount
        adjustments.append(
            Adjustment(adjustment_id=f"a{j}", kind=kind, amount=from_minor(amount, "CNY"))
        )
    inclusive = draw(st.booleans())
    return TaxOrder(
        order_id="O",
        store_id="S",
        platform="p",
        tax_date=date(2026, 11, 2),
        lines=lines,
        adjustments=adjustments,
        prices_include_tax=inclusive,
    )


@settings(max_examples=150, deadline=None)
@given(orders())
def test_allocation_and_vat_invariants(order: TaxOrder) -> None:
    taxed = tax_order(order=order, rates=RATES)
    lines = taxed.allocation.lines
    for j, adj in enumerate(order.adjustments):
        total = int(adj.amount.amount * 100)
        assert total == sum(al.shares[j].minor for al in lines)
    # each share within one fen of its exact proportional share (default weights)
    current = [al.gross_minor for al in lines]
    for j, adj in enumerate(order.adjustments):
        total = int(adj.amount.amount * 100)
        wsum = sum(current)
        for i, al in enumerate(lines):
            if wsum:
                exact = Fraction(total * current[i], wsum)
                assert abs(al.shares[j].minor - exact) < 1
        kind = adj.kind
        for i, al in enumerate(lines):
            if kind is AdjustmentKind.SHIPPING_FEE:
                current[i] += al.shares[j].minor
            elif kind not in (AdjustmentKind.SERVICE_FEE, AdjustmentKind.COMMISSION):
                current[i] -= al.shares[j].minor
    for al, v in zip(lines, taxed.vat.lines, strict=True):
        assert al.paid_minor >= 0
        assert al.taxable_minor >= 0
        if order.prices_include_tax:
            assert al.taxable_minor == v.net_minor + v.tax_minor
        else:
            assert al.taxable_minor == v.net_minor
        assert v.gross_minor == v.net_minor + v.tax_minor
    assert taxed.vat.tax_minor == sum(v.tax_minor for v in taxed.vat.lines)


@settings(max_examples=100, deadline=None)
@given(orders(), st.data())
def test_returning_every_unit_reverses_everything(order: TaxOrder, data: st.DataObject) -> None:
    taxed = tax_order(order=order, rates=RATES)
    done: dict[str, int] = {}
    refunds = []
    k = 0
    while any(done.get(al.line_id, 0) < al.line.quantity for al in taxed.allocation.lines):
        returns = {}
        for al in taxed.allocation.lines:
            left = al.line.quantity - done.get(al.line_id, 0)
            if left:
                returns[al.line_id] = data.draw(st.integers(1, left))
        refunds.append(
            refund(
                order=taxed,
                returns=returns,
                refund_id=f"R{k}",
                tax_date=date(2026, 11, 3),
                already_returned=dict(done),
            )
        )
        for lid, u in returns.items():
            done[lid] = done.get(lid, 0) + u
        k += 1
    for al, v in zip(taxed.allocation.lines, taxed.vat.lines, strict=True):
        back = [rl for r in refunds for rl in r.lines if rl.line_id == al.line_id]
        assert 0 == al.taxable_minor + sum(b.taxable_minor for b in back)
        assert 0 == v.tax_minor + sum(b.tax_minor for b in back)
        assert 0 == v.net_minor + sum(b.net_minor for b in back)
        assert 0 == al.platform_fees_minor + sum(b.platform_fees_minor for b in back)
        for i, s in enumerate(al.shares):
            assert 0 == s.minor + sum(b.shares[i].minor for b in back)


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**9), 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_fast_split_equals_allocate_minor(total: int, weights: list[int]) -> None:
    if not any(weights):
        weights[0] = 1
    assert allocate_minor(total, weights) == apportion(total, weights)


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**12), 10**12), st.integers(1, 10**6))
def test_fast_rounding_equals_round_minor(num: int, den: int) -> None:
    assert round_minor(Fraction(num, den)) == div_round_half_up(num, den)


@st.composite
def raw_orders(draw: st.DrawFn) -> tuple[list[int], list[Fraction], list[tuple[Effect, int]]]:
    n = draw(st.integers(1, 7))
    amounts = draw(st.lists(st.integers(0, 100_000), min_size=n, max_size=n))
    rates = [draw(st.sampled_from(BATCH_RATES)) for _ in range(n)]
    room = sum(amounts)
    adjs: list[tuple[Effect, int]] = []
    for _ in range(draw(st.integers(0, 4))):
        eff = draw(st.sampled_from(list(Effect)))
        if eff is Effect.DISCOUNT:
            total = draw(st.integers(0, room))
            room -= total
        else:
            total = draw(st.integers(0, 3_000)) if room else 0
            if eff is Effect.CHARGE:
                room += total
        adjs.append((eff, total))
    return amounts, rates, adjs


BATCH_RATES = [
    Fraction(13, 100),
    Fraction(9, 100),
    Fraction(6, 100),
    Fraction(0),
    Fraction(1, 100),
    Fraction(3, 100),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(raw_orders(), min_size=1, max_size=30), st.booleans())
def test_batch_equals_per_order_engine(
    orders: list[tuple[list[int], list[Fraction], list[tuple[Effect, int]]]], inclusive: bool
) -> None:
    amounts = [a for a, _, _ in orders]
    rates = [r for _, r, _ in orders]
    adjs = [x for _, _, x in orders]
    fast = allocate_and_tax_batch(
        amounts=amounts, rates=rates, adjustments=adjs, prices_include_tax=inclusive
    )
    k_max = max(len(x) for x in adjs)
    shares = fast.shares.tolist()
    taxable, nets, taxes = fast.taxable.tolist(), fast.net.tolist(), fast.tax.tolist()
    assert len(shares) == k_max
    pos = 0
    for am, rt, ad in orders:
        rows = allocate_minor_lines(amounts=am, adjustments=ad)
        n = len(am)
        for k in range(k_max):
            expect = rows[k] if k < len(rows) else [0] * n
            assert expect == shares[k][pos : pos + n]
        for j in range(n):
            net, tax = vat_split_minor(taxable[pos + j], rt[j], prices_include_tax=inclusive)
            assert (net, tax) == (nets[pos + j], taxes[pos + j])
        pos += n


RawOrder = tuple[list[int], list[Fraction], list[tuple[Effect, int]]]


@st.composite
def wide_raw_orders(draw: st.DrawFn) -> RawOrder:
    """Orders of 1-40 lines (exact, padded and argsort-ranked batch groups), amounts often
    zero or equal (ties, nothing to weigh by), and a fresh Fraction object per line."""
    n = draw(st.integers(1, 40))
    amounts = draw(
        st.lists(st.one_of(st.just(0), st.just(700), st.integers(0, 10**7)), min_size=n, max_size=n)
    )
    rates = [Fraction(draw(st.sampled_from([13, 9, 6, 0, 1, 3])), 100) for _ in range(n)]
    room = sum(amounts)
    adjs: list[tuple[Effect, int]] = []
    for _ in range(draw(st.integers(0, 6))):
        eff = draw(st.sampled_from(list(Effect)))
        if eff is Effect.DISCOUNT:
            total = draw(st.one_of(st.just(room), st.integers(0, room)))
            room -= total
        else:
            total = draw(st.integers(0, 10**6))
            if eff is Effect.CHARGE:
                room += total
        adjs.append((eff, total))
    return amounts, rates, adjs


def _reference(
    order: RawOrder, inclusive: bool
) -> tuple[list[list[int]], list[int], list[tuple[int, int]]]:
    """Shares, taxable amounts and (net, tax) per line from the reference functions."""
    amounts, rates, adjs = order
    rows = allocate_minor_lines(amounts=amounts, adjustments=adjs)
    taxable = list(amounts)
    for (eff, _), row in zip(adjs, rows, strict=True):
        sign = -1 if eff is Effect.DISCOUNT else 1 if eff is Effect.CHARGE else 0
        taxable = [t + sign * s for t, s in zip(taxable, row, strict=True)]
    vat = [
        vat_split_minor(t, r, prices_include_tax=inclusive)
        for t, r in zip(taxable, rates, strict=True)
    ]
    return rows, taxable, vat


@settings(max_examples=150, deadline=None)
@given(st.one_of(raw_orders(), wide_raw_orders()), st.booleans())
def test_per_order_engine_equals_reference(order: RawOrder, inclusive: bool) -> None:
    rows, taxable, vat = _reference(order, inclusive)
    amounts, rates, adjs = order
    got = allocate_and_tax_minor(amounts, rates, adjs, prices_include_tax=inclusive)
    assert (rows, taxable, [n for n, _ in vat], [t for _, t in vat]) == got


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(raw_orders(), wide_raw_orders()), min_size=1, max_size=40),
    st.booleans(),
)
def test_batch_equals_reference_on_wide_orders(orders: list[RawOrder], inclusive: bool) -> None:
    fast = allocate_and_tax_batch(
        amounts=[a for a, _, _ in orders],
        rates=[r for _, r, _ in orders],
        adjustments=[x for _, _, x in orders],
        prices_include_tax=inclusive,
    )
    k_max = max(len(x) for _, _, x in orders)
    expect_shares: list[list[int]] = [[] for _ in range(k_max)]
    expect_taxable: list[int] = []
    expect_vat: list[tuple[int, int]] = []
    expect_order: list[int] = []
    for i, order in enumerate(orders):
        rows, taxable, vat = _reference(order, inclusive)
        for k in range(k_max):
            expect_shares[k] += rows[k] if k < len(rows) else [0] * len(taxable)
        expect_taxable += taxable
        expect_vat += vat
        expect_order += [i] * len(taxable)
    assert expect_shares == fast.shares.tolist()
    assert expect_taxable == fast.taxable.tolist()
    assert expect_vat == list(zip(fast.net.tolist(), fast.tax.tolist(), strict=True))
    assert expect_order == fast.order_index.tolist()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_split_minor_equals_apportion(total: int, weights: list[int]) -> None:
    if not any(weights):
        weights[0] = 1
    assert apportion(total, weights) == split_minor(total, weights, sum(weights))
