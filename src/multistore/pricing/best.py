"""Best combination: which optional and mutually exclusive promotions to apply.

A *selection* is a set of eligible promotions. It is valid when no two of its members conflict
(same ``exclusive_group``, or one's ``combines_with`` leaves the other out) and it is maximal
for automatic promotions: an automatic promotion (anything but a coupon) is left out only when
it conflicts with a member. Coupons are optional. Automatic promotions that conflict with
nothing are always in.

:func:`search` walks the lanes in order, branching on the optional and conflicting promotions
of each lane, evaluating each lane once per branch, and pruning branches whose upper bound (the
saving so far plus what every remaining promotion saves on list prices, which only shrinks as
prices fall) cannot beat the best found. :func:`brute_force` enumerates every valid selection
and evaluates each from scratch; tests and the benchmark check that both agree.

A lane's outcome depends only on the amounts, shipping fees, cap headroom and points at its
entry, so the search memoises lane evaluations by that fingerprint (equal states reached by
different branches share them), and in an ``all`` lane keeps the state after each ordered
prefix of promotions, so subsets sharing a prefix apply it once. Bounds and lane subsets are
memoised on what they depend on. None of this changes which states are compared or counted.

The winner has the largest saving (``max_saving``) or the smallest (``min_saving``); ties go
to the selection with fewer promotions, then to the lexicographically smallest sorted ids.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

import attrs

from multistore.pricing.lanes import (
    ITEM_TYPE_NAMES,
    Candidate,
    Effect,
    Miss,
    Part,
    Prepared,
    State,
    _amounts_of,
    _groups,
    _m,
    _order_total,
    apply_best,
    apply_lane,
    apply_one,
    initial_parts,
    initial_state,
)
from multistore.pricing.promotions import BuyXGetY, Coupon, FlashSale, PointsRedemption
from multistore.pricing.stacking import LanePolicy, StackingPolicy

__all__ = ["Selection", "brute_force", "conflicts", "search", "valid_selections"]


@attrs.frozen
class Selection:
    """A chosen set of promotions and the state after applying all lanes.

    Attributes:
        chosen: The selected candidates.
        state: Amounts, effects and misses after the last lane.
        evaluated: How many full or partial lane evaluations the search made.
        exhaustive: ``False`` when the search fell back to lane-by-lane greedy choice.
    """

    chosen: tuple[Candidate, ...]
    state: State
    evaluated: int = 0
    exhaustive: bool = True

    @property
    def saving(self) -> int:
        """The selection's total saving in minor units."""
        return self.state.saving


def conflicts(a: Candidate, b: Candidate) -> bool:
    """Return whether two promotions may not both apply."""
    pa, pb = a.promo, b.promo
    if pa.exclusive_group is not None and pa.exclusive_group == pb.exclusive_group:
        return True
    if pa.combines_with is not None and not _allows(pa.combines_with, pb.id, pb.exclusive_group):
        return True
    return pb.combines_with is not None and not _allows(pb.combines_with, pa.id, pa.exclusive_group)


def _allows(allowed: Sequence[str], pid: str, group: str | None) -> bool:
    return pid in allowed or (group is not None and group in allowed)


def is_optional(c: Candidate) -> bool:
    """Coupons are optional; every other promotion applies automatically when it can."""
    return c.promo.type == "coupon"


def _key(objective: str, saving: int, chosen: Sequence[Candidate]) -> tuple[int, int, list[str]]:
    sign = -1 if objective == "max_saving" else 1
    return (sign * saving, len(chosen), sorted(c.promo.id for c in chosen))


def _evaluate(prep: Prepared, policy: StackingPolicy, chosen: Sequence[Candidate]) -> State:
    state = initial_state(prep)
    for lane in policy.lanes:
        in_lane = [c for c in chosen if c.lane == lane.name]
        state = apply_lane(state=state, lane=lane, chosen=in_lane, prep=prep)
    return state


def valid_selections(candidates: Sequence[Candidate]) -> Iterator[tuple[Candidate, ...]]:
    """Yield every valid selection of ``candidates`` exactly once.

    Decides each candidate in turn (include or exclude). A candidate is included only when it
    conflicts with nothing included; an automatic candidate is excluded only when something
    included, or something still undecided, conflicts with it. Leaves are checked for
    maximality, so each yielded selection is valid.
    """
    cands = list(candidates)
    enemies = _enemies(cands)
    position = {c.promo.id: k for k, c in enumerate(cands)}
    n = len(cands)
    chosen: list[Candidate] = []
    chosen_ids: set[str] = set()
    pending: list[str] = []  # automatic ones left out, not yet excluded by a chosen enemy

    def coverable(pid: str, k: int) -> bool:
        """Whether ``pid`` is excluded by a chosen enemy or may still be by a later one."""
        if enemies[pid] & chosen_ids:
            return True
        return any(position[e] >= k and not enemies[e] & chosen_ids for e in enemies[pid])

    def walk(k: int) -> Iterator[tuple[Candidate, ...]]:
        if not all(coverable(pid, k) for pid in pending):
            return
        if k == n:
            yield tuple(chosen)
            return
        c = cands[k]
        pid = c.promo.id
        if not enemies[pid] & chosen_ids:
            chosen.append(c)
            chosen_ids.add(pid)
            yield from walk(k + 1)
            chosen.pop()
            chosen_ids.discard(pid)
        if is_optional(c):
            yield from walk(k + 1)
        elif coverable(pid, k + 1):
            pending.append(pid)
            yield from walk(k + 1)
            pending.pop()

    yield from walk(0)


def _enemies(cands: Sequence[Candidate]) -> dict[str, set[str]]:
    """Each candidate's conflicting candidates (same pairs as :func:`conflicts`).

    Only pairs sharing an exclusive group or involving a ``combines_with`` list can conflict,
    so only those are tested.
    """
    out: dict[str, set[str]] = {c.promo.id: set() for c in cands}
    groups: dict[str, list[Candidate]] = {}
    for c in cands:
        if c.promo.exclusive_group is not None:
            groups.setdefault(c.promo.exclusive_group, []).append(c)
    for members in groups.values():
        for a, b in itertools.combinations(members, 2):
            out[a.promo.id].add(b.promo.id)
            out[b.promo.id].add(a.promo.id)
    for a in cands:
        if a.promo.combines_with is None:
            continue
        for b in cands:
            if b is not a and not _allows(
                a.promo.combines_with, b.promo.id, b.promo.exclusive_group
            ):
                out[a.promo.id].add(b.promo.id)
                out[b.promo.id].add(a.promo.id)
    return out


def brute_force(
    *, prep: Prepared, policy: StackingPolicy, candidates: Sequence[Candidate]
) -> Selection:
    """Enumerate every valid selection, evaluate each from scratch, return the best.

    Exponential in the number of optional or conflicting promotions; meant for tests and the
    benchmark, as the oracle :func:`search` is checked against.
    """
    best: tuple[tuple[int, int, list[str]], tuple[Candidate, ...], State] | None = None
    count = 0
    for chosen in valid_selections(candidates):
        state = _evaluate(prep, policy, chosen)
        count += 1
        key = _key(policy.objective, state.saving, chosen)
        if best is None or key < best[0]:
            best = (key, chosen, state)
    assert best is not None  # including every candidate it can is always one valid selection
    return Selection(chosen=best[1], state=best[2], evaluated=count)


class _Bound(NamedTuple):
    """What one candidate can save at most (on list prices), split by unit.

    Attributes:
        goods: Total goods saving over all its units.
        ship: Total shipping saving over all its units.
        dense: Goods saving per line (index = line), for per-line item promotions.
        keyed: ``(goods, shipping)`` per other unit (store id or ``*``).
    """

    goods: int
    ship: int
    dense: list[int] | None
    keyed: dict[str, tuple[int, int]]


def _upper_bounds(prep: Prepared, candidates: Sequence[Candidate]) -> dict[str, _Bound]:
    """Per candidate id: its (goods, shipping) saving on list prices, by unit.

    Savings only shrink as earlier lanes lower the prices (thresholds get harder, percentages
    apply to less, fixed prices save less), so these bound what the candidate can save later.
    """
    n = len(prep.list_amounts)
    bounds: dict[str, _Bound] = {}
    for c in candidates:
        p = c.promo
        if p.type in ITEM_TYPE_NAMES:
            dense = [0] * n
            if isinstance(p, FlashSale):
                # Unlimited allowance bounds any later distribution of the quota over lines.
                price = _m(p.price, prep.scale)
                for i in c.lines:
                    dense[i] = max(0, prep.list_amounts[i] - price * prep.qty[i])
            elif isinstance(p, BuyXGetY):
                for i in c.lines:
                    dense[i] = prep.list_amounts[i]
            else:
                for part in initial_parts(c, prep)[0]:
                    dense[part.lines[0]] += part.total
            bounds[p.id] = _Bound(sum(dense), 0, dense, {})
            continue
        per_key: dict[str, tuple[int, int]] = {}
        for part in initial_parts(c, prep)[0]:
            goods = part.total if part.lines else 0
            ship = sum(part.shipping.values())
            g0, s0 = per_key.get(part.key, (0, 0))
            per_key[part.key] = (g0 + goods, s0 + ship)
        if isinstance(p, Coupon | PointsRedemption) and per_key:
            # A coupon is redeemed in one unit, points apply once: their totals are bounded by
            # the largest unit. In a ``best`` lane a store coupon keeps one entry per store it
            # can be redeemed in, as rivals there compete with it and two coupons may win in
            # two stores (points have one unit, the cart).
            goods_total = max(g for g, _ in per_key.values())
            ship_total = max(s for _, s in per_key.values())
        else:
            goods_total = sum(g for g, _ in per_key.values())
            ship_total = sum(s for _, s in per_key.values())
        bounds[p.id] = _Bound(goods_total, ship_total, None, per_key)
    return bounds


def _lane_bound(
    lane: LanePolicy, cands: Sequence[Candidate], bounds: dict[str, _Bound]
) -> tuple[int, int]:
    """Upper bound of what ``cands`` can save together in ``lane``."""
    if lane.mode == "best":
        # One winner per unit: the largest bound of each line, store or cart.
        dense = [d for c in cands if (d := bounds[c.promo.id].dense) is not None]
        goods = ship = 0
        if len(dense) == 1:
            goods = sum(dense[0])
        elif dense:
            goods = sum(map(max, *dense))
        g, s = _keyed_bound(cands, bounds)
        return goods + g, ship + s
    grouped: dict[str, tuple[int, int]] = {}
    goods = ship = 0
    for c in cands:
        b = bounds[c.promo.id]
        group = c.promo.exclusive_group
        if group is None:
            goods += b.goods
            ship += b.ship
        else:
            g0, s0 = grouped.get(group, (0, 0))
            grouped[group] = (max(g0, b.goods), max(s0, b.ship))
    return goods + sum(g for g, _ in grouped.values()), ship + sum(s for _, s in grouped.values())


def _keyed_bound(cands: Sequence[Candidate], bounds: dict[str, _Bound]) -> tuple[int, int]:
    """Upper bound of the store and cart units of a ``best`` lane: one winner per unit.

    The smaller of two bounds, each valid on its own: the largest offer on each unit, and
    the largest offer of the others on each unit plus, for each store coupon with several
    stores, the most it adds over those offers in one store (it is redeemed in one of them,
    so it adds at most that once).
    """
    rest: dict[str, tuple[int, int]] = {}
    coupons: list[_Bound] = []
    for c in cands:
        b = bounds[c.promo.id]
        if c.promo.type == "coupon" and len(b.keyed) > 1:
            coupons.append(b)
            continue
        _merge(rest, b.keyed)
    rest_g = sum(g for g, _ in rest.values())
    rest_s = sum(s for _, s in rest.values())
    if not coupons:
        return rest_g, rest_s
    # Over ``rest`` on each unit: the most any coupon adds (goods, shipping) and each coupon's
    # most in one unit.
    over: dict[str, tuple[int, int]] = {}
    once_g = once_s = 0
    for b in coupons:
        once_s += b.ship
        gains = [0]
        for key, (g0, s0) in b.keyed.items():
            r0, r1 = rest.get(key, (0, 0))
            g, s = g0 - r0, s0 - r1
            gains.append(g)
            had = over.get(key, (0, 0))
            if g > had[0] or s > had[1]:
                over[key] = (g if g > had[0] else had[0], s if s > had[1] else had[1])
        once_g += max(gains)
    goods = rest_g + min(sum(g for g, _ in over.values()), once_g)
    ship = min(rest_s + sum(s for _, s in over.values()), rest_s + once_s)
    return goods, ship


def _merge(into: dict[str, tuple[int, int]], keyed: Mapping[str, tuple[int, int]]) -> None:
    """Keep in ``into`` the largest goods and shipping offer on each unit of ``keyed``."""
    for key, (g, s) in keyed.items():
        got = into.get(key)
        if got is None:
            into[key] = (g, s)
        elif g > got[0] or s > got[1]:
            into[key] = (max(got[0], g), max(got[1], s))


def _ratio(value: Decimal, per: int = 1) -> tuple[int, int]:
    num, den = value.as_integer_ratio()
    return num, den * per


def _larger(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a if a[0] * b[1] >= b[0] * a[1] else b


def _rate(c: Candidate, lane: LanePolicy) -> tuple[int, int, int] | None:  # noqa: PLR0911
    """``(num, den, slack)``: ``c`` saves at most ``num * S // den + slack`` in goods.

    ``S`` is the sum of its lines' amounts in any state before its lane is applied (the lane's
    entry amounts are at most that, and later prices only fall). Percentages apply to the
    current amounts (rounded half up: at most one minor unit more per unit); amounts off
    need their threshold reached on the lane's entry amounts, so ``amount / threshold``
    bounds them when thresholds are checked after earlier lanes. ``None`` when no such rate
    holds (item promotions, thresholds on list prices, a zero threshold).
    """
    p = c.promo
    slack = len(c.lines)  # at least one line per unit
    if p.type == "points":
        return (*_ratio(p.max_percent, 100), 0)
    if p.type in {"spend_percent", "quantity_percent"}:
        top = max((t.percent for t in p.tiers), default=Decimal(0))
        return (*_ratio(top, 100), slack)
    after = lane.threshold_base == "after"
    if p.type == "coupon":
        if p.amount is None:
            return (*_ratio(p.percent or Decimal(0), 100), slack)
        if after and p.min_spend > 0:
            an, ad = _ratio(p.amount)
            mn, md = _ratio(p.min_spend)
            return an * md, ad * mn, 0
        return None
    if p.type == "spend_every" and after:
        an, ad = _ratio(p.amount)
        en, ed = _ratio(p.every)
        return an * ed, ad * en, 0
    if p.type == "spend_tiers" and after and p.tiers and all(t.threshold > 0 for t in p.tiers):
        rate = (0, 1)
        for t in p.tiers:
            an, ad = _ratio(t.amount)
            tn, td = _ratio(t.threshold)
            rate = _larger(rate, (an * td, ad * tn))
        return rate[0], rate[1], 0
    return None


_Rated = list[tuple[int, tuple[int, ...], tuple[int, int, int] | None]]
"""Per promotion of a lane subset: its static goods bound, its lines and its rate."""
_RatedEdge = tuple[int, _Rated]
"""How an edge's goods bound is tightened on the amounts entering its lane: :data:`_SUM` or
:data:`_TOP` of its promotions' rates, or :data:`_ENTRY` (what they save on those amounts)."""
_SUM, _TOP, _ENTRY = 0, 1, 2
_ORDER_TYPES = frozenset({"spend_tiers", "spend_every", "spend_percent", "quantity_percent"})
"""Order-level promotion types other than coupons (see :meth:`_LaneMemo.entry_goods`)."""

_Fingerprint = tuple[tuple[int, ...], tuple[tuple[str, int], ...], int | None, int]
"""What a lane's outcome depends on: line amounts, shipping, cap headroom, points left."""


class _LaneMemo:
    """Outcomes of one lane entered with one state, as deltas (new effects, misses, saving).

    A lane's result depends only on the entry state's amounts, shipping, headroom and points,
    never on the effects or misses before it, so equal entry states share one memo. In an
    ``all`` lane the promotions apply one after another in a fixed order, so the state after
    each ordered prefix is kept and subsets sharing a prefix evaluate it once.
    """

    __slots__ = ("amounts", "base", "entry", "goods", "lane", "parts", "results")

    def __init__(
        self, lane: LanePolicy, entry: Sequence[int], base: State, amounts: tuple[int, ...]
    ) -> None:
        self.lane = lane
        self.entry = entry
        self.base = base
        self.amounts = amounts
        self.results: dict[tuple[str, ...], State] = {(): base}
        self.parts: dict[str, tuple[list[Part], list[Miss]]] = {}
        self.goods: dict[str, int] = {}

    def entry_goods(self, c: Candidate, prep: Prepared) -> int:
        """Upper bound of what order-level ``c`` saves in goods in this ``all`` lane.

        What it would save on the entry amounts: its thresholds are checked on the entry (or
        list) amounts whatever applies before it in the lane, and what it saves only shrinks
        as the lane lowers the amounts it applies to (tiers and amounts off are capped by
        them, percentages round half up on them); a coupon is redeemed in one unit only.
        """
        pid = c.promo.id
        got = self.goods.get(pid)
        if got is None:
            got = 0
            coupon = c.promo.type == "coupon"
            amounts, entry = self.amounts, self.entry
            for key, idx in _groups(c, prep, getattr(c.promo, "level", "store")):
                cur = _amounts_of(prep, amounts, idx)[1]
                base = cur if entry is amounts else _amounts_of(prep, entry, idx)[1]
                total = min(_order_total(c, key, idx, base=base, cur=cur, prep=prep)[0], cur)
                if total <= 0:
                    continue
                if coupon:
                    got = max(got, total)
                else:
                    got += total
            self.goods[pid] = got
        return got

    def evaluate(self, chosen: Sequence[Candidate], prep: Prepared) -> State:
        """The delta state after applying ``chosen`` (same as :func:`apply_lane`); do not mutate."""
        ordered = sorted(chosen, key=lambda c: c.order)
        key = tuple(c.promo.id for c in ordered)
        got = self.results.get(key)
        if got is not None:
            return got
        if self.lane.mode != "all":
            got = self.base.copy()
            apply_best(got, self.entry, ordered, prep, self.parts)
            self.results[key] = got
            return got
        k = len(key) - 1
        while key[:k] not in self.results:
            k -= 1
        got = self.results[key[:k]]
        for m in range(k, len(key)):
            got = got.copy()
            apply_one(got, ordered[m], self.entry, prep)
            self.results[key[: m + 1]] = got
        return got


_PRECOMPUTE_CHOICES = 10
"""Lanes with at most this many choices list their conflict-free combinations once."""


class _Search:
    """State of one depth-first search over lanes (see :func:`search`)."""

    def __init__(
        self, prep: Prepared, policy: StackingPolicy, candidates: Sequence[Candidate]
    ) -> None:
        self.prep = prep
        self.policy = policy
        self.enemies = _enemies(candidates)
        # Automatic promotions that conflict with nothing are forced; the rest are choices.
        forced = [c for c in candidates if not is_optional(c) and not self.enemies[c.promo.id]]
        choices = [c for c in candidates if is_optional(c) or self.enemies[c.promo.id]]
        self.forced = forced
        self.automatic = [c for c in choices if not is_optional(c)]
        self.exhaustive = True
        self.budget = policy.max_selections * max(1, len(policy.lanes))
        self.lanes = list(policy.lanes)
        self.forced_by_lane = [[c for c in forced if c.lane == ln.name] for ln in self.lanes]
        self.choices_by_lane = [[c for c in choices if c.lane == ln.name] for ln in self.lanes]
        self.maximize = policy.objective == "max_saving"
        self.bounds: dict[str, _Bound] = _upper_bounds(prep, candidates) if self.maximize else {}
        self.best: tuple[tuple[int, int, list[str]], tuple[Candidate, ...], State] | None = None
        self.evaluated = 0
        self.lane_memo: dict[tuple[int, _Fingerprint], _LaneMemo] = {}
        self.rates: dict[str, tuple[int, int, int] | None] = {}

    def rate(self, c: Candidate, lane: LanePolicy) -> tuple[int, int, int] | None:
        """:func:`_rate` of ``c`` (memoised by id)."""
        pid = c.promo.id
        if pid not in self.rates:
            self.rates[pid] = _rate(c, lane)
        return self.rates[pid]

    def prepare_walk(self) -> None:
        """Set up the memos of :meth:`visit` (the lane-by-lane walk)."""
        # Memos (exact: each value depends only on its key).
        # Ids whose presence in a selection can change the subsets of lane j: the enemies of
        # the choices of lane j and later lanes. Memo keys keep only these.
        n_lanes = len(self.lanes)
        self.later_ids = [
            {c.promo.id for lane_c in self.choices_by_lane[j + 1 :] for c in lane_c}
            for j in range(n_lanes)
        ]
        self.subset_rel = [
            frozenset().union(
                *(
                    self.enemies[c.promo.id]
                    for k in range(j, n_lanes)
                    for c in self.choices_by_lane[k]
                )
            )
            for j in range(n_lanes)
        ]
        # Forced and optional candidates of lane j and later, in the order bounds visit them.
        self.from_lane = [
            [c for k in range(j, n_lanes) for c in self.forced_by_lane[k] + self.choices_by_lane[k]]
            for j in range(n_lanes)
        ]
        self.combos: dict[int, list[tuple[tuple[Candidate, ...], frozenset[str]]]] = {}
        self.subset_memo: dict[tuple[int, frozenset[str]], list[list[Candidate]]] = {}
        self.bound_memo: dict[tuple[int, tuple[str, ...]], tuple[int, int]] = {}

    def subsets(self, j: int, chosen: Sequence[Candidate]) -> list[list[Candidate]]:
        """Subsets of lane ``j``'s choices that can still end in a valid selection."""
        chosen_ids = frozenset(c.promo.id for c in chosen) & self.subset_rel[j]
        key = (j, chosen_ids)
        got = self.subset_memo.get(key)
        if got is None:
            got = self.subset_memo[key] = self._subsets(j, chosen_ids)
        return got

    def _subsets(self, j: int, chosen_ids: frozenset[str]) -> list[list[Candidate]]:
        enemies = self.enemies
        pool = [c for c in self.choices_by_lane[j] if not enemies[c.promo.id] & chosen_ids]
        pool_ids = frozenset(c.promo.id for c in pool)
        out: list[list[Candidate]] = []
        for combo, ids in self._combos(j, pool):
            if ids <= pool_ids:
                taken = chosen_ids | ids
                # An automatic promotion left out must be excluded by something chosen now or
                # by a later-lane promotion that can still be chosen.
                if all(
                    c.promo.id in ids
                    or is_optional(c)
                    or enemies[c.promo.id] & taken
                    or any(
                        e in self.later_ids[j] and not enemies[e] & taken
                        for e in enemies[c.promo.id]
                    )
                    for c in pool
                ):
                    out.append(list(combo))
        return out

    def _combos(
        self, j: int, pool: Sequence[Candidate]
    ) -> list[tuple[tuple[Candidate, ...], frozenset[str]]]:
        """Conflict-free combinations of ``pool`` (in ``itertools.combinations`` order).

        For lanes with few choices, those of all the lane's choices are listed once and the
        caller keeps the ones inside ``pool``: same combinations, same order (by size, then by
        position). Lanes with many choices enumerate ``pool`` itself each time.
        """
        small = len(self.choices_by_lane[j]) <= _PRECOMPUTE_CHOICES
        if small and j in self.combos:
            return self.combos[j]
        out: list[tuple[tuple[Candidate, ...], frozenset[str]]] = []
        source = self.choices_by_lane[j] if small else pool
        for r in range(len(source) + 1):
            for combo in itertools.combinations(source, r):
                ids = frozenset(c.promo.id for c in combo)
                if not any(self.enemies[c.promo.id] & ids for c in combo):
                    out.append((combo, ids))
        if small:
            self.combos[j] = out
        return out

    def bound(self, j: int, state: State, chosen: Sequence[Candidate]) -> int:
        """Upper bound of the saving of any completion of ``chosen`` from lane ``j`` on.

        Promotions with a ``combines_with`` list are branched on (in or out) so that one which
        combines with little does not inflate the bound of everything it would exclude.
        """
        chosen_ids = frozenset(c.promo.id for c in chosen)
        remaining = [c for c in self.from_lane[j] if not self.enemies[c.promo.id] & chosen_ids]
        # The split depends only on which promotions remain: memoise on their ids.
        key = (j, tuple(c.promo.id for c in remaining))
        split = self.bound_memo.get(key)
        if split is None:
            restricted = [c.promo.id for c in remaining if c.promo.combines_with is not None][:4]
            split = self._bound_split(j, remaining, chosen_ids, restricted)
            self.bound_memo[key] = split
        goods, ship = split
        goods = min(goods, sum(state.amounts) - sum(self.prep.floors))
        if state.headroom is not None:
            goods = min(goods, state.headroom)
        return state.saving + goods + min(ship, sum(state.shipping.values()))

    def _bound_split(
        self,
        j: int,
        remaining: Sequence[Candidate],
        taken: frozenset[str],
        restricted: Sequence[str],
    ) -> tuple[int, int]:
        if restricted:
            pid, rest = restricted[0], restricted[1:]
            without = [c for c in remaining if c.promo.id != pid]
            g0, s0 = self._bound_split(j, without, taken, rest)
            if not any(c.promo.id == pid for c in remaining):
                return g0, s0
            with_it = [c for c in remaining if c.promo.id not in self.enemies[pid]]
            g1, s1 = self._bound_split(j, with_it, taken | {pid}, rest)
            return max(g0, g1), max(s0, s1)
        goods = ship = 0
        for k in range(j, len(self.lanes)):
            name = self.lanes[k].name
            g, s = _lane_bound(self.lanes[k], [c for c in remaining if c.lane == name], self.bounds)
            goods += g
            ship += s
        return goods, ship

    def _dominated(self, j: int, state: State, chosen: Sequence[Candidate]) -> bool:
        """Whether no completion of ``chosen`` can beat the best found (saving, then count)."""
        assert self.best is not None
        best_saving, best_count = -self.best[0][0], self.best[0][1]
        bound = self.bound(j, state, chosen)
        if bound != best_saving:
            return bound < best_saving
        # A tie on saving goes to fewer promotions: every completion has at least these.
        fewest = len(chosen) + sum(len(f) for f in self.forced_by_lane[j:])
        return fewest > best_count

    def _memo(self, j: int, state: State) -> _LaneMemo:
        """The memo of lane ``j`` entered with ``state``'s amounts (shared by equal states)."""
        fp: _Fingerprint = (
            tuple(state.amounts),
            tuple(state.shipping.items()),
            state.headroom,
            state.points_left,
        )
        memo = self.lane_memo.get((j, fp))
        if memo is None:
            lane = self.lanes[j]
            entry = self.prep.list_amounts if lane.threshold_base == "before" else fp[0]
            base = State(
                amounts=list(fp[0]),
                shipping=dict(state.shipping),
                headroom=state.headroom,
                points_left=state.points_left,
                effects=[],
                misses=[],
            )
            memo = self.lane_memo[(j, fp)] = _LaneMemo(lane, entry, base, fp[0])
        return memo

    def visit(self, j: int, state: State, chosen: list[Candidate]) -> None:
        """Explore lane ``j`` onwards from ``state``."""
        if j == len(self.lanes):
            ids = {c.promo.id for c in chosen}
            if all(c.promo.id in ids or self.enemies[c.promo.id] & ids for c in self.automatic):
                key = _key(self.policy.objective, state.saving, chosen)
                if self.best is None or key < self.best[0]:
                    self.best = (key, tuple(chosen), state)
            return
        if self.maximize and self.best is not None and self._dominated(j, state, chosen):
            return
        children: list[tuple[State, list[Candidate]]] = []
        memo = self._memo(j, state)
        for subset in self.subsets(j, chosen):
            lane_chosen = self.forced_by_lane[j] + subset
            delta = memo.evaluate(lane_chosen, self.prep)
            nxt = State(
                amounts=list(delta.amounts),
                shipping=dict(delta.shipping),
                headroom=delta.headroom,
                points_left=delta.points_left,
                effects=state.effects + delta.effects,
                misses=state.misses + delta.misses,
                saving=state.saving + delta.saving,
            )
            self.evaluated += 1
            children.append((nxt, chosen + lane_chosen))
        sign = -1 if self.maximize else 1
        children.sort(key=lambda ch: sign * ch[0].saving)
        if self.evaluated > self.budget:
            self.exhaustive = False
        if not self.exhaustive:
            children = children[:1]
        for nxt, new_chosen in children:
            self.visit(j + 1, nxt, new_chosen)


class _Trie:
    """The valid selections as a prefix tree over lanes: an edge is one lane's subset.

    ``edges`` lists ``(lane_chosen, goods, ship, child, rated)``: the lane's promotions in that
    branch (forced ones first, then the chosen ones, each in candidate order) with their static
    upper bound, and for an ``all`` lane with rated promotions (or a ``best`` lane of points
    redemptions) what :func:`_rate` needs to tighten the goods bound on the amounts entering
    the lane. ``goods``/``ship`` bound what any
    path below saves from this lane on (on list prices); ``fewest`` is the fewest promotions any
    path below adds.
    """

    __slots__ = ("edges", "fewest", "goods", "ship")

    def __init__(self) -> None:
        self.edges: list[tuple[list[Candidate], int, int, _Trie, _RatedEdge | None]] = []
        self.goods = 0
        self.ship = 0
        self.fewest = 0


_MASK_MEMO: dict[tuple[tuple[int, ...], int, int], tuple[int, ...] | None] = {}
"""Valid selections by conflict structure: carts priced under the same promotions share them."""
_MASK_MEMO_SIZE = 512
_MASK_MEMO_MAX_MASKS = 512
_MAX_TREE_CHOICES = 200
"""Beyond this many optional or conflicting promotions the lane-by-lane walk is used."""


def _valid_masks_of(enemies: tuple[int, ...], automatic: int, limit: int) -> tuple[int, ...] | None:
    """:func:`_valid_masks`, memoised (small results only, a bounded number of them)."""
    key = (enemies, automatic, limit)
    if key in _MASK_MEMO:
        return _MASK_MEMO[key]
    got = _valid_masks(enemies, automatic, limit)
    masks = None if got is None else tuple(got)
    if masks is None or len(masks) <= _MASK_MEMO_MAX_MASKS:
        if len(_MASK_MEMO) >= _MASK_MEMO_SIZE:
            _MASK_MEMO.clear()
        _MASK_MEMO[key] = masks
    return masks


_Shape = tuple[tuple[int, "_Shape"], ...]
"""A subtree of the valid selections' prefix tree: ``(lane subset key, child)`` per edge, in
the order the selections first reach them; a leaf is ``()``."""
_SHAPE_MEMO: dict[tuple[tuple[int, ...], tuple[tuple[int, int], ...]], _Shape] = {}
"""Prefix trees by valid selections and lane spans (the masks come from the memo above)."""


def _shape_of(masks: tuple[int, ...] | list[int], spans: tuple[tuple[int, int], ...]) -> _Shape:
    """The prefix tree of ``masks`` over the lanes' ``spans``, equal subtrees shared.

    Edges keep the order in which the masks (in enumeration order) first reach them; two
    subtrees are shared only when they are equal edge for edge, in the same order. Memoised
    for the memoised mask tuples (bounded like :data:`_MASK_MEMO`).
    """
    key = (tuple(masks), spans)
    got = _SHAPE_MEMO.get(key)
    if got is not None:
        return got
    root: dict[int, dict[int, Any]] = {}
    for mask in masks:
        node = root
        for shift, width in spans:
            node = node.setdefault((mask >> shift) & width, {})
    interned: dict[_Shape, _Shape] = {}

    def canon(node: dict[int, dict[int, Any]]) -> _Shape:
        shape = tuple((k, canon(child)) for k, child in node.items())
        return interned.setdefault(shape, shape)

    got = canon(root)
    if len(masks) <= _MASK_MEMO_MAX_MASKS:
        if len(_SHAPE_MEMO) >= _MASK_MEMO_SIZE:
            _SHAPE_MEMO.clear()
        _SHAPE_MEMO[key] = got
    return got


def _valid_masks(enemies: Sequence[int], automatic: int, limit: int) -> list[int] | None:
    """Every valid selection of the choices as a bit mask, or ``None`` past ``limit`` of them.

    The same selections as :func:`valid_selections` (bit ``k`` is choice ``k``): no two chosen
    conflict and every automatic choice left out conflicts with a chosen one. Choices are
    decided in order, and a branch stops as soon as an automatic choice left out can no
    longer be excluded by one still undecided.
    """
    m = len(enemies)
    later = [0] * (m + 1)  # later[n]: the choices decided at step n or after
    for n in range(m - 1, -1, -1):
        later[n] = later[n + 1] | (1 << n)
    out: list[int] = []

    def walk(n: int, chosen: int, blocked: int, pending: int) -> bool:
        while n < m and blocked >> n & 1:
            n += 1  # conflicts with a chosen one: left out, and already excluded
        if pending:
            free = later[n] & ~blocked
            rest = pending
            while rest:
                low = rest & -rest
                if not enemies[low.bit_length() - 1] & free:
                    return True
                rest ^= low
        if n == m:
            out.append(chosen)
            return len(out) <= limit
        bit = 1 << n
        e = enemies[n]
        if not walk(n + 1, chosen | bit, blocked | e, pending & ~e):
            return False
        if not automatic & bit:
            return walk(n + 1, chosen, blocked, pending)
        return walk(n + 1, chosen, blocked, pending | bit)

    return out if walk(0, 0, 0, 0) else None


def _rated_goods(
    rated: _RatedEdge, amounts: Sequence[int], sums: dict[tuple[int, ...], int]
) -> int:
    """Goods bound of a lane subset entered with ``amounts`` (see :func:`_rate`).

    In an ``all`` lane every promotion applies: the bounds add up. In a ``best`` lane of
    points redemptions one of them applies, once for the cart: the largest bound.
    """
    kind, entries = rated
    best = kind == _TOP
    total = 0
    for goods, lines, rate in entries:
        if rate is None:
            bound = goods
        else:
            got = sums.get(lines)
            if got is None:
                got = sums[lines] = sum(map(amounts.__getitem__, lines))
            num, den, slack = rate
            bound = min(goods, num * got // den + slack)
        if not best:
            total += bound
        elif bound > total:
            total = bound
    return total


class _Open:
    """A node of the best-first search: a path of lane subsets and, once evaluated, its state.

    ``delta`` is what the node's lane returned (absolute amounts, shipping, headroom and points
    left; the lane's own effects, misses and saving), ``saving`` the path's total saving.
    """

    __slots__ = ("count", "delta", "lane_chosen", "parent", "saving", "trie")

    def __init__(
        self,
        trie: _Trie,
        parent: _Open | None,
        lane_chosen: list[Candidate],
        count: int,
        *,
        delta: State | None = None,
    ) -> None:
        self.trie = trie
        self.parent = parent
        self.lane_chosen = lane_chosen
        self.count = count
        self.delta = delta
        self.saving = 0


_Choices = tuple[list[Candidate], list[tuple[int, int]]]
"""The choices in lane order and each lane's (first bit, bit mask width) in a selection mask."""


class _TrieSearch:
    """Exact search over the prefix tree of the valid selections (see :func:`search`)."""

    def __init__(self, base: _Search, root: _Trie) -> None:
        self.base = base
        self.root = root
        self.floors = sum(base.prep.floors)
        self.n_lanes = len(base.lanes)

    @staticmethod
    def plan(base: _Search, candidates: Sequence[Candidate]) -> _Trie | None:
        """The prefix tree of the valid selections, or ``None`` when there are too many."""
        lanes = base.lanes
        lane_of: dict[str, int] = {ln.name: j for j, ln in enumerate(lanes)}
        choices = sorted(
            (k for k, c in enumerate(candidates) if is_optional(c) or base.enemies[c.promo.id]),
            key=lambda k: (lane_of[candidates[k].lane], k),
        )
        if len(choices) > _MAX_TREE_CHOICES:
            return None  # the enumeration recurses once per choice
        index = {candidates[k].promo.id: n for n, k in enumerate(choices)}
        enemies = [
            sum(1 << index[e] for e in base.enemies[candidates[k].promo.id]) for k in choices
        ]
        automatic = sum(1 << n for n, k in enumerate(choices) if not is_optional(candidates[k]))
        masks = _valid_masks_of(tuple(enemies), automatic, base.policy.max_selections)
        if masks is None:
            return None
        cands = [candidates[k] for k in choices]
        spans: list[tuple[int, int]] = []
        lo = 0
        for j in range(len(lanes)):
            hi = lo
            while hi < len(cands) and lane_of[cands[hi].lane] == j:
                hi += 1
            spans.append((lo, (1 << (hi - lo)) - 1))
            lo = hi
        shape = _shape_of(masks, tuple(spans))
        return _TrieSearch._finish(base, (cands, spans), shape, 0, lane_sets={}, built={})

    @staticmethod
    def _finish(
        base: _Search,
        choices: _Choices,
        shape: _Shape,
        j: int,
        *,
        lane_sets: dict[tuple[int, int], tuple[list[Candidate], int, int, _RatedEdge | None]],
        built: dict[int, _Trie],
    ) -> _Trie:
        """The node of ``shape`` with its edges and bounds (bottom-up), memoising lane subsets.

        Equal subtrees are one shape (see :func:`_shape_of`), so they become one node, built
        once (``built`` by shape identity): a node's edges and bounds depend only on the
        subtree below it.
        """
        node = built.get(id(shape))
        if node is not None:
            return node
        node = built[id(shape)] = _Trie()
        if j == len(base.lanes):
            return node
        cands, spans = choices
        goods = ship = 0
        fewest = -1
        for key, child_shape in shape:
            child = _TrieSearch._finish(
                base, choices, child_shape, j + 1, lane_sets=lane_sets, built=built
            )
            got = lane_sets.get((j, key))
            if got is None:
                chosen = list(base.forced_by_lane[j])
                shift, rest = spans[j][0], key
                while rest:
                    low = rest & -rest
                    chosen.append(cands[shift + low.bit_length() - 1])
                    rest ^= low
                g = s = 0
                rated: _RatedEdge | None = None
                if base.maximize:
                    lane = base.lanes[j]
                    g, s = _lane_bound(lane, chosen, base.bounds)
                    # A points lane in best mode applies one redemption, for the whole cart.
                    best = lane.mode == "best"
                    if not chosen:
                        pass
                    elif not best and all(
                        c.promo.type in _ORDER_TYPES or c.promo.type == "coupon" for c in chosen
                    ):
                        rated = (_ENTRY, [])
                    elif not best or all(c.promo.type == "points" for c in chosen):
                        entries = [
                            (base.bounds[c.promo.id].goods, c.lines, base.rate(c, lane))
                            for c in chosen
                        ]
                        if any(r is not None for _, _, r in entries):
                            rated = (_TOP if best else _SUM, entries)
                got = lane_sets[(j, key)] = (chosen, g, s, rated)
            chosen, g, s, rated = got
            node.edges.append((chosen, g, s, child, rated))
            goods = max(goods, g + child.goods)
            ship = max(ship, s + child.ship)
            n = len(chosen) + child.fewest
            fewest = n if fewest < 0 else min(fewest, n)
        node.goods, node.ship, node.fewest = goods, ship, max(fewest, 0)
        return node

    def run(self, start: State) -> Selection:
        """Best-first branch and bound (``max_saving``) or a full walk (``min_saving``)."""
        root = _Open(self.root, None, [], 0, delta=start)
        leaf = self._best_first(root) if self.base.maximize else self._walk_all(root)
        chosen, state = self._result(leaf, start)
        return Selection(chosen=chosen, state=state, evaluated=self.base.evaluated)

    def _result(self, leaf: _Open, start: State) -> tuple[tuple[Candidate, ...], State]:
        """The chosen promotions and the final state (effects and misses lane by lane)."""
        path: list[_Open] = []
        node = leaf
        while node.parent is not None:
            path.append(node)
            node = node.parent
        path.reverse()
        chosen: list[Candidate] = []
        effects: list[Effect] = []
        misses: list[Miss] = []
        for step in path:
            assert step.delta is not None
            chosen.extend(step.lane_chosen)
            effects.extend(step.delta.effects)
            misses.extend(step.delta.misses)
        last = path[-1].delta if path else start
        assert last is not None
        state = State(
            amounts=list(last.amounts),
            shipping=dict(last.shipping),
            headroom=last.headroom,
            points_left=last.points_left,
            effects=effects,
            misses=misses,
            saving=leaf.saving,
        )
        return tuple(chosen), state

    def _chosen(self, node: _Open) -> list[Candidate]:
        steps: list[list[Candidate]] = []
        cur: _Open | None = node
        while cur is not None:
            steps.append(cur.lane_chosen)
            cur = cur.parent
        return [c for step in reversed(steps) for c in step]

    def _evaluate(self, node: _Open, j: int) -> State:
        """Apply lane ``j`` (``node``'s lane) to its parent's state; memoised on that state."""
        parent = node.parent
        assert parent is not None
        assert parent.delta is not None
        memo = self.base._memo(j, parent.delta)
        delta = memo.evaluate(node.lane_chosen, self.base.prep)
        node.delta = delta
        node.saving = parent.saving + delta.saving
        self.base.evaluated += 1
        return delta

    def _walk_all(self, root: _Open) -> _Open:
        """Evaluate every valid selection (no bound prunes the merchant's objective)."""
        best: tuple[tuple[int, int, list[str]], _Open] | None = None
        stack = [(root, 0)]
        objective = self.base.policy.objective
        while stack:
            node, j = stack.pop()
            if j == self.n_lanes:
                key = _key(objective, node.saving, self._chosen(node))
                if best is None or key < best[0]:
                    best = (key, node)
                continue
            for lane_chosen, _, _, child, _ in reversed(node.trie.edges):
                kid = _Open(child, node, lane_chosen, node.count + len(lane_chosen))
                self._evaluate(kid, j)
                stack.append((kid, j + 1))
        assert best is not None
        return best[1]

    def _room(self, state: State) -> tuple[int, int]:
        """What is left to save after ``state``: goods (floors, cap) and shipping fees."""
        left = sum(state.amounts) - self.floors
        if state.headroom is not None:
            left = min(left, state.headroom)
        return left, sum(state.shipping.values())

    def _edge_goods(  # noqa: PLR0917 - the expansion's state and memos
        self,
        j: int,
        state: State,
        lane_chosen: Sequence[Candidate],
        static: int,
        rated: _RatedEdge,
        sums: dict[tuple[int, ...], int],
        memo: list[_LaneMemo],
    ) -> int:
        """The goods bound of an edge of lane ``j`` leaving ``state`` (see :class:`_Trie`)."""
        if rated[0] != _ENTRY:
            return min(static, _rated_goods(rated, state.amounts, sums))
        if not memo:
            memo.append(self.base._memo(j, state))
        lane = memo[0]
        prep = self.base.prep
        goods = 0
        for c in lane_chosen:
            goods += lane.entry_goods(c, prep)
        return min(static, goods)

    def _best_first(self, root: _Open) -> _Open:
        """Pop the open node with the largest upper bound; evaluate it lazily, expand it.

        A node's bound before evaluation uses its parent's state; once evaluated it is
        refined with its own and pushed back if another node now looks better. The first leaf
        whose saving no open bound exceeds wins, after the ties that could still win the
        tie-break (fewer promotions, then smaller ids) have been looked at.
        """
        objective = self.base.policy.objective
        best: tuple[tuple[int, int, list[str]], _Open] | None = None
        best_saving = best_count = 0
        seq = 0
        assert root.delta is not None
        left, fees = self._room(root.delta)
        top = min(root.trie.goods, left) + min(root.trie.ship, fees)
        # Entries: (-upper bound, -lanes done, sequence, lanes done, node).
        heap: list[tuple[int, int, int, int, _Open]] = [(-top, 0, 0, 0, root)]
        while heap:
            neg, _, _, j, node = heapq.heappop(heap)
            ub = -neg
            if best is not None and ub < best_saving:
                break
            if (
                best is not None
                and ub == best_saving
                and node.count + node.trie.fewest > best_count
            ):
                continue
            state = node.delta
            if state is None:
                state = self._evaluate(node, j - 1)
                if j == self.n_lanes:
                    key = _key(objective, node.saving, self._chosen(node))
                    if best is None or key < best[0]:
                        best = (key, node)
                        best_saving, best_count = node.saving, key[1]
                    continue
                left, fees = self._room(state)
                refined = node.saving + min(node.trie.goods, left) + min(node.trie.ship, fees)
                if heap and refined < -heap[0][0]:
                    seq += 1
                    heapq.heappush(heap, (-refined, -j, seq, j, node))
                    continue
            else:
                left, fees = self._room(state)
            sums: dict[tuple[int, ...], int] = {}
            memo: list[_LaneMemo] = []  # lane j's memo for this state, once asked for
            for lane_chosen, static, s, child, rated in node.trie.edges:
                g = (
                    static
                    if rated is None
                    else self._edge_goods(j, state, lane_chosen, static, rated, sums, memo)
                )
                bound = node.saving + min(g + child.goods, left) + min(s + child.ship, fees)
                count = node.count + len(lane_chosen)
                if best is not None and (
                    bound < best_saving
                    or (bound == best_saving and count + child.fewest > best_count)
                ):
                    continue
                seq += 1
                kid = _Open(child, node, lane_chosen, count)
                heapq.heappush(heap, (-bound, -(j + 1), seq, j + 1, kid))
        # Without lanes the root is the only (empty) selection.
        return root if best is None else best[1]


def search(*, prep: Prepared, policy: StackingPolicy, candidates: Sequence[Candidate]) -> Selection:
    """Find the best valid selection by depth-first search over lanes with bound pruning.

    Returns the same selection as :func:`brute_force` (same saving and same tie-break). When
    the search has evaluated more than ``policy.max_selections`` lane subsets per lane, it
    finishes lane by lane (the best subset of each lane given the earlier lanes) and marks the
    result as not exhaustive.
    """
    run = _Search(prep, policy, candidates)
    start = initial_state(prep)
    if run.lanes and run.lanes[0].mode == "best":
        # The first lane starts from list prices: its parts are those already computed.
        memo = run._memo(0, start)
        for c in candidates:
            if c.lane == run.lanes[0].name:
                memo.parts[c.promo.id] = initial_parts(c, prep)
    trie = _TrieSearch.plan(run, candidates)
    if trie is not None:
        return _TrieSearch(run, trie).run(start)
    run.prepare_walk()
    run.visit(0, start, [])
    if run.best is None:
        # Only reachable when the greedy fallback broke maximality; apply the forced ones.
        chosen = tuple(run.forced)
        return Selection(
            chosen=chosen,
            state=_evaluate(prep, policy, chosen),
            evaluated=run.evaluated,
            exhaustive=False,
        )
    return Selection(
        chosen=run.best[1], state=run.best[2], evaluated=run.evaluated, exhaustive=run.exhaustive
    )
