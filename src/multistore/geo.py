"""Geographic points and great-circle distance, shared by stores and routing.

Coordinates are WGS-84 degrees as floats (coordinates are not money; floats are right here).

Examples:
    >>> shanghai = GeoPoint(31.2304, 121.4737)
    >>> hangzhou = GeoPoint(30.2741, 120.1551)
    >>> round(haversine_km(shanghai, hangzhou))
    165
"""

from __future__ import annotations

import math

import attrs

from multistore.errors import ValidationError

__all__ = ["EARTH_RADIUS_KM", "GeoPoint", "haversine_km"]

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), in kilometres."""


def _check_lat(instance: GeoPoint, attribute: attrs.Attribute[float], value: float) -> None:
    _check_coordinate("latitude", value, 90.0)


def _check_lon(instance: GeoPoint, attribute: attrs.Attribute[float], value: float) -> None:
    _check_coordinate("longitude", value, 180.0)


def _check_coordinate(name: str, value: float, limit: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(
            f"{name} must be a number of degrees, got {type(value).__name__}",
            code="geo.invalid_coordinate",
        )
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValidationError(
            f"{name} {value!r} is out of range; it must lie within -{limit:g}..{limit:g} degrees",
            code="geo.invalid_coordinate",
        )


def _num(value: object) -> object:
    """Accept ints, floats and numeric strings for coordinates; leave the rest to the validator."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


@attrs.frozen(slots=True)
class GeoPoint:
    """A point on Earth in WGS-84 degrees.

    Attributes:
        lat: Latitude, -90..90.
        lon: Longitude, -180..180.

    Raises:
        ValidationError: ``geo.invalid_coordinate`` for values out of range, NaN or non-numbers.
    """

    lat: float = attrs.field(converter=_num, validator=_check_lat)
    lon: float = attrs.field(converter=_num, validator=_check_lon)


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance between two points, in kilometres (haversine formula)."""
    lat1 = math.radians(a.lat)
    lat2 = math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
