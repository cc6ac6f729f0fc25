"""Plain-data inputs of the router: candidate stores, delivery zones, order lines and pins."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs
import shapely
from shapely.geometry.base import BaseGeometry

from multistore.errors import ValidationError
from multistore.geo import GeoPoint
from multistore.routing.cost import ShipmentCosts
from multistore.routing.errors import RoutingValidationError

__all__ = ["CandidateStore", "RouteRequest", "to_point", "to_zone"]


def to_point(value: object, what: str) -> GeoPoint:
    """Convert a :class:`GeoPoint` or a ``(lat, lon)`` pair to a GeoPoint.

    Raises:
        RoutingValidationError: ``routing.invalid_coordinate`` when out of range or malformed.
    """
    if isinstance(value, GeoPoint):
        return value
    try:
        if isinstance(value, Mapping):
            return GeoPoint(value["lat"], value["lon"])
        if isinstance(value, tuple | list) and len(value) == 2:
            return GeoPoint(value[0], value[1])
    except (ValidationError, KeyError) as exc:
        raise RoutingValidationError(
            f"{what} has an invalid coordinate: {exc}; give (lat, lon) in degrees, "
            "lat within -90..90 and lon within -180..180",
            code="routing.invalid_coordinate",
        ) from None
    raise RoutingValidationError(
        f"{what} must be a GeoPoint or a (lat, lon) pair, got {value!r}",
        code="routing.invalid_coordinate",
    )


def to_zone(value: object, what: str = "zone") -> BaseGeometry | None:
    """Parse a delivery zone: a shapely (multi)polygon, WKT text or a GeoJSON-like mapping.

    Coordinates are (lon, lat) as in GeoJSON and WKT. The geometry is validated and prepared
    for fast point-in-zone tests.

    Raises:
        RoutingValidationError: ``routing.invalid_zone`` when the zone cannot be parsed, is not a
            polygon or multipolygon, is empty, self-intersects or lies outside lon/lat ranges.
    """
    if value is None:
        return None
    geom: Any
    try:
        if isinstance(value, BaseGeometry):
            geom = value
        elif isinstance(value, str):
            text = value.strip()
            geom = (
                shapely.geometry.shape(json.loads(text))
                if text.startswith("{")
                else (shapely.from_wkt(text))
            )
        elif isinstance(value, Mapping):
            geom = shapely.geometry.shape(value)
        else:
            raise TypeError(type(value).__name__)
    except (shapely.errors.ShapelyError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise RoutingValidationError(
            f"{what} cannot be read as a polygon ({exc}); pass a shapely Polygon/MultiPolygon, "
            "WKT text or a GeoJSON-like mapping with (lon, lat) coordinates",
            code="routing.invalid_zone",
        ) from None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise RoutingValidationError(
            f"{what} is a {geom.geom_type}; a delivery zone must be a Polygon or MultiPolygon",
            code="routing.invalid_zone",
        )
    if geom.is_empty:
        raise RoutingValidationError(f"{what} is empty", code="routing.invalid_zone")
    if not geom.is_valid:
        raise RoutingValidationError(
            f"{what} is not a valid polygon ({shapely.is_valid_reason(geom)}); fix the ring "
            "order or self-intersections (shapely.make_valid can help)",
            code="routing.invalid_zone",
        )
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise RoutingValidationError(
            f"{what} has coordinates outside lon -180..180 / lat -90..90; coordinates are "
            "(lon, lat) pairs",
            code="routing.invalid_zone",
        )
    shapely.prepare(geom)
    return geom


def _stock(value: Mapping[str, int]) -> Mapping[str, int]:
    if not isinstance(value, Mapping):
        raise RoutingValidationError(
            "stock must be a mapping of SKU -> available units", code="routing.invalid_quantity"
        )
    out: dict[str, int] = {}
    for sku, qty in value.items():
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise RoutingValidationError(
                f"stock of {sku!r} must be an int of units, got {qty!r}",
                code="routing.invalid_quantity",
            )
        if qty < 0:
            raise RoutingValidationError(
                f"stock of {sku!r} is negative ({qty}); report zero or more units",
                code="routing.negative_quantity",
            )
        key = str(sku)
        if not isinstance(sku, str) and (key in value or key in out):
            raise RoutingValidationError(
                f"stock lists SKU {key!r} twice (as {sku!r} and as another key with the "
                "same text); give each SKU once, as a str",
                code="routing.invalid_quantity",
            )
        if qty:
            out[key] = qty
    return MappingProxyType(out)


def _radius(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RoutingValidationError(
            f"max_radius_km must be a number of km, got {value!r}", code="routing.invalid_radius"
        )
    r = float(value)
    if not math.isfinite(r) or r < 0:
        raise RoutingValidationError(
            f"max_radius_km must be zero or more, got {value!r}", code="routing.invalid_radius"
        )
    return r


def _check_priority(
    instance: CandidateStore, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise RoutingValidationError(
            f"store {instance.store_id!r}: priority must be an int rank (1 beats 2) or None, "
            f"got {value!r}",
            code="routing.invalid_candidate",
            details={"store_id": instance.store_id, "field": "priority"},
        )


def _location(value: object) -> GeoPoint:
    return to_point(value, "store location")


def _zone(value: object) -> BaseGeometry | None:
    return to_zone(value)


@attrs.frozen(slots=True, eq=False)
class CandidateStore:
    """A store that may fulfil the order.

    Attributes:
        store_id: Unique id of the store.
        location: Where the store is: a :class:`~multistore.geo.GeoPoint` or ``(lat, lon)``.
        stock: Available units per SKU (zero entries may be left out).
        delivers: Whether the store ships to customers.
        pickup: Whether customers may collect orders at the store.
        zone: Optional delivery zone: shapely Polygon/MultiPolygon, WKT or GeoJSON-like mapping,
            coordinates (lon, lat). The destination must lie inside it; a destination exactly
            on its edge is inside.
        max_radius_km: Optional maximum delivery distance.
        priority: Optional int rank for tie-breaks; lower ranks win (``1`` beats ``2``);
            unranked stores (``None``) come after ranked ones.
        costs: The store's shipment cost parameters.
        name: Optional display name used in explanations.

    Raises:
        RoutingValidationError: for a bad location, zone, radius or stock figure;
            ``routing.invalid_candidate`` for a priority that is not an int or ``None``
            (``details`` has ``store_id`` and ``field``).
    """

    store_id: str = attrs.field(converter=str)
    location: GeoPoint = attrs.field(converter=_location)
    stock: Mapping[str, int] = attrs.field(converter=_stock, factory=dict)
    delivers: bool = True
    pickup: bool = False
    zone: BaseGeometry | None = attrs.field(default=None, converter=_zone)
    max_radius_km: float | None = attrs.field(default=None, converter=_radius)
    priority: int | None = attrs.field(default=None, validator=_check_priority)
    costs: ShipmentCosts = attrs.field(factory=ShipmentCosts)
    name: str = ""
    geo: tuple[float, float, float] = attrs.field(init=False, repr=False)
    """(lat in radians, lon in radians, cos lat), precomputed for distances."""
    stock_dict: dict[str, int] = attrs.field(init=False, repr=False)
    """The dict behind the read-only ``stock`` view (never mutated), for fast lookups."""

    def __attrs_post_init__(self) -> None:
        lat = math.radians(self.location.lat)
        object.__setattr__(self, "geo", (lat, math.radians(self.location.lon), math.cos(lat)))
        object.__setattr__(self, "stock_dict", dict(self.stock))

    @property
    def label(self) -> str:
        """The name used in explanations: ``name (id)`` or the id."""
        return f"{self.name} ({self.store_id})" if self.name else self.store_id


@attrs.frozen(slots=True, kw_only=True)
class RouteRequest:
    """A validated routing request, kept on the plan so that it can be re-routed.

    Attributes:
        lines: SKU -> quantity ordered, in the caller's order.
        destination: Delivery point, or ``None`` for a pickup order.
        pickup_store: Store where the customer collects the order, if any.
        pins: SKU -> store id forced by an operator.
        excluded: Store ids that must not be used.
    """

    lines: tuple[tuple[str, int], ...]
    destination: GeoPoint | None = None
    pickup_store: str | None = None
    pins: tuple[tuple[str, str], ...] = ()
    excluded: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        lines: Mapping[str, int],
        destination: object = None,
        pickup_store: str | None = None,
        pins: Mapping[str, str] | None = None,
        excluded: Collection[str] | None = (),
    ) -> RouteRequest:
        """Validate plain request data.

        Args:
            lines: SKU -> quantity; SKUs are ``str`` and quantities positive ints.
            destination: Delivery point, or ``None`` for a pickup order.
            pickup_store: Store where the customer collects the order, if any.
            pins: SKU -> store id, both ``str``; ``None`` for no pins.
            excluded: Store ids not to use (one id may be given as a ``str``); ``None`` for none.

        Raises:
            RoutingValidationError: ``routing.empty_order`` for an order without lines,
                ``routing.invalid_order`` for a SKU that is not a ``str``, pins that are not a
                mapping of ``str`` to ``str`` or exclusions that are not a collection of ids,
                ``routing.invalid_quantity`` / ``routing.negative_quantity`` for a bad
                quantity, ``routing.invalid_coordinate`` / ``routing.missing_destination`` for
                a bad or missing destination and ``routing.unknown_sku`` for a pin to a SKU
                not in the order.
        """
        if not isinstance(lines, Mapping) or not lines:
            raise RoutingValidationError(
                "the order has no lines; pass lines={'SKU': quantity, ...}",
                code="routing.empty_order",
            )
        out: list[tuple[str, int]] = []
        for sku, qty in lines.items():
            if not isinstance(sku, str):
                raise RoutingValidationError(
                    f"SKU {sku!r} in the order lines is not a str ({type(sku).__name__}); "
                    "pass every SKU as a str",
                    code="routing.invalid_order",
                    details={"field": "lines"},
                )
            if isinstance(qty, bool) or not isinstance(qty, int):
                raise RoutingValidationError(
                    f"quantity of {sku!r} must be an int, got {qty!r}",
                    code="routing.invalid_quantity",
                )
            if qty < 0:
                raise RoutingValidationError(
                    f"quantity of {sku!r} is negative ({qty}); order one unit or more",
                    code="routing.negative_quantity",
                )
            if qty == 0:
                raise RoutingValidationError(
                    f"quantity of {sku!r} is zero; remove the line or order one unit or more",
                    code="routing.invalid_quantity",
                )
            out.append((str(sku), qty))
        dest = None if destination is None else to_point(destination, "destination")
        if dest is None and pickup_store is None:
            raise RoutingValidationError(
                "give a destination (lat, lon) for delivery or a pickup_store",
                code="routing.missing_destination",
            )
        return cls(
            lines=tuple(out),
            destination=dest,
            pickup_store=None if pickup_store is None else str(pickup_store),
            pins=() if pins is None else _pins(pins, {s for s, _ in out}),
            excluded=frozenset() if excluded is None else _excluded(excluded),
        )


def _pins(pins: object, known: set[str]) -> tuple[tuple[str, str], ...]:
    """Validate pins: a mapping of SKUs of the order to store ids, all ``str``."""
    if not isinstance(pins, Mapping):
        raise RoutingValidationError(
            f"pins must be a mapping of SKU -> store id, got a {type(pins).__name__}",
            code="routing.invalid_order",
            details={"field": "pins"},
        )
    out: list[tuple[str, str]] = []
    for sku, store in pins.items():
        if not isinstance(sku, str) or not isinstance(store, str):
            raise RoutingValidationError(
                f"pin {sku!r}: {store!r} must map a str SKU to a str store id",
                code="routing.invalid_order",
                details={"field": "pins"},
            )
        if sku not in known:
            raise RoutingValidationError(
                f"pin names SKU {sku!r} which is not in the order; pin one of {sorted(known)}",
                code="routing.unknown_sku",
                details={"sku": sku},
            )
        out.append((sku, store))
    return tuple(out)


def _excluded(excluded: object) -> frozenset[str]:
    """Validate exclusions: store ids, or a single id given as a ``str``."""
    if isinstance(excluded, str):
        return frozenset((excluded,))
    if not isinstance(excluded, Iterable):
        raise RoutingValidationError(
            f"excluded must be a collection of store ids, got a {type(excluded).__name__}",
            code="routing.invalid_order",
            details={"field": "excluded"},
        )
    return frozenset(str(e) for e in excluded)
