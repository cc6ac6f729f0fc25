"""Property tests for largest-remainder allocation (exact sums, one-unit bound, mirror, ties)."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from multistore import money as m

int_weights = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(
    any
)
decimal_weights = st.lists(
    st.decimals(min_value=0, max_value=10**4, places=3, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=20,
).filter(any)
totals = st.integers(min_value=-(10**12), max_value=10**12)
currencies = st.sampled_from(["CNY", "JPY", "USD", "BHD"])


@given(total=totals, weights=st.one_of(int_weights, decimal_weights))
def test_shares_sum_exactly_to_the_total(total: int, weights: list[int | Decimal]) -> None:
    assert total == sum(m.allocate_minor(total, weights))


@given(total=totals, weights=st.one_of(int_weights, decimal_weights))
def test_each_share_is_within_one_unit_of_its_exact_value(
    total: int, weights: list[int | Decimal]
) -> None:
    shares = m.allocate_minor(total, weights)
    wsum = sum(Fraction(w) for w in weights)
    for share, w in zip(shares, weights, strict=True):
        exact = Fraction(total) * Fraction(w) / wsum
        assert abs(share - exact) < 1
        if w == 0:
            assert 0 == share


@given(total=totals, weights=int_weights)
def test_negative_totals_mirror_positive_ones(total: int, weights: list[int]) -> None:
    assert [-s for s in m.allocate_minor(total, weights)] == m.allocate_minor(-total, weights)


@given(total=totals, weights=int_weights)
def test_allocation_is_deterministic(total: int, weights: list[int]) -> None:
    assert m.allocate_minor(total, weights) == m.allocate_minor(total, list(weights))


@given(total=st.integers(min_value=0, max_value=10**6), n=st.integers(min_value=1, max_value=50))
def test_equal_weights_give_extra_units_to_the_earliest_parts(total: int, n: int) -> None:
    shares = m.allocate_minor(total, [1] * n)
    assert shares == sorted(shares, reverse=True)
    assert max(shares) - min(shares) <= 1


@given(
    minor=st.integers(min_value=-(10**12), max_value=10**12), cur=currencies, weights=int_weights
)
def test_money_allocation_in_zero_two_and_three_decimal_currencies(
    minor: int, cur: str, weights: list[int]
) -> None:
    total = m.from_minor(minor, cur)
    shares = m.allocate(total, weights)
    assert all(s.currency is total.currency for s in shares)
    assert m.same(total, m.sum(shares, cur))
    assert m.allocate_minor(minor, weights) == [m.to_minor(s) for s in shares]


@given(minor=st.integers(min_value=-(10**15), max_value=10**15), cur=currencies)
def test_minor_units_round_trip(minor: int, cur: str) -> None:
    assert minor == m.to_minor(m.from_minor(minor, cur))
