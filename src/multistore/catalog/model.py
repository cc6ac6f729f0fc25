"""The catalog model: products and the SKUs (variants) that are actually stocked and sold."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from money.money import Money

from multistore._validation import check_minor_units, check_text, valid_id, valid_text
from multistore.errors import FloatMoneyError, ValidationError

__all__ = ["Product", "Sku"]


def _frozen_specs(value: Mapping[str, Any] | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            "specs must be a mapping of name -> value", code="catalog.invalid_specs"
        )
    return {check_text(k, "spec name"): str(v) for k, v in value.items()}


@attrs.frozen
class Sku:
    """A stock-keeping unit: one sellable variant of a product (``"TEA-500G-GREEN"``).

    Attributes:
        code: Unique SKU code.
        name: Display name of the variant.
        list_price: Headquarters' list price per unit (tax included, as Chinese retail quotes).
        tax_category: Key into the tax rate table (``"food"``, ``"general"``).
        specs: Variant attributes such as ``{"weight": "500g", "colour": "green"}``.
        barcode: GTIN/EAN barcode when the item has one.
        product_id: The product this SKU belongs to ("" for a standalone SKU).

    Raises:
        ValidationError: ``validation.empty_id`` for an empty code; ``catalog.invalid_price``
            for a negative or non-Money price, or one above ``2**63 - 1`` minor units.
        FloatMoneyError: when the price is a float.
    """

    code: str = attrs.field(validator=valid_id("sku.code"))
    name: str = attrs.field(validator=valid_text("sku.name"))
    list_price: Money
    tax_category: str = attrs.field(default="general", validator=valid_id("sku.tax_category"))
    specs: dict[str, str] = attrs.field(factory=dict, converter=_frozen_specs, hash=False)
    barcode: str | None = None
    product_id: str = ""

    def __attrs_post_init__(self) -> None:
        if isinstance(self.list_price, float):
            raise FloatMoneyError(
                f"list price of SKU {self.code!r} is a float; "
                "pass Money via multistore.money.money('12.30')"
            )
        if not isinstance(self.list_price, Money) or self.list_price.amount < 0:
            raise ValidationError(
                f"list price of SKU {self.code!r} must be a non-negative Money, "
                f"got {self.list_price!r}",
                code="catalog.invalid_price",
            )
        check_minor_units(self.list_price, "sku.list_price", code="catalog.invalid_price")
        if self.barcode is not None and not (
            self.barcode.isdigit() and len(self.barcode) in (8, 12, 13, 14)
        ):
            raise ValidationError(
                f"barcode {self.barcode!r} of SKU {self.code!r} must be 8, 12, 13 or 14 digits",
                code="catalog.invalid_barcode",
            )


def _sku_tuple(skus: Iterable[Sku]) -> tuple[Sku, ...]:
    return tuple(skus)


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class Product:
    """A product as headquarters defines it, with one or more SKUs.

    Raises:
        ValidationError: for an empty id or name, no SKUs, or duplicate SKU codes.
    """

    id: str = attrs.field(validator=valid_id("product.id"))
    name: str = attrs.field(validator=valid_text("product.name"))
    skus: tuple[Sku, ...] = attrs.field(converter=_sku_tuple)
    category: str = ""
    brand: str = ""
    images: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.skus:
            raise ValidationError(
                f"product {self.id!r} has no SKU; give it at least one", code="catalog.no_sku"
            )
        seen: set[str] = set()
        for sku in self.skus:
            if not isinstance(sku, Sku):
                raise ValidationError(
                    "product.skus must hold Sku values", code="validation.invalid"
                )
            if sku.code in seen:
                raise ValidationError(
                    f"SKU code {sku.code!r} appears twice in product {self.id!r}",
                    code="catalog.duplicate_sku",
                )
            seen.add(sku.code)
