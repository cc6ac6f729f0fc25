"""Fast mode: a cost-effective greedy cover followed by drop / swap / add local search.

Also supplies the exact search's first incumbent.
"""

from __future__ import annotations

from collections.abc import Iterable

from multistore.routing.problem import Problem, opening_saving

__all__ = ["greedy_cover", "local_search", "solve_fast"]


def _sku_cost(p: Problem, k: int, is_open: bytearray) -> int | None:
    rem = p.demand[k]
    total = 0
    for c, i, q in p.ent[k]:
        if is_open[i]:
            if q >= rem:
                return total + rem * c
            total += q * c
            rem -= q
    if rem == 0:
        return total
    dummy = p.dummy
    if dummy is None:
        return None
    return total + rem * dummy


def greedy_cover(p: Problem, first: int | None = None) -> bytearray:  # noqa: PLR0912 - hot loop
    """Open stores one at a time, each time the one with the lowest cost per newly covered unit.

    Args:
        p: The problem.
        first: A store to open before the greedy choices (multi-start).
    """
    n = p.n
    is_open = bytearray(n)
    resid = list(p.demand)
    count = 0
    for f in [*p.forced, *([] if first is None else [first])]:
        if is_open[f]:
            continue
        is_open[f] = 1
        count += 1
        for k, q, _c in p.items[f]:
            resid[k] -= q
    fs = p.fixed_scaled
    items = p.items
    max_open = p.max_open
    left = sum(1 for r in resid if r > 0)
    while left:
        if max_open is not None and count >= max_open:
            break
        best = -1
        best_cost = 0
        best_units = 0
        for i in range(n):
            if is_open[i]:
                continue
            units = 0
            cost = fs[i]
            for k, q, c in items[i]:
                r = resid[k]
                if r > 0:
                    t = q if q < r else r
                    units += t
                    cost += t * c
            if units and (best < 0 or cost * best_units < best_cost * units):
                best, best_cost, best_units = i, cost, units
        if best < 0:
            break
        is_open[best] = 1
        count += 1
        for k, q, _c in items[best]:
            r = resid[k]
            resid[k] = r - q
            if r > 0 >= r - q:
                left -= 1
    return is_open


def local_search(  # noqa: PLR0912, PLR0915 - moves share state; one frame for speed
    p: Problem,
    is_open: bytearray,
    *,
    swaps: bool = True,
    adds: bool = True,
    max_rounds: int = 50,
    max_evals: int = 3000,
) -> int | None:
    """Improve ``is_open`` in place by dropping, swapping and adding stores; return its cost.

    ``max_evals`` bounds the number of evaluated moves, so large networks stay fast.
    """
    n = p.n
    skus = range(len(p.demand))
    per = [_sku_cost(p, k, is_open) for k in skus]
    if p.dummy is None and None in per:
        return None
    fs = p.fixed_scaled
    forced = set(p.forced)
    items = p.items
    demand = p.demand
    ents = p.ent
    dummy = p.dummy

    def total() -> int:
        return p.const + sum(fs[i] for i in range(n) if is_open[i]) + sum(per)  # type: ignore[arg-type]

    evals = [0]

    def delta(changed: Iterable[int]) -> tuple[int, dict[int, int]] | None:
        evals[0] += 1
        new: dict[int, int] = {}
        d = 0
        for k in changed:
            rem = demand[k]
            v = 0
            for c, i, q in ents[k]:
                if is_open[i]:
                    if q >= rem:
                        v += rem * c
                        rem = 0
                        break
                    v += q * c
                    rem -= q
            if rem:
                if dummy is None:
                    return None
                v += rem * dummy
            new[k] = v
            d += v - per[k]  # type: ignore[operator]
        return d, new

    max_open = p.max_open
    for _ in range(max_rounds):
        if evals[0] >= max_evals:
            break
        improved = False
        opened = [i for i in range(n) if is_open[i] and i not in forced]
        for i in reversed(opened):
            is_open[i] = 0
            res = delta([k for k, _q, _c in items[i]])
            if res is not None and res[0] - fs[i] < 0:
                for k, v in res[1].items():
                    per[k] = v
                improved = True
            else:
                is_open[i] = 1
        if improved:
            continue
        count = sum(is_open)
        if adds and (max_open is None or count < max_open):
            used = _used_units(p, is_open)
            for j in range(n):
                if is_open[j]:
                    continue
                if opening_saving(p, j, used) <= fs[j]:
                    continue
                is_open[j] = 1
                res = delta([k for k, _q, _c in items[j]])
                if res is not None and res[0] + fs[j] < 0:
                    for k, v in res[1].items():
                        per[k] = v
                    improved = True
                    break
                is_open[j] = 0
        if improved or not swaps:
            if improved:
                continue
            break
        opened = [i for i in range(n) if is_open[i] and i not in forced]
        sku_sets = p.shared_sku_sets()
        for i in opened:
            is_open[i] = 0
            si = sku_sets[i]
            for j in range(n):
                if is_open[j] or j == i or not (sku_sets[j] & si):
                    continue
                if evals[0] >= max_evals:
                    break
                is_open[j] = 1
                changed = si | sku_sets[j]
                res = delta(changed)
                if res is not None and res[0] + fs[j] - fs[i] < 0:
                    for k, v in res[1].items():
                        per[k] = v
                    improved = True
                    break
                is_open[j] = 0
            if improved:
                break
            is_open[i] = 1
        if not improved and evals[0] < max_evals and _two_for_one(p, is_open, forced):
            per = [_sku_cost(p, k, is_open) for k in skus]
            improved = True
        if not improved:
            break
    return total()


def _two_for_one(p: Problem, is_open: bytearray, forced: set[int]) -> bool:  # noqa: PLR0912
    """Replace two opened stores by one store that covers what they covered, if cheaper."""
    n = p.n
    opened = [i for i in range(n) if is_open[i] and i not in forced]
    if not 2 <= len(opened) <= 12:
        return False
    current = p.evaluate(is_open)
    if current is None:
        return False
    fs = p.fixed_scaled
    qmaps = p.qmaps()
    best: tuple[int, int, int, int] | None = None
    for x in range(len(opened)):
        for y in range(x + 1, len(opened)):
            a, b = opened[x], opened[y]
            is_open[a] = 0
            is_open[b] = 0
            resid = list(p.demand)
            for i in range(n):
                if is_open[i]:
                    for k, q, _c in p.items[i]:
                        resid[k] -= q
            need = [k for k, r in enumerate(resid) if r > 0]
            for j in range(n):
                if is_open[j] or j in (a, b):
                    continue
                if fs[j] >= fs[a] + fs[b]:
                    continue
                qj = qmaps[j]
                if all(qj.get(k, 0) >= resid[k] for k in need):
                    is_open[j] = 1
                    c = p.evaluate(is_open)
                    is_open[j] = 0
                    if c is not None and c < current and (best is None or c < best[0]):
                        best = (c, a, b, j)
            is_open[a] = 1
            is_open[b] = 1
    if best is None:
        return False
    _c, a, b, j = best
    is_open[a] = 0
    is_open[b] = 0
    is_open[j] = 1
    return True


def _used_units(p: Problem, is_open: bytearray) -> list[list[tuple[int, int]]]:
    """Per SKU, the (unit cost, units) taken from opened stores, cheapest first."""
    out: list[list[tuple[int, int]]] = []
    dummy = p.dummy
    for dem, ent in zip(p.demand, p.ent, strict=True):
        rem = dem
        used: list[tuple[int, int]] = []
        for c2, i, q2 in ent:
            if rem == 0:
                break
            if is_open[i]:
                t = q2 if q2 < rem else rem
                used.append((c2, t))
                rem -= t
        if rem and dummy is not None:
            used.append((dummy, rem))
        out.append(used)
    return out


def _seeds(p: Problem, count: int) -> list[int]:
    """The stores with the lowest cost per unit they could ship (first greedy choices)."""
    scored = []
    for i in range(p.n):
        units = 0
        cost = p.fixed_scaled[i]
        for _k, q, c in p.items[i]:
            units += q
            cost += q * c
        if units:
            scored.append((cost // units, i))
    scored.sort()
    return [i for _s, i in scored[:count]]


def multi_start(p: Problem, starts: int = 4) -> tuple[bytearray, int | None]:
    """Best greedy cover over several first stores (plus the plain greedy), then drop moves."""
    best_open = greedy_cover(p)
    # local_search keeps each SKU's cost up to date, so its total is p.evaluate(best_open)
    best = local_search(p, best_open, swaps=False)
    if p.max_open is not None and p.max_open - len(p.forced) < 1:
        return best_open, best
    if sum(best_open) - len(p.forced) < 3:
        return best_open, best  # one or two stores: the exact search settles it quickly
    for s in _seeds(p, starts):
        if best_open[s]:
            continue
        cand = greedy_cover(p, first=s)
        cost = local_search(p, cand, swaps=False, adds=False, max_rounds=3)
        if cost is not None and (best is None or cost < best):
            best, best_open = cost, cand
    return best_open, best


def solve_fast(
    p: Problem, *, starts: int = 2, max_evals: int = 100
) -> tuple[bytearray, int | None]:
    """Multi-start greedy cover, then drop/add/swap/two-for-one moves within ``max_evals``.

    Returns:
        (opened flags, scaled cost or ``None`` when no plan was found).
    """
    is_open, cost = multi_start(p, starts=starts)
    if cost is None or sum(is_open) - len(p.forced) < 3:
        return is_open, cost  # one or two stores: the search settles the rest quickly
    # local_search keeps each SKU's cost up to date, so its total is p.evaluate(is_open)
    return is_open, local_search(p, is_open, max_evals=max_evals)
