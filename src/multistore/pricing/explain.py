"""Plain sentences for results: amounts, reasons a promotion did not apply, 凑单 hints."""

from __future__ import annotations

from money.currency import Currency

from multistore.money import minor_per_major

__all__ = ["format_minor", "lane_title"]

_SYMBOLS = {"CNY": "¥", "JPY": "JP¥", "USD": "$", "EUR": "€", "HKD": "HK$", "GBP": "£"}


def format_minor(amount: int, currency: Currency) -> str:
    """Format minor units for people: ``1230, CNY`` -> ``¥12.30``.

    Examples:
        >>> format_minor(1230, Currency.CNY)
        '¥12.30'
    """
    scale = minor_per_major(currency)
    places = len(str(scale)) - 1
    # Integer arithmetic, same text as formatting the exact Decimal: ``f"{value:,.2f}"``.
    whole, part = divmod(-amount if amount < 0 else amount, scale)
    sign = "-" if amount < 0 else ""
    text = f"{sign}{whole:,}.{part:0{places}d}" if places else f"{sign}{whole:,}"
    symbol = _SYMBOLS.get(currency.value)
    return f"{symbol}{text}" if symbol else f"{text} {currency.value}"


_LANES = {
    "item": "item lane",
    "store": "store lane",
    "platform": "platform lane",
    "points": "points lane",
    "shipping": "shipping lane",
}


def lane_title(lane: str) -> str:
    """Return the readable name of a lane (``item`` -> ``item lane``)."""
    return _LANES.get(lane, f"{lane} lane")
