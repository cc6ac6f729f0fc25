"""A small demo chain: stores in real Chinese cities, a few products and their stock.

Plain data, shared by the CLI demo, the examples and the docs. Coordinates are the real
districts' approximate centres.
"""

from __future__ import annotations

from datetime import time

from multistore.catalog.model import Product, Sku
from multistore.geo import GeoPoint
from multistore.money import money
from multistore.stores.model import Address, OpeningHours, Store

__all__ = ["PRODUCTS", "STOCK", "STORES"]

_HOURS = OpeningHours.daily(time(8), time(22), timezone="Asia/Shanghai")


def _store(  # noqa: PLR0917 - a compact row-per-store table reads best positionally
    store_id: str,
    name: str,
    region: str,
    fmt: str,
    province: str,
    city: str,
    district: str,
    lat: float,
    lon: float,
) -> Store:
    return Store(
        id=store_id,
        name=name,
        region=region,
        format=fmt,
        address=Address(province=province, city=city, district=district),
        location=GeoPoint(lat, lon),
        opening_hours=_HOURS,
    )


STORES: tuple[Store, ...] = (
    _store(
        "SH-PD",
        "Pudong Lujiazui",
        "east",
        "supermarket",
        "上海市",
        "上海市",
        "浦东新区",
        31.2397,
        121.4998,
    ),
    _store(
        "SH-XH",
        "Xuhui Xujiahui",
        "east",
        "supermarket",
        "上海市",
        "上海市",
        "徐汇区",
        31.1940,
        121.4368,
    ),
    _store(
        "SH-JA",
        "Jing'an Temple",
        "east",
        "convenience",
        "上海市",
        "上海市",
        "静安区",
        31.2235,
        121.4453,
    ),
    _store(
        "HZ-XH",
        "Hangzhou West Lake",
        "east",
        "supermarket",
        "浙江省",
        "杭州市",
        "西湖区",
        30.2592,
        120.1300,
    ),
    _store(
        "BJ-CY",
        "Beijing Sanlitun",
        "north",
        "supermarket",
        "北京市",
        "北京市",
        "朝阳区",
        39.9334,
        116.4550,
    ),
    _store(
        "BJ-HD",
        "Beijing Zhongguancun",
        "north",
        "convenience",
        "北京市",
        "北京市",
        "海淀区",
        39.9840,
        116.3160,
    ),
    _store(
        "GZ-TH",
        "Guangzhou Tianhe",
        "south",
        "supermarket",
        "广东省",
        "广州市",
        "天河区",
        23.1380,
        113.3300,
    ),
    _store(
        "SZ-NS",
        "Shenzhen Nanshan",
        "south",
        "convenience",
        "广东省",
        "深圳市",
        "南山区",
        22.5333,
        113.9300,
    ),
)

PRODUCTS: tuple[Product, ...] = (
    Product(
        id="P-TEA",
        name="West Lake Longjing tea",
        category="tea",
        brand="Shifeng",
        skus=(
            Sku(
                code="TEA-250G",
                name="Longjing tea 250 g",
                list_price=money("168.00"),
                tax_category="agricultural",
                specs={"weight": "250g"},
                product_id="P-TEA",
            ),
            Sku(
                code="TEA-500G",
                name="Longjing tea 500 g",
                list_price=money("299.00"),
                tax_category="agricultural",
                specs={"weight": "500g"},
                product_id="P-TEA",
            ),
        ),
    ),
    Product(
        id="P-RICE",
        name="Northeast rice",
        category="grain",
        brand="Wuchang",
        skus=(
            Sku(
                code="RICE-5KG",
                name="Wuchang rice 5 kg",
                list_price=money("79.90"),
                tax_category="agricultural",
                specs={"weight": "5kg"},
                product_id="P-RICE",
            ),
        ),
    ),
    Product(
        id="P-MILK",
        name="Fresh milk",
        category="dairy",
        brand="Bright",
        skus=(
            Sku(
                code="MILK-1L",
                name="Fresh milk 1 L",
                list_price=money("16.80"),
                tax_category="food",
                specs={"volume": "1L"},
                product_id="P-MILK",
            ),
        ),
    ),
    Product(
        id="P-KETTLE",
        name="Electric kettle",
        category="appliances",
        brand="Midea",
        skus=(
            Sku(
                code="KETTLE-17",
                name="Electric kettle 1.7 L",
                list_price=money("129.00"),
                tax_category="general",
                specs={"volume": "1.7L"},
                product_id="P-KETTLE",
            ),
        ),
    ),
)

STOCK: dict[tuple[str, str], int] = {
    ("SH-PD", "TEA-250G"): 12,
    ("SH-PD", "RICE-5KG"): 40,
    ("SH-PD", "MILK-1L"): 60,
    ("SH-XH", "TEA-250G"): 3,
    ("SH-XH", "TEA-500G"): 5,
    ("SH-XH", "MILK-1L"): 25,
    ("SH-JA", "MILK-1L"): 18,
    ("SH-JA", "KETTLE-17"): 2,
    ("HZ-XH", "TEA-250G"): 50,
    ("HZ-XH", "TEA-500G"): 30,
    ("HZ-XH", "RICE-5KG"): 10,
    ("BJ-CY", "RICE-5KG"): 35,
    ("BJ-CY", "MILK-1L"): 45,
    ("BJ-CY", "KETTLE-17"): 8,
    ("BJ-HD", "MILK-1L"): 20,
    ("BJ-HD", "TEA-250G"): 4,
    ("GZ-TH", "RICE-5KG"): 25,
    ("GZ-TH", "KETTLE-17"): 6,
    ("GZ-TH", "TEA-500G"): 2,
    ("SZ-NS", "MILK-1L"): 15,
    ("SZ-NS", "TEA-250G"): 1,
}
"""On-hand units per (store id, SKU code)."""
