"""Conversions of convenient call arguments into domain values, with typed errors."""

from __future__ import annotations

from multistore.errors import ValidationError
from multistore.geo import GeoPoint

__all__ = ["as_point"]


def as_point(value: GeoPoint | tuple[float, float], what: str = "location") -> GeoPoint:
    """Return ``value`` as a :class:`GeoPoint`; a ``(lat, lon)`` pair is accepted.

    Raises:
        ValidationError: ``geo.invalid_coordinate`` for anything else or out-of-range degrees.
    """
    if isinstance(value, GeoPoint):
        return value
    if isinstance(value, tuple | list) and len(value) == 2:
        return GeoPoint(value[0], value[1])
    raise ValidationError(
        f"{what} must be a GeoPoint or a (lat, lon) pair, got {value!r}",
        code="geo.invalid_coordinate",
    )
