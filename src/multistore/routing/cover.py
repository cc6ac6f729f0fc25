"""Fast mode's kernel: covers of the order found with per-SKU store bitmasks.

The fast mode looks for a cheap *cover*: a set of stores whose usable stock holds every unit of
the order. Each store is a bit of a Python int, and for each SKU ``k`` and residual quantity
``r`` the stores holding at least ``r`` usable units form one mask, so "which stores complete
this partial plan on their own" is a handful of ``&`` operations instead of a pass over every
store.

Three steps, each bounded:

1. the cost-effective greedy cover (:func:`~multistore.routing.heuristic.greedy_cover`);
2. best-improvement local search over *drop* (close a store), *two-for-one* (close two stores,
   open one that completes the order) and *swap* (close one, open one that completes it), where
   the stores that complete are read from the masks;
3. a depth-first search over covers like the exact search's branching (the uncovered SKU with
   the fewest holders, its holders in order of cost per unit), finishing the last store from the
   masks, cut off after a fixed number of nodes and pruned by the incumbent.

Every cost is the problem's scaled integer cost (:meth:`Problem.evaluate` gives the same value),
so the tie-break rule is the exact search's. The result carries a simple proven lower bound (the
fixed costs of the fewest stores whose stock can hold the order plus every unit at its cheapest
cost); when it meets the plan's cost the plan is proven optimal.

Only problems without the "unfulfilled units" dummy use this kernel; the router falls back to
the greedy / local-search / truncated-search pipeline for the others.
"""

from __future__ import annotations

from itertools import accumulate

from multistore.routing.exact import SearchResult
from multistore.routing.heuristic import greedy_cover
from multistore.routing.problem import (
    Problem,
    addable_stores,
    most_open,
    opening_saving,
    unit_floor,
)

__all__ = ["FAST_SEARCH_NODES", "IMPROVE_EVALS", "MAX_DEPTH", "PAIR_LIMIT", "solve_cover"]

FAST_SEARCH_NODES = 40
"""Depth-first nodes the fast mode spends after its greedy start and local search."""

IMPROVE_EVALS = 400
"""Most plans the local search prices (large orders)."""

PAIR_LIMIT = 12
"""Two-for-one moves are tried while at most this many opened stores may move."""

MAX_DEPTH = 400
"""Most stores one search path opens; deeper paths stop the search like its node budget."""


class _Cover:
    """Shared state of one fast solve: masks, the incumbent and the search position."""

    __slots__ = (
        "aborted",
        "addable",
        "base",
        "best",
        "best_set",
        "budget",
        "ent",
        "fs",
        "ge",
        "held",
        "items",
        "nodes",
        "offers_of",
        "p",
        "prefix",
        "rem",
        "sel",
        "tmax",
        "tmax_for",
    )

    def __init__(self, p: Problem, budget: int) -> None:
        self.p = p
        self.fs = p.fixed_scaled
        self.items = p.items
        self.ent = p.ent
        self.ge: list[dict[int, int]] = []
        self.held: list[int] = []
        for ent in p.ent:
            m = 0
            for _c, i, _q in ent:
                m |= 1 << i
            self.held.append(m)
            self.ge.append({1: m})
        self.best: int | None = None
        self.best_set: list[int] = []
        self.budget = budget
        self.nodes = 0
        self.aborted = False
        self.addable: list[int] | None = None
        self.sel: list[int] = []
        self.offers_of: list[list[tuple[int, int, int, int]] | None] = [None] * p.n
        self.rem: list[int] = []
        self.base = p.const + unit_floor(p)
        """Every unit at its cheapest cost: no plan's units cost less."""
        self.prefix = list(accumulate(sorted(self.fs), initial=0))
        self.tmax = p.n
        self.tmax_for: int | None = None

    def mask(self, k: int, r: int) -> int:
        """Stores holding at least ``r`` usable units of SKU ``k`` (cached)."""
        by_level = self.ge[k]
        m = by_level.get(r)
        if m is None:
            m = 0
            for _c, i, q in self.ent[k]:
                if q >= r:
                    m |= 1 << i
            by_level[r] = m
        return m

    def cost(self, stores: list[int]) -> int | None:
        """Scaled cost of opening exactly ``stores`` (as :meth:`Problem.evaluate`)."""
        p = self.p
        fs = self.fs
        offers_of = self.offers_of
        total = p.const
        offers: list[tuple[int, int, int, int]] = []
        for i in stores:
            total += fs[i]
            mine = offers_of[i]
            if mine is None:
                mine = offers_of[i] = [(c, i, k, q) for k, q, c in self.items[i]]
            offers += mine
        offers.sort()
        rem = list(p.demand)
        left = sum(rem)
        for c, _i, k, q in offers:
            r = rem[k]
            if r:
                t = q if q < r else r
                total += t * c
                rem[k] = r - t
                left -= t
                if not left:
                    break
        return None if left else total

    def residual(self, stores: list[int]) -> list[int]:
        rem = list(self.p.demand)
        items = self.items
        for i in stores:
            for k, q, _c in items[i]:
                rem[k] -= q
        return rem

    def completions(self, missing: dict[int, int], allowed: int) -> int:
        """Stores among ``allowed`` that hold ``missing`` (SKU -> units) on their own."""
        m = allowed
        ge = self.ge
        for k, r in missing.items():
            mk = ge[k].get(r)
            m &= self.mask(k, r) if mk is None else mk
            if not m:
                return 0
        return m

    def offer(self, stores: list[int]) -> None:
        c = self.cost(stores)
        if c is not None and (self.best is None or c < self.best):
            self.best = c
            self.best_set = list(stores)

    # ------------------------------------------------------------------ local search

    def improve(self) -> None:  # noqa: PLR0912 - one loop
        """Best-improvement drop / two-for-one / swap moves until none improves.

        At most ``IMPROVE_EVALS`` plans are priced in all, and two-for-one moves are only tried
        while at most ``PAIR_LIMIT`` stores may move, so large orders stay fast.
        """
        p = self.p
        forced = set(p.forced)
        everyone = (1 << p.n) - 1
        items = self.items
        fs = self.fs
        evals = 0
        while self.best is not None and evals < IMPROVE_EVALS:
            cur = self.best
            chosen = self.best_set
            movable = [i for i in chosen if i not in forced]
            taken = 0
            for i in chosen:
                taken |= 1 << i
            allowed = everyone & ~taken
            resid = self.residual(chosen)  # <= 0 everywhere: the plan covers the order
            floor = self.base + sum(fs[i] for i in chosen)
            found: tuple[int, list[int]] | None = None
            for a in movable:
                if all(resid[k] + q <= 0 for k, q, _c in items[a]):  # the others still cover
                    rest = [x for x in chosen if x != a]
                    c = self.cost(rest)
                    evals += 1
                    if c is not None and c < cur and (found is None or c < found[0]):
                        found = (c, rest)
            if found is None and len(movable) <= PAIR_LIMIT:
                for x, a in enumerate(movable):
                    for b in movable[x + 1 :]:
                        missing: dict[int, int] = {}
                        for i in (a, b):
                            for k, q, _c in items[i]:
                                missing[k] = missing.get(k, resid[k]) + q
                        rest = [y for y in chosen if y not in (a, b)]
                        found, n = self._best_completion(
                            rest, missing, allowed, floor - fs[a] - fs[b], cur, found
                        )
                        evals += n
            if found is None:
                for a in movable:
                    missing = {k: resid[k] + q for k, q, _c in items[a]}
                    rest = [x for x in chosen if x != a]
                    found, n = self._best_completion(
                        rest, missing, allowed, floor - fs[a], cur, found
                    )
                    evals += n
                    if evals >= IMPROVE_EVALS:
                        break
            if found is None:
                return
            self.best, self.best_set = found

    def _best_completion(  # noqa: PLR0917 - private helper of improve
        self,
        rest: list[int],
        missing: dict[int, int],
        allowed: int,
        floor: int,
        cur: int,
        found: tuple[int, list[int]] | None,
    ) -> tuple[tuple[int, list[int]] | None, int]:
        """The cheapest plan ``rest`` + one store completing ``missing``, if it beats the rest.

        ``floor``: a lower bound of ``rest``'s cost without the units' spread (base + fixed).
        Returns the best plan found so far and the number of plans priced.
        """
        m = self.completions({k: r for k, r in missing.items() if r > 0}, allowed)
        fs = self.fs
        evals = 0
        while m:
            low = m & -m
            j = low.bit_length() - 1
            m ^= low
            limit = cur if found is None else found[0]
            if floor + fs[j] >= limit:
                continue
            cand = [*rest, j]
            c = self.cost(cand)
            evals += 1
            if c is not None and c < limit:
                found = (c, cand)
        return found, evals

    # ------------------------------------------------------------------ search

    def slots(self) -> int:
        """How many stores an improving plan may open in all (incumbent and shipment cap)."""
        best = self.best
        if best is None:
            t = self.p.n
        elif self.tmax_for == best:
            t = self.tmax
        else:
            t = self.tmax = most_open(self.base, self.prefix, best)
            self.tmax_for = best
        max_open = self.p.max_open
        return t if max_open is None or max_open > t else max_open

    def search(self, allowed: int, fixed: int) -> None:  # noqa: PLR0911, PLR0912, PLR0915 - hot
        """Depth-first over covers from the stores in ``sel`` (``fixed``: their fixed costs)."""
        self.nodes += 1
        if (self.nodes > self.budget and self.best is not None) or len(self.sel) > MAX_DEPTH:
            self.aborted = True
            return
        rem = self.rem
        sel = self.sel
        uncovered = [k for k, r in enumerate(rem) if r > 0]
        if not uncovered:
            self.offer(sel)
            if self.addable != [] and self.slots() > len(sel):  # None: not known yet
                self._add_improving(allowed, fixed)
            return
        left = self.slots() - len(sel)
        if left <= 0:
            return
        best = self.best
        floor = self.base + fixed
        fs = self.fs
        if left == 1:
            m = allowed
            ge = self.ge
            for k in uncovered:
                mk = ge[k].get(rem[k])
                m &= self.mask(k, rem[k]) if mk is None else mk
                if not m:
                    return
            while m:
                low = m & -m
                j = low.bit_length() - 1
                m ^= low
                if best is not None and floor + fs[j] >= best:
                    continue
                sel.append(j)
                self.offer(sel)
                sel.pop()
                best = self.best
            return
        pick = -1
        pick_count = 0
        pick_mask = 0
        held = self.held
        for k in uncovered:
            m = allowed & held[k]
            count = m.bit_count()
            if count == 0:
                return
            if pick < 0 or count < pick_count:
                pick, pick_count, pick_mask = k, count, m
        items = self.items
        scored: list[tuple[int, int]] = []
        m = pick_mask
        while m:
            low = m & -m
            j = low.bit_length() - 1
            m ^= low
            units = 0
            cost = fs[j]
            for k, q, c in items[j]:
                r = rem[k]
                if r > 0:
                    t = q if q < r else r
                    units += t
                    cost += t * c
            scored.append((cost // units, j))
        scored.sort()
        for _s, j in scored:
            allowed &= ~(1 << j)
            best = self.best
            if best is not None and floor + fs[j] >= best:
                continue
            self._branch(j, allowed, fixed)
            if self.aborted:
                return

    def _branch(self, j: int, allowed: int, fixed: int) -> None:
        """Search on with store ``j`` opened (``allowed`` no longer holds it), then undo it."""
        offered = self.items[j]
        rem = self.rem
        self.sel.append(j)
        for k, q, _c in offered:
            rem[k] -= q
        self.search(allowed, fixed + self.fs[j])
        for k, q, _c in offered:
            rem[k] += q
        self.sel.pop()

    def _add_improving(self, allowed: int, fixed: int) -> None:
        """At a covered node, branch on stores whose unit savings could pay their fixed cost."""
        addable = self.addable
        if addable is None:
            addable = self.addable = addable_stores(self.p)
        if not addable:
            return
        p = self.p
        sel = self.sel
        used: list[list[tuple[int, int]]] = [[] for _ in p.demand]
        offers = [(c, i, k, q) for i in sel for k, q, c in self.items[i]]
        offers.sort()  # the order Problem.assign gives units in
        rem = list(p.demand)
        for c, _i, k, q in offers:
            r = rem[k]
            if r:
                t = q if q < r else r
                used[k].append((c, t))
                rem[k] = r - t
        fs = self.fs
        gains: list[tuple[int, int]] = []
        for j in addable:
            if allowed >> j & 1:
                saving = opening_saving(p, j, used)
                if saving > fs[j]:
                    gains.append((fs[j] - saving, j))
        gains.sort()
        for _g, j in gains:
            allowed &= ~(1 << j)
            self._branch(j, allowed, fixed)
            if self.aborted:
                return

    def lower_bound(self) -> int:
        """A proven lower bound of any plan's scaled cost.

        The pinned stores' fixed costs, every unit at its cheapest cost, and the cheapest fixed
        costs of as many stores as it takes, at least, to hold what the pinned stores leave.
        """
        p = self.p
        forced = p.forced
        fs = self.fs
        rem = self.residual(forced)
        need = sum(r for r in rem if r > 0)
        lb = self.base + sum(fs[i] for i in forced)
        if need == 0:
            return lb
        caps: list[tuple[int, int]]
        if not forced:  # usable units are capped by the demand already: the capacities
            caps = [(u, f) for u, f in zip(p.capacity, fs, strict=True) if u]
        else:
            caps = self._residual_caps(rem)
        caps.sort(reverse=True)
        acc = 0
        m = 0
        for u, _f in caps:
            acc += u
            m += 1
            if acc >= need:
                break
        fixed = sorted(f for _u, f in caps)
        return lb + sum(fixed[:m])

    def _residual_caps(self, rem: list[int]) -> list[tuple[int, int]]:
        """(usable residual units, fixed cost) of each store not pinned that has some."""
        is_forced = set(self.p.forced)
        fs = self.fs
        caps: list[tuple[int, int]] = []
        for i, items in enumerate(self.items):
            if i in is_forced:
                continue
            u = 0
            for k, q, _c in items:
                r = rem[k]
                if r > 0:
                    u += q if q < r else r
            if u:
                caps.append((u, fs[i]))
        return caps


def solve_cover(
    p: Problem, *, budget: int = FAST_SEARCH_NODES, warm: bool = True
) -> SearchResult | None:
    """Fast mode on a problem without unfulfilled units: greedy, local search, short search.

    Args:
        p: The problem (``p.dummy`` must be ``None``).
        budget: Depth-first search nodes after the local search.
        warm: Start the search from the greedy cover improved by local search (``False``
            searches from scratch; the tests use it to check the search on its own).

    Returns:
        The best plan found with a proven lower bound, or ``None`` when no plan was found (the
        caller then lets the exact search settle feasibility).
    """
    s = _Cover(p, budget)
    if warm:
        start = greedy_cover(p)
        s.offer([i for i in range(p.n) if start[i]])
        if s.best is None:
            return None
        s.improve()
    forced = p.forced
    s.sel = list(forced)
    s.rem = s.residual(forced)
    allowed = (1 << p.n) - 1
    for i in forced:
        allowed &= ~(1 << i)
    s.search(allowed, sum(s.fs[i] for i in forced))
    best = s.best
    if best is None:
        return None
    is_open = bytearray(p.n)
    for i in s.best_set:
        is_open[i] = 1
    if not s.aborted:  # the search ran to its end: no plan is cheaper
        return SearchResult(is_open, best, best, s.nodes, proven=True)
    lb = min(best, s.lower_bound())
    return SearchResult(is_open, best, lb, s.nodes, proven=lb >= best)
