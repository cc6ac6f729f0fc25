"""Exact money over py-money: conversion to minor units, safe sums and largest-remainder splits.

The public API of multistore speaks :class:`money.money.Money`; algorithms work in integer minor
units (fen for CNY, yen for JPY) so that no amount is ever rounded by accident. This module is the
one place that crosses between the two, and it hides py-money's quirks:

* ``Money(0.1)`` would silently take a binary float; here every entry point rejects ``float``
  with :class:`~multistore.errors.FloatMoneyError`.
* ``Money.__eq__`` raises against non-Money; :func:`same` compares safely.
* ``sum()`` of Money needs a start value; :func:`sum` takes the currency for the empty case.

Every split of an amount goes through :func:`allocate` (largest remainder, also called Hamilton
apportionment), so the parts always add up to the whole.

Examples:
    >>> from multistore import money
    >>> total = money.money("100.00", "CNY")
    >>> [str(m.amount) for m in money.allocate(total, [1, 1, 1])]
    ['33.34', '33.33', '33.33']
"""

from __future__ import annotations

import builtins
import functools
import math
from collections.abc import Callable, Iterable, Sequence
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    InvalidOperation,
)
from fractions import Fraction

from money.currency import Currency, CurrencyHelper
from money.money import Money

from multistore.errors import CurrencyMismatchError, FloatMoneyError, ValidationError

__all__ = [
    "Currency",
    "Money",
    "allocate",
    "allocate_minor",
    "apportion",
    "currency",
    "div_round_half_up",
    "ensure_same_currency",
    "from_minor",
    "minor_maker",
    "minor_per_major",
    "money",
    "round_minor",
    "same",
    "sum",
    "to_minor",
    "zero",
]

Weight = int | Decimal


def currency(code: str | Currency) -> Currency:
    """Return the :class:`Currency` for an ISO 4217 code such as ``"CNY"``.

    Raises:
        ValidationError: ``money.unknown_currency`` when the code is not an ISO 4217 currency.
    """
    if isinstance(code, Currency):
        return code
    if not isinstance(code, str):
        raise ValidationError(
            f"currency must be an ISO 4217 code such as 'CNY', got {type(code).__name__}",
            code="money.unknown_currency",
        )
    try:
        return Currency[code.strip().upper()]
    except KeyError:
        raise ValidationError(
            f"unknown currency {code!r}; use an ISO 4217 code such as 'CNY' or 'JPY'",
            code="money.unknown_currency",
        ) from None


def minor_per_major(cur: str | Currency) -> int:
    """Return how many minor units make one major unit (100 for CNY, 1 for JPY, 1000 for BHD)."""
    places: int = _places(currency(cur))
    return int(10**places)


def _refuse_float_input(value: object, what: str) -> None:
    if isinstance(value, float):
        raise FloatMoneyError(
            f"{what} must not be a float ({value!r}); pass a str, int or Decimal such as "
            f"'{value}' so the amount stays exact",
        )


def money(amount: str | int | Decimal, cur: str | Currency = "CNY") -> Money:
    """Build a :class:`Money` from an exact amount in major units.

    Args:
        amount: ``"12.30"``, ``12`` or ``Decimal("12.30")``; never a float.
        cur: Currency code or :class:`Currency` (default ``CNY``).

    Raises:
        FloatMoneyError: ``money.float_rejected`` for a float amount.
        ValidationError: ``money.invalid_amount`` when the amount is not a finite number or has
            more decimals than the currency allows (``"0.001"`` CNY).

    Examples:
        >>> money("12.30", "CNY").amount
        Decimal('12.30')
    """
    _refuse_float_input(amount, "amount")
    c = currency(cur)
    if isinstance(amount, bool) or not isinstance(amount, str | int | Decimal):
        raise ValidationError(
            f"amount must be a str, int or Decimal, got {type(amount).__name__}",
            code="money.invalid_amount",
        )
    try:
        value = Decimal(amount.strip()) if isinstance(amount, str) else Decimal(amount)
    except InvalidOperation:
        raise ValidationError(
            f"amount {amount!r} is not a number; write it like '12.30'",
            code="money.invalid_amount",
        ) from None
    if not value.is_finite():
        raise ValidationError(f"amount {amount!r} is not finite", code="money.invalid_amount")
    scale = minor_per_major(c)
    minor = value * scale
    if minor != minor.to_integral_value():
        places = len(str(scale)) - 1
        raise ValidationError(
            f"amount {amount!r} has more than {places} decimal place(s) allowed for {c.value}; "
            "round it explicitly first",
            code="money.invalid_amount",
        )
    return _make(int(minor), c)


@functools.cache
def _places(cur: Currency) -> int:
    return int(CurrencyHelper.decimal_precision_for_currency(cur))


def _make(minor: int, cur: Currency) -> Money:
    """Build Money from minor units with the currency's own number of decimals (``12.30``).

    The amount is exact by construction, so py-money's constructor checks (parse, round,
    compare) are skipped; ``tests/unit/money`` pins this against the public constructor.
    """
    made: Money = Money.__new__(Money)
    made._amount = Decimal(minor).scaleb(-_places(cur))  # type: ignore[attr-defined]
    made._currency = cur  # type: ignore[attr-defined]
    return made


def _maker(cur: Currency, exponent: int) -> Callable[[int], Money]:
    # _make's body with the scale looked up once: one closure serves a whole result.
    new = Money.__new__

    def make(minor: int) -> Money:
        made: Money = new(Money)
        made._amount = Decimal(minor).scaleb(exponent)  # type: ignore[attr-defined]
        made._currency = cur  # type: ignore[attr-defined]
        return made

    return make


def minor_maker(cur: str | Currency) -> Callable[[int], Money]:
    """Return a :func:`from_minor` for one currency, for code that builds many amounts at once.

    The function returns the same Money as ``from_minor(n, cur)``; the currency's scale is
    looked up once instead of per amount.

    Examples:
        >>> make = minor_maker("CNY")
        >>> make(1230) == from_minor(1230, "CNY"), str(make(1230).amount)
        (True, '12.30')
    """
    code = currency(cur)
    return _maker(code, -_places(code))


def zero(cur: str | Currency = "CNY") -> Money:
    """Return zero in the given currency."""
    return _make(0, currency(cur))


def _require_money(value: object, what: str = "value") -> Money:
    _refuse_float_input(value, what)
    if not isinstance(value, Money):
        raise ValidationError(
            f"{what} must be a Money, got {type(value).__name__}; build one with "
            "multistore.money.money('12.30', 'CNY')",
            code="money.invalid_amount",
        )
    return value


def to_minor(m: Money) -> int:
    """Return the amount of ``m`` in integer minor units (``¥12.30`` -> ``1230``).

    Raises:
        FloatMoneyError: when given a float.
        ValidationError: when given anything else that is not Money.
    """
    m = _require_money(m, "amount")
    return int(m.amount.scaleb(_places(m.currency)))


def from_minor(n: int, cur: str | Currency) -> Money:
    """Return the Money worth ``n`` minor units of ``cur`` (``1230, "CNY"`` -> ``¥12.30``).

    Raises:
        FloatMoneyError: when ``n`` is a float.
        ValidationError: when ``n`` is not an int.
    """
    _refuse_float_input(n, "minor units")
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValidationError(
            f"minor units must be an int, got {type(n).__name__}", code="money.invalid_amount"
        )
    return _make(n, currency(cur))


def ensure_same_currency(*amounts: Money) -> Currency | None:
    """Return the common currency of ``amounts`` (``None`` when there are none).

    Raises:
        CurrencyMismatchError: ``money.currency_mismatch`` when two currencies differ.
    """
    found: Currency | None = None
    for item in amounts:
        amount = _require_money(item)
        if found is None:
            found = amount.currency
        elif amount.currency is not found:
            raise CurrencyMismatchError(
                f"cannot combine {found.value} and {amount.currency.value}; convert the amounts to "
                "one currency first",
            )
    return found


def same(a: object, b: object) -> bool:
    """Compare two values as money without py-money's exceptions.

    Returns ``True`` only when both are Money of the same currency and amount.
    """
    return (
        isinstance(a, Money)
        and isinstance(b, Money)
        and a.currency is b.currency
        and a.amount == b.amount
    )


def sum(amounts: Iterable[Money], cur: str | Currency | None = None) -> Money:  # noqa: A001 - the module's documented API name; use as money.sum
    """Add up Money amounts exactly; an empty input sums to zero in ``cur``.

    Args:
        amounts: Money values, all in one currency.
        cur: The currency of the result; required when ``amounts`` may be empty.

    Raises:
        CurrencyMismatchError: when amounts (or ``cur``) disagree on the currency.
        ValidationError: when ``amounts`` is empty and no ``cur`` is given, or an item is not Money.

    Examples:
        >>> str(sum([], "CNY").amount)
        '0.00'
    """
    expected = currency(cur) if cur is not None else None
    total = 0
    for item in amounts:
        amount = _require_money(item, "each amount")
        if expected is None:
            expected = amount.currency
        elif amount.currency is not expected:
            raise CurrencyMismatchError(
                f"cannot add {amount.currency.value} to {expected.value}; convert first",
            )
        total += to_minor(amount)
    if expected is None:
        raise ValidationError(
            "cannot sum an empty list without a currency; pass cur='CNY' (or the currency)",
            code="money.empty_sum",
        )
    return from_minor(total, expected)


def round_minor(value: Decimal | Fraction | int, rounding: str = ROUND_HALF_UP) -> int:
    """Round an exact quantity of minor units to an int with a named Decimal rounding mode.

    ``ROUND_HALF_UP`` (the default) rounds halves away from zero: the Chinese tax rule
    (四舍五入). Fractions are rounded exactly, without passing through a finite decimal.

    Raises:
        FloatMoneyError: when given a float.
        ValidationError: for an unsupported rounding mode.

    Examples:
        >>> round_minor(Fraction(5, 2)), round_minor(Fraction(-5, 2)), round_minor(Decimal("2.4"))
        (3, -3, 2)
    """
    _refuse_float_input(value, "value")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return int(value.to_integral_value(rounding=rounding))
    if rounding not in _FRACTION_ROUNDING:
        raise ValidationError(f"unsupported rounding mode {rounding!r}", code="money.rounding")
    sign = -1 if value < 0 else 1
    q, r = divmod(abs(value.numerator), value.denominator)
    if r and _FRACTION_ROUNDING[rounding](q, 2 * r, value.denominator, sign):
        q += 1
    return sign * q


# For |x| = q + r/d with 0 < r < d: whether to move the magnitude up to q + 1.
_FRACTION_ROUNDING: dict[str, Callable[[int, int, int, int], bool]] = {
    ROUND_HALF_UP: lambda q, r2, d, s: r2 >= d,
    ROUND_HALF_DOWN: lambda q, r2, d, s: r2 > d,
    ROUND_HALF_EVEN: lambda q, r2, d, s: r2 > d or (r2 == d and q % 2 == 1),
    ROUND_UP: lambda q, r2, d, s: True,
    ROUND_DOWN: lambda q, r2, d, s: False,
    ROUND_CEILING: lambda q, r2, d, s: s > 0,
    ROUND_FLOOR: lambda q, r2, d, s: s < 0,
}


def _integer_weights(weights: Sequence[Weight]) -> list[int]:
    """Turn int/Decimal weights into proportional non-negative ints, validating as we go."""
    if len(weights) == 0:
        raise ValidationError(
            "cannot allocate over an empty list of weights; pass one weight per part",
            code="money.invalid_weights",
        )
    if all(type(w) is int for w in weights):  # the common case: plain int weights
        plain = [int(w) for w in weights]
        if min(plain) >= 0 and any(plain):
            return plain
    ints: list[int] = []
    fractions: list[Fraction] | None = None
    for i, w in enumerate(weights):
        _refuse_float_input(w, f"weight #{i}")
        if isinstance(w, bool) or not isinstance(w, int | Decimal):
            raise ValidationError(
                f"weight #{i} must be an int or Decimal, got {type(w).__name__}",
                code="money.invalid_weights",
            )
        if isinstance(w, Decimal) and not w.is_finite():
            raise ValidationError(f"weight #{i} is not finite", code="money.invalid_weights")
        if w < 0:
            raise ValidationError(
                f"weight #{i} is negative ({w}); weights must be zero or positive",
                code="money.invalid_weights",
            )
        if isinstance(w, Decimal) and fractions is None:
            fractions = [Fraction(x) for x in ints]
        if fractions is not None:
            fractions.append(Fraction(w))
        else:
            ints.append(int(w))
    if fractions is not None:
        lcm = math.lcm(*(f.denominator for f in fractions))
        ints = [int(f * lcm) for f in fractions]
    if not any(ints):
        raise ValidationError(
            "all weights are zero; at least one part must have a positive weight",
            code="money.invalid_weights",
        )
    return ints


def allocate_minor(total: int, weights: Sequence[Weight]) -> list[int]:
    """Split ``total`` minor units in proportion to ``weights`` by largest remainder.

    Each part gets the floor of its exact share; the units left over go one each to the parts
    with the largest remainders, earlier parts first on ties. So the parts sum exactly to
    ``total``, each is within one unit of its exact share, a zero weight gets zero, and a negative
    total (a refund) is the mirror image of the positive one.

    Raises:
        ValidationError: ``money.invalid_weights`` for an empty list, a negative weight or all
            weights zero; ``money.invalid_amount`` when ``total`` is not an int.
        FloatMoneyError: for a float total or weight.

    Examples:
        >>> allocate_minor(10, [1, 1, 1])
        [4, 3, 3]
        >>> allocate_minor(-10, [1, 1, 1])
        [-4, -3, -3]
    """
    _refuse_float_input(total, "total")
    if isinstance(total, bool) or not isinstance(total, int):
        raise ValidationError(
            f"total must be an int of minor units, got {type(total).__name__}",
            code="money.invalid_amount",
        )
    return apportion(total, _integer_weights(weights))


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """The largest-remainder kernel behind :func:`allocate_minor`, without argument checks.

    For hot loops that have already validated their input once: ``total`` an int, ``weights``
    non-negative ints with a positive sum. Same result as :func:`allocate_minor` on such input.

    Examples:
        >>> apportion(10, [1, 1, 1])
        [4, 3, 3]
    """
    wsum = builtins.sum(weights)
    magnitude = -total if total < 0 else total
    shares = [magnitude * w // wsum for w in weights]
    left = magnitude - builtins.sum(shares)
    if left:
        remainders = [magnitude * w % wsum for w in weights]
        # Largest remainders first, earlier index first on ties (sort is stable).
        winners = sorted(range(len(weights)), key=remainders.__getitem__, reverse=True)
        for i in winners[:left]:
            shares[i] += 1
    if total < 0:
        return [-s for s in shares]
    return shares


def div_round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, in pure int arithmetic.

    The kernel of ``round_minor(Fraction(numerator, denominator))`` for hot loops;
    ``denominator`` must be positive.

    Examples:
        >>> div_round_half_up(5, 2), div_round_half_up(-5, 2), div_round_half_up(7, 3)
        (3, -3, 2)
    """
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def allocate(total: Money, weights: Sequence[Weight]) -> list[Money]:
    """Split a Money amount in proportion to ``weights`` by largest remainder (Hamilton).

    See :func:`allocate_minor` for the guarantees; they hold in the currency's minor unit (fen
    for CNY, yen for JPY).

    Args:
        total: The amount to split (negative for refunds).
        weights: One non-negative ``int`` or ``Decimal`` per part, not all zero.

    Returns:
        One Money per weight, in the currency of ``total``, summing exactly to ``total``.

    Examples:
        >>> [str(m.amount) for m in allocate(money("0.05", "CNY"), [1, 1])]
        ['0.03', '0.02']
    """
    total = _require_money(total, "total")
    cur = total.currency
    return [_make(p, cur) for p in allocate_minor(to_minor(total), weights)]
