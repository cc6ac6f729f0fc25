"""The solver's view of one order: integer costs, demands and per-SKU supply lists.

Stores are the eligible candidates that hold at least one SKU of the order. Costs are scaled
integers: ``cost_nano * W + (rank + 1)`` for each opened store, where ``rank`` is the store's
position in the tie-break order (priority, then distance, then id). The small rank term makes
equal-cost plans prefer better-ranked stores and fewer of them, so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from multistore.routing.cost import CostModel, LinearCostModel, terms_nano
from multistore.routing.request import CandidateStore

__all__ = [
    "Problem",
    "addable_stores",
    "build_problem",
    "most_open",
    "opening_saving",
    "unit_floor",
]

Entry = tuple[int, int, int]
"""(scaled unit cost, store index, usable units) in one SKU's supply list."""


class Problem:
    """An order reduced to integers for the solvers (see the module docstring)."""

    __slots__ = (
        "_qmaps",
        "_sku_sets",
        "amortised",
        "by_distance",
        "capacity",
        "const",
        "demand",
        "dist_m",
        "dummy",
        "ent",
        "fixed_nano",
        "fixed_scaled",
        "forced",
        "items",
        "max_open",
        "n",
        "net_index",
        "pinned_units",
        "rank",
        "skus",
        "unit_nano",
        "weight",
    )

    def __init__(self) -> None:
        self.n = 0
        self.net_index: list[int] = []
        self.dist_m: list[int] = []
        self.rank: list[int] = []
        self.fixed_nano: list[int] = []
        self.unit_nano: list[tuple[int, dict[str, int]]] = []
        self.fixed_scaled: list[int] = []
        self.skus: list[str] = []
        self.demand: list[int] = []
        self.ent: list[list[Entry]] = []
        self.items: list[list[tuple[int, int, int]]] = []
        self.capacity: list[int] = []
        self.amortised: list[int] = []
        self.forced: list[int] = []
        self.pinned_units: dict[int, list[tuple[str, int]]] = {}
        self.const = 0
        self.dummy: int | None = None
        self.max_open: int | None = None
        self.weight = 1
        self.by_distance = False
        """Whether the tie-break order is the distance order (no store has a priority)."""
        self._sku_sets: list[set[int]] | None = None
        self._qmaps: list[dict[int, int]] | None = None

    def evaluate(self, is_open: bytearray | list[int]) -> int | None:
        """Scaled objective of opening exactly the flagged stores; ``None`` when infeasible."""
        total = self.const
        for f, o in zip(self.fixed_scaled, is_open, strict=False):
            if o:
                total += f
        dummy = self.dummy
        for dem, ent in zip(self.demand, self.ent, strict=True):
            rem = dem
            for c, i, q in ent:
                if is_open[i]:
                    if q >= rem:
                        total += rem * c
                        rem = 0
                        break
                    total += q * c
                    rem -= q
            if rem:
                if dummy is None:
                    return None
                total += rem * dummy
        return total

    def sku_sets(self) -> list[set[int]]:
        """Per store, the indices of the SKUs it can supply."""
        return [{k for k, _q, _c in items} for items in self.items]

    def shared_sku_sets(self) -> list[set[int]]:
        """:meth:`sku_sets`, computed once per problem; the caller must not mutate the sets."""
        out = self._sku_sets
        if out is None:
            out = self._sku_sets = self.sku_sets()
        return out

    def qmaps(self) -> list[dict[int, int]]:
        """Per store, SKU index -> usable units, computed once; the caller must not mutate them."""
        out = self._qmaps
        if out is None:
            out = self._qmaps = [{k: q for k, q, _c in items} for items in self.items]
        return out

    def unit_cost(self, r: int, sku: str) -> int:
        """Per-unit cost of ``sku`` from store ``r`` in nano-minor units (unscaled)."""
        unit, per_sku = self.unit_nano[r]
        return per_sku.get(sku, unit)

    def assign(
        self, is_open: bytearray | list[int]
    ) -> tuple[dict[int, list[tuple[int, int]]], list[int]]:
        """Give each unit to the cheapest opened store with stock.

        Returns:
            (store -> [(sku index, units)], units left unassigned per SKU).
        """
        out: dict[int, list[tuple[int, int]]] = {}
        short = [0] * len(self.skus)
        for k, ent in enumerate(self.ent):
            rem = self.demand[k]
            for _c, i, q in ent:
                if rem == 0:
                    break
                if is_open[i]:
                    t = q if q < rem else rem
                    out.setdefault(i, []).append((k, t))
                    rem -= t
            short[k] = rem
        return out, short


def build_problem(  # noqa: PLR0912, PLR0915 - one pass over the stores
    *,
    stores: tuple[CandidateStore, ...],
    indices: list[int],
    distances: list[int],
    demand: Mapping[str, int],
    forced: Mapping[int, list[tuple[str, int]]],
    penalty_nano: int,
    cost_model: CostModel | None,
    partial_dummy: bool,
    max_open: int | None,
    stock: Sequence[Mapping[str, int]] | None = None,
    free: frozenset[int] = frozenset(),
    held: Sequence[Sequence[tuple[str, int]]] | None = None,
) -> Problem:
    """Build the integer problem.

    Args:
        stores: Every store of the network.
        indices: Network indices of the stores that may take part (pinned ones included).
        distances: Their distances in metres (same order).
        demand: SKU -> units still to place (pinned units already removed), in order.
        forced: Network index -> pinned (sku, units) placed at that store.
        penalty_nano: Split penalty per shipment in nano-minor units.
        cost_model: A custom model, or ``None`` for each store's linear costs.
        partial_dummy: Whether units may stay unfulfilled at a prohibitive cost.
        max_open: Maximum number of stores opened (pinned ones included).
        stock: Per-store stock overriding the stores' own (network order).
        free: Network indices of stores already shipping: their fixed cost is sunk.
        held: Optional, per store of ``indices``: its (sku, units) for every SKU of ``demand``
            it stocks (other SKUs may be listed too), as the caller has already looked them up.
    """
    p = Problem()
    keys = []
    ranked = False
    for j, ni in enumerate(indices):
        s = stores[ni]
        pr = s.priority
        if pr is not None:
            ranked = True
        keys.append((pr is None, pr or 0, distances[j], s.store_id, j))
    keys.sort()
    p.by_distance = not ranked
    order = [key[4] for key in keys]
    n = len(order)
    p.n = n
    weight = n * (n + 1) // 2 + 1
    p.weight = weight
    p.skus = [sku for sku, qty in demand.items() if qty > 0]
    sku_index = {s: k for k, s in enumerate(p.skus)}
    p.demand = [demand[s] for s in p.skus]
    linear = cost_model is None or isinstance(cost_model, LinearCostModel)
    ent: list[list[Entry]] = [[] for _ in p.skus]
    pos_of: dict[int, int] = {}
    dem_of = p.demand
    lookup = list(sku_index.items())
    n_skus = len(lookup)
    net_index = p.net_index
    dist_m = p.dist_m
    fixed_nano = p.fixed_nano
    fixed_scaled = p.fixed_scaled
    unit_nano = p.unit_nano
    all_items = p.items
    capacity = p.capacity
    amortised = p.amortised
    no_sku_costs: dict[str, int] = {}
    pen = penalty_nano
    for r, j in enumerate(order):
        ni = indices[j]
        s = stores[ni]
        d = distances[j]
        pos_of[ni] = r
        net_index.append(ni)
        dist_m.append(d)
        if linear:
            b, pkm, pu, pukm = s.costs.nano
            fixed = b + pkm * d
            unit = pu + pukm * d
            per_sku = no_sku_costs
        else:
            assert cost_model is not None
            fixed, unit, per_sku = terms_nano(cost_model, s, d)
        fixed_nano.append(fixed)
        fs = r + 1 if ni in free else (fixed + pen) * weight + r + 1
        fixed_scaled.append(fs)
        unit_nano.append((unit, per_sku))
        items: list[tuple[int, int, int]] = []
        cap = 0
        cw = unit * weight
        if held is not None:
            for sku, held_q in held[j]:
                k = sku_index.get(sku, -1)
                if k >= 0 and held_q > 0:
                    dem = dem_of[k]
                    q = held_q if held_q < dem else dem
                    c = per_sku.get(sku, unit) * weight if per_sku else cw
                    ent[k].append((c, r, q))
                    items.append((k, q, c))
                    cap += q
            if len(items) > 1:
                items.sort()
            all_items.append(items)
            capacity.append(cap)
            amortised.append(fs // cap if cap else 0)
            continue
        stocked = s.stock_dict if stock is None else stock[ni]
        if per_sku:
            for sku, k in lookup:
                held_q = stocked.get(sku, 0)
                if held_q > 0:
                    dem = dem_of[k]
                    q = held_q if held_q < dem else dem
                    c = per_sku.get(sku, unit) * weight
                    ent[k].append((c, r, q))
                    items.append((k, q, c))
                    cap += q
        elif len(stocked) > n_skus:
            for sku, k in lookup:
                held_q = stocked.get(sku, 0)
                if held_q > 0:
                    dem = dem_of[k]
                    q = held_q if held_q < dem else dem
                    ent[k].append((cw, r, q))
                    items.append((k, q, cw))
                    cap += q
        else:
            for sku, held_q in stocked.items():
                k = sku_index.get(sku, -1)
                if k >= 0 and held_q > 0:
                    dem = dem_of[k]
                    q = held_q if held_q < dem else dem
                    ent[k].append((cw, r, q))
                    items.append((k, q, cw))
                    cap += q
            if len(items) > 1:
                items.sort()
        all_items.append(items)
        capacity.append(cap)
        amortised.append(fs // cap if cap else 0)
    p.rank = list(range(n))
    for e in ent:
        e.sort()
    p.ent = ent
    for ni, pinned in forced.items():
        r = pos_of[ni]
        p.forced.append(r)
        p.pinned_units[r] = pinned
        p.const += sum(q * p.unit_cost(r, sku) for sku, q in pinned) * weight
    p.forced.sort()
    p.max_open = max_open
    if partial_dummy:
        top = sum(p.fixed_scaled) + sum(
            dem * max((c for c, _, _ in e), default=0) for dem, e in zip(p.demand, ent, strict=True)
        )
        p.dummy = top + 1
    return p


def opening_saving(p: Problem, j: int, used: list[list[tuple[int, int]]]) -> int:
    """What opening store ``j`` would save on the units now assigned, in scaled cost units.

    ``used[k]`` lists ``(unit cost, units)`` of SKU ``k`` from the open stores, cheapest first;
    store ``j`` takes over the dearest units it can serve more cheaply, up to its stock. Opening
    ``j`` pays off only if this exceeds its fixed cost ``p.fixed_scaled[j]``.
    """
    saving = 0
    for k, q, c in p.items[j]:
        left = q
        for c2, t in reversed(used[k]):
            if c2 <= c or left == 0:
                break
            x = t if t < left else left
            saving += x * (c2 - c)
            left -= x
    return saving


def addable_stores(p: Problem) -> list[int]:
    """Stores that could ever save more than their fixed cost by taking units over.

    Opening store ``j`` saves at most its usable units times the gap between the dearest unit
    cost of each SKU and ``j``'s own (:func:`opening_saving` never exceeds it), so a store
    whose bound does not exceed ``p.fixed_scaled[j]`` never pays for itself on a covered plan.
    """
    dearest = [ent[-1][0] if ent else 0 for ent in p.ent]
    fs = p.fixed_scaled
    out = []
    for j, items in enumerate(p.items):
        most = 0
        for k, q, c in items:
            most += q * (dearest[k] - c)
        if most > fs[j]:
            out.append(j)
    return out


def unit_floor(p: Problem) -> int:
    """Every demanded unit at its cheapest usable cost, in scaled cost units.

    No plan's units cost less, whichever stores it opens (fixed costs and ``p.const`` excluded).
    """
    floor = 0
    for dem, ent in zip(p.demand, p.ent, strict=True):
        rem = dem
        for c, _i, q in ent:
            t = q if q < rem else rem
            floor += t * c
            rem -= t
            if rem == 0:
                break
    return floor


def most_open(base: int, prefix: list[int], best: int) -> int:
    """The most stores a plan cheaper than ``best`` can open.

    Args:
        base: A lower bound of any plan's cost before fixed costs (``p.const`` plus
            :func:`unit_floor`).
        prefix: Prefix sums of the fixed costs sorted ascending, starting at 0.
        best: The incumbent's scaled cost.

    Returns:
        The largest ``t`` with ``base + prefix[t] < best`` (0 if none).
    """
    t = 0
    while t + 1 < len(prefix) and base + prefix[t + 1] < best:
        t += 1
    return t
