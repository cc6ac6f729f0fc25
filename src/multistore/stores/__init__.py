"""Stores: the physical shops of the chain, grouped by region and format."""

from multistore.stores.model import (
    Address,
    OpeningHours,
    OpeningPeriod,
    Store,
    StoreStatus,
)

__all__ = ["Address", "OpeningHours", "OpeningPeriod", "Store", "StoreStatus"]
