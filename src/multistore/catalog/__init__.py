"""Catalog: products and their SKUs as headquarters defines them."""

from multistore.catalog.model import Product, Sku

__all__ = ["Product", "Sku"]
