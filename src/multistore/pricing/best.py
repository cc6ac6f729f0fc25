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

import itertools
from collections.abc import Iterator, Sequence

import attrs

from multistore.pricing.lanes import (
    Candidate,
    Miss,
    Part,
    Prepared,
    State,
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
    return isinstance(c.promo, Coupon)


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
    out: dict[str, set[str]] = {c.promo.id: set() for c in cands}
    for a, b in itertools.combinations(cands, 2):
        if conflicts(a, b):
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


def _upper_bounds(
    prep: Prepared, candidates: Sequence[Candidate]
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per candidate id and unit: (goods, shipping) saving on list prices.

    Savings only shrink as earlier lanes lower the prices (thresholds get harder, percentages
    apply to less, fixed prices save less), so these bound what the candidate can save later.
    """
    bounds: dict[str, dict[str, tuple[int, int]]] = {}
    for c in candidates:
        p = c.promo
        if isinstance(p, FlashSale):
            # Unlimited allowance bounds any later distribution of the quota over lines.
            price = int(p.price * prep.scale)
            bounds[p.id] = {
                f"#{i}": (max(0, prep.list_amounts[i] - price * prep.qty[i]), 0) for i in c.lines
            }
            continue
        if isinstance(p, BuyXGetY):
            bounds[p.id] = {f"#{i}": (prep.list_amounts[i], 0) for i in c.lines}
            continue
        per_key: dict[str, tuple[int, int]] = {}
        for part in initial_parts(c, prep)[0]:
            goods = part.total if part.weights else 0
            ship = sum(part.shipping.values())
            g0, s0 = per_key.get(part.key, (0, 0))
            per_key[part.key] = (g0 + goods, s0 + ship)
        if isinstance(p, Coupon | PointsRedemption) and per_key:
            # Store coupons redeem in one store; points apply once: the largest unit bounds it.
            top = max(per_key.values(), key=lambda gs: gs[0] + gs[1])
            per_key = {"*": top}
        bounds[p.id] = per_key
    return bounds


def _lane_bound(
    lane: LanePolicy,
    cands: Sequence[Candidate],
    bounds: dict[str, dict[str, tuple[int, int]]],
) -> tuple[int, int]:
    """Upper bound of what ``cands`` can save together in ``lane``."""
    if lane.mode == "best":
        top: dict[str, tuple[int, int]] = {}
        for c in cands:
            for key, (g, s) in bounds[c.promo.id].items():
                g0, s0 = top.get(key, (0, 0))
                top[key] = (max(g0, g), max(s0, s))
        return sum(g for g, _ in top.values()), sum(s for _, s in top.values())
    grouped: dict[str, tuple[int, int]] = {}
    goods = ship = 0
    for c in cands:
        g = sum(v[0] for v in bounds[c.promo.id].values())
        s = sum(v[1] for v in bounds[c.promo.id].values())
        group = c.promo.exclusive_group
        if group is None:
            goods += g
            ship += s
        else:
            g0, s0 = grouped.get(group, (0, 0))
            grouped[group] = (max(g0, g), max(s0, s))
    return goods + sum(g for g, _ in grouped.values()), ship + sum(s for _, s in grouped.values())


_Fingerprint = tuple[tuple[int, ...], tuple[tuple[str, int], ...], int | None, int]
"""What a lane's outcome depends on: line amounts, shipping, cap headroom, points left."""


class _LaneMemo:
    """Outcomes of one lane entered with one state, as deltas (new effects, misses, saving).

    A lane's result depends only on the entry state's amounts, shipping, headroom and points,
    never on the effects or misses before it, so equal entry states share one memo. In an
    ``all`` lane the promotions apply one after another in a fixed order, so the state after
    each ordered prefix is kept and subsets sharing a prefix evaluate it once.
    """

    __slots__ = ("base", "entry", "lane", "parts", "results")

    def __init__(self, lane: LanePolicy, entry: Sequence[int], base: State) -> None:
        self.lane = lane
        self.entry = entry
        self.base = base
        self.results: dict[tuple[str, ...], State] = {(): base}
        self.parts: dict[str, tuple[list[Part], list[Miss]]] = {}

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
        self.bounds = _upper_bounds(prep, candidates) if self.maximize else {}
        self.later_ids = [
            {c.promo.id for lane_c in self.choices_by_lane[j + 1 :] for c in lane_c}
            for j in range(len(self.lanes))
        ]
        self.best: tuple[tuple[int, int, list[str]], tuple[Candidate, ...], State] | None = None
        self.evaluated = 0
        # Memos (exact: each value depends only on its key).
        # Ids whose presence in a selection can change the subsets of lane j: the enemies of
        # the choices of lane j and later lanes. Memo keys keep only these.
        n_lanes = len(self.lanes)
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
        self.lane_memo: dict[tuple[int, _Fingerprint], _LaneMemo] = {}

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
            memo = self.lane_memo[(j, fp)] = _LaneMemo(lane, entry, base)
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
