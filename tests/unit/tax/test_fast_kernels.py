"""Edge cases of the fast tax paths: the per-order integer engine and the NumPy batch engine."""

from __future__ import annotations

from fractions import Fraction

import pytest

import multistore.tax.batch as batch_module
from multistore.tax import (
    AllocationError,
    Effect,
    allocate_and_tax_batch,
    allocate_and_tax_minor,
    allocate_minor_lines,
)
from multistore.tax._fast import rate_terms

R13 = Fraction(13, 100)
R9 = Fraction(9, 100)


def test_per_order_engine_worked_example() -> None:
    # 101 over 600/400: floors 60 and 40, the unit left goes to the larger remainder (0.6)
    got = allocate_and_tax_minor([600, 400], [R13, R9], [(Effect.DISCOUNT, 101)])
    # nets: round(539 / 1.13) = 477, round(360 / 1.09) = 330
    assert ([[61, 40]], [539, 360], [477, 330], [62, 30]) == got


def test_per_order_engine_tax_exclusive_and_charges() -> None:
    got = allocate_and_tax_minor(
        [1000, 1000, 1],
        [R13, R13, Fraction(0)],
        [(Effect.CHARGE, 5), (Effect.FEE, 7)],
        prices_include_tax=False,
    )
    # charge 5 over 1000/1000/1: 2.4988 -> 2, 2.4988 -> 2, 0.0025 -> 0, one left for line 0;
    # the fee (7) is split but does not change the taxable amounts
    assert [[3, 2, 0], [4, 3, 0]] == got[0]
    assert [1003, 1002, 1] == got[1]
    assert [1003, 1002, 1] == got[2]
    assert [130, 130, 0] == got[3]  # round(1003 * 0.13) = 130.39 -> 130, 130.26 -> 130


def test_per_order_engine_weighs_all_zero_lines_equally() -> None:
    amounts = [0, 0, 0]
    adjs = [(Effect.CHARGE, 10)]
    got = allocate_and_tax_minor(amounts, [R13] * 3, adjs)
    assert allocate_minor_lines(amounts=amounts, adjustments=adjs) == got[0]
    assert [[4, 3, 3]] == got[0]
    assert [4, 3, 3] == got[1]


@pytest.mark.parametrize(
    ("amounts", "rates", "adjs", "code"),
    [
        ([], [], [], "tax.allocation"),
        ([100], [], [], "tax.allocation"),
        ([-1], [R13], [], "tax.allocation"),
        ([100], [R13], [(Effect.FEE, -1)], "tax.allocation"),
        ([100], [Fraction(-1, 100)], [], "tax.allocation"),
        ([100, 50], [R13, R13], [(Effect.DISCOUNT, 151)], "tax.allocation_exceeds"),
    ],
)
def test_per_order_engine_rejects_bad_input(
    amounts: list[int], rates: list[Fraction], adjs: list[tuple[Effect, int]], code: str
) -> None:
    with pytest.raises(AllocationError) as err:
        allocate_and_tax_minor(amounts, rates, adjs)
    assert code == err.value.code


def test_rate_terms_are_cached_per_object() -> None:
    rate = Fraction(7, 100)
    assert (rate, 200, 107, 214, 14, 100) == rate_terms(rate)
    assert rate_terms(rate) is rate_terms(rate)


def test_batch_of_no_orders_is_empty() -> None:
    result = allocate_and_tax_batch(amounts=[], rates=[], adjustments=[])
    assert ([], [], [], []) == (
        result.order_index.tolist(),
        result.taxable.tolist(),
        result.net.tolist(),
        result.tax.tolist(),
    )


def test_batch_discount_too_large_has_the_exceeds_code() -> None:
    with pytest.raises(AllocationError) as err:
        allocate_and_tax_batch(
            amounts=[[100, 100], [5]],
            rates=[[R13, R13], [R13]],
            adjustments=[[(Effect.DISCOUNT, 150)], [(Effect.DISCOUNT, 6)]],
        )
    assert "tax.allocation_exceeds" == err.value.code


def test_batch_wide_zero_order_gets_equal_weights() -> None:
    # 10 lines (a padded group of width 12), all zero: the charge is split equally,
    # the earlier lines taking the units left over
    result = allocate_and_tax_batch(
        amounts=[[0] * 10, [300, 100]],
        rates=[[R13] * 10, [R9, R9]],
        adjustments=[[(Effect.CHARGE, 13)], [(Effect.DISCOUNT, 4)]],
    )
    assert [[2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 3, 1]] == result.shares.tolist()
    assert [2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 297, 99] == result.taxable.tolist()


def test_batch_rates_beyond_int64_fall_back_to_exact_ints() -> None:
    odd = Fraction(1, 10**30)
    result = allocate_and_tax_batch(amounts=[[10**6]], rates=[[odd]], adjustments=[[]])
    assert [10**6] == result.net.tolist()
    assert [0] == result.tax.tolist()


def test_batch_many_distinct_rate_objects() -> None:
    # more distinct rate objects than the identity shortcut handles: every line its own
    amounts = [[1130 + i] for i in range(40)]
    rates = [[Fraction(13, 100) + Fraction(0)] for _ in range(40)]
    result = allocate_and_tax_batch(amounts=amounts, rates=rates, adjustments=[[]] * 40)
    expect = [(2 * (1130 + i) * 100 + 113) // 226 for i in range(40)]
    assert expect == result.net.tolist()


def test_batch_chunks_and_read_slices_give_the_same_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    amounts = [[100 * (i + 1), 7 * i + 1, 50][: 1 + i % 3] for i in range(11)]
    rates = [[R13, R9, R13][: len(a)] for a in amounts]
    adjs = [[(Effect.DISCOUNT, i), (Effect.CHARGE, 3)][: i % 3] for i in range(11)]
    whole = allocate_and_tax_batch(amounts=amounts, rates=rates, adjustments=adjs)
    monkeypatch.setattr(batch_module, "_CHUNK", 4)
    monkeypatch.setattr(batch_module, "_READ", 2)
    parts = allocate_and_tax_batch(amounts=amounts, rates=rates, adjustments=adjs)
    for name in ("order_index", "shares", "taxable", "net", "tax"):
        assert getattr(whole, name).tolist() == getattr(parts, name).tolist()
    for i, (am, rt, ad) in enumerate(zip(amounts, rates, adjs, strict=True)):
        rows, taxable, _, _ = allocate_and_tax_minor(am, rt, ad)
        lines = [j for j, o in enumerate(whole.order_index.tolist()) if o == i]
        assert taxable == [whole.taxable.tolist()[j] for j in lines]
        assert rows == [[whole.shares.tolist()[k][j] for j in lines] for k in range(len(ad))]


HUGE = 2**63  # does not fit int64: the batch falls back to exact Python ints


@pytest.mark.parametrize(
    ("amounts", "rates", "adjustments"),
    [
        ([[-5, HUGE]], [[R13, R13]], [[]]),
        ([[HUGE]], [[Fraction(-1, 10)]], [[]]),
        ([[HUGE, 1]], [[R13, R13]], [[(Effect.CHARGE, -7)]]),
        ([[HUGE], [1], []], [[R13], [R13], []], [[]] * 3),
        ([[HUGE], [1], [1, 2]], [[R13], [R13], [R13]], [[]] * 3),
    ],
    ids=["negative-amount", "negative-rate", "negative-total", "no-lines", "rate-count"],
)
@pytest.mark.parametrize("read", [512, 1])
def test_batch_fallback_validates_like_the_numpy_path(
    monkeypatch: pytest.MonkeyPatch,
    amounts: list[list[int]],
    rates: list[list[Fraction]],
    adjustments: list[list[tuple[Effect, int]]],
    read: int,
) -> None:
    """Amounts beyond int64 take the Python path; bad input still raises ``tax.allocation``.

    ``read=1`` puts the bad order in a later read slice than the huge amount, so the int64
    conversion gives up before it reaches the bad order.
    """
    monkeypatch.setattr(batch_module, "_READ", read)
    small = [[1 if x == HUGE else x for x in am] for am in amounts]
    for given in (small, amounts):  # the numpy path, then the fallback: the same error
        with pytest.raises(AllocationError) as err:
            allocate_and_tax_batch(amounts=given, rates=rates, adjustments=adjustments)
        assert "tax.allocation" == err.value.code
