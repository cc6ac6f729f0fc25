# ruff: noqa: RUF001, RUF002 - Chinese bill and tax texts use full-width punctuation
"""Effective-dated VAT rate tables by tax category.

A rate table is data, not code: a list of entries ``(category, rate, valid_from, valid_to)``
validated by pydantic and checked for gaps and overlaps per category. The default table holds
the rates of PRC VAT at the time of writing (see :func:`default_rate_table` for the sources); load
your own with :func:`load_rate_table` when rules change.

Examples:
    >>> from datetime import date
    >>> table = default_rate_table()
    >>> table.lookup(category="general", on=date(2026, 5, 1)).rate
    Decimal('0.13')
    >>> table.lookup(category="small_scale", on=date(2026, 5, 1)).rate
    Decimal('0.01')
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import pydantic
import yaml

from multistore.tax.errors import RateTableError, UnknownTaxCategoryError

__all__ = [
    "RateEntry",
    "RateTable",
    "RateTableSpec",
    "TaxRate",
    "default_rate_table",
    "load_rate_table",
]


class RateEntry(pydantic.BaseModel):
    """One rate of one category over a closed date interval.

    Attributes:
        category: Tax category id (``"general"``, ``"small_scale"``...).
        rate: The rate as a fraction (``0.13``); ``0`` for zero-rated and exempt entries.
        exempt: ``True`` for exempt supplies (免税): no output tax, invoices show 免税.
        valid_from: First day the rate applies.
        valid_to: Last day the rate applies (inclusive); ``None`` for open-ended.
        label: Short human label (``"13%"``); derived from the rate when empty.
        note: Legal source or remark.
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    category: str = pydantic.Field(min_length=1)
    rate: Decimal = pydantic.Field(ge=0, lt=1)
    exempt: bool = False
    valid_from: date
    valid_to: date | None = None
    label: str = ""
    note: str = ""

    @pydantic.field_validator("rate", mode="before")
    @classmethod
    def _no_float(cls, value: object) -> object:
        if isinstance(value, float):
            raise ValueError(
                f"rate must be a string or Decimal such as '0.13', not a float {value}"
            )
        return value

    @pydantic.model_validator(mode="after")
    def _check(self) -> RateEntry:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        if self.exempt and self.rate != 0:
            raise ValueError("an exempt entry must have rate 0")
        return self


class RateTableSpec(pydantic.BaseModel):
    """The declarative form of a rate table (loads from dicts, JSON and YAML).

    Attributes:
        entries: Every rate entry; per category the intervals must neither overlap nor leave gaps.
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    entries: list[RateEntry] = pydantic.Field(min_length=1)


@attrs.frozen
class TaxRate:
    """The rate that applies to one category on one day.

    Attributes:
        category: Tax category id.
        rate: Rate as a Decimal fraction (``Decimal("0.13")``).
        exempt: Whether the supply is exempt (免税).
        label: Human label (``"13%"``, ``"免税"``).
        valid_from: First day of the entry.
        valid_to: Last day of the entry, ``None`` when open-ended.
    """

    category: str
    rate: Decimal
    exempt: bool
    label: str
    valid_from: date
    valid_to: date | None
    fraction: Fraction = attrs.field(init=False, eq=False, repr=False)
    """The rate as an exact Fraction (computed once, so VAT kernels can cache by identity)."""

    @fraction.default
    def _fraction(self) -> Fraction:
        return Fraction(self.rate)


def _label(entry: RateEntry) -> str:
    if entry.label:
        return entry.label
    if entry.exempt:
        return "免税"
    return f"{(entry.rate * 100).normalize():f}%"


@attrs.frozen
class RateTable:
    """A validated, effective-dated rate table. Build it with :func:`load_rate_table`.

    Attributes:
        entries: Entries per category sorted by ``valid_from``.
    """

    entries: Mapping[str, tuple[TaxRate, ...]]

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category the table defines, sorted."""
        return tuple(sorted(self.entries))

    def lookup(self, *, category: str, on: date) -> TaxRate:
        """Return the rate of ``category`` in force on ``on``.

        Raises:
            UnknownTaxCategoryError: the category is not in the table.
            RateTableError: ``tax.no_rate`` when no entry covers the date.
        """
        found = self.entries.get(category)
        if found is None:
            raise UnknownTaxCategoryError(
                f"unknown tax category {category!r}; known categories: "
                f"{', '.join(self.categories)}. Add it to the rate table or fix the line",
                details={"category": category},
            )
        for entry in found:
            if entry.valid_from <= on and (entry.valid_to is None or on <= entry.valid_to):
                return entry
        raise RateTableError(
            f"no rate for category {category!r} on {on.isoformat()}; the table covers "
            f"{found[0].valid_from.isoformat()} to "
            f"{found[-1].valid_to.isoformat() if found[-1].valid_to else 'open end'}",
            code="tax.no_rate",
            details={"category": category, "date": on.isoformat()},
        )


def _validate(spec: RateTableSpec) -> RateTable:
    errors: list[dict[str, str]] = []
    by_cat: dict[str, list[tuple[int, RateEntry]]] = {}
    for i, e in enumerate(spec.entries):
        by_cat.setdefault(e.category, []).append((i, e))
    result: dict[str, tuple[TaxRate, ...]] = {}
    for cat, items in by_cat.items():
        items.sort(key=lambda ie: ie[1].valid_from)
        for (i, prev), (j, cur) in itertools.pairwise(items):
            if prev.valid_to is None or prev.valid_to >= cur.valid_from:
                errors.append(
                    {
                        "field": f"entries.{j}.valid_from",
                        "problem": f"category {cat!r}: entry {j} from {cur.valid_from} overlaps "
                        f"entry {i} ({prev.valid_from} to {prev.valid_to or 'open end'})",
                        "kind": "overlap",
                    }
                )
            elif prev.valid_to + timedelta(days=1) != cur.valid_from:
                errors.append(
                    {
                        "field": f"entries.{j}.valid_from",
                        "problem": f"category {cat!r}: gap from "
                        f"{prev.valid_to + timedelta(days=1)} to "
                        f"{cur.valid_from - timedelta(days=1)} between entries {i} and {j}",
                        "kind": "gap",
                    }
                )
        result[cat] = tuple(
            TaxRate(
                category=cat,
                rate=e.rate,
                exempt=e.exempt,
                label=_label(e),
                valid_from=e.valid_from,
                valid_to=e.valid_to,
            )
            for _, e in items
        )
    if errors:
        kinds = {e["kind"] for e in errors}
        code = "tax.rate_overlap" if kinds == {"overlap"} else "tax.rate_gap"
        if kinds == {"overlap", "gap"}:
            code = "tax.rate_table"
        raise RateTableError(
            "the rate table has gaps or overlaps: "
            + "; ".join(e["problem"] for e in errors)
            + ". Make each category's intervals consecutive (valid_to + 1 day = next valid_from)",
            code=code,
            details={"errors": errors},
        )
    return RateTable(entries=result)


def load_rate_table(data: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str) -> RateTable:
    r"""Validate and build a rate table from a dict, a list of entries, JSON or YAML text.

    Args:
        data: ``{"entries": [...]}``, a bare list of entries, or the same as JSON/YAML text.

    Returns:
        The validated :class:`RateTable`.

    Raises:
        RateTableError: ``tax.rate_table`` for invalid fields (every one listed in
            ``details["errors"]``), ``tax.rate_gap`` / ``tax.rate_overlap`` for bad intervals.

    Examples:
        >>> t = load_rate_table(
        ...     "entries:\n- {category: food, rate: '0.09', valid_from: 2019-04-01}\n"
        ... )
        >>> t.lookup(category="food", on=date(2030, 1, 1)).label
        '9%'
    """
    raw: Any = data
    if isinstance(data, str):
        text = data.strip()
        raw = json.loads(text) if text.startswith(("{", "[")) else yaml.safe_load(text)
        raw = _stringify_rates(raw)
    if isinstance(raw, list):
        raw = {"entries": raw}
    try:
        spec = RateTableSpec.model_validate(raw)
    except pydantic.ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        raise RateTableError(
            "invalid rate table: " + "; ".join(f"{e['field']}: {e['problem']}" for e in errors),
            details={"errors": errors},
        ) from None
    return _validate(spec)


def _stringify_rates(raw: Any) -> Any:
    """YAML/JSON parse ``0.13`` as float; turn rates back into exact strings."""
    entries = raw.get("entries") if isinstance(raw, dict) else raw
    if isinstance(entries, list):
        for e in entries:
            if isinstance(e, dict) and isinstance(e.get("rate"), float):
                e["rate"] = repr(e["rate"])
    return raw


_DEFAULT: list[dict[str, Any]] = [
    {
        "category": "general",
        "rate": "0.13",
        "valid_from": "2019-04-01",
        "note": "Goods, processing, repairs, tangible movable leasing (公告2019年第39号; 增值税法)",
    },
    {
        "category": "reduced",
        "rate": "0.09",
        "valid_from": "2019-04-01",
        "note": "Agricultural products, food grains, books, utilities, transport, "
        "real estate (公告2019年第39号; 增值税法)",
    },
    {
        "category": "services",
        "rate": "0.06",
        "valid_from": "2016-05-01",
        "note": "Modern and lifestyle services (财税〔2016〕36号; 增值税法)",
    },
    {
        "category": "zero",
        "rate": "0",
        "valid_from": "2016-05-01",
        "note": "Zero-rated exports and cross-border services",
    },
    {
        "category": "exempt",
        "rate": "0",
        "exempt": True,
        "valid_from": "2016-05-01",
        "note": "Exempt supplies such as self-produced agricultural products",
    },
    {
        "category": "small_scale",
        "rate": "0.03",
        "valid_from": "2014-07-01",
        "valid_to": "2020-02-29",
        "note": "Small-scale taxpayer levy rate (财税〔2014〕57号)",
    },
    {
        "category": "small_scale",
        "rate": "0.01",
        "valid_from": "2020-03-01",
        "valid_to": "2022-03-31",
        "note": "Reduced to 1% (公告2020年第13号, extended by 2021年第7号 and 2022年第15号)",
    },
    {
        "category": "small_scale",
        "rate": "0",
        "exempt": True,
        "valid_from": "2022-04-01",
        "valid_to": "2022-12-31",
        "note": "Exempt (公告2022年第15号)",
    },
    {
        "category": "small_scale",
        "rate": "0.01",
        "valid_from": "2023-01-01",
        "valid_to": "2027-12-31",
        "note": "Reduced to 1% (公告2023年第1号, extended to 2027-12-31 by 2023年第19号)",
    },
    {
        "category": "small_scale",
        "rate": "0.03",
        "valid_from": "2028-01-01",
        "note": "Statutory 3% levy rate when the reduction ends (增值税法); review before then",
    },
]


def default_rate_table() -> RateTable:
    """Return the built-in PRC VAT table.

    Categories: ``general`` 13%, ``reduced`` 9%, ``services`` 6%, ``zero`` 0%, ``exempt``,
    ``small_scale`` 3% with its reductions.

    Sources: 财政部 税务总局 海关总署公告2019年第39号 (13% and 9% from 2019-04-01);
    财税〔2016〕36号 (6%); 财政部 税务总局公告2020年第13号, 2021年第7号, 2022年第15号,
    2023年第1号 and 2023年第19号 (small-scale 1% / exempt periods, 1% to 2027-12-31); the VAT
    Law of the PRC (增值税法, in force 2026-01-01) keeps 13%/9%/6%/0% and the 3% levy rate.
    This is a snapshot: load your own table with :func:`load_rate_table` when the rules change.
    """
    return load_rate_table({"entries": _DEFAULT})
