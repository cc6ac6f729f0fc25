"""Valid sample domain values for tests, contract suites and examples.

Every builder takes the ids it needs and sensible keyword overrides, so a test can say only what
matters to it.

Examples:
    >>> store = sample_store("SH-001", region="east")
    >>> store.region
    'east'
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, time

from multistore import money as m
from multistore.catalog.model import Product, Sku
from multistore.geo import GeoPoint
from multistore.members.model import Member
from multistore.orders.model import Order, OrderLine, OrderStatus
from multistore.stores.model import Address, OpeningHours, Store, StoreStatus

__all__ = [
    "T0",
    "sample_member",
    "sample_order",
    "sample_product",
    "sample_store",
    "unique_prefix",
    "utc",
]

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
"""A fixed instant (a Monday, 16:00 in Shanghai) for deterministic tests."""


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return a timezone-aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def unique_prefix() -> str:
    """Return a short random prefix so tests sharing a database never collide."""
    return uuid.uuid4().hex[:12]


def sample_store(
    store_id: str,
    *,
    region: str = "east",
    store_format: str = "supermarket",
    status: StoreStatus = StoreStatus.ACTIVE,
    lat: float = 31.2304,
    lon: float = 121.4737,
    name: str | None = None,
) -> Store:
    """A valid store in Shanghai (override place, region, format or status as needed)."""
    return Store(
        id=store_id,
        name=name or f"Store {store_id}",
        region=region,
        format=store_format,
        address=Address(province="上海市", city="上海市", district="黄浦区", street="南京东路1号"),
        location=GeoPoint(lat, lon),
        opening_hours=OpeningHours.daily(time(9), time(21), timezone="Asia/Shanghai"),
        status=status,
        phone="021-12345678",
    )


def sample_product(
    product_id: str,
    sku_codes: Sequence[str],
    *,
    price: str = "12.50",
    currency: str = "CNY",
    tax_category: str = "general",
) -> Product:
    """A valid product with one SKU per code, each at ``price``."""
    skus = tuple(
        Sku(
            code=code,
            name=f"Variant {code}",
            list_price=m.money(price, currency),
            tax_category=tax_category,
            specs={"size": str(i + 1)},
            product_id=product_id,
        )
        for i, code in enumerate(sku_codes)
    )
    return Product(id=product_id, name=f"Product {product_id}", skus=skus, category="tea")


def sample_order(
    order_id: str,
    *,
    channel: str = "web",
    external_id: str | None = None,
    lines: Sequence[tuple[str, int, str]] = (("SKU-1", 1, "12.50"),),
    currency: str = "CNY",
    destination: GeoPoint | None = None,
    pickup_store_id: str | None = None,
    member_id: str | None = None,
    created_at: datetime | None = T0,
    status: OrderStatus = OrderStatus.PENDING,
) -> Order:
    """A valid order; ``lines`` are ``(sku, quantity, unit price)`` triples."""
    if destination is None and pickup_store_id is None:
        destination = GeoPoint(31.2, 121.5)
    return Order(
        id=order_id,
        channel=channel,
        external_id=external_id or f"EXT-{order_id}",
        lines=tuple(OrderLine(sku, qty, m.money(price, currency)) for sku, qty, price in lines),
        destination=destination,
        pickup_store_id=pickup_store_id,
        member_id=member_id,
        status=status,
        created_at=created_at,
    )


def sample_member(member_id: str, *, phone: str = "13812345678", name: str = "张三") -> Member:
    """A valid member."""
    return Member(id=member_id, name=name, phone=phone, tier="gold", joined_at=T0)
