"""Publish a product to a region, stock the stores, move stock and reserve the last units.

Run with ``python examples/inventory_publish_and_reserve.py``. Everything is written to a
temporary SQLite file that is removed at the end.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import multistore
from multistore import money as m
from multistore.catalog import Product, PublishTarget, Sku
from multistore.errors import InsufficientStockError
from multistore.geo import GeoPoint
from multistore.ports.security import SYSTEM_ACTOR
from multistore.stores.model import Address, OpeningHours, Store

HOURS = OpeningHours.daily(time(8), time(22), timezone="Asia/Shanghai")


def store(store_id: str, name: str, region: str, city: str, *, lat: float, lon: float) -> Store:
    return Store(
        id=store_id,
        name=name,
        region=region,
        format="supermarket",
        address=Address(province=city, city=city, district="-", street=name),
        location=GeoPoint(lat, lon),
        opening_hours=HOURS,
        phone="400-000-0000",
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'chain.db'}"
        with multistore.connect(url) as ms:
            for s in (
                store("SH-001", "Nanjing Road", "east", "上海市", lat=31.2352, lon=121.4747),
                store("SH-002", "Lujiazui", "east", "上海市", lat=31.2397, lon=121.4998),
                store("HZ-001", "West Lake", "east", "杭州市", lat=30.2590, lon=120.1300),
                store("CD-001", "Chunxi Road", "west", "成都市", lat=30.6570, lon=104.0800),
            ):
                ms.stores.add(actor=SYSTEM_ACTOR, store=s)

            tea = Product(
                id="TEA-LJ",
                name="Longjing green tea",
                category="tea",
                brand="West Lake",
                skus=(
                    Sku(code="TEA-LJ-250", name="Longjing 250 g", list_price=m.money("88.00")),
                    Sku(code="TEA-LJ-500", name="Longjing 500 g", list_price=m.money("168.00")),
                ),
            )
            ms.catalog.add_product(actor=SYSTEM_ACTOR, product=tea)

            published = ms.catalog.publish(
                actor=SYSTEM_ACTOR, product_id="TEA-LJ", target=PublishTarget.regions("east")
            )
            print(f"catalog version {published.version}: {', '.join(published.store_ids)}")
            for sentence in published.explanation:
                print(f"  {sentence}")

            for store_id, units in (("SH-001", 6), ("SH-002", 2), ("HZ-001", 12)):
                ms.inventory.receive(
                    actor=SYSTEM_ACTOR, store_id=store_id, sku="TEA-LJ-250", quantity=units
                )
            ms.inventory.set_safety_buffer(
                actor=SYSTEM_ACTOR, store_id="SH-001", sku="TEA-LJ-250", units=1
            )

            # Hangzhou sends 4 tins to Lujiazui; they are in transit until received.
            ms.inventory.transfer(
                actor=SYSTEM_ACTOR,
                transfer_id="TR-0001",
                from_store="HZ-001",
                to_store="SH-002",
                sku="TEA-LJ-250",
                quantity=4,
            )
            print(f"in transit: {ms.inventory.in_transit(sku='TEA-LJ-250')} tins")
            ms.inventory.receive_transfer(actor=SYSTEM_ACTOR, transfer_id="TR-0001")

            # A flash sale gets 2 of Hangzhou's tins, fenced from every other channel.
            ms.inventory.set_quota(
                actor=SYSTEM_ACTOR,
                store_id="HZ-001",
                sku="TEA-LJ-250",
                channel="flash-sale",
                units=2,
            )

            # Lujiazui prices the tin at 79.00 for the first week of March.
            start = datetime(2026, 3, 1, tzinfo=UTC)
            ms.catalog.set_store_price(
                actor=SYSTEM_ACTOR,
                store_id="SH-002",
                sku="TEA-LJ-250",
                price=m.money("79.00"),
                valid_from=start,
                valid_to=start + timedelta(days=7),
            )
            quote = ms.catalog.price_at(
                store_id="SH-002", sku="TEA-LJ-250", at=start + timedelta(days=2)
            )
            print(f"price at Lujiazui on 3 March: {quote.price.amount} ({quote.source})")

            print("\nstore    on hand  reserved  available  flash-sale")
            for (store_id, _), level in ms.inventory.snapshot(skus=["TEA-LJ-250"]).items():
                flash = ms.inventory.available_for(
                    store_id=store_id, sku="TEA-LJ-250", channel="flash-sale"
                )
                print(
                    f"{store_id:8} {level.on_hand:7}  {level.reserved:8}  "
                    f"{level.available:9}  {flash:10}"
                )

            # 12 shoppers try to buy 2 tins each at Nanjing Road at the same moment (5 sellable).
            held: list[str] = []
            short: list[str] = []
            lock = threading.Lock()

            def shopper(n: int) -> None:
                key = f"ORDER-{n:03d}"
                try:
                    ms.inventory.reserve(
                        actor=SYSTEM_ACTOR, key=key, lines=[("SH-001", "TEA-LJ-250", 2)]
                    )
                except InsufficientStockError:
                    with lock:
                        short.append(key)
                else:
                    with lock:
                        held.append(key)

            threads = [threading.Thread(target=shopper, args=(n,)) for n in range(12)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            level = ms.inventory.level(store_id="SH-001", sku="TEA-LJ-250")
            print(
                f"\n{len(held)} orders held {level.reserved} tins at SH-001 "
                f"({level.on_hand} on hand, 1 kept off online sale); {len(short)} were told "
                "there is not enough stock"
            )
            oversold = level.reserved > level.on_hand - level.safety_buffer
            print(f"oversold: {'YES' if oversold else 'no'}")


if __name__ == "__main__":
    main()
