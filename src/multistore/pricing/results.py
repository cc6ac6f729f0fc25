"""Per-line and per-fee results of :func:`~multistore.pricing.price_cart`, light to build.

A priced cart of 50 lines holds hundreds of amounts and adjustments. These values keep their
amounts as integer minor units plus the currency and build :class:`Money` only when an
attribute is read, and a line keeps its adjustments as one flat record, building the
:class:`Adjustment` values on access. Pricing a cart then allocates a few objects per line
instead of a dozen, which keeps garbage collections out of the pricing call.

Reading an attribute returns the same :class:`Money` (equal amount, same currency, same
decimal places) and the same :class:`Adjustment` values an eager result would hold; equality,
hashing and ``repr`` follow the public attributes.

Examples:
    >>> from multistore.money import money
    >>> adj = Adjustment("M", "满300减50", "store", money("50.00"))
    >>> line = PricedLine("L1", "tea", "S1", 3, money("300.00"), (adj,), money("250.00"))
    >>> str(line.final_amount.amount), line.adjustments[0] == adj
    ('250.00', True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
from money.currency import Currency
from money.money import Money

from multistore.money import ensure_same_currency, minor_maker, to_minor

__all__ = ["Adjustment", "PricedLine", "PricedShipping"]

_new = object.__new__
_MAKERS: dict[Currency, Callable[[int], Money]] = {}
"""``minor_maker`` of each currency seen, so reading an amount builds one Money and no more."""


def _money(minor: int, currency: Currency) -> Money:
    """``from_minor(minor, currency)`` for the exact ints these values hold."""
    make = _MAKERS.get(currency)
    if make is None:
        make = _MAKERS[currency] = minor_maker(currency)
    return make(minor)


@attrs.frozen(init=False, repr=False)
class Adjustment:
    """One discount on one line (or one store's shipping).

    Attributes:
        promotion_id: The promotion that gave it.
        name: The promotion's display name.
        lane: The lane it was applied in.
        amount: The discount (positive).
    """

    promotion_id: str
    name: str
    lane: str
    _minor: int
    _currency: Currency

    def __init__(self, promotion_id: str, name: str, lane: str, amount: Money) -> None:
        """Build an adjustment of ``amount``."""
        self.__attrs_init__(promotion_id, name, lane, to_minor(amount), amount.currency)

    @classmethod
    def of_minor(
        cls, promotion_id: str, name: str, lane: str, minor: int, currency: Currency
    ) -> Adjustment:
        """Build an adjustment of ``minor`` units of ``currency`` (no Money is built)."""
        made: Adjustment = _new(cls)
        made.__attrs_init__(promotion_id, name, lane, minor, currency)
        return made

    @property
    def amount(self) -> Money:
        """The discount (positive)."""
        return _money(self._minor, self._currency)

    def __repr__(self) -> str:
        return (
            f"Adjustment(promotion_id={self.promotion_id!r}, name={self.name!r}, "
            f"lane={self.lane!r}, amount={self.amount!r})"
        )


_Flat = tuple[Any, ...]
"""Adjustments as one flat record: ``(promotion_id, name, lane, minor units)`` each."""


def flatten(adjustments: Iterable[Adjustment]) -> _Flat:
    """The flat record of ``adjustments`` (what :class:`PricedLine` keeps)."""
    out: list[Any] = []
    for a in adjustments:
        out += (a.promotion_id, a.name, a.lane, a._minor)
    return tuple(out)


def _unflatten(flat: _Flat, currency: Currency) -> tuple[Adjustment, ...]:
    out: list[Adjustment] = []
    init = Adjustment.__attrs_init__
    for k in range(0, len(flat), 4):
        made: Adjustment = _new(Adjustment)
        init(made, flat[k], flat[k + 1], flat[k + 2], flat[k + 3], currency)
        out.append(made)
    return tuple(out)


def _currency_of(*amounts: Money) -> Currency:
    found = ensure_same_currency(*amounts)
    assert found is not None  # at least one amount
    return found


class _Discounted:
    """The discount side of a priced line or fee: its adjustments and final amount."""

    __slots__ = ()
    _adjustments: _Flat
    _final: int
    _currency: Currency

    @property
    def adjustments(self) -> tuple[Adjustment, ...]:
        """Discounts in the order they were applied."""
        return _unflatten(self._adjustments, self._currency)

    @property
    def final_amount(self) -> Money:
        """The amount before discounts minus every adjustment (never negative)."""
        return _money(self._final, self._currency)


@attrs.frozen(init=False, repr=False)
class PricedLine(_Discounted):
    """A priced cart line: list amount, every adjustment, final amount.

    Attributes:
        line_id: The cart line id.
        sku: The product.
        store_id: The selling store.
        quantity: Units.
        list_amount: Unit price times quantity.
        adjustments: Discounts in the order they were applied.
        final_amount: ``list_amount`` minus every adjustment (never negative).
    """

    line_id: str
    sku: str
    store_id: str
    quantity: int
    _list: int
    _adjustments: _Flat
    _final: int
    _currency: Currency

    def __init__(  # noqa: PLR0917 - the public attributes, in order
        self,
        line_id: str,
        sku: str,
        store_id: str,
        quantity: int,
        list_amount: Money,
        adjustments: Sequence[Adjustment],
        final_amount: Money,
    ) -> None:
        """Build a priced line from Money amounts and adjustments."""
        cur = _currency_of(list_amount, final_amount, *(a.amount for a in adjustments))
        self.__attrs_init__(
            line_id,
            sku,
            store_id,
            quantity,
            to_minor(list_amount),
            flatten(adjustments),
            to_minor(final_amount),
            cur,
        )

    @property
    def list_amount(self) -> Money:
        """Unit price times quantity."""
        return _money(self._list, self._currency)

    def __repr__(self) -> str:
        return (
            f"PricedLine(line_id={self.line_id!r}, sku={self.sku!r}, store_id={self.store_id!r}, "
            f"quantity={self.quantity!r}, list_amount={self.list_amount!r}, "
            f"adjustments={self.adjustments!r}, final_amount={self.final_amount!r})"
        )


@attrs.frozen(init=False, repr=False)
class PricedShipping(_Discounted):
    """One store's shipping fee with its discounts.

    Attributes:
        store_id: The store charging the fee.
        fee: The fee before discounts.
        adjustments: Discounts in the order they were applied.
        final_amount: ``fee`` minus every adjustment (never negative).
    """

    store_id: str
    _fee: int
    _adjustments: _Flat
    _final: int
    _currency: Currency

    def __init__(
        self, store_id: str, fee: Money, adjustments: Sequence[Adjustment], final_amount: Money
    ) -> None:
        """Build a priced shipping fee from Money amounts and adjustments."""
        cur = _currency_of(fee, final_amount, *(a.amount for a in adjustments))
        self.__attrs_init__(
            store_id, to_minor(fee), flatten(adjustments), to_minor(final_amount), cur
        )

    @property
    def fee(self) -> Money:
        """The fee before discounts."""
        return _money(self._fee, self._currency)

    def __repr__(self) -> str:
        return (
            f"PricedShipping(store_id={self.store_id!r}, fee={self.fee!r}, "
            f"adjustments={self.adjustments!r}, final_amount={self.final_amount!r})"
        )


def priced_line(  # noqa: PLR0917 - the stored fields, in order
    line_id: str,
    sku: str,
    store_id: str,
    quantity: int,
    list_minor: int,
    flat: _Flat,
    final_minor: int,
    currency: Currency,
) -> PricedLine:
    """Build a :class:`PricedLine` from minor units and a flat adjustment record (no Money)."""
    made: PricedLine = _new(PricedLine)
    made.__attrs_init__(line_id, sku, store_id, quantity, list_minor, flat, final_minor, currency)
    return made


def priced_shipping(
    store_id: str, fee_minor: int, flat: _Flat, final_minor: int, currency: Currency
) -> PricedShipping:
    """Build a :class:`PricedShipping` from minor units and a flat adjustment record."""
    made: PricedShipping = _new(PricedShipping)
    made.__attrs_init__(store_id, fee_minor, flat, final_minor, currency)
    return made
