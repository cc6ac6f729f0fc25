"""The store network: validated candidates, distances, zones and a spatial index.

Build a :class:`StoreNetwork` once and route many orders against it; with many stores a shapely
``STRtree`` over boxes that hold each store's delivery area narrows the candidates before any
distance or zone test. The boxes are conservative (near the poles and across longitude +-180
too), so the index never drops a store that the exact tests accept. Distances are great-circle
(haversine) km, quantised to whole metres; a destination on the edge of a delivery zone is
inside the zone.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence

import shapely

from multistore.geo import EARTH_RADIUS_KM, GeoPoint
from multistore.routing.errors import RoutingCurrencyError, RoutingValidationError
from multistore.routing.request import CandidateStore

__all__ = ["INDEX_THRESHOLD", "Eligibility", "StoreNetwork"]

INDEX_THRESHOLD = 64
"""Networks with at least this many stores narrow candidates with an STRtree."""

_KM_PER_DEG = 2 * math.pi * EARTH_RADIUS_KM / 360.0


def distance_m(geo: tuple[float, float, float], lat2: float, lon2: float, cos2: float) -> int:
    """Haversine distance in whole metres from a store's precomputed (lat, lon, cos lat)."""
    lat1, lon1, cos1 = geo
    h = math.sin((lat2 - lat1) / 2) ** 2 + cos1 * cos2 * math.sin((lon2 - lon1) / 2) ** 2
    return round(2000.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h))))


_TWO_R = 2000.0 * EARTH_RADIUS_KM
_R_M = 1000.0 * EARTH_RADIUS_KM
_radians = math.radians
_cos = math.cos
_sin = math.sin
_asin = math.asin
_sqrt = math.sqrt
_intersects_xy = shapely.intersects_xy


_DEG_MARGIN = 1e-5
"""Degrees (about 1.1 m) added around every radius box: distances are rounded to whole metres."""

Box = tuple[float, float, float, float]
"""(min lon, min lat, max lon, max lat) in degrees."""


def _radius_boxes(lat: float, lon: float, radius_km: float) -> list[Box]:
    """Lon/lat boxes that together hold every point within ``radius_km`` of (lat, lon).

    The boxes are conservative by construction. A point within angular distance ``r`` of the
    centre lies within ``r`` of its latitude, and so does every point of the shortest path to
    it, whose latitude is therefore at most ``phi``, that of the box edge nearest the pole.
    Along that path a degree of longitude is at least ``cos(phi)`` degrees of arc, so the
    point's longitude differs by at most ``r / cos(phi)``. A box that reaches a pole spans all
    longitudes; one that passes longitude +-180 is split in two. The exact haversine test in
    :meth:`StoreNetwork.eligible` then decides.
    """
    dlat = radius_km / _KM_PER_DEG * 1.01 + _DEG_MARGIN
    south = max(lat - dlat, -90.0)
    north = min(lat + dlat, 90.0)
    edge = max(abs(lat - dlat), abs(lat + dlat))
    dlon = 180.0 if edge >= 90.0 else dlat / math.cos(math.radians(edge))
    if dlon >= 180.0:
        return [(-180.0, south, 180.0, north)]
    west = lon - dlon
    east = lon + dlon
    boxes = [(max(west, -180.0), south, min(east, 180.0), north)]
    if west <= -180.0:
        boxes.append((west + 360.0, south, 180.0, north))
    if east >= 180.0:
        boxes.append((-180.0, south, east - 360.0, north))
    return boxes


def _reach_boxes(s: CandidateStore) -> list[shapely.Polygon] | None:
    """Boxes holding every destination ``s`` may serve; ``None`` when it has no zone or radius."""
    if s.max_radius_km is None:
        if s.zone is None:
            return None
        return [shapely.box(*s.zone.bounds)]
    boxes = _radius_boxes(s.location.lat, s.location.lon, s.max_radius_km)
    if s.zone is not None:
        zx0, zy0, zx1, zy1 = s.zone.bounds
        boxes = [
            (max(x0, zx0), max(y0, zy0), min(x1, zx1), min(y1, zy1)) for x0, y0, x1, y1 in boxes
        ]
        boxes = [b for b in boxes if b[0] <= b[2] and b[1] <= b[3]]
    return [shapely.box(*b) for b in boxes]


class Eligibility:
    """Which stores may serve one destination, their distances and why the others may not."""

    __slots__ = ("distances", "reasons", "stores", "unreachable")

    def __init__(self) -> None:
        self.stores: list[int] = []
        self.distances: list[int] = []
        self.reasons: dict[int, str] = {}
        self.unreachable = 0


class StoreNetwork:
    """A validated, indexed set of candidate stores; reuse it across orders.

    Args:
        stores: The candidate stores.

    Raises:
        RoutingValidationError: ``routing.no_candidates`` for an empty list,
            ``routing.duplicate_store`` when two stores share an id.
        RoutingCurrencyError: ``routing.currency_mismatch`` when stores price in different
            currencies.

    Examples:
        >>> net = StoreNetwork([CandidateStore(store_id="S1", location=(31.2, 121.4))])
        >>> net.index_of["S1"]
        0
    """

    def __init__(self, stores: Iterable[CandidateStore]) -> None:
        self.stores: tuple[CandidateStore, ...] = tuple(stores)
        if not self.stores:
            raise RoutingValidationError(
                "there are no candidate stores; pass at least one CandidateStore",
                code="routing.no_candidates",
            )
        stores = self.stores
        self.index_of: dict[str, int] = {}
        if all(type(s) is CandidateStore for s in stores):
            self.index_of = {s.store_id: i for i, s in enumerate(stores)}
        if len(self.index_of) != len(stores):
            self.index_of = self._check_ids(stores)
        currencies = {s.costs.currency for s in self.stores}
        if len(currencies) > 1:
            raise RoutingCurrencyError(
                f"candidates price shipments in several currencies ({sorted(currencies)}); "
                "use one currency",
            )
        self.currency: str = currencies.pop()
        self._tree: shapely.STRtree | None = None
        self._unbounded: list[int] = []
        self._tree_ids: list[int] = []
        self._all: list[int] = list(range(len(self.stores)))
        self._radius_why: dict[int, str] = {}
        if len(self.stores) >= INDEX_THRESHOLD:
            self._build_index()

    @functools.cached_property
    def stock_view(self) -> tuple[dict[str, int], ...]:
        """Each store's own stock (network order), shared by every order routed."""
        return tuple(s.stock_dict for s in self.stores)

    @staticmethod
    def _check_ids(stores: tuple[CandidateStore, ...]) -> dict[str, int]:
        index_of: dict[str, int] = {}
        for i, s in enumerate(stores):
            if not isinstance(s, CandidateStore):
                raise RoutingValidationError(
                    f"candidate #{i} is a {type(s).__name__}, not a CandidateStore",
                    code="routing.invalid_candidate",
                )
            if s.store_id in index_of:
                raise RoutingValidationError(
                    f"store id {s.store_id!r} appears twice among the candidates; ids must be "
                    "unique",
                    code="routing.duplicate_store",
                    details={"store_id": s.store_id},
                )
            index_of[s.store_id] = i
        return index_of

    @classmethod
    def of(cls, candidates: Sequence[CandidateStore] | StoreNetwork) -> StoreNetwork:
        """Return ``candidates`` as a network (itself when it already is one)."""
        if isinstance(candidates, StoreNetwork):
            return candidates
        if candidates is None or isinstance(candidates, str | bytes):
            raise RoutingValidationError(
                "candidates must be a sequence of CandidateStore", code="routing.no_candidates"
            )
        return cls(candidates)

    def _build_index(self) -> None:
        boxes: list[shapely.Polygon] = []
        for i, s in enumerate(self.stores):
            areas = _reach_boxes(s)
            if areas is None:
                self._unbounded.append(i)
                continue
            for area in areas:
                self._tree_ids.append(i)
                boxes.append(area)
        if boxes:
            self._tree = shapely.STRtree(boxes)

    def _near(self, point: GeoPoint) -> list[int]:
        if self._tree is None:
            return self._all
        # every indexed area is an axis-aligned box, so the envelope test is the whole test
        hits = self._tree.query(shapely.Point(point.lon, point.lat))
        found = [self._tree_ids[int(h)] for h in hits]
        found.extend(self._unbounded)
        found.sort()
        return found

    def in_reach(self, index: int, point: GeoPoint) -> bool:
        """Whether store ``index`` passed the spatial index for ``point`` (always without one).

        A store that fails this test for a destination is counted in
        :attr:`Eligibility.unreachable`, with no reason of its own.
        """
        return self._tree is None or index in self._near(point)

    def eligible(  # noqa: PLR0912, PLR0915 - one pass over the stores, kept in one frame
        self,
        *,
        destination: GeoPoint,
        excluded: frozenset[str],
        skus: set[str],
        home: int | None = None,
        stock: Sequence[Mapping[str, int]] | None = None,
    ) -> Eligibility:
        """Find the stores that may ship to ``destination`` and hold at least one of ``skus``.

        Args:
            destination: The delivery point (a pickup store's location for transfers).
            excluded: Store ids not to use.
            skus: The SKUs of the order; stores holding none of them are skipped silently.
            home: The pickup store: eligible at distance 0 whenever it holds one of ``skus``,
                whatever its zone, radius or ``delivers`` flag (the customer collects there).
            stock: Per-store stock overriding the stores' own (network order), for batches.
        """
        out = Eligibility()
        lat2 = _radians(destination.lat)
        lon2 = _radians(destination.lon)
        cos2 = _cos(lat2)
        near = self._near(destination)
        if home is not None and self._tree is not None and home not in near:
            # the customer collects at the pickup store: it needs no delivery area of its own
            near.append(home)
            near.sort()
        out.unreachable = len(self.stores) - len(near)
        stores = self.stores
        sin = _sin
        asin = _asin
        sqrt = _sqrt
        two_r = _TWO_R
        reasons = out.reasons
        ok_stores = out.stores
        ok_dist = out.distances
        dlon = destination.lon
        dlat = destination.lat
        radius_why = self._radius_why
        for i in near:
            s = stores[i]
            if stock is None:
                if s.stock_dict.keys().isdisjoint(skus):
                    continue
            else:
                view = stock[i]
                for k in skus:
                    if view.get(k, 0) > 0:
                        break
                else:
                    continue
            if s.store_id in excluded:
                reasons[i] = "excluded"
                continue
            if i == home:
                ok_stores.append(i)
                ok_dist.append(0)
                continue
            if not s.delivers:
                reasons[i] = "does not deliver"
                continue
            lat1, lon1, cos1 = s.geo
            radius = s.max_radius_km
            if radius is not None and abs(lat2 - lat1) * _R_M > radius * 1000.0 + 1.0:
                # the great-circle distance is at least R * |dlat|, so the haversine below
                # would put the store beyond its radius too (1 m covers float rounding)
                d = -1
            else:
                h = sin((lat2 - lat1) / 2) ** 2 + cos1 * cos2 * sin((lon2 - lon1) / 2) ** 2
                x = sqrt(h)
                d = round(two_r * asin(1.0 if x > 1.0 else x))
            if radius is not None and (d < 0 or d > radius * 1000.0):
                why = radius_why.get(i)
                if why is None:
                    why = radius_why[i] = f"beyond its {radius:g} km delivery radius"
                reasons[i] = why
                continue
            zone = s.zone
            if zone is not None and not _intersects_xy(zone, dlon, dlat):
                reasons[i] = "outside its delivery zone"
                continue
            ok_stores.append(i)
            ok_dist.append(d)
        return out

    def distance_to(self, index: int, point: GeoPoint) -> int:
        """Distance in metres from store ``index`` to ``point``."""
        lat2 = math.radians(point.lat)
        return distance_m(self.stores[index].geo, lat2, math.radians(point.lon), math.cos(lat2))
