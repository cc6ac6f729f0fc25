"""The fingerprint of an order's content, used to tell a retry from a conflicting resend."""

from __future__ import annotations

import hashlib
import json

from multistore import money as m
from multistore.orders.model import Order

__all__ = ["order_fingerprint"]


def order_fingerprint(order: Order) -> str:
    """Return the SHA-256 of the order's normalised content.

    What the channel said counts: channel, external id, lines (sorted by SKU, prices in minor
    units with the currency), destination, pickup store and member. What multistore assigns
    (order id, status, time received) does not, so a retry of the same payload has the same
    fingerprint.

    Examples:
        >>> from multistore.testing.builders import sample_order
        >>> a = sample_order("ord_1", external_id="E1")
        >>> b = sample_order("ord_2", external_id="E1")
        >>> order_fingerprint(a) == order_fingerprint(b)
        True
    """
    document = {
        "channel": order.channel,
        "external_id": order.external_id,
        "lines": sorted(
            [
                line.sku,
                line.quantity,
                m.to_minor(line.unit_price),
                line.unit_price.currency.value,
            ]
            for line in order.lines
        ),
        "destination": None
        if order.destination is None
        else [round(order.destination.lat, 7), round(order.destination.lon, 7)],
        "pickup_store_id": order.pickup_store_id,
        "member_id": order.member_id,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
