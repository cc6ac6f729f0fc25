"""Contract of :mod:`multistore.ports.replenishment`: daily ledger sales and reorder points."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from multistore.errors import ValidationError
from multistore.inventory.model import MovementKind, StockMovement
from multistore.ports.replenishment import (
    DailySales,
    ReorderPoint,
    ReorderPointRepository,
    SalesHistory,
    replenishment_ports,
)
from multistore.ports.storage import UnitOfWork, UnitOfWorkFactory
from multistore.testing.contracts._base import ContractBase

__all__ = ["ReplenishmentContract"]

CN = timedelta(hours=8)


def _ports(uow: UnitOfWork) -> tuple[SalesHistory, ReorderPointRepository]:
    found = replenishment_ports(uow)
    assert found is not None, "the unit of work lacks sales_history / reorder_points"
    return found


def _at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def _book(
    factory: UnitOfWorkFactory,
    moves: Sequence[tuple[str, str, MovementKind, int, datetime]],
) -> None:
    with factory() as uow:
        for store_id, sku, kind, quantity, at in moves:
            uow.stock.record(
                StockMovement(
                    store_id=store_id, sku=sku, kind=kind, quantity=quantity, occurred_at=at
                )
            )
        uow.commit()


def _point(uid: str, store: str = "A", sku: str = "K", **kw: object) -> ReorderPoint:
    fields: dict[str, object] = {
        "store_id": f"{store}-{uid}",
        "sku": f"{sku}-{uid}",
        "reorder_point": 12.345678901234567,
        "order_up_to": 40.5,
        "safety_stock": 3.0000000001,
        "policy": "rq",
        "computed_at": datetime(2026, 3, 1, 2, 3, 4, 567891, tzinfo=UTC),
        "demand_mean": 2.718281828459045,
        "forecaster": "croston",
    }
    fields.update(kw)
    return ReorderPoint(**fields)  # type: ignore[arg-type]


class ReplenishmentContract(ContractBase):
    """Daily sales are the ledger summed per local day; reorder points round-trip exactly."""

    # --- reorder points ------------------------------------------------------------------------

    def test_saved_points_round_trip_exactly(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Every field, floats to the last bit and the timestamp to the microsecond."""
        point = _point(uid)
        with uow_factory() as uow:
            _ports(uow)[1].save([point])
            uow.commit()
        with uow_factory() as uow:
            assert point == _ports(uow)[1].get(point.store_id, point.sku)

    def test_unknown_pair_reads_as_none(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """A pair without a stored point reads as ``None``."""
        with uow_factory() as uow:
            assert _ports(uow)[1].get(f"A-{uid}", f"K-{uid}") is None

    def test_save_replaces_the_pair_and_list_filters_by_key(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """One row per (store, sku): saving again replaces it; list is sorted by key."""
        a_k = _point(uid, "A", "K")
        a_j = _point(uid, "A", "J", reorder_point=1.0, order_up_to=2.0)
        b_k = _point(uid, "B", "K", policy="manual", forecaster="")
        with uow_factory() as uow:
            _ports(uow)[1].save([a_k, b_k, a_j])
            uow.commit()
        newer = _point(uid, "A", "K", reorder_point=5.5, order_up_to=5.5, policy="ss")
        with uow_factory() as uow:
            _ports(uow)[1].save([newer])
            uow.commit()
        with uow_factory() as uow:
            repo = _ports(uow)[1]
            assert newer == repo.get(newer.store_id, newer.sku)
            assert [a_j, newer, b_k] == list(
                repo.list(store_ids=[f"A-{uid}", f"B-{uid}"], skus=[f"K-{uid}", f"J-{uid}"])
            )
            assert [a_j, newer] == list(repo.list(store_ids=[f"A-{uid}"]))
            assert [newer, b_k] == list(repo.list(skus=[f"K-{uid}"]))
            assert list(repo.list(store_ids=[f"Z-{uid}"])) == []

    def test_delete_removes_one_pair(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Deleting says whether a point was there; the pair then reads as ``None``."""
        point = _point(uid)
        with uow_factory() as uow:
            _ports(uow)[1].save([point])
            uow.commit()
        with uow_factory() as uow:
            repo = _ports(uow)[1]
            assert (
                repo.delete(point.store_id, point.sku),
                repo.delete(point.store_id, point.sku),
            ) == (True, False)
            uow.commit()
        with uow_factory() as uow:
            assert _ports(uow)[1].get(point.store_id, point.sku) is None

    def test_uncommitted_points_are_rolled_back(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Points saved in a unit of work that does not commit are gone."""
        point = _point(uid)
        with uow_factory() as uow:
            _ports(uow)[1].save([point])
            assert point == _ports(uow)[1].get(point.store_id, point.sku)
        with uow_factory() as uow:
            assert _ports(uow)[1].get(point.store_id, point.sku) is None

    def test_lock_on_hand_reads_the_stocked_pairs(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """On hand of each stocked pair, in the unit of work that will compare it with points."""
        a, b, k = f"A-{uid}", f"B-{uid}", f"K-{uid}"
        _book(
            uow_factory,
            [
                (a, k, MovementKind.RECEIPT, 7, _at(1, 1)),
                (b, k, MovementKind.RECEIPT, 2, _at(1, 1)),
            ],
        )
        with uow_factory() as uow:
            found = _ports(uow)[1].lock_on_hand([(b, k), (a, k), (f"Z-{uid}", k)])
            uow.commit()
        assert {(a, k): 7, (b, k): 2} == dict(found)

    # --- daily sales ---------------------------------------------------------------------------

    def test_sales_minus_returns_per_local_day_with_closing_stock(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Days at +08:00; receipts and transfers move stock but are not sales."""
        a, k = f"A-{uid}", f"K-{uid}"
        _book(
            uow_factory,
            [
                (a, k, MovementKind.RECEIPT, 20, _at(1, 1)),
                (a, k, MovementKind.SALE, -3, _at(2, 15, 59, 59)),  # 2 Mar 23:59:59 local
                (a, k, MovementKind.SALE, -2, _at(2, 16)),  # 3 Mar 00:00 local
                (a, k, MovementKind.RETURN, 1, _at(3, 3)),
                (a, k, MovementKind.TRANSFER_OUT, -4, _at(3, 4)),
                (a, k, MovementKind.SALE, -6, _at(5, 3)),
                (a, k, MovementKind.RECEIPT, 4, _at(9, 3)),  # after the window
            ],
        )
        with uow_factory() as uow:
            rows = _ports(uow)[0].daily_sales(
                start=date(2026, 3, 2), end=date(2026, 3, 6), utc_offset=CN, store_ids=[a]
            )
        assert [
            DailySales(a, k, date(2026, 3, 2), 3, 0, -3, 17),
            DailySales(a, k, date(2026, 3, 3), 2, 1, -5, 12),
            DailySales(a, k, date(2026, 3, 5), 6, 0, -6, 6),
        ] == list(rows)
        assert [r.demand for r in rows] == [3, 1, 6]

    def test_a_day_runs_to_its_last_microsecond(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """23:59:59.9996 local belongs to that day (no rounding); 00:00:00 to the next one."""
        a, k = f"A-{uid}", f"K-{uid}"
        _book(
            uow_factory,
            [
                (a, k, MovementKind.RECEIPT, 20, _at(1, 1)),
                (a, k, MovementKind.SALE, -3, _at(2, 15, 59, 59) + timedelta(microseconds=999_600)),
                (a, k, MovementKind.SALE, -2, _at(2, 16)),  # 3 Mar 00:00:00 local exactly
                (a, k, MovementKind.SALE, -1, _at(3, 15, 59, 59) + timedelta(microseconds=999_999)),
            ],
        )
        with uow_factory() as uow:
            rows = _ports(uow)[0].daily_sales(
                start=date(2026, 3, 2), end=date(2026, 3, 4), utc_offset=CN, store_ids=[a]
            )
        assert [
            DailySales(a, k, date(2026, 3, 2), 3, 0, -3, 17),
            DailySales(a, k, date(2026, 3, 3), 3, 0, -3, 14),
        ] == list(rows)

    def test_utc_days_by_default_and_a_negative_offset(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Without an offset days are UTC days; a negative offset shifts them back."""
        a, k = f"A-{uid}", f"K-{uid}"
        _book(
            uow_factory,
            [
                (a, k, MovementKind.RECEIPT, 10, _at(1, 0)),
                (a, k, MovementKind.SALE, -1, _at(2, 3)),
                (a, k, MovementKind.SALE, -2, _at(2, 23)),
            ],
        )
        with uow_factory() as uow:
            history = _ports(uow)[0]
            in_utc = history.daily_sales(
                start=date(2026, 3, 2), end=date(2026, 3, 3), store_ids=[a]
            )
            in_new_york = history.daily_sales(
                start=date(2026, 3, 1),
                end=date(2026, 3, 3),
                utc_offset=timedelta(hours=-5),
                store_ids=[a],
            )
        assert [DailySales(a, k, date(2026, 3, 2), 3, 0, -3, 7)] == list(in_utc)
        assert [
            DailySales(a, k, date(2026, 3, 1), 1, 0, -1, 9),
            DailySales(a, k, date(2026, 3, 2), 2, 0, -2, 7),
        ] == list(in_new_york)

    def test_filters_by_store_and_sku_and_sorts_by_key_and_day(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Rows are kept by store and SKU and sorted by (store, sku, day)."""
        a, b, k, j = f"A-{uid}", f"B-{uid}", f"K-{uid}", f"J-{uid}"
        moves = [(s, x, MovementKind.RECEIPT, 5, _at(1, 1)) for s in (a, b) for x in (k, j)]
        moves += [
            (b, k, MovementKind.SALE, -1, _at(3, 1)),
            (b, k, MovementKind.SALE, -1, _at(2, 1)),
            (a, j, MovementKind.SALE, -2, _at(2, 1)),
            (a, k, MovementKind.SALE, -4, _at(2, 1)),
        ]
        _book(uow_factory, moves)
        with uow_factory() as uow:
            history = _ports(uow)[0]
            both = history.daily_sales(
                start=date(2026, 3, 2), end=date(2026, 3, 3), store_ids=[b, a], skus=[k, j]
            )
            only_k = history.daily_sales(
                start=date(2026, 3, 2), end=date(2026, 3, 3), store_ids=[a, b], skus=[k]
            )
        assert [
            (a, j, date(2026, 3, 2)),
            (a, k, date(2026, 3, 2)),
            (b, k, date(2026, 3, 2)),
            (b, k, date(2026, 3, 3)),
        ] == [(r.store_id, r.sku, r.day) for r in both]
        assert [(a, 4), (b, 1), (b, 1)] == [(r.store_id, r.sold) for r in only_k]

    def test_long_id_filters_give_the_same_answer(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Thousands of ids in a filter (a chain-wide run) work and still filter exactly."""
        a, b, k = f"A-{uid}", f"B-{uid}", f"K-{uid}"
        _book(
            uow_factory,
            [
                (a, k, MovementKind.RECEIPT, 5, _at(1, 1)),
                (b, k, MovementKind.RECEIPT, 5, _at(1, 1)),
                (a, k, MovementKind.SALE, -2, _at(2, 1)),
                (b, k, MovementKind.SALE, -1, _at(2, 1)),
            ],
        )
        point = _point(uid)
        with uow_factory() as uow:
            _ports(uow)[1].save([point, _point(uid, "B")])
            uow.commit()
        many_skus = [k, *(f"X{i}-{uid}" for i in range(2000))]
        many_stores = [a, *(f"Y{i}-{uid}" for i in range(2000))]
        with uow_factory() as uow:
            history, repo = _ports(uow)
            rows = history.daily_sales(
                start=date(2026, 3, 2), end=date(2026, 3, 2), store_ids=many_stores, skus=many_skus
            )
            points = repo.list(store_ids=many_stores, skus=many_skus)
        assert [(a, k, 2)] == [(r.store_id, r.sku, r.sold) for r in rows]
        assert [point] == list(points)

    def test_a_day_with_more_returns_than_sales_has_zero_demand(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Demand is sales minus returns, floored at zero; stock still counts the returns."""
        a, k = f"A-{uid}", f"K-{uid}"
        _book(
            uow_factory,
            [
                (a, k, MovementKind.RECEIPT, 5, _at(1, 1)),
                (a, k, MovementKind.SALE, -1, _at(2, 1)),
                (a, k, MovementKind.RETURN, 3, _at(2, 2)),
            ],
        )
        with uow_factory() as uow:
            (row,) = _ports(uow)[0].daily_sales(
                start=date(2026, 3, 2), end=date(2026, 3, 2), store_ids=[a]
            )
        assert (
            row.sold,
            row.returned,
            row.net_change,
            row.closing_on_hand,
            row.opening_on_hand,
            row.demand,
        ) == (1, 3, 2, 7, 5, 0)

    def test_a_window_without_movements_is_empty(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """A pair without a movement in the window has no row."""
        a, k = f"A-{uid}", f"K-{uid}"
        _book(uow_factory, [(a, k, MovementKind.RECEIPT, 5, _at(1, 1))])
        with uow_factory() as uow:
            rows = _ports(uow)[0].daily_sales(
                start=date(2026, 3, 2), end=date(2026, 3, 9), store_ids=[a]
            )
        assert list(rows) == []

    @pytest.mark.parametrize(
        ("start", "end", "offset"),
        [
            (date(2026, 3, 2), date(2026, 3, 1), timedelta(0)),
            (date(2026, 3, 1), date(2026, 3, 2), timedelta(hours=24)),
            (date(2026, 3, 1), date(2026, 3, 2), timedelta(seconds=30)),
            (date.min, date.min, timedelta(hours=8)),
            (date.max, date.max, timedelta(hours=-1)),
        ],
    )
    def test_a_bad_window_or_offset_raises_a_typed_error(
        self,
        uow_factory: UnitOfWorkFactory,
        start: date,
        end: date,
        offset: timedelta,
    ) -> None:
        """An empty window or an offset not in whole minutes within +-24 h is refused."""
        with uow_factory() as uow, pytest.raises(ValidationError) as raised:
            _ports(uow)[0].daily_sales(start=start, end=end, utc_offset=offset)
        assert raised.value.code == "replenishment.invalid_parameter"
