from decimal import Decimal
from fractions import Fraction

import pytest
from money.currency import Currency
from money.money import Money

from multistore import money as m
from multistore.errors import (
    CurrencyMismatchError,
    FloatMoneyError,
    MultistoreError,
    ValidationError,
)


def test_money_builds_exact_amounts_with_the_currencys_decimals() -> None:
    assert Decimal("12.30") == m.money("12.3", "CNY").amount
    assert Decimal("500") == m.money(500, "JPY").amount
    assert Currency.CNY == m.money("1").currency


@pytest.mark.parametrize("bad", [0.1, 1.0, float("nan")])
def test_float_amounts_are_rejected_everywhere(bad: float) -> None:
    with pytest.raises(FloatMoneyError) as err:
        m.money(bad)  # type: ignore[arg-type]
    assert "money.float_rejected" == err.value.code
    with pytest.raises(FloatMoneyError):
        m.from_minor(bad, "CNY")  # type: ignore[arg-type]
    with pytest.raises(FloatMoneyError):
        m.to_minor(bad)  # type: ignore[arg-type]
    with pytest.raises(FloatMoneyError):
        m.allocate(m.money("1"), [bad, 1])  # type: ignore[list-item]
    with pytest.raises(FloatMoneyError):
        m.allocate_minor(bad, [1])  # type: ignore[arg-type]
    with pytest.raises(FloatMoneyError):
        m.round_minor(bad)  # type: ignore[arg-type]


def test_float_error_is_a_type_error_and_a_multistore_error() -> None:
    with pytest.raises(TypeError):
        m.money(0.5)  # type: ignore[arg-type]
    with pytest.raises(MultistoreError):
        m.money(0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["0.001", "abc", "NaN", "Infinity", True, None])
def test_invalid_amounts_are_rejected(bad: object) -> None:
    with pytest.raises(ValidationError) as err:
        m.money(bad, "CNY")  # type: ignore[arg-type]
    assert "money.invalid_amount" == err.value.code


def test_jpy_has_no_minor_digits() -> None:
    with pytest.raises(ValidationError):
        m.money("1.5", "JPY")
    assert 1 == m.minor_per_major("JPY")
    assert 100 == m.minor_per_major(Currency.CNY)


def test_unknown_currency_is_a_typed_error() -> None:
    with pytest.raises(ValidationError) as err:
        m.currency("XYZ")
    assert "money.unknown_currency" == err.value.code


def test_to_and_from_minor_round_trip() -> None:
    assert 1230 == m.to_minor(m.money("12.30"))
    assert -5 == m.to_minor(m.money("-0.05"))
    assert m.same(m.money("12.30"), m.from_minor(1230, "CNY"))
    assert 1500 == m.to_minor(m.from_minor(1500, "JPY"))


def test_from_minor_rejects_non_int() -> None:
    with pytest.raises(ValidationError):
        m.from_minor(Decimal("1.5"), "CNY")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        m.to_minor("12.30")  # type: ignore[arg-type]


def test_sum_of_nothing_is_zero_in_the_given_currency() -> None:
    total = m.sum([], "CNY")
    assert m.same(m.zero("CNY"), total)
    with pytest.raises(ValidationError) as err:
        m.sum([])
    assert "money.empty_sum" == err.value.code


def test_sum_adds_exactly_and_refuses_mixed_currencies() -> None:
    amounts = [m.money("0.10"), m.money("0.20")]
    assert m.same(m.money("0.30"), m.sum(amounts))
    with pytest.raises(CurrencyMismatchError):
        m.sum([m.money("1", "CNY"), m.money("1", "USD")])
    with pytest.raises(CurrencyMismatchError):
        m.sum([m.money("1", "CNY")], "USD")


def test_same_never_raises_on_foreign_values() -> None:
    assert not m.same(m.money("1"), 1)
    assert not m.same(m.money("1", "CNY"), m.money("1", "USD"))
    assert m.same(Money("1.00", Currency.CNY), m.money("1"))


def test_ensure_same_currency() -> None:
    assert Currency.CNY == m.ensure_same_currency(m.money("1"), m.money("2"))
    assert m.ensure_same_currency() is None
    with pytest.raises(CurrencyMismatchError) as err:
        m.ensure_same_currency(m.money("1", "CNY"), m.money("1", "JPY"))
    assert "money.currency_mismatch" == err.value.code


def test_allocate_splits_by_largest_remainder_with_ties_to_the_earlier_index() -> None:
    assert [34, 33, 33] == m.allocate_minor(100, [1, 1, 1])
    assert [1, 0] == m.allocate_minor(1, [1, 1])
    assert [0, 1] == m.allocate_minor(1, [1, 2])
    shares = m.allocate(m.money("100.00"), [1, 1, 1])
    assert ["33.34", "33.33", "33.33"] == [str(s.amount) for s in shares]


def test_allocate_gives_zero_weight_nothing() -> None:
    assert [0, 7, 0] == m.allocate_minor(7, [0, 3, 0])
    assert [5, 0, 5] == m.allocate_minor(10, [1, 0, 1])


def test_allocate_negative_total_mirrors_positive() -> None:
    assert [-34, -33, -33] == m.allocate_minor(-100, [1, 1, 1])
    refund = m.allocate(m.money("-0.05"), [1, 1])
    assert ["-0.03", "-0.02"] == [str(s.amount) for s in refund]


def test_allocate_accepts_decimal_weights_exactly() -> None:
    assert [18, 36, 46] == m.allocate_minor(100, [Decimal("0.5"), 1, Decimal("1.25")])
    assert [50, 50] == m.allocate_minor(100, [Decimal("0.1"), Decimal("0.1")])


@pytest.mark.parametrize(
    "weights",
    [[], [0, 0], [1, -1], [Decimal("NaN")], ["1"], [True]],
)
def test_allocate_rejects_bad_weights(weights: list[object]) -> None:
    with pytest.raises(ValidationError) as err:
        m.allocate_minor(100, weights)  # type: ignore[arg-type]
    assert "money.invalid_weights" == err.value.code


def test_allocate_keeps_the_currency() -> None:
    shares = m.allocate(m.money("1000", "JPY"), [1, 2])
    assert [Currency.JPY, Currency.JPY] == [s.currency for s in shares]
    assert [333, 667] == [m.to_minor(s) for s in shares]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(5, 2), 3),
        (Fraction(-5, 2), -3),
        (Fraction(7, 3), 2),
        (Decimal("2.5"), 3),
        (Decimal("-2.5"), -3),
        (Decimal("2.4999"), 2),
        (7, 7),
    ],
)
def test_round_minor_half_up(value: Fraction | Decimal | int, expected: int) -> None:
    assert expected == m.round_minor(value)


def test_round_minor_named_modes() -> None:
    from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN

    assert 2 == m.round_minor(Fraction(5, 2), ROUND_HALF_EVEN)
    assert 4 == m.round_minor(Fraction(7, 2), ROUND_HALF_EVEN)
    assert -2 == m.round_minor(Fraction(-5, 2), ROUND_DOWN)
    assert 3 == m.round_minor(Fraction(21, 10), ROUND_CEILING)
    assert -3 == m.round_minor(Fraction(-21, 10), ROUND_FLOOR)
    with pytest.raises(ValidationError):
        m.round_minor(Fraction(1, 3), "sideways")


@pytest.mark.parametrize("cur", ["CNY", "JPY", "BHD", "USD"])
@pytest.mark.parametrize("minor", [0, 1, -1, 1230, -987654321, 10**15])
def test_fast_construction_matches_py_money_public_constructor(cur: str, minor: int) -> None:
    made = m.from_minor(minor, cur)
    public = Money.from_sub_units(minor, m.currency(cur))
    assert public == made
    assert public.amount == made.amount
    assert hash(public) == hash(made)
    assert minor == public.sub_units == m.to_minor(made)
    assert str(made.amount) == str(Money(str(made.amount), m.currency(cur)).amount)
