"""Assortment: which stores carry which products, versioned for incremental sync, and store prices.

Headquarters publishes a product to every store, to regions, to formats or to named stores (one
click, 一键同步). Every publish or unpublish takes the next chain-wide *catalog version*; each
store it reaches gets a :class:`CatalogChange` stamped with that version, so a store or a channel
that last synced at version ``N`` asks for the changes since ``N`` and applies them in order.

Store-level price overrides (:class:`StorePrice`) replace the list price inside a validity
window; :class:`PriceQuote` says which price applies at an instant and why.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

import attrs
from money.money import Money

from multistore._validation import check_enum, check_id, check_minor_units, valid_id
from multistore.errors import FloatMoneyError, ValidationError

__all__ = [
    "CatalogChange",
    "ChangeKind",
    "ContentRejectedError",
    "PriceQuote",
    "PublishResult",
    "PublishTarget",
    "StorePrice",
    "TargetKind",
    "resolve_price",
]


class ContentRejectedError(ValidationError):
    """The content reviewer rejected a product's copy; nothing was written.

    ``details["reasons"]`` holds the reviewer's sentences saying what to change.
    """

    default_code = "catalog.content_rejected"


class TargetKind(enum.StrEnum):
    """How a publish names its stores."""

    ALL = "all"
    REGIONS = "regions"
    FORMATS = "formats"
    STORES = "stores"


def _ids(values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    return tuple(sorted({check_id(v, "publish target") for v in values}))


def _target_kind(value: object) -> TargetKind:
    return check_enum(TargetKind, value, "target kind")


@attrs.frozen
class PublishTarget:
    """The stores a publish reaches: all of them, some regions, some formats or named stores.

    Build it with :meth:`all`, :meth:`regions`, :meth:`formats` or :meth:`stores`.

    Raises:
        ValidationError: ``catalog.empty_target`` when a regions/formats/stores target names
            nothing.
    """

    kind: TargetKind = attrs.field(converter=_target_kind)
    values: tuple[str, ...] = attrs.field(default=(), converter=_ids)

    def __attrs_post_init__(self) -> None:
        if self.kind is not TargetKind.ALL and not self.values:
            raise ValidationError(
                f"a {self.kind.value} target must name at least one; use PublishTarget.all() "
                "to reach every store",
                code="catalog.empty_target",
            )

    @classmethod
    def all(cls) -> PublishTarget:
        """Every store of the chain (closed stores included: they list it when they reopen)."""
        return cls(TargetKind.ALL)

    @classmethod
    def regions(cls, *names: str) -> PublishTarget:
        """The stores of the named regions."""
        return cls(TargetKind.REGIONS, names)

    @classmethod
    def formats(cls, *names: str) -> PublishTarget:
        """The stores of the named formats (业态: ``"hypermarket"``, ``"convenience"``)."""
        return cls(TargetKind.FORMATS, names)

    @classmethod
    def stores(cls, *store_ids: str) -> PublishTarget:
        """The named stores."""
        return cls(TargetKind.STORES, store_ids)

    def describe(self) -> str:
        """A plain phrase for explanations (``"the stores of region east"``)."""
        if self.kind is TargetKind.ALL:
            return "every store"
        noun = {"regions": "region", "formats": "format", "stores": "store"}[self.kind.value]
        plural = "s" if len(self.values) > 1 else ""
        return f"{noun}{plural} {', '.join(self.values)}"


class ChangeKind(enum.StrEnum):
    """What a catalog change did to a store's assortment."""

    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


def _change_kind(value: object) -> ChangeKind:
    return check_enum(ChangeKind, value, "kind")


@attrs.frozen
class CatalogChange:
    """One store's assortment change, stamped with the catalog version that made it.

    Attributes:
        version: The chain-wide catalog version (strictly increasing per publish/unpublish).
        product_id: The product.
        store_id: The store whose assortment changed.
        kind: Published or unpublished.
        at: When (UTC).
    """

    version: int
    product_id: str = attrs.field(validator=valid_id("product_id"))
    store_id: str = attrs.field(validator=valid_id("store_id"))
    kind: ChangeKind = attrs.field(converter=_change_kind)
    at: datetime


@attrs.frozen
class PublishResult:
    """What a publish or unpublish did.

    Attributes:
        version: The catalog version it took.
        product_id: The product.
        kind: Published or unpublished.
        store_ids: The stores it reached, sorted.
        explanation: Plain sentences: which target, how many stores.
    """

    version: int
    product_id: str
    kind: ChangeKind
    store_ids: tuple[str, ...]
    explanation: tuple[str, ...] = ()


@attrs.frozen
class StorePrice:
    """A store's own price for a SKU inside a validity window ``[valid_from, valid_to)``.

    Attributes:
        store_id: The store.
        sku: The SKU code.
        price: The unit price (tax included), in the SKU's currency.
        valid_from: First instant the price applies (timezone-aware).
        valid_to: First instant it no longer applies; ``None`` for open-ended.
        set_at: When it was set (UTC); among overlapping overrides the latest set wins.

    Raises:
        FloatMoneyError: for a float price.
        ValidationError: ``catalog.invalid_price`` for a negative or non-Money price or one
            above ``2**63 - 1`` minor units, ``catalog.invalid_window`` for a naive datetime
            or ``valid_to <= valid_from``.
    """

    store_id: str = attrs.field(validator=valid_id("store_id"))
    sku: str = attrs.field(validator=valid_id("sku"))
    price: Money
    valid_from: datetime
    valid_to: datetime | None = None
    set_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if isinstance(self.price, float):
            raise FloatMoneyError(
                f"store price of {self.sku!r} in {self.store_id!r} is a float; pass Money via "
                "multistore.money.money('12.30')"
            )
        if not isinstance(self.price, Money) or self.price.amount < 0:
            raise ValidationError(
                f"store price of {self.sku!r} in {self.store_id!r} must be a non-negative "
                f"Money, got {self.price!r}",
                code="catalog.invalid_price",
            )
        check_minor_units(self.price, "store_price.price", code="catalog.invalid_price")
        for name in ("valid_from", "valid_to"):
            moment = getattr(self, name)
            if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
                raise ValidationError(
                    f"{name} must be a timezone-aware datetime, got {moment!r}",
                    code="catalog.invalid_window",
                )
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValidationError(
                f"store price window ends ({self.valid_to.isoformat()}) before it starts "
                f"({self.valid_from.isoformat()}); give valid_to after valid_from or None",
                code="catalog.invalid_window",
            )

    def applies_at(self, at: datetime) -> bool:
        """Whether the window covers ``at``."""
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)


@attrs.frozen
class PriceQuote:
    """The price of a SKU in a store at an instant, and where it came from.

    Attributes:
        store_id: The store.
        sku: The SKU code.
        at: The instant asked about.
        price: The unit price that applies.
        source: ``"store_override"`` or ``"list_price"``.
        override: The override that applies, if any.
        explanation: Plain sentences saying why this price.
    """

    store_id: str
    sku: str
    at: datetime
    price: Money
    source: str
    override: StorePrice | None = None
    explanation: tuple[str, ...] = ()


def resolve_price(
    *, store_id: str, sku: str, list_price: Money, overrides: Iterable[StorePrice], at: datetime
) -> PriceQuote:
    """Pick the price at ``at``: the latest-set override whose window covers it, else list.

    Pure: the caller passes the overrides of this (store, sku) in the order they were set.
    """
    covering = [o for o in overrides if o.applies_at(at)]
    if not covering:
        return PriceQuote(
            store_id=store_id,
            sku=sku,
            at=at,
            price=list_price,
            source="list_price",
            explanation=(
                (
                    f"No store price of {sku} in {store_id} covers {at.isoformat()}, so the list "
                    f"price {list_price.amount} {list_price.currency.value} applies."
                ),
            ),
        )
    chosen = covering[-1]
    until = "open-ended" if chosen.valid_to is None else f"until {chosen.valid_to.isoformat()}"
    sentences = [
        (
            f"Store {store_id} prices {sku} at {chosen.price.amount} "
            f"{chosen.price.currency.value} from {chosen.valid_from.isoformat()} ({until}), "
            f"instead of the list price {list_price.amount} {list_price.currency.value}."
        )
    ]
    if len(covering) > 1:
        sentences.append(
            f"{len(covering)} store prices cover this instant; the one set last applies."
        )
    return PriceQuote(
        store_id=store_id,
        sku=sku,
        at=at,
        price=chosen.price,
        source="store_override",
        override=chosen,
        explanation=tuple(sentences),
    )
