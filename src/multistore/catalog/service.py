"""Catalog use cases: headquarters adds products once; everyone looks them up."""

from __future__ import annotations

from collections.abc import Sequence

from multistore import money as m
from multistore.catalog.model import Product, Sku
from multistore.errors import ValidationError
from multistore.ports.security import Actor, Scope
from multistore.ports.storage import UnitOfWork
from multistore.services.context import Outcome, ServiceContext

__all__ = ["CatalogService"]


class CatalogService:
    """The central catalog (``ms.catalog``). Action: ``catalog.add_product`` (at headquarters)."""

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    def add_product(self, *, actor: Actor, product: Product) -> Product:
        """Add a product and its SKUs to the central catalog.

        Args:
            actor: Who acts; needs ``catalog.add_product`` at headquarters.
            product: The product, built with its :class:`Sku` values (validated on construction).

        Returns:
            The stored product.

        Raises:
            ValidationError: when ``product`` is not a Product (nothing is written).
            ConflictError: ``catalog.duplicate_product`` or ``catalog.duplicate_sku``.
            PermissionDeniedError: when the actor may not edit the catalog.
        """
        if not isinstance(product, Product):
            raise ValidationError(
                "product must be a multistore.catalog.Product", code="validation.invalid"
            )

        def work(uow: UnitOfWork) -> Outcome[Product]:
            uow.products.add(product)
            payload = {
                "product_id": product.id,
                "skus": [
                    {
                        "code": sku.code,
                        "list_price_minor": m.to_minor(sku.list_price),
                        "currency": sku.list_price.currency.value,
                        "tax_category": sku.tax_category,
                    }
                    for sku in product.skus
                ],
            }
            return Outcome(
                product,
                [("catalog.product_added", f"product:{product.id}", payload)],
                {"skus": [sku.code for sku in product.skus]},
            )

        return self._ctx.run(
            actor=actor,
            action="catalog.add_product",
            target=f"product:{product.id}",
            scopes=lambda uow: [Scope.hq()],
            work=work,
        )

    def get(self, *, product_id: str) -> Product:
        """Return one product.

        Raises:
            NotFoundError: ``catalog.product_not_found``.
        """
        return self._ctx.read(lambda uow: uow.products.get(product_id))

    def get_sku(self, *, code: str) -> Sku:
        """Return one SKU.

        Raises:
            NotFoundError: ``catalog.sku_not_found``.
        """
        return self._ctx.read(lambda uow: uow.products.get_sku(code))

    def list(self) -> Sequence[Product]:
        """Return every product, sorted by id."""
        return self._ctx.read(lambda uow: list(uow.products.list()))
