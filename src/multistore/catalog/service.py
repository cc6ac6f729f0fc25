"""Catalog use cases: headquarters adds products once; everyone looks them up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from money.money import Money

from multistore import money as m
from multistore._validation import check_id, check_non_negative_int
from multistore.catalog.assortment import (
    CatalogChange,
    ChangeKind,
    ContentRejectedError,
    PriceQuote,
    PublishResult,
    PublishTarget,
    StorePrice,
    TargetKind,
    resolve_price,
)
from multistore.catalog.model import Product, Sku
from multistore.errors import CurrencyMismatchError, ValidationError
from multistore.ports.content_review import ContentReviewer, PassThroughReviewer
from multistore.ports.security import Actor, Scope
from multistore.ports.storage import UnitOfWork
from multistore.services.context import Outcome, ServiceContext
from multistore.services.scopes import store_scope

__all__ = ["CatalogService"]


class CatalogService:
    """The central catalog (``ms.catalog``).

    Actions: ``catalog.add_product``, ``catalog.publish``, ``catalog.unpublish`` (at
    headquarters); ``catalog.set_store_price`` (in the store).

    Args:
        context: The shared ports.
        reviewer: Reviews product copy before it is stored or published (default: approve all).
    """

    def __init__(self, context: ServiceContext, *, reviewer: ContentReviewer | None = None) -> None:
        self._ctx = context
        self._reviewer: ContentReviewer = (
            reviewer if reviewer is not None else PassThroughReviewer()
        )

    def _review(self, product: Product) -> None:
        verdict = self._reviewer.review(product)
        if not verdict.approved:
            reasons = "; ".join(verdict.reasons) or "no reason given"
            raise ContentRejectedError(
                f"content review ({verdict.reviewer}) rejected product {product.id!r}: "
                f"{reasons}. Change the copy and try again; nothing was written",
                details={
                    "product_id": product.id,
                    "reviewer": verdict.reviewer,
                    "reasons": list(verdict.reasons),
                },
            )

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
        self._review(product)

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

    # --- assortment ---------------------------------------------------------------------------

    def publish(self, *, actor: Actor, product_id: str, target: PublishTarget) -> PublishResult:
        """Publish a product to every store, some regions, some formats or named stores.

        The product's copy passes the content reviewer first. The publish takes the next
        catalog version; every store it reaches gets a change stamped with it (see
        :meth:`changes_since`), even a store that already listed the product.

        Args:
            actor: Who acts; needs ``catalog.publish`` at headquarters.
            product_id: The product.
            target: ``PublishTarget.all()``, ``.regions("east")``, ``.formats("convenience")``
                or ``.stores("SH-001", ...)``.

        Returns:
            The version taken, the stores reached and an explanation.

        Raises:
            NotFoundError: ``catalog.product_not_found``, or ``store.not_found`` for a named
                store that does not exist.
            ValidationError: ``catalog.no_store_matched`` when the target reaches no store.
            ContentRejectedError: ``catalog.content_rejected``; nothing is written.
            PermissionDeniedError: when the actor may not publish.
        """
        return self._publish(
            actor=actor, product_id=product_id, target=target, kind=ChangeKind.PUBLISHED
        )

    def unpublish(self, *, actor: Actor, product_id: str, target: PublishTarget) -> PublishResult:
        """Take a product off the stores of ``target`` that list it.

        Takes the next catalog version when at least one targeted store listed the product;
        otherwise nothing changes and the current version is returned.

        Raises:
            NotFoundError: ``catalog.product_not_found`` or ``store.not_found``.
            ValidationError: ``catalog.no_store_matched`` when the target reaches no store.
            PermissionDeniedError: when the actor may not unpublish.
        """
        return self._publish(
            actor=actor, product_id=product_id, target=target, kind=ChangeKind.UNPUBLISHED
        )

    def _publish(
        self, *, actor: Actor, product_id: str, target: PublishTarget, kind: ChangeKind
    ) -> PublishResult:
        product_id = check_id(product_id, "product_id")
        if not isinstance(target, PublishTarget):
            raise ValidationError(
                "target must be a PublishTarget such as PublishTarget.regions('east')",
                code="validation.invalid",
            )
        publishing = kind is ChangeKind.PUBLISHED
        verb = "published" if publishing else "unpublished"

        def work(uow: UnitOfWork) -> Outcome[PublishResult]:
            product = uow.products.get(product_id)
            stores = _resolve(uow, target)
            if publishing:
                self._review(product)
                reached = stores
            else:
                listing = set(uow.assortment.stores_listing(product_id))
                reached = [s for s in stores if s in listing]
            if not reached:
                result = PublishResult(
                    version=uow.assortment.version(),
                    product_id=product_id,
                    kind=kind,
                    store_ids=(),
                    explanation=(
                        f"No store of {target.describe()} listed {product_id}; nothing changed.",
                    ),
                )
                return Outcome(result, (), changed=False)
            now = self._ctx.clock.now()
            version = uow.assortment.record(
                product_id=product_id, store_ids=reached, kind=kind, at=now
            )
            result = PublishResult(
                version=version,
                product_id=product_id,
                kind=kind,
                store_ids=tuple(reached),
                explanation=(
                    (
                        f"{product_id} {verb} to {len(reached)} store(s) of {target.describe()} "
                        f"as catalog version {version}."
                    ),
                    (
                        f"Stores and channels synced at version {version - 1} or earlier pick "
                        f"it up with changes_since(version={version - 1})."
                    ),
                ),
            )
            payload = {
                "version": version,
                "product_id": product_id,
                "store_ids": list(reached),
                "target": {"kind": target.kind.value, "values": list(target.values)},
            }
            return Outcome(
                result,
                [(f"catalog.{verb}", f"product:{product_id}", payload)],
                {"version": version, "stores": len(reached), "target": target.describe()},
            )

        return self._ctx.run(
            actor=actor,
            action="catalog.publish" if publishing else "catalog.unpublish",
            target=f"product:{product_id}",
            scopes=lambda uow: [Scope.hq()],
            work=work,
        )

    def catalog_version(self) -> int:
        """Return the latest catalog version (0 before the first publish)."""
        return self._ctx.read(lambda uow: uow.assortment.version())

    def changes_since(
        self, *, version: int, store_id: str | None = None, limit: int | None = None
    ) -> Sequence[CatalogChange]:
        """Return the assortment changes after ``version``, oldest first, for incremental sync.

        A page never splits a version: it ends before a version whose changes do not all fit in
        ``limit``, except that a first version with more than ``limit`` changes is returned
        whole (so paging always advances). Continue with ``version=page[-1].version``; paging
        this way returns exactly the changes of one unpaged call.

        Args:
            version: The last version the caller applied (0 for everything).
            store_id: Only this store's changes.
            limit: At most this many changes, unless the first version alone has more (see
                above); continue from the last change's version.

        Raises:
            ValidationError: for a negative version or a limit below 1.
        """
        check_non_negative_int(version, "version")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ValidationError(
                f"limit must be an int >= 1, got {limit!r}", code="validation.invalid"
            )
        return self._ctx.read(
            lambda uow: list(uow.assortment.changes_since(version, store_id=store_id, limit=limit))
        )

    def assortment(self, *, store_id: str) -> Sequence[str]:
        """Return the ids of the products published to a store, sorted."""
        return self._ctx.read(lambda uow: list(uow.assortment.listed(store_id)))

    def stores_listing(self, *, product_id: str) -> Sequence[str]:
        """Return the ids of the stores a product is published to, sorted."""
        return self._ctx.read(lambda uow: list(uow.assortment.stores_listing(product_id)))

    # --- store prices -----------------------------------------------------------------------

    def set_store_price(
        self,
        *,
        actor: Actor,
        store_id: str,
        sku: str,
        price: Money,
        valid_from: datetime,
        valid_to: datetime | None = None,
    ) -> StorePrice:
        """Give a store its own price for a SKU inside ``[valid_from, valid_to)``.

        Overrides are never edited: a newer one wins where windows overlap.

        Raises:
            FloatMoneyError: for a float price.
            ValidationError: ``catalog.invalid_price``, ``catalog.invalid_window``.
            CurrencyMismatchError: when the price's currency differs from the list price's.
            NotFoundError: ``store.not_found`` or ``catalog.sku_not_found``.
            PermissionDeniedError: when the actor may not price in this store.
        """
        override = StorePrice(
            store_id=store_id,
            sku=sku,
            price=price,
            valid_from=valid_from,
            valid_to=valid_to,
            set_at=self._ctx.clock.now(),
        )

        def work(uow: UnitOfWork) -> Outcome[StorePrice]:
            listed = uow.products.get_sku(override.sku).list_price
            if listed.currency != override.price.currency:
                raise CurrencyMismatchError(
                    f"store price of {override.sku!r} is in {override.price.currency.value} but "
                    f"its list price is in {listed.currency.value}; price it in "
                    f"{listed.currency.value}"
                )
            stored = uow.assortment.add_price(override)
            payload = {
                "store_id": stored.store_id,
                "sku": stored.sku,
                "price_minor": m.to_minor(stored.price),
                "currency": stored.price.currency.value,
                "valid_from": stored.valid_from.isoformat(),
                "valid_to": None if stored.valid_to is None else stored.valid_to.isoformat(),
            }
            return Outcome(
                stored,
                [("catalog.store_price_set", f"price:{stored.store_id}/{stored.sku}", payload)],
                payload,
            )

        return self._ctx.run(
            actor=actor,
            action="catalog.set_store_price",
            target=f"price:{override.store_id}/{override.sku}",
            scopes=lambda uow: [store_scope(uow, override.store_id)],
            work=work,
        )

    def price_at(self, *, store_id: str, sku: str, at: datetime) -> PriceQuote:
        """Return the price of a SKU in a store at ``at``: its override if one applies, else list.

        Raises:
            ValidationError: ``catalog.invalid_window`` for a naive ``at``.
            NotFoundError: ``store.not_found`` or ``catalog.sku_not_found``.
        """
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise ValidationError(
                f"at must be a timezone-aware datetime, got {at!r}", code="catalog.invalid_window"
            )

        def read(uow: UnitOfWork) -> PriceQuote:
            uow.stores.get(store_id)
            listed = uow.products.get_sku(sku).list_price
            overrides = uow.assortment.prices(store_id, sku)
            return resolve_price(
                store_id=store_id, sku=sku, list_price=listed, overrides=overrides, at=at
            )

        return self._ctx.read(read)

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


def _resolve(uow: UnitOfWork, target: PublishTarget) -> list[str]:
    """The ids of the stores a target reaches, sorted; raises if it reaches none."""
    if target.kind is TargetKind.ALL:
        found = {s.id for s in uow.stores.list()}
    elif target.kind is TargetKind.REGIONS:
        found = {s.id for r in target.values for s in uow.stores.list(region=r)}
    elif target.kind is TargetKind.FORMATS:
        found = {s.id for f in target.values for s in uow.stores.list(format=f)}
    else:
        found = {uow.stores.get(s).id for s in target.values}
    if not found:
        raise ValidationError(
            f"no store matches {target.describe()}; check the names or add the stores first",
            code="catalog.no_store_matched",
            details={"kind": target.kind.value, "values": list(target.values)},
        )
    return sorted(found)
