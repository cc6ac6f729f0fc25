"""Small argument checks shared by the domain models (each raises a typed ValidationError)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from multistore.errors import ValidationError

E = TypeVar("E", bound=enum.Enum)

__all__ = [
    "check_enum",
    "check_id",
    "check_non_negative_int",
    "check_positive_int",
    "check_text",
    "valid_id",
    "valid_text",
]


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


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{what} must be an int, got {type(value).__name__} {value!r}",
            code="validation.not_an_integer",
            details={"field": what},
        )
    return value


def check_positive_int(value: object, what: str) -> int:
    """Return ``value`` if it is an int > 0, else raise ``validation.non_positive_quantity``."""
    n = _check_int(value, what)
    if n <= 0:
        raise ValidationError(
            f"{what} must be positive, got {n}",
            code="validation.non_positive_quantity",
            details={"field": what},
        )
    return n


def check_non_negative_int(value: object, what: str) -> int:
    """Return ``value`` if it is an int >= 0, else raise ``validation.negative_quantity``."""
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


def valid_id(what: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that applies :func:`check_id` to a field named ``what``."""

    def validate(instance: Any, attribute: Any, value: Any) -> None:
        check_id(value, what)

    return validate


def valid_text(what: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that applies :func:`check_text` to a field named ``what``."""

    def validate(instance: Any, attribute: Any, value: Any) -> None:
        check_text(value, what)

    return validate
