from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from multistore.money import money
from multistore.tax import (
    Adjustment,
    AdjustmentKind,
    OrderLine,
    RateTable,
    TaxOrder,
    default_rate_table,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "tax"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def rates() -> RateTable:
    return default_rate_table()


def make_order(order_id: str = "O1", store_id: str = "S1", platform: str = "wechat") -> TaxOrder:
    return TaxOrder(
        order_id=order_id,
        store_id=store_id,
        platform=platform,
        tax_date=date(2026, 11, 2),
        lines=[
            OrderLine(
                line_id="milk",
                quantity=3,
                amount=money("59.70"),
                tax_category="reduced",
                name="牛奶",
                cost=money("36.00"),
            ),
            OrderLine(
                line_id="pot",
                quantity=1,
                amount=money("199.00"),
                tax_category="general",
                name="电饭煲",
                cost=money("120.00"),
            ),
            OrderLine(
                line_id="bread",
                quantity=2,
                amount=money("15.00"),
                tax_category="general",
                name="面包",
            ),
        ],
        adjustments=[
            Adjustment(
                adjustment_id="full", kind=AdjustmentKind.FULL_REDUCTION, amount=money("20.00")
            ),
            Adjustment(
                adjustment_id="pc", kind=AdjustmentKind.PLATFORM_COUPON, amount=money("5.00")
            ),
            Adjustment(
                adjustment_id="ship", kind=AdjustmentKind.SHIPPING_FEE, amount=money("6.00")
            ),
            Adjustment(adjustment_id="comm", kind=AdjustmentKind.COMMISSION, amount=money("12.35")),
        ],
    )
