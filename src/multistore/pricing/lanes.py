"""Lane evaluation: what each promotion saves on the current prices, and applying it.

Everything here works in integer minor units. A :class:`State` holds the amount left on every
line and every store's shipping fee after the lanes applied so far; :func:`apply_lane` takes a
state and the promotions chosen for one lane and returns the next state. Promotions are
evaluated on the state's current amounts; thresholds on the amounts at lane entry (or the list
amounts, when the lane's ``threshold_base`` is ``before``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

import attrs

from multistore.money import minor_per_major, to_minor
from multistore.pricing.allocation import allocate_capped
from multistore.pricing.cart import Cart, PricingContext
from multistore.pricing.conditions import flash_sale_allowance
from multistore.pricing.promotions import (
    AmountOff,
    BuyXGetY,
    Coupon,
    FixedPrice,
    FlashSale,
    GroupBuy,
    LimitedTime,
    MemberPrice,
    MemberTierDiscount,
    PercentOff,
    PointsRedemption,
    Promotion,
    QuantityPercent,
    ShippingDiscount,
    SpendEvery,
    SpendPercent,
    SpendTiers,
)
from multistore.pricing.stacking import DiscountCap, LanePolicy

__all__ = [
    "Candidate",
    "Effect",
    "Miss",
    "Part",
    "Prepared",
    "State",
    "apply_best",
    "apply_lane",
    "apply_one",
    "initial_parts",
    "prepare",
]

ITEM_TYPES = (
    PercentOff,
    AmountOff,
    FixedPrice,
    LimitedTime,
    FlashSale,
    GroupBuy,
    MemberPrice,
    MemberTierDiscount,
    BuyXGetY,
)


@attrs.frozen
class Candidate:
    """An eligible promotion with the lines it may discount.

    Attributes:
        promo: The promotion.
        lines: Indexes of eligible lines (sorted by line id).
        lane: The lane it stacks in.
        order: Sort key inside a lane: ``(priority, coupons after promotions, id)``.
        coupon_code: The code that activated a coupon.
    """

    promo: Promotion
    lines: tuple[int, ...]
    lane: str
    order: tuple[int, int, str]
    coupon_code: str | None = None


@attrs.frozen
class Prepared:
    """The cart in minor units plus the context, computed once per pricing call."""

    cart: Cart
    context: PricingContext
    scale: int
    list_amounts: tuple[int, ...]
    floors: tuple[int, ...]
    qty: tuple[int, ...]
    stores: tuple[str, ...]
    line_ids: tuple[str, ...]
    shipping: Mapping[str, int]
    headroom: int | None
    cache: dict[str, list[tuple[str, list[int]]]] = attrs.field(factory=dict, eq=False)
    initial: dict[str, tuple[list[Part], list[Miss]]] = attrs.field(factory=dict, eq=False)
    """Memo of :func:`initial_parts` by promotion id (ids are unique within one call)."""


def prepare(*, cart: Cart, context: PricingContext, cap: DiscountCap | None) -> Prepared:
    """Convert a cart into minor units and compute the cap's headroom."""
    scale = minor_per_major(cart.currency)
    list_amounts = tuple(to_minor(line.unit_price) * line.quantity for line in cart.lines)
    floors = tuple(
        to_minor(line.floor_price) * line.quantity if line.floor_price is not None else 0
        for line in cart.lines
    )
    total = sum(list_amounts)
    headroom: int | None = None
    if cap is not None:
        limits: list[int] = []
        if cap.max_percent is not None:
            limits.append(int(Fraction(total) * Fraction(cap.max_percent) / 100))
        if cap.min_payable is not None:
            limits.append(max(0, total - int(cap.min_payable * scale)))
        headroom = min(limits) if limits else None
    return Prepared(
        cart=cart,
        context=context,
        scale=scale,
        list_amounts=list_amounts,
        floors=floors,
        qty=tuple(line.quantity for line in cart.lines),
        stores=tuple(line.store_id for line in cart.lines),
        line_ids=tuple(line.line_id for line in cart.lines),
        shipping={s: to_minor(m) for s, m in sorted(cart.shipping_fees.items())},
        headroom=headroom,
    )


@attrs.frozen
class Effect:
    """One applied piece of a promotion: per-line and per-store-shipping amounts."""

    candidate: Candidate
    key: str
    lines: Mapping[int, int]
    shipping: Mapping[str, int]
    points: int = 0
    total: int = 0
    """The saving of this piece in minor units."""


@attrs.frozen
class Miss:
    """Why a chosen promotion saved nothing (or less than its next tier) on some unit.

    Attributes:
        candidate: The promotion.
        key: Store id, ``*`` (cart) or line index.
        code: ``threshold_not_met``, ``no_saving``, ``capped``, ``next_tier``, ``beaten``.
        shortfall: Minor units (or units for quantity tiers) still missing, when relevant.
        target: The threshold the shortfall refers to (minor units or units).
        unit: ``money`` or ``items``.
        beaten_by: The promotion that won the unit in a ``best`` lane.
        label: The tier missed (``满300减50``), or ``""`` for the promotion's own label.
    """

    candidate: Candidate
    key: str
    code: str
    shortfall: int = 0
    target: int = 0
    unit: str = "money"
    beaten_by: str = ""
    label: str = ""


@attrs.define
class State:
    """Amounts left after the lanes applied so far (mutable; copied per search branch)."""

    amounts: list[int]
    shipping: dict[str, int]
    headroom: int | None
    points_left: int
    effects: list[Effect]
    misses: list[Miss]
    saving: int = 0
    """Total saving so far in minor units."""

    def copy(self) -> State:
        """Return an independent copy."""
        return State(
            amounts=list(self.amounts),
            shipping=dict(self.shipping),
            headroom=self.headroom,
            points_left=self.points_left,
            effects=list(self.effects),
            misses=list(self.misses),
            saving=self.saving,
        )


def initial_state(prep: Prepared) -> State:
    """The state before any lane: list amounts and full shipping fees."""
    return State(
        amounts=list(prep.list_amounts),
        shipping=dict(prep.shipping),
        headroom=prep.headroom,
        points_left=prep.context.points_available,
        effects=[],
        misses=[],
    )


@attrs.frozen
class Part:
    """What one promotion wants to take from one unit (a line, a store or the cart)."""

    key: str
    total: int
    weights: Mapping[int, int]
    shipping: Mapping[str, int] = attrs.field(factory=dict)
    exact: bool = False


def _fmt(value: Decimal | Fraction | int) -> str:
    d = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else Decimal(value)
    )
    return format(d.normalize(), "f")


def _zhe(percent_off: Decimal) -> str:
    return f"{_fmt((Decimal(100) - percent_off) / 10)}折"


@functools.lru_cache(maxsize=4096)
def _m(value: Decimal, scale: int) -> int:
    return int(value * scale)


@functools.lru_cache(maxsize=1024)
def _ratio(percent: Decimal) -> tuple[int, int]:
    """``percent / 100`` as an exact (numerator, denominator) pair."""
    f = Fraction(percent) / 100
    return f.numerator, f.denominator


def _pct_of(amount: int, percent: Decimal, per: int = 1) -> int:
    """``amount / per * percent / 100`` in minor units, rounded half up (四舍五入), exactly.

    Same result as ``round_minor(Fraction(amount, per) * percent / 100)`` for the non-negative
    amounts used here, in integer arithmetic.
    """
    num, den = _ratio(percent)
    den *= per
    return (2 * amount * num + den) // (2 * den)


def _unit_price_saving(cur: int, qty: int, price: int, units: int | None = None) -> int:
    k = qty if units is None else units
    return max(0, (cur * k) // qty - price * k)


def _item_saving(c: Candidate, i: int, cur: int, prep: Prepared) -> int:  # noqa: PLR0911 - type dispatch
    p = c.promo
    qty = prep.qty[i]
    scale = prep.scale
    if isinstance(p, PercentOff):
        return _pct_of(cur, p.percent)
    if isinstance(p, AmountOff):
        return min(cur, _m(p.amount, scale) * qty)
    if isinstance(p, FixedPrice | GroupBuy):
        return _unit_price_saving(cur, qty, _m(p.price, scale))
    if isinstance(p, LimitedTime):
        if p.percent is not None:
            return _pct_of(cur, p.percent)
        return _unit_price_saving(cur, qty, _m(p.price or Decimal(0), scale))
    if isinstance(p, MemberPrice):
        return _unit_price_saving(cur, qty, _m(p.prices[prep.cart.lines[i].sku], scale))
    if isinstance(p, MemberTierDiscount):
        tier = prep.context.member_tier or ""
        return _pct_of(cur, p.percents[tier])
    raise AssertionError(f"not a per-line item promotion: {p.type}")  # pragma: no cover


def _item_parts(c: Candidate, amounts: Sequence[int], prep: Prepared) -> list[Part]:
    p = c.promo
    savings: dict[int, int] = {}
    if isinstance(p, FlashSale):
        allowance = flash_sale_allowance(p, prep.context)
        price = _m(p.price, prep.scale)
        for i in c.lines:
            if allowance <= 0:
                break
            k = min(prep.qty[i], allowance)
            s = _unit_price_saving(amounts[i], prep.qty[i], price, k)
            if s > 0:
                savings[i] = s
                allowance -= k
    elif isinstance(p, BuyXGetY):
        total_units = sum(prep.qty[i] for i in c.lines)
        free = (total_units // (p.buy + p.get)) * p.get
        sign = 1 if p.discounted_units == "cheapest" else -1
        order = sorted(
            c.lines, key=lambda i: (sign * Fraction(amounts[i], prep.qty[i]), prep.line_ids[i])
        )
        for i in order:
            if free <= 0:
                break
            k = min(prep.qty[i], free)
            free -= k
            savings[i] = _pct_of(amounts[i] * k, p.percent, prep.qty[i])
    else:
        for i in c.lines:
            savings[i] = _item_saving(c, i, amounts[i], prep)
    return [
        Part(key=f"#{i}", total=s, weights={i: s}, exact=True) for i, s in savings.items() if s > 0
    ]


def _groups(c: Candidate, prep: Prepared, level: str) -> list[tuple[str, list[int]]]:
    if level == "platform":
        return [("*", list(c.lines))]
    cached = prep.cache.get(c.promo.id)
    if cached is None:
        by_store: dict[str, list[int]] = {}
        for i in c.lines:
            by_store.setdefault(prep.stores[i], []).append(i)
        cached = sorted(by_store.items())
        prep.cache[c.promo.id] = cached
    return cached


def _tier(thresholds: Sequence[int], measure: int) -> tuple[int | None, int | None]:
    """Index of the highest tier reached and of the next one (``None`` when there is none)."""
    reached: int | None = None
    for n, t in enumerate(thresholds):
        if t <= measure:
            reached = n
        else:
            return reached, n
    return reached, None


def _tier_miss(
    c: Candidate,
    key: str,
    *,
    reached: int | None,
    target: int,
    measure: int,
    label: str,
    unit: str = "money",
) -> Miss:
    code = "next_tier" if reached is not None else "threshold_not_met"
    return Miss(c, key, code, shortfall=target - measure, target=target, unit=unit, label=label)


def _spend_tiers(
    c: Candidate, p: SpendTiers, key: str, base: int, scale: int
) -> tuple[int, Miss | None]:
    marks = [_m(t.threshold, scale) for t in p.tiers]
    reached, nxt = _tier(marks, base)
    total = 0 if reached is None else _m(p.tiers[reached].amount, scale)
    miss = None
    if nxt is not None:
        t = p.tiers[nxt]
        label = f"满{_fmt(t.threshold)}减{_fmt(t.amount)}"
        miss = _tier_miss(c, key, reached=reached, target=marks[nxt], measure=base, label=label)
    return total, miss


def _spend_every(
    c: Candidate, p: SpendEvery, key: str, base: int, scale: int
) -> tuple[int, Miss | None]:
    step = _m(p.every, scale)
    times = base // step
    total = times * _m(p.amount, scale)
    if p.cap is not None and total >= _m(p.cap, scale):
        return _m(p.cap, scale), None
    label = "" if times else f"每满{_fmt(p.every)}减{_fmt(p.amount)}"
    return total, _tier_miss(
        c, key, reached=times or None, target=(times + 1) * step, measure=base, label=label
    )


def _spend_percent(
    c: Candidate, p: SpendPercent, key: str, *, base: int, cur: int, scale: int
) -> tuple[int, Miss | None]:
    marks = [_m(t.threshold, scale) for t in p.tiers]
    reached, nxt = _tier(marks, base)
    total = 0 if reached is None else _pct_of(cur, p.tiers[reached].percent)
    miss = None
    if nxt is not None:
        t = p.tiers[nxt]
        label = f"满{_fmt(t.threshold)}打{_zhe(t.percent)}"
        miss = _tier_miss(c, key, reached=reached, target=marks[nxt], measure=base, label=label)
    return total, miss


def _quantity_percent(
    c: Candidate, p: QuantityPercent, key: str, *, units: int, cur: int
) -> tuple[int, Miss | None]:
    marks = [t.min_quantity for t in p.tiers]
    reached, nxt = _tier(marks, units)
    total = 0 if reached is None else _pct_of(cur, p.tiers[reached].percent)
    miss = None
    if nxt is not None:
        t = p.tiers[nxt]
        label = f"满{t.min_quantity}件{_zhe(t.percent)}"
        miss = _tier_miss(
            c, key, reached=reached, target=marks[nxt], measure=units, label=label, unit="items"
        )
    return total, miss


def _coupon(
    c: Candidate, p: Coupon, key: str, *, base: int, cur: int, scale: int
) -> tuple[int, Miss | None]:
    need = _m(p.min_spend, scale)
    if base < need:
        return 0, Miss(c, key, "threshold_not_met", shortfall=need - base, target=need)
    if p.amount is not None:
        return _m(p.amount, scale), None
    total = _pct_of(cur, p.percent or Decimal(0))
    if p.max_off is not None:
        total = min(total, _m(p.max_off, scale))
    return total, None


def _order_total(
    c: Candidate, key: str, idx: Sequence[int], *, base: int, cur: int, prep: Prepared
) -> tuple[int, Miss | None]:
    p = c.promo
    scale = prep.scale
    if isinstance(p, SpendTiers):
        return _spend_tiers(c, p, key, base=base, scale=scale)
    if isinstance(p, SpendEvery):
        return _spend_every(c, p, key, base=base, scale=scale)
    if isinstance(p, SpendPercent):
        return _spend_percent(c, p, key, base=base, cur=cur, scale=scale)
    if isinstance(p, QuantityPercent):
        return _quantity_percent(c, p, key, units=sum(prep.qty[i] for i in idx), cur=cur)
    if isinstance(p, Coupon):
        return _coupon(c, p, key, base=base, cur=cur, scale=scale)
    raise AssertionError(f"not an order-level promotion: {p.type}")  # pragma: no cover


def _order_parts(
    c: Candidate,
    amounts: Sequence[int],
    base_amounts: Sequence[int],
    prep: Prepared,
    misses: list[Miss],
) -> list[Part]:
    parts: list[Part] = []
    level = getattr(c.promo, "level", "store")
    for key, idx in _groups(c, prep, level):
        now = list(map(amounts.__getitem__, idx))
        base = sum(now) if base_amounts is amounts else sum(map(base_amounts.__getitem__, idx))
        cur = sum(now)
        total, miss = _order_total(c, key, idx, base=base, cur=cur, prep=prep)
        if miss is not None:
            misses.append(miss)
        if total > 0:
            parts.append(
                Part(key=key, total=min(total, cur), weights=dict(zip(idx, now, strict=True)))
            )
    if isinstance(c.promo, Coupon) and len(parts) > 1:
        # One redemption per order: a store-level coupon goes to the store it saves most in
        # (ties: the smallest store id).
        top = max(part.total for part in parts)
        parts = [min((part for part in parts if part.total == top), key=lambda part: part.key)]
    return parts


def _points_parts(c: Candidate, amounts: Sequence[int], prep: Prepared, state: State) -> list[Part]:
    p = c.promo
    assert isinstance(p, PointsRedemption)
    now = list(map(amounts.__getitem__, c.lines))
    cur = sum(now)
    by_points = state.points_left * prep.scale // p.points_per_unit
    num, den = _ratio(p.max_percent)
    by_share = cur * num // den  # int(Fraction(cur) * max_percent / 100) for cur >= 0
    total = min(by_points, by_share)
    if total <= 0:
        return []
    return [Part(key="*", total=total, weights=dict(zip(c.lines, now, strict=True)))]


def _shipping_parts(
    c: Candidate, base_amounts: Sequence[int], prep: Prepared, state: State, misses: list[Miss]
) -> list[Part]:
    p = c.promo
    assert isinstance(p, ShippingDiscount)
    need = _m(p.min_spend, prep.scale)
    parts: list[Part] = []
    for key, idx in _groups(c, prep, p.level):
        stores = sorted({prep.stores[i] for i in idx})
        fees = {s: state.shipping.get(s, 0) for s in stores if state.shipping.get(s, 0) > 0}
        if not fees:
            continue
        base = sum(base_amounts[i] for i in idx)
        if base < need:
            misses.append(Miss(c, key, "threshold_not_met", shortfall=need - base, target=need))
            continue
        fee_total = sum(fees.values())
        off = fee_total if p.amount is None else min(fee_total, _m(p.amount, prep.scale))
        names = list(fees)
        split = allocate_capped(
            total=off, weights=[fees[s] for s in names], caps=[fees[s] for s in names]
        )
        parts.append(
            Part(key=key, total=off, weights={}, shipping=dict(zip(names, split, strict=True)))
        )
    return parts


def parts_of(
    c: Candidate, state: State, entry: Sequence[int], prep: Prepared, misses: list[Miss]
) -> list[Part]:
    """Return what ``c`` would save on ``state`` (thresholds checked on ``entry`` amounts)."""
    p = c.promo
    if isinstance(p, ITEM_TYPES):
        return _item_parts(c, state.amounts, prep)
    if isinstance(p, PointsRedemption):
        return _points_parts(c, state.amounts, prep, state)
    if isinstance(p, ShippingDiscount):
        return _shipping_parts(c, entry, prep, state, misses)
    return _order_parts(c, state.amounts, entry, prep, misses)


def initial_parts(c: Candidate, prep: Prepared) -> tuple[list[Part], list[Miss]]:
    """What ``c`` would save on list prices, with its misses (memoised; do not mutate).

    The same as :func:`parts_of` on :func:`initial_state` with the list amounts as entry.
    """
    got = prep.initial.get(c.promo.id)
    if got is None:
        misses: list[Miss] = []
        got = (parts_of(c, initial_state(prep), prep.list_amounts, prep, misses), misses)
        prep.initial[c.promo.id] = got
    return got


def _take_shipping(part: Part, state: State) -> dict[str, int]:
    shipping: dict[str, int] = {}
    for store, amount in part.shipping.items():
        take = min(amount, state.shipping.get(store, 0))
        if take:
            shipping[store] = take
            state.shipping[store] -= take
    return shipping


def apply_part(c: Candidate, part: Part, state: State, prep: Prepared) -> Effect | None:
    """Apply ``part`` to ``state`` (capped by line floors and the policy cap); return the effect."""
    lines: dict[int, int] = {}
    if part.exact and len(part.weights) == 1:
        (i,) = part.weights
        take = min(part.total, state.amounts[i] - prep.floors[i])
        if state.headroom is not None:
            take = min(take, state.headroom)
        if take > 0:
            if state.headroom is not None:
                state.headroom -= take
            lines[i] = take
            state.amounts[i] -= take
    elif part.weights:
        idx = list(part.weights)  # built in line-id order by every producer
        weights = list(part.weights.values())
        amounts = state.amounts
        floors = prep.floors
        caps = [max(0, amounts[i] - floors[i]) for i in idx]
        total = part.total
        if state.headroom is not None:
            total = min(total, state.headroom)
        if part.exact:
            caps = [min(cap, w) for cap, w in zip(caps, weights, strict=True)]
        split = allocate_capped(total=total, weights=weights, caps=caps)
        for i, amount in zip(idx, split, strict=True):
            if amount:
                lines[i] = amount
                amounts[i] -= amount
        if state.headroom is not None:
            state.headroom -= sum(split)
    shipping = _take_shipping(part, state)
    points = 0
    if isinstance(c.promo, PointsRedemption) and lines:
        value = sum(lines.values())
        points = -((-value * c.promo.points_per_unit) // prep.scale)
        state.points_left -= points
    if not lines and not shipping:
        return None
    total = sum(lines.values()) + sum(shipping.values())
    effect = Effect(
        candidate=c, key=part.key, lines=lines, shipping=shipping, points=points, total=total
    )
    state.effects.append(effect)
    state.saving += total
    return effect


def apply_lane(
    *,
    state: State,
    lane: LanePolicy,
    chosen: Sequence[Candidate],
    prep: Prepared,
    cache: dict[str, tuple[list[Part], list[Miss]]] | None = None,
) -> State:
    """Apply the promotions ``chosen`` for ``lane`` to a copy of ``state`` and return it.

    ``cache`` (for ``best`` lanes) memoises each candidate's parts on this lane-entry state,
    so a search trying several subsets of one lane from the same state computes them once.
    """
    new = state.copy()
    entry = prep.list_amounts if lane.threshold_base == "before" else state.amounts
    ordered = sorted(chosen, key=lambda c: c.order)
    if lane.mode == "all":
        for c in ordered:
            apply_one(new, c, entry, prep)
        return new
    apply_best(new, entry, ordered, prep, cache)
    return new


def apply_one(state: State, c: Candidate, entry: Sequence[int], prep: Prepared) -> None:
    """Apply one promotion of an ``all`` lane to ``state`` in place (thresholds on ``entry``)."""
    misses: list[Miss] = []
    parts = parts_of(c, state, entry, prep, misses)
    state.misses.extend(misses)
    for part in parts:
        if apply_part(c, part, state, prep) is None:
            state.misses.append(Miss(c, part.key, "capped"))
    if not parts and not misses:
        state.misses.append(Miss(c, "*", "no_saving"))


def apply_best(
    new: State,
    entry: Sequence[int],
    ordered: Sequence[Candidate],
    prep: Prepared,
    cache: dict[str, tuple[list[Part], list[Miss]]] | None,
) -> None:
    """Best mode: compute every candidate on the lane-entry state, keep the best per unit."""
    winners: dict[str, tuple[int, Candidate, Part]] = {}
    offered: list[tuple[Candidate, list[Part]]] = []
    for c in ordered:
        got = cache.get(c.promo.id) if cache is not None else None
        if got is None:
            misses: list[Miss] = []
            got = (parts_of(c, new, entry, prep, misses), misses)
            if cache is not None:
                cache[c.promo.id] = got
        parts, misses = got
        new.misses.extend(misses)
        if not parts and not misses:
            new.misses.append(Miss(c, "*", "no_saving"))
        offered.append((c, parts))
        for part in parts:
            best = winners.get(part.key)
            if best is None or part.total > best[0]:
                winners[part.key] = (part.total, c, part)
    _apply_winners(new, offered, winners, prep)


def _apply_winners(
    new: State,
    offered: Sequence[tuple[Candidate, list[Part]]],
    winners: Mapping[str, tuple[int, Candidate, Part]],
    prep: Prepared,
) -> None:
    won: dict[str, list[Part]] = {}
    for _, c, part in winners.values():
        won.setdefault(c.promo.id, []).append(part)
    for c, parts in offered:
        if parts and c.promo.id not in won:
            top = max(parts, key=lambda part: part.total)
            beaten_by = winners[top.key][1].promo.id
            new.misses.append(Miss(c, top.key, "beaten", beaten_by=beaten_by))
    for c, _ in offered:
        mine = won.get(c.promo.id)
        if not mine:
            continue
        mine.sort(key=lambda part: part.key)
        if all(part.exact and len(part.weights) == 1 for part in mine):
            if not _apply_exact_lines(c, mine, new, prep):
                new.misses.append(Miss(c, mine[0].key, "capped"))
            continue
        for part in mine:
            if apply_part(c, part, new, prep) is None:
                new.misses.append(Miss(c, part.key, "capped"))


def _apply_exact_lines(c: Candidate, parts: Sequence[Part], state: State, prep: Prepared) -> bool:
    """Apply per-line item savings as one effect (key ``#``); return whether any landed."""
    lines: dict[int, int] = {}
    for part in parts:
        (i,) = part.weights
        take = min(part.total, state.amounts[i] - prep.floors[i])
        if state.headroom is not None:
            take = min(take, state.headroom)
        if take > 0:
            if state.headroom is not None:
                state.headroom -= take
            lines[i] = take
            state.amounts[i] -= take
    if not lines:
        return False
    total = sum(lines.values())
    state.effects.append(Effect(candidate=c, key="#", lines=lines, shipping={}, total=total))
    state.saving += total
    return True
