"""The store model: identity, place, opening hours and status of one physical shop."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from multistore._validation import (
    check_enum,
    check_text,
    valid_bool,
    valid_id,
    valid_str,
    valid_text,
)
from multistore.errors import ValidationError
from multistore.geo import GeoPoint

__all__ = ["Address", "OpeningHours", "OpeningPeriod", "Store", "StoreStatus"]


class StoreStatus(enum.StrEnum):
    """Lifecycle of a store: only ``active`` stores sell and fulfil."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


@attrs.frozen
class Address:
    """A postal address (Chinese order: province, city, district, street).

    Raises:
        ValidationError: ``validation.empty_text`` when city or street is empty.
    """

    province: str
    city: str
    district: str = ""
    street: str = ""
    postcode: str = ""

    def __attrs_post_init__(self) -> None:
        check_text(self.city, "address.city")

    def __str__(self) -> str:
        return "".join(p for p in (self.province, self.city, self.district, self.street) if p)


@attrs.frozen
class OpeningPeriod:
    """One opening period on one weekday (0 = Monday).

    A period whose ``closes`` is before ``opens`` runs past midnight (22:00-02:00).

    Raises:
        ValidationError: ``store.invalid_hours`` for a weekday outside 0-6 or an empty period.
    """

    weekday: int
    opens: time
    closes: time

    def __attrs_post_init__(self) -> None:
        if isinstance(self.weekday, bool) or self.weekday not in range(7):
            raise ValidationError(
                f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday!r}",
                code="store.invalid_hours",
            )
        if self.opens == self.closes:
            raise ValidationError(
                f"opening period on weekday {self.weekday} opens and closes at {self.opens}; "
                "give a period of positive length",
                code="store.invalid_hours",
            )

    def covers(self, weekday: int, at: time) -> bool:
        """Whether local wall-clock ``at`` on ``weekday`` falls inside this period."""
        if self.opens < self.closes:
            return weekday == self.weekday and self.opens <= at < self.closes
        # Runs past midnight: the evening of its own day and the early hours of the next.
        return (weekday == self.weekday and at >= self.opens) or (
            weekday == (self.weekday + 1) % 7 and at < self.closes
        )


def _period_tuple(periods: Iterable[OpeningPeriod]) -> tuple[OpeningPeriod, ...]:
    return tuple(periods)


@attrs.frozen
class OpeningHours:
    """A weekly timetable in the store's own time zone.

    Examples:
        >>> hours = OpeningHours.daily(time(9), time(21), timezone="Asia/Shanghai")
        >>> from datetime import UTC
        >>> hours.is_open(datetime(2026, 11, 25, 4, 0, tzinfo=UTC))  # 12:00 in Shanghai
        True
    """

    periods: tuple[OpeningPeriod, ...] = attrs.field(converter=_period_tuple, default=())
    timezone: str = "Asia/Shanghai"

    def __attrs_post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                f"unknown time zone {self.timezone!r}; use an IANA name such as 'Asia/Shanghai'",
                code="store.invalid_hours",
            ) from None

    @classmethod
    def daily(cls, opens: time, closes: time, *, timezone: str = "Asia/Shanghai") -> OpeningHours:
        """The same hours every day of the week."""
        return cls(tuple(OpeningPeriod(d, opens, closes) for d in range(7)), timezone)

    def is_open(self, at: datetime) -> bool:
        """Whether the store is open at the timezone-aware instant ``at``.

        Raises:
            ValidationError: ``validation.naive_datetime`` when ``at`` has no time zone.
        """
        if at.tzinfo is None:
            raise ValidationError(
                "datetime must be timezone-aware (UTC inside multistore)",
                code="validation.naive_datetime",
            )
        local = at.astimezone(ZoneInfo(self.timezone))
        return any(p.covers(local.weekday(), local.time()) for p in self.periods)


def _store_status(value: object) -> StoreStatus:
    return check_enum(StoreStatus, value, "store.status")


@attrs.frozen
class Store:
    """One physical store of the chain.

    Attributes:
        id: Stable store id chosen by the chain (``"SH-001"``).
        name: Display name.
        region: Region code used for grouping and permission scopes (``"east"``).
        format: Business format (业态), e.g. ``"supermarket"``, ``"convenience"``.
        address: Postal address.
        location: Where the store is, for routing and delivery zones.
        opening_hours: Weekly timetable in the store's time zone.
        status: Lifecycle status.
        phone: Contact phone number of the store (business contact, not customer PII).
        delivers: Whether the store ships to customers.
        pickup: Whether customers may collect orders here.

    Raises:
        ValidationError: ``validation.empty_id`` for an empty id or region,
            ``validation.empty_text`` for an empty name or format, ``validation.invalid`` for a
            phone that is not a string or ``delivers`` / ``pickup`` that is not a bool,
            ``geo.invalid_coordinate`` for a location that is not a GeoPoint.
    """

    id: str = attrs.field(validator=valid_id("store.id"))
    name: str = attrs.field(validator=valid_text("store.name"))
    region: str = attrs.field(validator=valid_id("store.region"))
    format: str = attrs.field(validator=valid_text("store.format"))
    address: Address
    location: GeoPoint
    opening_hours: OpeningHours = attrs.field(factory=OpeningHours)
    status: StoreStatus = attrs.field(default=StoreStatus.ACTIVE, converter=_store_status)
    phone: str = attrs.field(default="", validator=valid_str("store.phone"))
    delivers: bool = attrs.field(default=True, validator=valid_bool("store.delivers"))
    pickup: bool = attrs.field(default=True, validator=valid_bool("store.pickup"))

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.location, GeoPoint):
            raise ValidationError(
                "store.location must be a GeoPoint(lat, lon)", code="geo.invalid_coordinate"
            )
        if not isinstance(self.address, Address):
            raise ValidationError("store.address must be an Address", code="validation.invalid")
