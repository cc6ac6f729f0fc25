"""The replenishment service (``ms.replenishment``): reorder points from the sales ledger.

:meth:`ReplenishmentService.recompute` reads the daily sales of a window from the stock ledger
(through :class:`~multistore.ports.replenishment.SalesHistory`), runs the pure core
(Syntetos-Boylan classification -> forecaster -> policy) and stores one
:class:`~multistore.ports.replenishment.ReorderPoint` per (store, sku).
:meth:`ReplenishmentService.plan` returns purchase orders and transfers between stores for the
current stock. Once a reorder point is stored, every stock change that takes the pair's **on
hand** from above the point to at or below it writes one ``replenishment.below_reorder_point``
event to the outbox in the same transaction (see :func:`below_reorder_point_event`).

Quantities:

* **Demand** per day = units of ``sale`` movements - units of ``return`` movements that day,
  floored at zero; days run at ``utc_offset`` from UTC (default UTC, ``timedelta(hours=8)`` for
  China).
* **Stock-out days** are days with no stock to sell: opened with nothing on hand, sold nothing
  and closed with nothing (including days before the SKU was first received); a policy with
  ``exclude_stockouts`` (the default) leaves them out. A day that sold down to zero counts as
  demand (censored, but observed).
* **Alerts** watch on hand: the physical stock sales deplete. Stock in transit and open
  reservations do not move the alert.
* **Plans** use the inventory position on hand + units in transit to the store - units
  reserved for orders (reserved units are counted as backorders).

Examples:
    >>> from datetime import timedelta
    >>> import multistore
    >>> from multistore import SYSTEM_ACTOR as hq
    >>> from multistore.replenishment import LeadTime, SupplyTerms
    >>> from multistore.testing.builders import sample_product, sample_store
    >>> ms = multistore.connect("memory://")
    >>> _ = ms.stores.add(actor=hq, store=sample_store("SH-1"))
    >>> _ = ms.catalog.add_product(actor=hq, product=sample_product("P", ["TEA"]))
    >>> _ = ms.inventory.receive(actor=hq, store_id="SH-1", sku="TEA", quantity=100)
    >>> for _ in range(3):
    ...     _ = ms.inventory.record_movement(actor=hq, store_id="SH-1", sku="TEA",
    ...                                      kind="sale", quantity=-2)
    >>> terms = [SupplyTerms(sku="TEA", supplier_id="S1", lead_time=LeadTime(3))]
    >>> done = ms.replenishment.recompute(actor=hq, supply=terms, days=7,
    ...                                   end=ms.context.clock.now().date())
    >>> [(p.store_id, p.sku, p.policy) for p in done.points]
    [('SH-1', 'TEA', 'rq')]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

import attrs

from multistore.errors import PermissionDeniedError, StorageError, ValidationError
from multistore.geo import GeoPoint
from multistore.ports.replenishment import (
    BELOW_REORDER_POINT,
    DailySales,
    ReorderPoint,
    ReorderPointRepository,
    SalesHistory,
    check_utc_offset,
    check_window,
    replenishment_ports,
    window_bounds,
)
from multistore.ports.security import Actor, Scope
from multistore.ports.storage import UnitOfWork
from multistore.replenishment.errors import InvalidParameterError
from multistore.replenishment.history import DemandHistory
from multistore.replenishment.policies import ReplenishmentPolicy
from multistore.replenishment.suggestions import Plan, StockPosition, SupplyTerms, plan
from multistore.replenishment.transfers import TransferCosts
from multistore.services.context import Outcome, ServiceContext, require_actor
from multistore.services.scopes import store_scopes

__all__ = [
    "Recomputed",
    "ReplenishmentService",
    "below_reorder_point_event",
    "demand_histories",
]

T = TypeVar("T")

Pair = tuple[str, str]
PolicyInput = ReplenishmentPolicy | Mapping[str, Any] | None


def below_reorder_point_event(
    point: ReorderPoint, *, on_hand: int, cause: str
) -> tuple[str, str, Mapping[str, Any]]:
    """The outbox event of a pair whose on hand is at or below its reorder point.

    Args:
        point: The stored reorder point.
        on_hand: Units on hand now.
        cause: ``"stock_change"`` (a sale, transfer or adjustment crossed the point) or
            ``"reorder_point_changed"`` (a new point put the current stock at or below it).

    Returns:
        ``(type, aggregate, payload)`` as :class:`~multistore.services.context.Outcome` takes
        events.
    """
    suggested = max(0, math.ceil(point.order_up_to - on_hand))
    payload = {
        "store_id": point.store_id,
        "sku": point.sku,
        "on_hand": on_hand,
        "reorder_point": point.reorder_point,
        "order_up_to": point.order_up_to,
        "safety_stock": point.safety_stock,
        "demand_mean": point.demand_mean,
        "policy": point.policy,
        "suggested_quantity": suggested,
        "cause": cause,
        "explanation": (
            f"{point.sku} in {point.store_id}: on hand {on_hand} is at or below the reorder point "
            f"{point.reorder_point:.2f} (safety stock {point.safety_stock:.2f}, policy "
            f"{point.policy}); order about {suggested} to reach {point.order_up_to:.2f}."
        ),
    }
    return (BELOW_REORDER_POINT, f"stock:{point.store_id}/{point.sku}", payload)


def demand_histories(
    rows: Iterable[DailySales], *, start: date, end: date, keys: Iterable[Pair] = ()
) -> dict[Pair, DemandHistory]:
    """Turn ledger day rows into zero-filled daily histories with stock-out flags.

    A day without a row sold nothing and closed with the previous day's stock (the first row's
    opening stock before it). A day is flagged as a stock-out only if there was no stock to sell
    in it: it **opened** with nothing on hand, sold nothing and closed with nothing. A day that
    sold down to zero is a real, if censored, demand observation, so an item that sells out
    every day still has one observation per day. ``keys`` adds pairs without any row (all
    zeros, no flag: their stock is unknown here).

    Examples:
        >>> rows = [DailySales("S", "K", date(2026, 1, 2), 3, 0, -3, 0)]
        >>> h = demand_histories(rows, start=date(2026, 1, 1), end=date(2026, 1, 3))["S", "K"]
        >>> h.quantities, h.stock_out
        ((0.0, 3.0, 0.0), (False, False, True))
    """
    start, end = check_window(start, end)
    days = (end - start).days + 1
    by_pair: dict[Pair, list[DailySales]] = {}
    for row in rows:
        if start <= row.day <= end:
            by_pair.setdefault((row.store_id, row.sku), []).append(row)
    out: dict[Pair, DemandHistory] = {}
    for key in keys:
        if key not in by_pair:
            out[key] = DemandHistory(
                store_id=key[0], sku=key[1], start=start, quantities=[0] * days
            )
    for key, pair_rows in by_pair.items():
        pair_rows.sort(key=lambda r: r.day)
        quantities = [0.0] * days
        flags = [False] * days
        closing = pair_rows[0].opening_on_hand
        index = 0
        for offset in range(days):
            day = start + timedelta(days=offset)
            opening, sold = closing, 0
            if index < len(pair_rows) and pair_rows[index].day == day:
                quantities[offset] = float(pair_rows[index].demand)
                sold = pair_rows[index].sold
                closing = pair_rows[index].closing_on_hand
                index += 1
            flags[offset] = opening <= 0 and sold <= 0 and closing <= 0
        out[key] = DemandHistory(
            store_id=key[0], sku=key[1], start=start, quantities=quantities, stock_out=flags
        )
    return dict(sorted(out.items()))


@attrs.frozen
class Recomputed:
    """What :meth:`ReplenishmentService.recompute` stored.

    Attributes:
        points: The reorder points saved, by (store, sku).
        skipped: Pairs not recomputed because every day of the window was a stock-out (no stock
            to sell all day); a pair with any sale is never skipped.
            Their stored points, if any, stay.
        alerts: Below-reorder-point events written because a new point put the current stock
            at or below it.
        start: First day of the sales window.
        end: Last day of the sales window.
        plan: The pure plan the points came from (forecasts and the figures behind them).
    """

    points: tuple[ReorderPoint, ...]
    skipped: tuple[Pair, ...]
    alerts: int
    start: date
    end: date
    plan: Plan


@attrs.frozen
class _Inputs:
    histories: dict[Pair, DemandHistory]
    positions: list[StockPosition]
    locations: dict[str, GeoPoint]
    skipped: tuple[Pair, ...]


def _unsupported() -> StorageError:
    return StorageError(
        "this storage has no sales history or reorder points (its units of work lack "
        "`sales_history` and `reorder_points`); use memory://, sqlite:// or postgresql://, or "
        "implement multistore.ports.replenishment in your adapter",
        code="replenishment.unsupported_storage",
    )


def _ports(uow: UnitOfWork) -> tuple[SalesHistory, ReorderPointRepository]:
    found = replenishment_ports(uow)
    if found is None:
        raise _unsupported()
    return found


def _ids(values: Collection[str] | None, what: str) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise InvalidParameterError(
            f"{what} must be a collection of ids, not one string; wrap it in a list",
            details={"field": what},
        )
    return sorted(set(values))


def _skus(skus: Collection[str] | None, terms: Sequence[SupplyTerms]) -> list[str]:
    """The SKUs to plan: those asked for (each needs supply terms), else the terms' SKUs."""
    known = {t.sku for t in terms}
    codes = _ids(skus, "skus")
    if codes is None:
        return sorted(known)
    missing = [code for code in codes if code not in known]
    if missing:
        raise InvalidParameterError(
            f"no supply terms for sku(s) {', '.join(missing)}; give a SupplyTerms for each",
            code="replenishment.missing_supply_terms",
            details={"skus": missing},
        )
    return codes


def _representable(start: date, end: date, offset: timedelta) -> None:
    """Refuse a window whose UTC instants fall outside what ``datetime`` can hold."""
    try:
        window_bounds(start, end, offset)
    except ValidationError as exc:
        raise InvalidParameterError(exc.message, details=exc.details) from None


def _crossing_events(
    points: Sequence[ReorderPoint],
    old: Mapping[Pair, ReorderPoint],
    on_hands: Mapping[Pair, int],
) -> list[tuple[str, str, Mapping[str, Any]]]:
    """Alerts for pairs a new point puts at or below it (they were not below the old one).

    ``on_hands`` must come from ``lock_on_hand`` taken **before** ``old`` was read: the pairs'
    stock rows are then held exclusively, so a concurrent stock change either committed before
    (its result is read) or waits and then compares with the saved points, and a concurrent
    point change on the same pair waits and then reads these points as its old ones; either way
    the crossing is alerted once.
    """
    events = []
    for point in points:
        on_hand = on_hands.get(point.key, 0)
        before = old.get(point.key)
        if on_hand <= point.reorder_point and (before is None or on_hand > before.reorder_point):
            events.append(
                below_reorder_point_event(point, on_hand=on_hand, cause="reorder_point_changed")
            )
    return events


class ReplenishmentService:
    """Reorder points from the sales ledger, purchase and transfer plans (``ms.replenishment``).

    Actions: ``replenishment.recompute`` and ``replenishment.set_reorder_point`` (in every store
    touched, or at headquarters for the whole chain), ``replenishment.read`` for
    :meth:`history` and :meth:`plan` (the built-in ``*.read`` grants reach it). Denials are
    audited like every other service's.
    """

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    # --- authorisation ----------------------------------------------------------------------

    def _scopes(self, uow: UnitOfWork, store_ids: list[str] | None) -> list[Scope]:
        return [Scope.hq()] if store_ids is None else store_scopes(uow, store_ids)

    def _read(
        self,
        *,
        actor: Actor,
        action: str,
        target: str,
        store_ids: list[str] | None,
        fn: Callable[[UnitOfWork], T],
    ) -> T:
        """Authorise in a read-only unit of work, then run ``fn`` in it; audit a denial."""
        require_actor(actor)
        denial: PermissionDeniedError | None = None
        with (self._ctx.read_uow_factory or self._ctx.uow_factory)() as uow:
            _ports(uow)
            try:
                for scope in self._scopes(uow, store_ids):
                    self._ctx.authorizer.check(actor, action, scope)
            except PermissionDeniedError as exc:
                denial = exc
            else:
                return fn(uow)
        self._ctx.audit_denial(actor=actor, action=action, target=target, denial=denial)
        raise denial

    # --- reads -------------------------------------------------------------------------------

    def _window(self, end: date | None, days: int, utc_offset: timedelta) -> tuple[date, date]:
        check_utc_offset(utc_offset)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise InvalidParameterError(
                f"days must be a whole number >= 1, got {days!r}", details={"field": "days"}
            )
        if end is None:
            end = (self._ctx.clock.now() + utc_offset).date() - timedelta(days=1)
        check_window(end, end)  # a date
        try:
            start = end - timedelta(days=days - 1)
        except OverflowError:
            raise InvalidParameterError(
                f"a window of {days} days ending {end.isoformat()} starts before {date.min}; "
                "give fewer days or a later end date",
                details={"field": "days"},
            ) from None
        start, end = check_window(start, end)
        _representable(start, end, utc_offset)
        return start, end

    def history(
        self,
        *,
        actor: Actor,
        start: date,
        end: date,
        utc_offset: timedelta = timedelta(0),
        store_ids: Collection[str] | None = None,
        skus: Collection[str] | None = None,
    ) -> dict[Pair, DemandHistory]:
        """Return the daily demand history of every (store, sku) that moved in the window.

        Args:
            actor: Who asks (``replenishment.read`` in the stores, or at HQ for all stores).
            start: First day (inclusive).
            end: Last day (inclusive).
            utc_offset: Where days begin, as an offset from UTC.
            store_ids: Stores to read (``None``: the whole chain).
            skus: SKUs to read (``None``: all).

        Returns:
            Zero-filled :class:`~multistore.replenishment.DemandHistory` values with stock-out
            flags, keyed by ``(store_id, sku)``.

        Raises:
            ValidationError: ``replenishment.invalid_parameter`` for a bad window or offset.
            StorageError: ``replenishment.unsupported_storage``.
            NotFoundError: ``store.not_found`` for an unknown store.
            PermissionDeniedError: when the actor may not read there.
        """
        start, end = check_window(start, end)
        offset = check_utc_offset(utc_offset)
        _representable(start, end, offset)
        stores, codes = _ids(store_ids, "store_ids"), _ids(skus, "skus")

        def read(uow: UnitOfWork) -> dict[Pair, DemandHistory]:
            rows = _ports(uow)[0].daily_sales(
                start=start, end=end, utc_offset=offset, store_ids=stores, skus=codes
            )
            return demand_histories(rows, start=start, end=end)

        return self._read(
            actor=actor,
            action="replenishment.read",
            target="replenishment:history",
            store_ids=stores,
            fn=read,
        )

    def reorder_point(self, *, store_id: str, sku: str) -> ReorderPoint | None:
        """Return the stored reorder point of one pair, or ``None``."""
        return self._ctx.read(lambda uow: _ports(uow)[1].get(store_id, sku))

    def reorder_points(
        self, *, store_ids: Collection[str] | None = None, skus: Collection[str] | None = None
    ) -> Sequence[ReorderPoint]:
        """Return the stored reorder points of the given stores and SKUs (``None``: all)."""
        stores, codes = _ids(store_ids, "store_ids"), _ids(skus, "skus")
        return self._ctx.read(lambda uow: list(_ports(uow)[1].list(store_ids=stores, skus=codes)))

    # --- the core run --------------------------------------------------------------------------

    def _inputs(
        self,
        uow: UnitOfWork,
        *,
        start: date,
        end: date,
        offset: timedelta,
        stores: list[str] | None,
        codes: list[str],
        policy: PolicyInput,
        sku_policies: Mapping[str, ReplenishmentPolicy | Mapping[str, Any]] | None,
        with_locations: bool,
    ) -> _Inputs:
        rows = _ports(uow)[0].daily_sales(
            start=start, end=end, utc_offset=offset, store_ids=stores, skus=codes
        )
        histories = demand_histories(rows, start=start, end=end)
        default = ReplenishmentPolicy.load(policy if policy is not None else {})
        per_sku = {k: ReplenishmentPolicy.load(v) for k, v in (sku_policies or {}).items()}
        skipped = tuple(
            key
            for key, h in histories.items()
            if per_sku.get(key[1], default).exclude_stockouts
            and not h.observations(exclude_stockouts=True)
        )
        for key in skipped:
            del histories[key]
        positions: list[StockPosition] = []
        if histories:
            levels = uow.stock.snapshot(
                skus={k[1] for k in histories}, store_ids={k[0] for k in histories}
            )
            inbound: dict[Pair, int] = {}
            for move in uow.stock.transfers_in_transit():
                key = (move.to_store, move.sku)
                if key in histories:
                    inbound[key] = inbound.get(key, 0) + move.quantity
            for key in histories:
                level = levels.get(key)
                positions.append(
                    StockPosition(
                        store_id=key[0],
                        sku=key[1],
                        on_hand=level.on_hand if level is not None else 0,
                        on_order=inbound.get(key, 0),
                        backorders=level.reserved if level is not None else 0,
                    )
                )
        locations: dict[str, GeoPoint] = {}
        if with_locations:
            wanted = {k[0] for k in histories}
            locations = {s.id: s.location for s in uow.stores.list() if s.id in wanted}
        return _Inputs(
            histories=histories, positions=positions, locations=locations, skipped=skipped
        )

    def _gather(
        self,
        *,
        actor: Actor,
        action: str,
        target: str,
        supply: Iterable[SupplyTerms],
        end: date | None,
        days: int,
        utc_offset: timedelta,
        store_ids: Collection[str] | None,
        skus: Collection[str] | None,
        policy: PolicyInput,
        sku_policies: Mapping[str, ReplenishmentPolicy | Mapping[str, Any]] | None,
        with_locations: bool,
    ) -> tuple[list[SupplyTerms], date, date, list[str] | None, _Inputs]:
        """Check the arguments of a plan or recompute, authorise ``action`` and read its inputs.

        Returns ``(terms, start, end, stores, inputs)``: the supply terms as a list, the sales
        window, the checked store ids (``None``: all) and what :meth:`_inputs` read.
        """
        terms = list(supply)
        start, end = self._window(end, days, utc_offset)
        stores = _ids(store_ids, "store_ids")
        codes = _skus(skus, terms)
        inputs = self._read(
            actor=actor,
            action=action,
            target=target,
            store_ids=stores,
            fn=lambda uow: self._inputs(
                uow,
                start=start,
                end=end,
                offset=utc_offset,
                stores=stores,
                codes=codes,
                policy=policy,
                sku_policies=sku_policies,
                with_locations=with_locations,
            ),
        )
        return terms, start, end, stores, inputs

    def plan(
        self,
        *,
        actor: Actor,
        supply: Iterable[SupplyTerms],
        end: date | None = None,
        days: int = 365,
        utc_offset: timedelta = timedelta(0),
        store_ids: Collection[str] | None = None,
        skus: Collection[str] | None = None,
        policy: PolicyInput = None,
        sku_policies: Mapping[str, ReplenishmentPolicy | Mapping[str, Any]] | None = None,
        transfers: bool = True,
        transfer_costs: TransferCosts | None = None,
    ) -> Plan:
        """Suggest purchase orders and transfers between stores for the current stock.

        Reads ``days`` days of sales up to ``end`` from the ledger, forecasts each (store, sku)
        and compares its policy levels with its inventory position (on hand + in transit to it
        - reserved). Pairs that had every day out of stock are left out.

        Args:
            actor: Who asks (``replenishment.read`` in the stores, or at HQ for all stores).
            supply: Supply terms per SKU (supplier, lead times, costs, multiples, MOQ).
            end: Last day of sales to use (default: yesterday at ``utc_offset``).
            days: Length of the sales window.
            utc_offset: Where days begin, as an offset from UTC.
            store_ids: Stores to plan (``None``: the whole chain).
            skus: SKUs to plan (``None``: those in ``supply``).
            policy: The default :class:`~multistore.replenishment.ReplenishmentPolicy`.
            sku_policies: Policies per SKU.
            transfers: Suggest transfers between stores (using the stores' locations).
            transfer_costs: Costs of moving stock, to rank and price transfers.

        Returns:
            The :class:`~multistore.replenishment.Plan`.

        Raises:
            ValidationError: ``replenishment.*`` for bad parameters or policies.
            StorageError: ``replenishment.unsupported_storage``.
            NotFoundError: ``store.not_found`` for an unknown store.
            PermissionDeniedError: when the actor may not read there.
        """
        terms, _start, _end, _stores, inputs = self._gather(
            actor=actor,
            action="replenishment.read",
            target="replenishment:plan",
            supply=supply,
            end=end,
            days=days,
            utc_offset=utc_offset,
            store_ids=store_ids,
            skus=skus,
            policy=policy,
            sku_policies=sku_policies,
            with_locations=transfers,
        )
        return plan(
            histories=inputs.histories,
            positions=inputs.positions,
            supply=terms,
            policy=policy,
            sku_policies=sku_policies,
            locations=inputs.locations or None,
            transfer_costs=transfer_costs,
        )

    # --- writes ------------------------------------------------------------------------------

    def recompute(
        self,
        *,
        actor: Actor,
        supply: Iterable[SupplyTerms],
        end: date | None = None,
        days: int = 365,
        utc_offset: timedelta = timedelta(0),
        store_ids: Collection[str] | None = None,
        skus: Collection[str] | None = None,
        policy: PolicyInput = None,
        sku_policies: Mapping[str, ReplenishmentPolicy | Mapping[str, Any]] | None = None,
    ) -> Recomputed:
        """Recompute and store the reorder points of every (store, sku) sold in the window.

        Reads ``days`` days of sales up to ``end`` (one query), runs classification, forecast
        and policy for each pair that moved in the window, and saves its reorder point,
        order-up-to level and safety stock in one unit of work with an audit entry. A pair that
        a new point puts at or below it (and was not below its old point) gets a
        ``replenishment.below_reorder_point`` event with ``cause = "reorder_point_changed"``.
        Pairs without a movement in the window keep their stored points.

        Args:
            actor: Who acts (``replenishment.recompute`` in the stores, or at HQ for all).
            supply: Supply terms per SKU (lead times and costs drive the levels).
            end: Last day of sales to use (default: yesterday at ``utc_offset``).
            days: Length of the sales window.
            utc_offset: Where days begin, as an offset from UTC.
            store_ids: Stores to recompute (``None``: the whole chain).
            skus: SKUs to recompute (``None``: those in ``supply``).
            policy: The default :class:`~multistore.replenishment.ReplenishmentPolicy`.
            sku_policies: Policies per SKU.

        Returns:
            :class:`Recomputed`.

        Raises:
            ValidationError: ``replenishment.*`` for bad parameters, policies or a SKU without
                supply terms; nothing is stored.
            StorageError: ``replenishment.unsupported_storage``.
            NotFoundError: ``store.not_found`` for an unknown store.
            PermissionDeniedError: when the actor may not recompute there.
        """
        target = "replenishment:reorder_points"
        terms, start, end, stores, inputs = self._gather(
            actor=actor,
            action="replenishment.recompute",
            target=target,
            supply=supply,
            end=end,
            days=days,
            utc_offset=utc_offset,
            store_ids=store_ids,
            skus=skus,
            policy=policy,
            sku_policies=sku_policies,
            with_locations=False,
        )
        result = plan(
            histories=inputs.histories,
            positions=inputs.positions,
            supply=terms,
            policy=policy,
            sku_policies=sku_policies,
        )
        now = self._ctx.clock.now()
        points = tuple(
            ReorderPoint(
                store_id=item.store_id,
                sku=item.sku,
                reorder_point=item.levels.reorder_point,
                order_up_to=max(item.levels.order_up_to, item.levels.reorder_point),
                safety_stock=item.levels.safety_stock,
                policy=item.levels.kind,
                computed_at=now,
                demand_mean=item.levels.demand_mean,
                forecaster=item.forecast.method,
            )
            for item in result.items
        )

        def work(uow: UnitOfWork) -> Outcome[Recomputed]:
            repo = _ports(uow)[1]
            keys = {p.key for p in points}
            on_hands = repo.lock_on_hand(keys) if points else {}
            old = (
                {
                    p.key: p
                    for p in repo.list(store_ids={k[0] for k in keys}, skus={k[1] for k in keys})
                    if p.key in keys
                }
                if points
                else {}
            )
            repo.save(points)
            events = _crossing_events(points, old, on_hands)
            done = Recomputed(
                points=points,
                skipped=inputs.skipped,
                alerts=len(events),
                start=start,
                end=end,
                plan=result,
            )
            return Outcome(
                done,
                events,
                {
                    "window": [start.isoformat(), end.isoformat()],
                    "points": len(points),
                    "skipped": len(inputs.skipped),
                    "alerts": len(events),
                },
            )

        return self._ctx.run(
            actor=actor,
            action="replenishment.recompute",
            target=target,
            scopes=lambda uow: self._scopes(uow, stores),
            work=work,
        )

    def set_reorder_point(
        self,
        *,
        actor: Actor,
        store_id: str,
        sku: str,
        reorder_point: float,
        order_up_to: float,
        safety_stock: float = 0.0,
    ) -> ReorderPoint:
        """Store a reorder point set by hand (policy ``manual``), replacing any computed one.

        If the current on hand is at or below the new point (and was not below the old one)
        a ``replenishment.below_reorder_point`` event is written in the same transaction.

        Raises:
            ValidationError: ``replenishment.invalid_reorder_point`` for negative levels or
                ``order_up_to < reorder_point``; nothing is stored.
            NotFoundError: ``store.not_found`` or ``catalog.sku_not_found``.
            StorageError: ``replenishment.unsupported_storage``.
            PermissionDeniedError: when the actor may not set it
                (``replenishment.set_reorder_point`` in the store).
        """
        point = ReorderPoint(
            store_id=store_id,
            sku=sku,
            reorder_point=reorder_point,
            order_up_to=order_up_to,
            safety_stock=safety_stock,
            policy="manual",
            computed_at=self._ctx.clock.now(),
        )

        def work(uow: UnitOfWork) -> Outcome[ReorderPoint]:
            uow.products.get_sku(point.sku)
            repo = _ports(uow)[1]
            on_hands = repo.lock_on_hand([point.key])
            old = repo.get(point.store_id, point.sku)
            repo.save([point])
            events = _crossing_events([point], {} if old is None else {point.key: old}, on_hands)
            return Outcome(
                point,
                events,
                {
                    "reorder_point": point.reorder_point,
                    "order_up_to": point.order_up_to,
                    "safety_stock": point.safety_stock,
                },
            )

        return self._ctx.run(
            actor=actor,
            action="replenishment.set_reorder_point",
            target=f"stock:{point.store_id}/{point.sku}",
            scopes=lambda uow: store_scopes(uow, [point.store_id]),
            work=work,
        )
