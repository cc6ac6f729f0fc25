"""Exact mode: branch and bound over the set of opened stores.

Once the opened set is fixed, giving each unit to the cheapest opened store with stock is
optimal: the cost is a fixed charge per opened store plus a per-unit cost, and stock limits are
per (store, SKU), so each SKU is an independent transportation problem solved greedily. The
search therefore only decides which stores to open.

Branching: at a node whose opened stores do not yet cover the order, take the uncovered SKU with
the fewest undecided stores holding it and branch on which of them opens (the t-th branch opens
store t and closes stores 1..t-1, so branches never overlap). At a covered node, only stores
whose opening could save more than their fixed cost are branched on; otherwise the node is a
leaf.

Bounds: (a) the fixed costs of the opened stores + every remaining unit at its cheapest
non-closed cost + the ``m`` cheapest fixed costs among undecided stores, where ``m`` is the
fewest undecided stores whose usable stock can cover the residual units; (b) a Lagrangian
relaxation of the demand constraints (multipliers tuned by a few subgradient steps at the root,
then updated in O(1) as stores open and close), which also closes or opens stores for good when
it proves that no better plan can do otherwise; (c) a cap on the number of stores any plan
cheaper than the incumbent can open. When one or two stores may still open, they are found by
direct enumeration of the stores that complete the order.
"""

from __future__ import annotations

from itertools import accumulate

from multistore.routing.problem import (
    Problem,
    addable_stores,
    most_open,
    opening_saving,
    unit_floor,
)

__all__ = ["SearchResult", "solve_exact"]

_MAX_DEPTH = 400
"""Deepest nesting of search nodes; deeper searches stop like an exhausted node budget."""

_OPEN_ONLY = bytes([0, 1] + [0] * 254)
"""Translation table: node state (0 undecided, 1 open, 2 closed) -> opened flag."""


class SearchResult:
    """What a search found: the opened flags, its scaled cost, a lower bound and node count."""

    __slots__ = ("cost", "is_open", "lower_bound", "nodes", "proven")

    def __init__(
        self,
        is_open: bytearray | None,
        cost: int | None,
        lower_bound: int | None,
        nodes: int,
        proven: bool,
    ) -> None:
        self.is_open = is_open
        self.cost = cost
        self.lower_bound = lower_bound
        self.nodes = nodes
        self.proven = proven


class _Search:
    def __init__(
        self,
        p: Problem,
        start: bytearray | None,
        start_cost: int | None,
        budget: int | None,
        *,
        lagrange: bool = True,
    ) -> None:
        self.p = p
        self.budget = budget
        self.nodes = 0
        self.aborted = False
        self.depth = 0
        self.open_bounds: list[int] = []
        self.best_open = bytearray(start) if start is not None and start_cost is not None else None
        self.addable: list[int] | None = None
        """Stores that may pay for themselves on a covered node (computed when first needed)."""
        self.best = start_cost if start_cost is not None else None
        n = p.n
        self.state = bytearray(n)
        self.resid = list(p.demand)
        self.open_fixed = p.const
        self.open_count = 0
        self.g: list[int] = [0] * n
        self.lag = -1
        self.lagrangian = False
        self.closed_version = 0
        self.units_for = -1
        self.units_known: int | None = None
        for f in p.forced:
            self._open(f)
        # (b) the amortised supply list per SKU, sorted by cost + fixed // capacity
        self.carriers = [[i for _c, i, _q in ent] for ent in p.ent]
        self.n_carriers = [len(c) for c in self.carriers]
        # Lagrangian relaxation of the demand constraints, multipliers chosen at the root:
        # L = const + sum(lam_k d_k) + sum_open g_s + sum_undecided min(0, g_s), where
        # g_s = F_s + sum_k min(0, c_sk - lam_k) q_sk; kept up to date as stores open and close.
        if (
            lagrange
            and p.dummy is None
            and n > 8
            and start is not None
            and sum(start) - len(p.forced) >= 3
        ):
            self._lagrange()
        # the most stores any improving plan can open: const + t cheapest fixed costs + every
        # unit at its cheapest cost must stay below the incumbent
        self.last_units = 0
        self.unit_floor = unit_floor(p)
        self.fixed_prefix = list(accumulate(sorted(p.fixed_scaled), initial=0))
        self.tmax_for: int | None = None
        self.tmax = n

    def _slots(self) -> int:
        """How many more stores an improving plan may open from this node."""
        best = self.best
        if best is None or self.p.dummy is not None:
            left = self.p.n - self.open_count
        else:
            if self.tmax_for != best:
                self.tmax = most_open(self.p.const + self.unit_floor, self.fixed_prefix, best)
                self.tmax_for = best
            left = self.tmax - self.open_count
        if self.p.max_open is not None:
            left = min(left, self.p.max_open - self.open_count)
        return left

    def _g(self, lam: list[int]) -> list[int]:
        p = self.p
        out = []
        for fixed, items in zip(p.fixed_scaled, p.items, strict=True):
            g = fixed
            for k, q, c in items:
                lk = lam[k]
                if c < lk:
                    g += (c - lk) * q
            out.append(g)
        return out

    def _lagrange(self, rounds: int = 1) -> None:  # noqa: PLR0912, PLR0915 - one hot loop
        """Subgradient ascent on the multipliers, then fix stores the bound rules out or in."""
        p = self.p
        demand = p.demand
        kk = range(len(demand))
        state = self.state
        lam = [0] * len(demand)
        # start from the marginal unit price when fixed costs are spread over capacity
        amortised = p.amortised
        for k, ent in enumerate(p.ent):
            ea = [(c + amortised[i], i, q) for c, i, q in ent]
            ea.sort()
            rem = demand[k]
            for ca, _i, q in ea:
                lam[k] = ca
                rem -= q
                if rem <= 0:
                    break
        best_value = -1
        best_lam = lam
        theta = 1.0
        stall = 0
        ub = self.best
        tried: list[tuple[list[int], list[int], int]] = []
        for _ in range(rounds):
            g = self._g(lam)
            value = p.const + sum(lam[k] * demand[k] for k in kk)
            sub = list(demand)
            for i, gi in enumerate(g):
                if state[i] == 1 or (state[i] == 0 and gi < 0):
                    value += gi
                    for k, q, c in p.items[i]:
                        if c < lam[k]:
                            sub[k] -= q
            tried.append((lam, g, value))
            if value > best_value:
                best_value, best_lam, stall = value, lam, 0
            else:
                stall += 1
                if stall >= 2:
                    theta /= 2
                    stall = 0
            norm = sum(x * x for x in sub)
            if norm == 0 or ub is None or theta < 0.02 or value >= ub:
                break
            step = theta * (ub - value) / norm
            lam = [max(0, int(lam[k] + step * sub[k])) for k in kk]
        known = next((t for t in tried if t[0] is best_lam), None)
        if known is not None:  # the same multipliers on the same state: reuse g and L
            _lam, g, lag = known
        else:
            g = self._g(best_lam)
            lag = p.const + sum(best_lam[k] * demand[k] for k in kk)
            for i, gi in enumerate(g):
                if state[i] == 1 or (state[i] == 0 and gi < 0):
                    lag += gi
        self.g = g
        self.lag = lag
        self.lagrangian = True
        if ub is None:
            return
        for i, gi in enumerate(g):
            if state[i] != 0:
                continue
            if gi >= 0 and self.lag + gi >= ub:
                state[i] = 2
                self.closed_version += 1
            elif gi < 0 and self.lag - gi >= ub:
                self._open(i)

    def _open(self, i: int) -> None:
        if self.lagrangian:
            gi = self.g[i]
            self.lag += gi - (gi if gi < 0 else 0)
        self.state[i] = 1
        self.open_fixed += self.p.fixed_scaled[i]
        self.open_count += 1
        resid = self.resid
        for k, q, _c in self.p.items[i]:
            resid[k] -= q

    def _unopen(self, i: int) -> None:
        if self.lagrangian:
            gi = self.g[i]
            self.lag -= gi - (gi if gi < 0 else 0)
        self.state[i] = 0
        self.open_fixed -= self.p.fixed_scaled[i]
        self.open_count -= 1
        resid = self.resid
        for k, q, _c in self.p.items[i]:
            resid[k] += q

    def _close(self, i: int) -> None:
        self.closed_version += 1
        self.state[i] = 2
        if self.lagrangian and self.g[i] < 0:
            self.lag -= self.g[i]

    def _unclose(self, i: int) -> None:
        self.closed_version += 1
        self.state[i] = 0
        if self.lagrangian and self.g[i] < 0:
            self.lag += self.g[i]

    def _offer(self) -> None:
        """Evaluate the opened set as a solution."""
        is_open = self.state.translate(_OPEN_ONLY)
        cost = self.p.evaluate(is_open)
        if cost is not None and (self.best is None or cost < self.best):
            self.best = cost
            self.best_open = is_open

    def state_open(self) -> bytearray:
        return self.state.translate(_OPEN_ONLY)

    def bound(self) -> int | None:  # noqa: PLR0912, PLR0915 - hot loop kept in one frame
        """Lower bound of the node (see the module docstring); ``None`` when infeasible."""
        p = self.p
        state = self.state
        dummy = p.dummy
        if self.units_for == self.closed_version:
            # the units part depends on the closed stores only, unchanged since last computed
            known = self.units_known
            if known is None:
                return None
            units = known
        else:
            units = 0
            for dem, ent in zip(p.demand, p.ent, strict=True):
                rem = dem
                for c, i, q in ent:
                    if state[i] != 2:
                        if q >= rem:
                            units += rem * c
                            rem = 0
                            break
                        units += q * c
                        rem -= q
                if rem:
                    if dummy is None:
                        units = -1
                        break
                    units += rem * dummy
            self.units_for = self.closed_version
            if units < 0:
                self.units_known = None
                return None
            self.units_known = units
        self.last_units = units
        lb_a = self.open_fixed + units
        if dummy is not None:
            return lb_a
        need = 0
        usable: list[int] | None = None
        for r, ent in zip(self.resid, p.ent, strict=True):
            if r > 0:
                need += r
                if usable is None:
                    usable = [0] * p.n
                # what each undecided store can ship of the residual units
                for _c, i, q in ent:
                    if not state[i]:
                        usable[i] += q if q < r else r
        if usable is not None:
            caps = [(u, f) for u, f in zip(usable, p.fixed_scaled, strict=True) if u]
            caps.sort(reverse=True)
            acc = 0
            m = 0
            for u, _f in caps:
                acc += u
                m += 1
                if acc >= need:
                    break
            if acc < need:
                return None
            if p.max_open is not None and self.open_count + m > p.max_open:
                return None
            fixed = [f for _u, f in caps]
            fixed.sort()
            lb_a += sum(fixed[:m])
        return lb_a

    def run(self) -> None:
        self.node()

    def node(self) -> None:
        """Explore one node (stops when the node budget or the depth limit is reached)."""
        self.nodes += 1
        if (self.budget is not None and self.nodes > self.budget) or self.depth > _MAX_DEPTH:
            self.aborted = True
            return
        self.depth += 1
        try:
            self._node()
        finally:
            self.depth -= 1

    def _node(self) -> None:  # noqa: PLR0911, PLR0912, PLR0915 - the search, kept in one frame
        best = self.best
        if self.lagrangian and best is not None and self.lag >= best:
            return
        if self.p.dummy is None and self._slots() <= 0:
            for r in self.resid:
                if r > 0:
                    return  # uncovered and no store may open: whatever the bound, a dead end
        lb = self.bound()
        if lb is None:
            return
        if self.lagrangian and self.lag > lb:
            lb = self.lag
        if self.best is not None and lb >= self.best:
            return
        p = self.p
        state = self.state
        resid = self.resid
        if p.dummy is not None:
            self._offer()
            if self.best is not None and lb >= self.best:
                return
        uncovered = [k for k, r in enumerate(resid) if r > 0]
        slots = self._slots()
        if not uncovered:
            self._offer()
            if slots > 0:
                self._branch_improving(lb)
            return
        if slots <= 0:
            return
        if slots == 1 and p.dummy is None:
            self._complete(uncovered, self.last_units)
            return
        if slots == 2 and p.dummy is None:
            self._pairs(uncovered, self.last_units)
            return
        # most constrained uncovered SKU
        best_k = -1
        best_cnt = 0
        for k in uncovered:
            cnt = 0
            for i in self.carriers[k]:
                if state[i] == 0:
                    cnt += 1
            if cnt == 0 and p.dummy is not None:
                continue  # left to the unfulfilled units; nothing to decide for this SKU
            if best_k < 0 or cnt < best_cnt:
                best_k, best_cnt = k, cnt
        if best_k < 0:
            return
        cands = [i for i in self.carriers[best_k] if state[i] == 0]
        scored = []
        fs = p.fixed_scaled
        for i in cands:
            units = 0
            cost = fs[i]
            for k, q, c in p.items[i]:
                r = resid[k]
                if r > 0:
                    t = q if q < r else r
                    units += t
                    cost += t * c
            scored.append((cost // units, i))
        scored.sort()
        closed: list[int] = []
        for _s, i in scored:
            self._open(i)
            self.node()
            self._unopen(i)
            if self.aborted:
                self.open_bounds.append(lb)
                return
            self._close(i)
            closed.append(i)
            if self.best is not None and lb >= self.best:
                break
        if p.dummy is not None and (self.best is None or lb < self.best):
            self.node()
            if self.aborted:
                self.open_bounds.append(lb)
                return
        for i in closed:
            self._unclose(i)

    def _pairs(self, uncovered: list[int], floor: int) -> None:
        """Two stores left: one of them holds the rarest residual SKU; the other completes."""
        state = self.state
        resid = self.resid
        carriers = self.carriers
        rare = min(uncovered, key=self.n_carriers.__getitem__)
        closed: list[int] = []
        g = self.g
        lagr = self.lagrangian
        for a in carriers[rare]:
            if state[a]:
                continue
            best = self.best
            if lagr and best is not None:
                ga = g[a]
                if self.lag + (ga if ga > 0 else 0) >= best:
                    self._close(a)
                    closed.append(a)
                    continue
            self._open(a)
            left = [k for k in uncovered if resid[k] > 0]
            extra = self.fixed_prefix[1] if left else 0
            if best is not None and self.open_fixed + extra + floor >= best:
                self._unopen(a)
                self._close(a)
                closed.append(a)
                continue
            self.nodes += 1
            if left:
                self._complete(left, floor)
            else:
                # a covers the order alone; one more store may still pay for itself
                self._offer()
                self._branch_improving(self.open_fixed + floor)
            self._unopen(a)
            self._close(a)
            closed.append(a)
        for a in closed:
            self._unclose(a)

    def _complete(self, uncovered: list[int], floor: int) -> None:  # noqa: PLR0912, PLR0915
        """One store left: try each undecided store that covers the whole residual alone."""
        state = self.state
        resid = self.resid
        p = self.p
        rare = min(uncovered, key=self.n_carriers.__getitem__)
        r_rare = resid[rare]
        need = [(k, resid[k]) for k in uncovered if k != rare]
        qmap = p.qmaps() if need else []
        fs = p.fixed_scaled
        g = self.g
        lagr = self.lagrangian
        items = p.items
        ents = p.ent
        demand = p.demand
        base: list[int | None] | None = None
        base_total = 0
        for _c, j, q in p.ent[rare]:  # the carriers of the rarest SKU, in their order
            if state[j] or q < r_rare:
                continue
            if need:
                qj = qmap[j]
                covers = True
                for k, r in need:
                    if qj.get(k, 0) < r:
                        covers = False
                        break
                if not covers:
                    continue
            best = self.best
            if best is not None:
                gj = g[j]
                if lagr and self.lag + (gj if gj > 0 else 0) >= best:
                    continue
                if self.open_fixed + fs[j] + floor >= best:
                    continue
            self.nodes += 1
            if base is None:
                base, base_total = self._open_sku_costs()
            # the plan with j opened too, priced like Problem.evaluate: the SKUs j does not hold
            # are covered by the opened stores already, so only j's SKUs are priced again
            state[j] = 1
            cost = self.open_fixed + fs[j] + base_total
            for k, _q, _c in items[j]:
                bk = base[k]
                if bk is not None:
                    cost -= bk
                rem = demand[k]
                for c, i, q2 in ents[k]:
                    if state[i] == 1:
                        if q2 >= rem:
                            cost += rem * c
                            rem = 0
                            break
                        cost += q2 * c
                        rem -= q2
            best = self.best
            if best is None or cost < best:
                self.best = cost
                self.best_open = state.translate(_OPEN_ONLY)
            state[j] = 0

    def _open_sku_costs(self) -> tuple[list[int | None], int]:
        """Per SKU, its cost from the opened stores (``None`` when they cannot cover it)."""
        p = self.p
        state = self.state
        out: list[int | None] = []
        total = 0
        for dem, ent in zip(p.demand, p.ent, strict=True):
            rem = dem
            v = 0
            for c, i, q in ent:
                if state[i] == 1:
                    if q >= rem:
                        v += rem * c
                        rem = 0
                        break
                    v += q * c
                    rem -= q
            if rem:
                out.append(None)
            else:
                out.append(v)
                total += v
        return out, total

    def _branch_improving(self, lb: int) -> None:  # noqa: PLR0912 - one hot frame
        """At a covered node, branch on stores whose opening could pay for itself."""
        p = self.p
        state = self.state
        addable = self.addable
        if addable is None:
            addable = self.addable = addable_stores(p)
        if not addable:
            return  # no store can ever pay for itself on a covered plan
        used: list[list[tuple[int, int]]] = []
        for k, ent in enumerate(p.ent):
            rem = p.demand[k]
            u: list[tuple[int, int]] = []
            for c, i, q in ent:
                if rem == 0:
                    break
                if state[i] == 1:
                    t = q if q < rem else rem
                    u.append((c, t))
                    rem -= t
            used.append(u)
        gains: list[tuple[int, int]] = []
        for j in addable:
            if state[j]:
                continue
            saving = opening_saving(p, j, used)
            if saving > p.fixed_scaled[j]:
                gains.append((p.fixed_scaled[j] - saving, j))
        if not gains:
            return
        if p.max_open is not None and self.open_count >= p.max_open:
            return
        gains.sort()
        closed: list[int] = []
        for _g, j in gains:
            self._open(j)
            self.node()
            self._unopen(j)
            if self.aborted:
                self.open_bounds.append(lb)
                return
            self._close(j)
            closed.append(j)
        for j in closed:
            self._unclose(j)


def solve_exact(
    p: Problem,
    *,
    start: bytearray | None = None,
    start_cost: int | None = None,
    budget: int | None = None,
) -> SearchResult:
    """Branch and bound to the proven optimum (or until ``budget`` nodes, then best found).

    Args:
        p: The problem.
        start: Opened flags of a known solution (the heuristic's), used as first incumbent.
        start_cost: Its scaled cost.
        budget: Maximum number of search nodes; ``None`` searches to the end.
    """
    s = _Search(p, start, start_cost, budget)
    s.run()
    if s.best is None:
        lb = None if not s.aborted else (min(s.open_bounds) if s.open_bounds else None)
        return SearchResult(None, None, lb, s.nodes, not s.aborted)
    if s.aborted:
        lb = min([s.best, *s.open_bounds])
        return SearchResult(s.best_open, s.best, lb, s.nodes, lb >= s.best)
    return SearchResult(s.best_open, s.best, s.best, s.nodes, proven=True)
