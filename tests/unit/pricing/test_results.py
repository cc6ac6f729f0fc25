"""The result values keep minor units and build Money (and adjustments) when read."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
from pricing_helpers import NOW, cart, line

from multistore.errors import CurrencyMismatchError, MultistoreError
from multistore.money import currency, from_minor, minor_per_major, money
from multistore.pricing import (
    Adjustment,
    Cart,
    CartLine,
    PricedLine,
    PricedShipping,
    PricingContext,
    load_promotions,
    price_cart,
)
from multistore.pricing.explain import format_minor


def test_adjustment_reads_like_an_eager_value():
    adj = Adjustment("M", "满300减50", "store", money("50.00"))
    same = Adjustment.of_minor("M", "满300减50", "store", 5000, money("1.00").currency)
    assert money("50.00") == adj.amount
    assert "50.00" == str(adj.amount.amount)
    assert adj == same
    assert hash(adj) == hash(same)
    assert "Adjustment(promotion_id='M', name='满300减50', lane='store', amount=CNY 50.00)" == repr(
        adj
    )
    assert adj != Adjustment("M", "满300减50", "store", money("50.01"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        adj.name = "x"  # type: ignore[misc]


def test_priced_line_built_from_money_equals_the_engines_line():
    priced = price_cart(
        cart=cart(line("A", "150.00", 2)),
        promotions=load_promotions(
            [
                {"id": "P", "type": "percent_off", "percent": 10},
                {"id": "M", "type": "spend_tiers", "tiers": [{"threshold": 200, "amount": 20}]},
            ]
        ),
        context=PricingContext(now=NOW),
    )
    (pl,) = priced.lines
    assert money("300.00") == pl.list_amount
    assert money("250.00") == pl.final_amount
    assert [("P", "30.00"), ("M", "20.00")] == [
        (a.promotion_id, str(a.amount.amount)) for a in pl.adjustments
    ]
    eager = PricedLine(
        "A",
        "a",
        "S1",
        2,
        money("300.00"),
        (
            Adjustment("P", pl.adjustments[0].name, "item", money("30.00")),
            Adjustment("M", pl.adjustments[1].name, "store", money("20.00")),
        ),
        money("250.00"),
    )
    assert eager == pl
    assert hash(eager) == hash(pl)
    assert repr(eager) == repr(pl)
    assert "list_amount=CNY 300.00" in repr(pl)
    cheaper = PricedLine("A", "a", "S1", 2, money("300.00"), eager.adjustments, money("249.99"))
    assert cheaper != pl


def test_yen_amounts_keep_no_decimal_places():
    jpy = Cart(
        lines=[
            CartLine(
                line_id="L1", sku="tea", store_id="S1", quantity=3, unit_price=money("1230", "JPY")
            )
        ],
        shipping_fees={"S1": money("500", "JPY")},
    )
    promos = load_promotions(
        [
            {"id": "P", "type": "percent_off", "percent": 10, "currency": "JPY"},
            {"id": "H", "type": "shipping", "min_spend": "0", "currency": "JPY"},
        ]
    )
    priced = price_cart(cart=jpy, promotions=promos, context=PricingContext(now=NOW))
    (pl,) = priced.lines
    assert "3690" == str(pl.list_amount.amount)
    assert from_minor(3690 - 369, "JPY") == pl.final_amount
    assert [("P", "369")] == [(a.promotion_id, str(a.amount.amount)) for a in pl.adjustments]
    (ship,) = priced.shipping
    assert ("500", "0") == (str(ship.fee.amount), str(ship.final_amount.amount))
    assert [("H", "500")] == [(a.promotion_id, str(a.amount.amount)) for a in ship.adjustments]


def test_mixed_currencies_are_refused():
    with pytest.raises(CurrencyMismatchError) as err:
        PricedShipping("S1", money("5.00"), (), money("5", "JPY"))
    assert isinstance(err.value, MultistoreError)
    assert "money.currency_mismatch" == err.value.code


@pytest.mark.parametrize("code", ["CNY", "JPY", "BHD"])
def test_amounts_in_sentences_read_like_the_exact_decimal(code):
    cur = currency(code)
    places = len(str(minor_per_major(cur))) - 1
    for n in [0, 1, -1, 5, -5, 99, 100, -100, 1230, 123456789, -123456789, 10**15 + 7]:
        exact = Decimal(n).scaleb(-places)
        text = format_minor(n, cur)
        assert f"{exact:,.{places}f}" == text.removeprefix("¥").removeprefix("JP¥").removesuffix(
            f" {code}"
        )
