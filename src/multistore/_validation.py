"""Small argument checks shared by the domain models (each raises a typed ValidationError)."""

from __future__ import annotations

import decimal
import enum
import functools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from money.currency import Currency
from money.money import Money

from multistore import money as m
from multistore.errors import ValidationError

E = TypeVar("E", bound=enum.Enum)

__all__ = [
    "MAX_INT",
    "check_bool",
    "check_enum",
    "check_id",
    "check_int_range",
    "check_line_amount",
    "check_lines_total",
    "check_minor_units",
    "check_non_negative_int",
    "check_positive_int",
    "check_str",
    "check_text",
    "valid_bool",
    "valid_id",
    "valid_str",
    "valid_text",
]

MAX_INT = 2**63 - 1
"""The largest count, quantity or amount in minor units multistore stores (a signed 64-bit
column on SQL storages; memory enforces the same bound so every storage behaves alike)."""


def check_id(value: object, what: str) -> str:
    """Return ``value`` stripped if it is a non-empty string id; else ``validation.empty_id``."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{what} must be a non-empty string, got {value!r}",
            code="validation.empty_id",
            details={"field": what},
        )
    return value.strip()


def check_text(value: object, what: str) -> str:
    """Return a non-empty stripped string or raise ``validation.empty_text``."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{what} must be non-empty text, got {value!r}",
            code="validation.empty_text",
            details={"field": what},
        )
    return value.strip()


def check_str(value: object, what: str) -> str:
    """Return ``value`` if it is a string (empty allowed), else raise ``validation.invalid``."""
    if not isinstance(value, str):
        raise ValidationError(
            f"{what} must be a string, got {type(value).__name__} {value!r}",
            code="validation.invalid",
            details={"field": what},
        )
    return value


def check_bool(value: object, what: str) -> bool:
    """Return ``value`` if it is ``True`` or ``False``, else raise ``validation.invalid``."""
    if not isinstance(value, bool):
        raise ValidationError(
            f"{what} must be True or False, got {type(value).__name__} {value!r}",
            code="validation.invalid",
            details={"field": what},
        )
    return value


def check_int_range(value: int, what: str) -> int:
    """Return ``value`` if ``-MAX_INT <= value <= MAX_INT``, else raise ``validation.invalid``."""
    if not -MAX_INT <= value <= MAX_INT:
        raise ValidationError(
            f"{what} must be at most {MAX_INT} (2**63 - 1) in size, got {value}",
            code="validation.invalid",
            details={"field": what, "maximum": MAX_INT},
        )
    return value


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{what} must be an int, got {type(value).__name__} {value!r}",
            code="validation.not_an_integer",
            details={"field": what},
        )
    return check_int_range(value, what)


_EXACT = decimal.Context(prec=80)
"""Exact enough for a line amount or an order total: sizes far above MAX_INT only ever need to
compare greater, and every amount that fits has at most 19 + 3 significant digits."""


@functools.cache
def _max_amount(currency: Currency) -> Decimal:
    return m.from_minor(MAX_INT, currency).amount


def _refuse_amount(value: Decimal, currency: Currency, what: str, code: str) -> None:
    limit = _max_amount(currency)
    if not -limit <= value <= limit:
        raise ValidationError(
            f"{what} is {value} {currency.value}; at most {limit} {currency.value} "
            f"({MAX_INT} minor units, 2**63 - 1) can be stored; lower the price or quantity",
            code=code,
            details={"field": what, "maximum_minor": MAX_INT},
        )


def check_minor_units(amount: Money, what: str, *, code: str) -> Money:
    """Return ``amount`` if it is at most :data:`MAX_INT` minor units in size.

    Raises:
        ValidationError: ``code`` (the caller's price code) when the amount is larger.
    """
    _refuse_amount(amount.amount, amount.currency, what, code)
    return amount


def check_line_amount(price: Money, quantity: int, what: str, *, code: str) -> None:
    """Check that ``price x quantity`` is at most :data:`MAX_INT` minor units in size (exact).

    Raises:
        ValidationError: ``code`` (the caller's price code) when the amount is larger.
    """
    amount = _EXACT.multiply(price.amount, quantity)
    if amount > _max_amount(price.currency) or amount < 0:
        _refuse_amount(amount, price.currency, what, code)


def check_lines_total(lines: Iterable[tuple[Money, int]], what: str, *, code: str) -> None:
    """Check that the sum of ``unit price x quantity`` is at most :data:`MAX_INT` minor units.

    The prices share one currency (the caller checked); the sum is exact.

    Raises:
        ValidationError: ``code`` (the caller's price code) when the total is larger.
    """
    total = Decimal(0)
    currency: Currency | None = None
    for price, quantity in lines:
        currency = price.currency
        total = _EXACT.add(total, _EXACT.multiply(price.amount, quantity))
    if currency is not None:
        _refuse_amount(total, currency, what, code)


def check_positive_int(value: object, what: str) -> int:
    """Return ``value`` if it is an int > 0, else raise ``validation.non_positive_quantity``.

    An int above :data:`MAX_INT` raises ``validation.invalid``; a non-int
    ``validation.not_an_integer``.
    """
    n = _check_int(value, what)
    if n <= 0:
        raise ValidationError(
            f"{what} must be positive, got {n}",
            code="validation.non_positive_quantity",
            details={"field": what},
        )
    return n


def check_non_negative_int(value: object, what: str) -> int:
    """Return ``value`` if it is an int >= 0, else raise ``validation.negative_quantity``.

    An int above :data:`MAX_INT` raises ``validation.invalid``; a non-int
    ``validation.not_an_integer``.
    """
    n = _check_int(value, what)
    if n < 0:
        raise ValidationError(
            f"{what} must not be negative, got {n}",
            code="validation.negative_quantity",
            details={"field": what},
        )
    return n


def check_enum(enum_type: type[E], value: object, what: str) -> E:
    """Return ``value`` as a member of ``enum_type`` or raise ``validation.invalid_choice``."""
    try:
        return enum_type(value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in enum_type)
        raise ValidationError(
            f"{what} must be one of {choices}, got {value!r}",
            code="validation.invalid_choice",
            details={"field": what},
        ) from None


def _validator(check: Callable[[Any, str], object], what: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator calling ``check(value, what)`` on its field."""

    def validate(instance: Any, attribute: Any, value: Any) -> None:
        check(value, what)

    return validate


def valid_id(what: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that applies :func:`check_id` to a field named ``what``."""
    return _validator(check_id, what)


def valid_text(what: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that applies :func:`check_text` to a field named ``what``."""
    return _validator(check_text, what)


def valid_str(what: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that applies :func:`check_str` to a field named ``what``."""
    return _validator(check_str, what)


def valid_bool(what: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that applies :func:`check_bool` to a field named ``what``."""
    return _validator(check_bool, what)
