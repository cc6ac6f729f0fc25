from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from multistore.money import money, round_minor
from multistore.tax import (
    OrderLine,
    RateTable,
    RateTableError,
    UnknownTaxCategoryError,
    allocate,
    compute_vat,
    load_rate_table,
    tax_order,
    vat_split_minor,
)

from .conftest import make_order


def test_default_table_small_scale_history(rates: RateTable) -> None:
    assert Decimal("0.03") == rates.lookup(category="small_scale", on=date(2019, 6, 1)).rate
    assert Decimal("0.01") == rates.lookup(category="small_scale", on=date(2021, 6, 1)).rate
    assert rates.lookup(category="small_scale", on=date(2022, 6, 1)).exempt
    assert Decimal("0.01") == rates.lookup(category="small_scale", on=date(2027, 12, 31)).rate
    assert Decimal("0.03") == rates.lookup(category="small_scale", on=date(2028, 1, 1)).rate
    assert "免税" == rates.lookup(category="exempt", on=date(2026, 1, 1)).label
    assert "13%" == rates.lookup(category="general", on=date(2026, 1, 1)).label


def test_unknown_category_and_uncovered_date(rates: RateTable) -> None:
    with pytest.raises(UnknownTaxCategoryError) as err:
        rates.lookup(category="nope", on=date(2026, 1, 1))
    assert "tax.unknown_category" == err.value.code
    with pytest.raises(RateTableError) as err2:
        rates.lookup(category="general", on=date(2010, 1, 1))
    assert "tax.no_rate" == err2.value.code


def test_gaps_and_overlaps_are_all_reported() -> None:
    with pytest.raises(RateTableError) as err:
        load_rate_table(
            [
                {
                    "category": "a",
                    "rate": "0.13",
                    "valid_from": "2020-01-01",
                    "valid_to": "2020-12-31",
                },
                {
                    "category": "a",
                    "rate": "0.09",
                    "valid_from": "2021-02-01",
                    "valid_to": "2021-12-31",
                },
                {"category": "b", "rate": "0.06", "valid_from": "2020-01-01"},
                {"category": "b", "rate": "0.03", "valid_from": "2021-01-01"},
            ]
        )
    assert "tax.rate_table" == err.value.code
    kinds = sorted(e["kind"] for e in err.value.details["errors"])
    assert ["gap", "overlap"] == kinds


def test_invalid_fields_all_reported_and_floats_rejected() -> None:
    with pytest.raises(RateTableError) as err:
        load_rate_table(
            {
                "entries": [
                    {"category": "", "rate": 0.13, "valid_from": "2020-01-01"},
                    {"category": "x", "rate": "2", "valid_from": "nope"},
                ]
            }
        )
    assert len(err.value.details["errors"]) >= 3


def test_yaml_table() -> None:
    table = load_rate_table("entries:\n- {category: food, rate: 0.09, valid_from: 2019-04-01}\n")
    assert Decimal("0.09") == table.lookup(category="food", on=date(2026, 1, 1)).rate


@pytest.mark.parametrize(
    ("gross", "rate", "net", "tax"),
    [
        (11300, Fraction(13, 100), 10000, 1300),
        (1, Fraction(13, 100), 1, 0),
        (100, Fraction(9, 100), 92, 8),
        (-999, Fraction(13, 100), -884, -115),
        (500, Fraction(0), 500, 0),
    ],
)
def test_vat_split_inclusive(gross: int, rate: Fraction, net: int, tax: int) -> None:
    assert (net, tax) == vat_split_minor(gross, rate)
    assert net == round_minor(Fraction(gross) / (1 + rate))


def test_vat_split_exclusive() -> None:
    assert (10000, 1300) == vat_split_minor(10000, Fraction(13, 100), prices_include_tax=False)
    assert (5, 1) == vat_split_minor(5, Fraction(13, 100), prices_include_tax=False)


def test_order_vat_header_is_sum_of_lines(rates: RateTable) -> None:
    taxed = tax_order(order=make_order(), rates=rates)
    assert taxed.vat.tax_minor == sum(v.tax_minor for v in taxed.vat.lines)
    for al, v in zip(taxed.allocation.lines, taxed.vat.lines, strict=True):
        assert al.taxable_minor == v.net_minor + v.tax_minor
    assert ["9%", "13%", "13%"] == [v.rate.label for v in taxed.vat.lines]
    assert taxed.explanation


def test_exclusive_prices(rates: RateTable) -> None:
    alloc = allocate(
        lines=[OrderLine(line_id="a", quantity=1, amount=money("100.00"), tax_category="services")]
    )
    vat = compute_vat(allocation=alloc, rates=rates, on=date(2026, 1, 1), prices_include_tax=False)
    assert ("100.00", "6.00", "106.00") == (
        str(vat.net.amount),
        str(vat.tax.amount),
        str(vat.gross.amount),
    )
