"""Catalog: products and their SKUs as headquarters defines them, and where they are sold."""

from multistore.catalog.assortment import (
    CatalogChange,
    ChangeKind,
    ContentRejectedError,
    PriceQuote,
    PublishResult,
    PublishTarget,
    StorePrice,
)
from multistore.catalog.model import Product, Sku

__all__ = [
    "CatalogChange",
    "ChangeKind",
    "ContentRejectedError",
    "PriceQuote",
    "Product",
    "PublishResult",
    "PublishTarget",
    "Sku",
    "StorePrice",
]
