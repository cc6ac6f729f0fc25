from datetime import date

import pytest

from multistore.replenishment import (
    DemandHistory,
    EmptyHistoryError,
    InvalidParameterError,
    NegativeDemandError,
    SalesRecord,
    build_histories,
)


def test_missing_days_are_zero_sales_and_same_day_records_add_up():
    hist = build_histories(
        records=[
            SalesRecord(store_id="SH", sku="A", day=date(2024, 3, 1), quantity=2),
            {"store_id": "SH", "sku": "A", "day": date(2024, 3, 1), "quantity": 3},
            {"store_id": "SH", "sku": "A", "day": date(2024, 3, 4), "quantity": 1},
            {"store_id": "SH", "sku": "A", "day": date(2025, 1, 1), "quantity": 9},  # outside
        ],
        start=date(2024, 3, 1),
        end=date(2024, 3, 5),
        keys=[("HZ", "A")],
    )
    assert [("HZ", "A"), ("SH", "A")] == list(hist)
    assert (5.0, 0.0, 0.0, 1.0, 0.0) == hist["SH", "A"].quantities
    assert (0.0,) * 5 == hist["HZ", "A"].quantities
    assert date(2024, 3, 5) == hist["SH", "A"].end


def test_stock_out_days_are_flagged_and_excluded():
    hist = build_histories(
        records=[
            {"store_id": "S", "sku": "A", "day": date(2024, 1, 1), "quantity": 4},
            {
                "store_id": "S",
                "sku": "A",
                "day": date(2024, 1, 2),
                "quantity": 1,
                "stock_out": True,
            },
            {"store_id": "S", "sku": "A", "day": date(2024, 1, 3), "quantity": 5},
        ],
        start=date(2024, 1, 1),
        end=date(2024, 1, 3),
    )["S", "A"]
    assert (False, True, False) == hist.stock_out
    assert (4.0, 5.0) == hist.observations()
    assert (4.0, 1.0, 5.0) == hist.observations(exclude_stockouts=False)
    # 2024-01-01 is a Monday
    assert (0, 2) == hist.weekdays()


def test_all_stock_out_history_is_empty_for_methods():
    hist = DemandHistory(
        store_id="S", sku="A", start=date(2024, 1, 1), quantities=[0, 0], stock_out=[True, True]
    )
    with pytest.raises(EmptyHistoryError):
        hist.require_observations()


def test_negative_sales_are_typed_errors():
    with pytest.raises(NegativeDemandError) as info:
        SalesRecord(store_id="S", sku="A", day=date(2024, 1, 1), quantity=-1)
    assert "replenishment.negative_demand" == info.value.code
    with pytest.raises(NegativeDemandError):
        DemandHistory(store_id="S", sku="A", start=date(2024, 1, 1), quantities=[1, -1])


def test_bad_records_and_windows():
    with pytest.raises(InvalidParameterError):
        build_histories(records=[], start=date(2024, 1, 2), end=date(2024, 1, 1))
    with pytest.raises(InvalidParameterError):
        build_histories(
            records=[{"store_id": "S", "day": date(2024, 1, 1)}],
            start=date(2024, 1, 1),
            end=date(2024, 1, 1),
        )
    with pytest.raises(InvalidParameterError):
        DemandHistory(
            store_id="S", sku="A", start=date(2024, 1, 1), quantities=[1, 2], stock_out=[True]
        )
