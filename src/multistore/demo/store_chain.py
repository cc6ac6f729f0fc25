"""Demo section "chain": build the demo chain in a SQLite file and show stores and stock.

Ends with a burst of concurrent checkouts on the last units of one SKU, to show that a store
never sells more than it holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import multistore
from multistore.catalog import Product
from multistore.catalog.assortment import PublishTarget
from multistore.demo.chain import PRODUCTS, STOCK, STORES
from multistore.errors import InsufficientStockError
from multistore.ports.security import SYSTEM_ACTOR

__all__ = ["run"]


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Render an aligned text table (CJK characters count as two columns)."""

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    widths = [max(width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def fmt(row: list[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(row, widths, strict=True))

    return [fmt(headers), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)]


def _publish_plan(
    products: tuple[Product, ...],
) -> list[tuple[Product, PublishTarget]]:
    """Tea and rice to every store, milk to the east region, kettles to three named stores."""
    by_id = {p.id: p for p in products}
    return [
        (by_id["P-TEA"], PublishTarget.all()),
        (by_id["P-RICE"], PublishTarget.all()),
        (by_id["P-MILK"], PublishTarget.regions("east")),
        (by_id["P-KETTLE"], PublishTarget.stores("SH-JA", "BJ-CY", "GZ-TH")),
    ]


def run(out: Callable[[str], None], *, db_path: Path = Path("multistore-demo.db")) -> None:
    """Create the demo chain in ``db_path`` (recreated) and print it."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    with multistore.connect(url) as ms:
        for store in STORES:
            ms.stores.add(actor=SYSTEM_ACTOR, store=store)
        for product in PRODUCTS:
            ms.catalog.add_product(actor=SYSTEM_ACTOR, product=product)
        publications = [
            ms.catalog.publish(actor=SYSTEM_ACTOR, product_id=p.id, target=target)
            for p, target in _publish_plan(PRODUCTS)
        ]
        for (store_id, sku), units in STOCK.items():
            ms.inventory.receive(actor=SYSTEM_ACTOR, store_id=store_id, sku=sku, quantity=units)
        ms.relay_events()

        out(f"Demo chain stored in {db_path} ({url})")
        out("")
        stores = ms.stores.list()
        out(f"{len(stores)} stores:")
        for line in _table(
            ["id", "name", "city", "district", "region", "format"],
            [
                [s.id, s.name, s.address.city, s.address.district, s.region, s.format]
                for s in stores
            ],
        ):
            out("  " + line)

        skus = [sku for p in ms.catalog.list() for sku in p.skus]
        out("")
        out(f"{len(skus)} SKUs and their list prices:")
        for line in _table(
            ["sku", "name", "list price", "tax category"],
            [[k.code, k.name, f"¥{k.list_price.amount}", k.tax_category] for k in skus],
        ):
            out("  " + line)

        out("")
        out("Catalog published from headquarters (one chain-wide version per publish):")
        for pub in publications:
            out(f"  v{pub.version} {pub.product_id}: " + " ".join(pub.explanation))
        out(
            "  East-region assortment of SH-JA: "
            + ", ".join(ms.catalog.assortment(store_id="SH-JA"))
            + "; changes since v2 for a syncing channel: "
            + str(len(ms.catalog.changes_since(version=2)))
        )

        snapshot = ms.inventory.snapshot(skus=[k.code for k in skus])
        out("")
        out("Stock on hand per store (one bulk snapshot):")
        for line in _table(
            ["store", *(k.code for k in skus)],
            [
                [s.id]
                + [
                    str(snapshot[(s.id, k.code)].on_hand) if (s.id, k.code) in snapshot else "-"
                    for k in skus
                ]
                for s in stores
            ],
        ):
            out("  " + line)

        _checkout_burst(ms, out)
        _reorder_alert(ms, out)


def _checkout_burst(ms: multistore.Multistore, out: Callable[[str], None]) -> None:
    """Many concurrent checkouts for the last units of one SKU: none may oversell."""
    store_id, sku = "SH-JA", "KETTLE-17"
    on_hand = ms.inventory.level(store_id=store_id, sku=sku).on_hand
    shoppers = 12
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(shoppers)

    def checkout(n: int) -> None:
        start.wait()
        try:
            ms.inventory.reserve(actor=SYSTEM_ACTOR, key=f"burst-{n}", lines=[(store_id, sku, 1)])
            outcome = "reserved"
        except InsufficientStockError:
            outcome = "sold out"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=checkout, args=(n,)) for n in range(shoppers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    level = ms.inventory.level(store_id=store_id, sku=sku)
    won = results.count("reserved")
    out("")
    out(
        f"{shoppers} shoppers check out {sku} at {store_id} at the same moment; "
        f"{on_hand} units on hand."
    )
    out(
        f"  reserved: {won}, sold out: {results.count('sold out')}; "
        f"store now holds on_hand={level.on_hand}, reserved={level.reserved}, "
        f"available={level.available}"
    )
    verdict = "no oversell" if won <= on_hand and level.reserved <= level.on_hand else "OVERSOLD"
    out(f"  -> {verdict}: every unit was sold at most once.")


def _reorder_alert(ms: multistore.Multistore, out: Callable[[str], None]) -> None:
    """A reorder point on milk at SH-JA, then single sales: one alert when it is crossed."""
    store_id, sku = "SH-JA", "MILK-1L"
    alerts: list[str] = []
    ms.events.subscribe(
        "replenishment.below_reorder_point",
        lambda event: alerts.append(str(event.payload["explanation"])),
    )
    ms.relay_events(limit=100_000)
    on_hand = ms.inventory.level(store_id=store_id, sku=sku).on_hand
    point = on_hand - 3
    ms.replenishment.set_reorder_point(
        actor=SYSTEM_ACTOR, store_id=store_id, sku=sku, reorder_point=point, order_up_to=60
    )
    sales = 6
    for _ in range(sales):
        ms.inventory.record_movement(
            actor=SYSTEM_ACTOR, store_id=store_id, sku=sku, kind="sale", quantity=-1
        )
    ms.relay_events(limit=100_000)
    out("")
    out(
        f"{sku} at {store_id}: {on_hand} on hand, reorder point {point}; "
        f"{sales} single sales -> {len(alerts)} alert(s) through the outbox (once per crossing):"
    )
    for line in alerts:
        out("  " + line)
