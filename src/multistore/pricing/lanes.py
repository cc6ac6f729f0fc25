"""Lane evaluation: what each promotion saves on the current prices, and applying it.

Everything here works in integer minor units. A :class:`State` holds the amount left on every
line and every store's shipping fee after the lanes applied so far; :func:`apply_lane` takes a
state and the promotions chosen for one lane and returns the next state. Promotions are
evaluated on the state's current amounts; thresholds on the amounts at lane entry (or the list
amounts, when the lane's ``threshold_base`` is ``before``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, NamedTuple

import attrs

from multistore.money import apportion, minor_per_major
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
ITEM_TYPE_NAMES = frozenset(t.model_fields["type"].default for t in ITEM_TYPES)
"""The ``type`` tags of :data:`ITEM_TYPES` (per-line item promotions)."""


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
    floored: bool = False
    """Whether any line has a floor above zero."""
    line_keys: tuple[str, ...] = ()
    """The unit key of each line's item savings (``#<index>``)."""
    line_tuples: tuple[tuple[int], ...] = ()
    """``(i,)`` for each line index ``i`` (the lines of its item savings)."""
    cache: dict[tuple[bool, tuple[int, ...]], list[tuple[str, list[int]]]] = attrs.field(
        factory=dict, eq=False
    )
    """The units of order-level promotions by (platform level, eligible lines)."""
    store_cache: dict[tuple[bool, tuple[int, ...]], list[tuple[str, list[int], list[str]]]] = (
        attrs.field(factory=dict, eq=False)
    )
    """The units of a shipping promotion with their lines and stores, keyed like ``cache``."""
    minor: dict[str, tuple[list[int], list[int]]] = attrs.field(factory=dict, eq=False)
    """Promotion amounts in minor units by promotion id (see :func:`_minor`)."""
    initial: dict[str, tuple[list[Part], list[Miss]]] = attrs.field(factory=dict, eq=False)
    """Memo of :func:`initial_parts` by promotion id (ids are unique within one call)."""
    list_state: list[State] = attrs.field(factory=list, eq=False)
    """The read-only state :func:`initial_parts` evaluates on, built once (empty until then)."""
    flash_plans: dict[tuple[Any, ...], dict[int, dict[int, int]]] = attrs.field(
        factory=dict, eq=False
    )
    """Memo of :func:`_flash_plan` by its flash sales, their lines' amounts and rivals."""
    sums: dict[int, tuple[tuple[int, ...], dict[int, tuple[Sequence[int], list[int], int]]]] = (
        attrs.field(factory=dict, eq=False)
    )
    """Memo of :func:`_amounts_of` on immutable amounts: ``id(amounts) -> (amounts, id(lines)
    -> (lines, their amounts, their sum))``; holding the keyed objects keeps their ids unique."""


def prepare(*, cart: Cart, context: PricingContext, cap: DiscountCap | None) -> Prepared:
    """Convert a cart into minor units and compute the cap's headroom."""
    scale = minor_per_major(cart.currency)
    # ``to_minor`` without its per-call checks: a Cart holds Money of one currency only.
    places = len(str(scale)) - 1
    lines = cart.lines
    list_amounts = tuple(
        [int(line.unit_price.amount.scaleb(places)) * line.quantity for line in lines]
    )
    # A floor above the list amount is the list amount: such a line has no room to discount
    # (and no negative room to take from the others' in the search's bounds).
    floors = tuple(
        [
            min(int(line.floor_price.amount.scaleb(places)) * line.quantity, amount)
            if line.floor_price is not None
            else 0
            for line, amount in zip(lines, list_amounts, strict=True)
        ]
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
        shipping={s: int(m.amount.scaleb(places)) for s, m in sorted(cart.shipping_fees.items())},
        headroom=headroom,
        floored=any(floors),
        line_keys=tuple(f"#{i}" for i in range(len(cart.lines))),
        line_tuples=tuple((i,) for i in range(len(cart.lines))),
    )


class Effect(NamedTuple):
    """One applied piece of a promotion: per-line and per-store-shipping amounts.

    Attributes:
        candidate: The promotion.
        key: The unit it applied to (``#<line index>``, ``#`` for item lines, store, ``*``).
        lines: Minor units taken from each line, by line index.
        shipping: Minor units taken from each store's shipping fee.
        points: Points spent, for points redemption.
        total: The saving of this piece in minor units.
    """

    candidate: Candidate
    key: str
    lines: Mapping[int, int]
    shipping: Mapping[str, int]
    points: int = 0
    total: int = 0


class Miss(NamedTuple):
    """Why a chosen promotion saved nothing (or less than its next tier) on some unit.

    Attributes:
        candidate: The promotion.
        key: Store id, ``*`` (cart) or line index.
        code: ``threshold_not_met``, ``no_saving``, ``capped``, ``next_tier``, ``beaten``.
        shortfall: Minor units (or units for quantity tiers) still missing, when relevant.
        target: The threshold the shortfall refers to (minor units or units).
        unit: ``money`` or ``items``.
        beaten_by: The promotion that won the unit in a ``best`` lane.
        tier: What names the tier missed: a label function and its arguments, formatted only
            when :attr:`label` is read (most misses of the search are never shown).
    """

    candidate: Candidate
    key: str
    code: str
    shortfall: int = 0
    target: int = 0
    unit: str = "money"
    beaten_by: str = ""
    tier: tuple[Callable[[Any, Any], str], Any, Any] | None = None

    @property
    def label(self) -> str:
        """The tier missed (``满300减50``), or ``""`` for the promotion's own label."""
        if self.tier is None:
            return ""
        fmt, a, b = self.tier
        return fmt(a, b)


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


_NO_SHIPPING: Mapping[str, int] = MappingProxyType({})


class Part(NamedTuple):
    """What one promotion wants to take from one unit (a line, a store or the cart).

    Attributes:
        key: The unit: ``#<line index>``, a store id or ``*``.
        total: Minor units it wants to take.
        lines: Indexes of the lines it is spread over (in line-id order).
        weights: The weight of each of ``lines`` (their amounts when it was computed); empty
            for an exact part, which takes its total from its one line.
        shipping: Minor units it takes from each store's shipping fee.
        exact: A per-line item saving (one line, at most its weight).
    """

    key: str
    total: int
    lines: Sequence[int] = ()
    weights: Sequence[int] = ()
    shipping: Mapping[str, int] = _NO_SHIPPING
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


def _m(value: Decimal, scale: int) -> int:
    return int(value * scale)


@functools.lru_cache(maxsize=1024)
def _ratio(percent: Decimal) -> tuple[int, int]:
    """``percent / 100`` as an exact (numerator, denominator) pair."""
    num, den = percent.as_integer_ratio()  # exact, like Fraction(percent)
    return num, den * 100


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


def _line_savings(c: Candidate, amounts: Sequence[int], prep: Prepared) -> dict[int, int]:
    """The saving of each eligible line of a per-line item promotion, type dispatched once."""
    p = c.promo
    qty = prep.qty
    scale = prep.scale
    percent: Decimal | None = None
    # Dispatch on the ``type`` tag (isinstance on pydantic models is slow when it fails).
    if p.type == "percent_off":
        percent = p.percent
    elif p.type == "member_tier_discount":
        percent = p.percents[prep.context.member_tier or ""]
    elif p.type == "limited_time" and p.percent is not None:
        percent = p.percent
    if percent is not None:
        num, den = _ratio(percent)
        num2, den2 = 2 * num, 2 * den
        return {i: (num2 * amounts[i] + den) // den2 for i in c.lines}
    if p.type == "amount_off":
        off = _m(p.amount, scale)
        return {i: min(amounts[i], off * qty[i]) for i in c.lines}
    if p.type in {"fixed_price", "group_buy", "limited_time"}:
        price = _m(p.price or Decimal(0), scale)
        return {i: max(0, amounts[i] - price * qty[i]) for i in c.lines}
    if p.type == "member_price":
        lines = prep.cart.lines
        return {
            i: _unit_price_saving(amounts[i], qty[i], _m(p.prices[lines[i].sku], scale))
            for i in c.lines
        }
    raise AssertionError(f"not a per-line item promotion: {p.type}")  # pragma: no cover


def _bxgy_savings(c: Candidate, amounts: Sequence[int], prep: Prepared) -> dict[int, int]:
    """The saving of buy-x-get-y on each line it discounts units of, by line index.

    In every ``buy + get`` units bought, ``get`` are discounted: the cheapest (or the most
    expensive) units that can take the discount, i.e. on lines with room above their floor.
    First each line, by unit price, takes as many units as its room takes in full; among
    equal unit prices the line with more room goes first, then the one with more units, then
    by sku, store, category and brand, and by id only between lines alike in all of these
    (which every rival offer treats alike). Units still left go one per line to the lines
    that can take part of a unit's discount, by unit price, then by what that part is worth.
    So the total never depends on the order or the naming of the lines.
    """
    p = c.promo
    assert isinstance(p, BuyXGetY)
    qty, floors = prep.qty, prep.floors
    free = (sum(qty[i] for i in c.lines) // (p.buy + p.get)) * p.get
    room = {i: amounts[i] - floors[i] for i in c.lines}
    sign = 1 if p.discounted_units == "cheapest" else -1
    # Unit prices amounts[i] / qty[i], compared exactly as integers over a common multiple.
    common = math.lcm(*(qty[i] for i in c.lines))
    price = {i: sign * amounts[i] * (common // qty[i]) for i in c.lines}

    def rank(i: int) -> tuple[Any, ...]:
        # equal price, room, quantity and list amount leave _content's amounts and floors
        # equal too, so the order among such lines is sku, store, category, brand, id
        return (price[i], -room[i], -qty[i], -prep.list_amounts[i], _content(prep, amounts, i))

    order = sorted((i for i in c.lines if room[i] > 0), key=rank)
    taken: dict[int, int] = {}
    for i in order:
        if free <= 0:
            break
        k = _bxgy_fit(amounts[i], qty[i], p.percent, room[i], min(qty[i], free))
        if k:
            taken[i] = k
            free -= k
    savings = {i: _pct_of(amounts[i] * k, p.percent, qty[i]) for i, k in taken.items()}
    if free > 0 and prep.floored:
        partial = []
        for i in order:
            k = taken.get(i, 0)
            have = savings.get(i, 0)
            if k < qty[i] and have < room[i]:
                gain = min(_pct_of(amounts[i] * (k + 1), p.percent, qty[i]), room[i]) - have
                partial.append((price[i], -gain, rank(i), i))
        for _, _, _, i in sorted(partial)[:free]:
            savings[i] = _pct_of(amounts[i] * (taken.get(i, 0) + 1), p.percent, qty[i])
    return savings


def _bxgy_fit(amount: int, qty: int, percent: Decimal, room: int, most: int) -> int:
    """The most units, up to ``most``, whose discount fits in full in ``room``."""
    if _pct_of(amount * most, percent, qty) <= room:
        return most
    lo, hi = 0, most  # fits(lo), not fits(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _pct_of(amount * mid, percent, qty) <= room:
            lo = mid
        else:
            hi = mid
    return lo


def _item_parts(c: Candidate, amounts: Sequence[int], prep: Prepared) -> list[Part]:
    p = c.promo
    savings: dict[int, int] = {}
    if p.type == "flash_sale":
        savings = _flash_savings(c, amounts, prep)
    elif p.type == "buy_x_get_y":
        savings = _bxgy_savings(c, amounts, prep)
    else:
        savings = _line_savings(c, amounts, prep)
    keys, ones = prep.line_keys, prep.line_tuples
    new = tuple.__new__  # Part(...) without the keyword-handling constructor, many per cart
    return [
        new(Part, (keys[i], s, ones[i], (), _NO_SHIPPING, True))
        for i, s in savings.items()
        if s > 0
    ]


def _groups(c: Candidate, prep: Prepared, level: str) -> list[tuple[str, list[int]]]:
    """The units of an order-level promotion: ``*`` (platform) or each store, with its lines."""
    key = (level == "platform", c.lines)  # promotions over the same lines share their units
    cached = prep.cache.get(key)
    if cached is None:
        if level == "platform":
            cached = [("*", list(c.lines))]
        else:
            by_store: dict[str, list[int]] = {}
            for i in c.lines:
                by_store.setdefault(prep.stores[i], []).append(i)
            cached = sorted(by_store.items())
        prep.cache[key] = cached
    return cached


def _amounts_of(
    prep: Prepared, amounts: Sequence[int], idx: Sequence[int]
) -> tuple[list[int], int]:
    """The amounts of the lines ``idx`` (from :func:`_groups` or a candidate) and their sum.

    Memoised when ``amounts`` is a tuple (list prices, a lane's entry amounts): the promotions
    of a lane share their units, so they read the same sums. Do not mutate the list.
    """
    if type(amounts) is not tuple:
        now = list(map(amounts.__getitem__, idx))
        return now, sum(now)
    memo = prep.sums.get(id(amounts))
    if memo is None or memo[0] is not amounts:
        memo = prep.sums[id(amounts)] = (amounts, {})
    got = memo[1].get(id(idx))
    if got is None or got[0] is not idx:
        now = list(map(amounts.__getitem__, idx))
        got = memo[1][id(idx)] = (idx, now, sum(now))
    return got[1], got[2]


def _tier(thresholds: Sequence[int], measure: int) -> tuple[int | None, int | None]:
    """Index of the highest tier reached and of the next one (``None`` when there is none)."""
    reached: int | None = None
    for n, t in enumerate(thresholds):
        if t <= measure:
            reached = n
        else:
            return reached, n
    return reached, None


@functools.lru_cache(maxsize=4096)
def _spend_label(threshold: Decimal, amount: Decimal) -> str:
    return f"满{_fmt(threshold)}减{_fmt(amount)}"


@functools.lru_cache(maxsize=4096)
def _every_label(every: Decimal, amount: Decimal) -> str:
    return f"每满{_fmt(every)}减{_fmt(amount)}"


@functools.lru_cache(maxsize=4096)
def _spend_percent_label(threshold: Decimal, percent: Decimal) -> str:
    return f"满{_fmt(threshold)}打{_zhe(percent)}"


@functools.lru_cache(maxsize=4096)
def _quantity_label(min_quantity: int, percent: Decimal) -> str:
    return f"满{min_quantity}件{_zhe(percent)}"


def _tier_miss(
    c: Candidate,
    key: str,
    *,
    reached: int | None,
    target: int,
    measure: int,
    tier: tuple[Callable[[Any, Any], str], Any, Any] | None,
    unit: str = "money",
) -> Miss:
    code = "next_tier" if reached is not None else "threshold_not_met"
    return Miss(c, key, code, target - measure, target, unit, "", tier)


def _minor(p: Promotion, prep: Prepared) -> tuple[list[int], list[int]]:
    """A promotion's amounts in minor units, converted once per pricing call.

    Tier promotions: (thresholds, amounts off or ``[]``); others: ``([], values)`` with the
    values their evaluator reads, ``-1`` standing for an absent optional amount.
    """
    got = prep.minor.get(p.id)
    if got is not None:
        return got
    scale = prep.scale

    def m(value: Decimal | None) -> int:
        return -1 if value is None else int(value * scale)

    if p.type == "spend_tiers":
        got = ([m(t.threshold) for t in p.tiers], [m(t.amount) for t in p.tiers])
    elif p.type == "spend_percent":
        got = ([m(t.threshold) for t in p.tiers], [])
    elif p.type == "spend_every":
        got = ([], [m(p.every), m(p.amount), m(p.cap)])
    elif p.type == "coupon":
        got = ([], [m(p.min_spend), m(p.amount), m(p.max_off)])
    elif p.type == "shipping":
        got = ([], [m(p.min_spend), m(p.amount)])
    else:  # pragma: no cover - only the types above ask
        got = ([], [])
    prep.minor[p.id] = got
    return got


def _spend_tiers(
    c: Candidate, p: SpendTiers, key: str, base: int, prep: Prepared
) -> tuple[int, Miss | None]:
    marks, offs = _minor(p, prep)
    reached, nxt = _tier(marks, base)
    total = 0 if reached is None else offs[reached]
    miss = None
    if nxt is not None:
        t = p.tiers[nxt]
        tier = (_spend_label, t.threshold, t.amount)
        miss = _tier_miss(c, key, reached=reached, target=marks[nxt], measure=base, tier=tier)
    return total, miss


def _spend_every(
    c: Candidate, p: SpendEvery, key: str, base: int, prep: Prepared
) -> tuple[int, Miss | None]:
    step, off, cap = _minor(p, prep)[1]
    times = base // step
    total = times * off
    if cap >= 0 and total >= cap:
        return cap, None
    tier = None if times else (_every_label, p.every, p.amount)
    return total, _tier_miss(
        c, key, reached=times or None, target=(times + 1) * step, measure=base, tier=tier
    )


def _spend_percent(
    c: Candidate, p: SpendPercent, key: str, *, base: int, cur: int, prep: Prepared
) -> tuple[int, Miss | None]:
    marks = _minor(p, prep)[0]
    reached, nxt = _tier(marks, base)
    total = 0 if reached is None else _pct_of(cur, p.tiers[reached].percent)
    miss = None
    if nxt is not None:
        t = p.tiers[nxt]
        tier = (_spend_percent_label, t.threshold, t.percent)
        miss = _tier_miss(c, key, reached=reached, target=marks[nxt], measure=base, tier=tier)
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
        tier = (_quantity_label, t.min_quantity, t.percent)
        miss = _tier_miss(
            c, key, reached=reached, target=marks[nxt], measure=units, tier=tier, unit="items"
        )
    return total, miss


def _coupon(
    c: Candidate, p: Coupon, key: str, *, base: int, cur: int, prep: Prepared
) -> tuple[int, Miss | None]:
    need, off, max_off = _minor(p, prep)[1]
    if base < need:
        return 0, Miss(c, key, "threshold_not_met", shortfall=need - base, target=need)
    if off >= 0:
        return off, None
    total = _pct_of(cur, p.percent or Decimal(0))
    if max_off >= 0:
        total = min(total, max_off)
    return total, None


def _order_total(
    c: Candidate, key: str, idx: Sequence[int], *, base: int, cur: int, prep: Prepared
) -> tuple[int, Miss | None]:
    p = c.promo
    if p.type == "spend_tiers":
        return _spend_tiers(c, p, key, base=base, prep=prep)
    if p.type == "coupon":
        return _coupon(c, p, key, base=base, cur=cur, prep=prep)
    if p.type == "spend_every":
        return _spend_every(c, p, key, base=base, prep=prep)
    if p.type == "spend_percent":
        return _spend_percent(c, p, key, base=base, cur=cur, prep=prep)
    if p.type == "quantity_percent":
        return _quantity_percent(c, p, key, units=sum(prep.qty[i] for i in idx), cur=cur)
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
    room = prep.floored and c.promo.type == "coupon" and level == "store"
    for key, idx in _groups(c, prep, level):
        now, cur = _amounts_of(prep, amounts, idx)
        base = cur if base_amounts is amounts else _amounts_of(prep, base_amounts, idx)[1]
        total, miss = _order_total(c, key, idx, base=base, cur=cur, prep=prep)
        if miss is not None:
            misses.append(miss)
        if total > 0 and room:
            # A store coupon is placed by what it saves: at most the store's room above its
            # line floors (it is redeemed once, in the store chosen when it is applied).
            total = min(total, _room(prep, amounts, idx))
        if total > 0:
            parts.append(Part(key, min(total, cur), idx, now))
    # A store-level coupon keeps one part per store: it is redeemed once, in the store chosen
    # when it is applied (see ``_coupon_store``).
    return parts


def _room(prep: Prepared, amounts: Sequence[int], idx: Sequence[int]) -> int:
    """What the lines ``idx`` can still be discounted: their amounts above their floors."""
    floors = prep.floors
    return sum(max(0, amounts[i] - floors[i]) for i in idx)


def _points_parts(c: Candidate, amounts: Sequence[int], prep: Prepared, state: State) -> list[Part]:
    p = c.promo
    assert isinstance(p, PointsRedemption)
    now, cur = _amounts_of(prep, amounts, c.lines)
    num, den = _ratio(p.max_percent)
    by_share = cur * num // den  # int(Fraction(cur) * max_percent / 100) for cur >= 0
    total = points_fit(by_share, state.points_left, p.points_per_unit, prep.scale)[1]
    if total <= 0:
        return []
    return [Part("*", total, c.lines, now)]


def points_fit(allowed: int, points_left: int, points_per_unit: int, scale: int) -> tuple[int, int]:
    """The points to redeem for at most ``allowed`` minor units, and the saving they give.

    ``n`` points are worth ``n * scale / points_per_unit`` minor units, floored to the minor
    unit. The saving is the largest such value that fits ``allowed`` with at most
    ``points_left`` points; the points charged are the fewest worth that saving. So a
    redemption never charges a point whose value is not given (1 point = 1 yuan on a 3.50
    yuan order redeems 3 points for 3.00 yuan, not 4 points for 3.50).
    """
    most = min(points_left, ((allowed + 1) * points_per_unit - 1) // scale)
    if most <= 0:
        return 0, 0
    value = most * scale // points_per_unit
    return -((-value * points_per_unit) // scale), value


def _shipping_parts(
    c: Candidate, base_amounts: Sequence[int], prep: Prepared, state: State, misses: list[Miss]
) -> list[Part]:
    p = c.promo
    assert isinstance(p, ShippingDiscount)
    need, off_max = _minor(p, prep)[1]
    parts: list[Part] = []
    units = (p.level == "platform", c.lines)
    stores_of = prep.store_cache.get(units)
    if stores_of is None:
        stores_of = prep.store_cache[units] = [
            (key, idx, sorted({prep.stores[i] for i in idx}))
            for key, idx in _groups(c, prep, p.level)
        ]
    shipping = state.shipping
    for key, idx, stores in stores_of:
        fees = {s: fee for s in stores if (fee := shipping.get(s, 0)) > 0}
        if not fees:
            continue
        base = _amounts_of(prep, base_amounts, idx)[1]
        if base < need:
            misses.append(Miss(c, key, "threshold_not_met", need - base, need))
            continue
        fee_total = sum(fees.values())
        off = fee_total if off_max < 0 else min(fee_total, off_max)
        if len(fees) == 1:
            # One fee: the split of ``off <= fee`` capped at the fee is ``off`` itself.
            parts.append(Part(key, off, (), (), {next(iter(fees)): off}))
            continue
        names = list(fees)
        split = allocate_capped(
            total=off, weights=[fees[s] for s in names], caps=[fees[s] for s in names]
        )
        parts.append(Part(key, off, (), (), dict(zip(names, split, strict=True))))
    return parts


def parts_of(
    c: Candidate, state: State, entry: Sequence[int], prep: Prepared, misses: list[Miss]
) -> list[Part]:
    """Return what ``c`` would save on ``state`` (thresholds checked on ``entry`` amounts)."""
    kind = c.promo.type
    if kind in ITEM_TYPE_NAMES:
        return _item_parts(c, state.amounts, prep)
    if kind == "points":
        return _points_parts(c, state.amounts, prep, state)
    if kind == "shipping":
        return _shipping_parts(c, entry, prep, state, misses)
    return _order_parts(c, state.amounts, entry, prep, misses)


def initial_parts(c: Candidate, prep: Prepared) -> tuple[list[Part], list[Miss]]:
    """What ``c`` would save on list prices, with its misses (memoised; do not mutate).

    The same as :func:`parts_of` on :func:`initial_state` with the list amounts as entry.
    """
    got = prep.initial.get(c.promo.id)
    if got is None:
        misses: list[Miss] = []
        if not prep.list_state:
            state = initial_state(prep)
            # ``parts_of`` only reads the state (so one serves every promotion), and the list
            # amounts themselves (a tuple) let the promotions share their units' sums (see
            # :func:`_amounts_of`).
            state.amounts = prep.list_amounts  # type: ignore[assignment]
            prep.list_state.append(state)
        got = (parts_of(c, prep.list_state[0], prep.list_amounts, prep, misses), misses)
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


def apply_part(  # noqa: PLR0912, PLR0915 - one fast path per kind of part
    c: Candidate, part: Part, state: State, prep: Prepared, *, fresh: bool = False
) -> Effect | None:
    """Apply ``part`` to ``state`` (capped by line floors and the policy cap); return the effect.

    ``fresh`` says the part's weights are its lines' current amounts (it was just computed on
    this state), which saves comparing them.
    """
    lines: dict[int, int] = {}
    idx = part.lines
    amounts = state.amounts
    headroom = state.headroom
    promo = c.promo
    points = 0
    if part.exact:
        i = idx[0]
        take = min(part.total, amounts[i] - prep.floors[i])
        if headroom is not None and take > headroom:
            take = headroom
        if take > 0:
            if headroom is not None:
                state.headroom = headroom - take
            lines[i] = take
            amounts[i] -= take
    elif idx:
        weights = part.weights
        caps: Sequence[int]
        if prep.floored:
            floors = prep.floors
            caps = [max(0, amounts[i] - floors[i]) for i in idx]
        elif fresh:
            caps = weights
        else:
            caps = list(map(amounts.__getitem__, idx))
        total = part.total
        if headroom is not None and total > headroom:
            total = headroom
        if promo.type == "points":
            # What floors and the cap leave, in whole points (see ``points_fit``).
            points, total = points_fit(
                min(total, sum(caps)), state.points_left, promo.points_per_unit, prep.scale
            )
        if caps is weights or caps == weights:
            # Weighted by what is left: one largest-remainder round never exceeds a line's room,
            # which is what allocate_capped returns on such input.
            room = sum(caps)
            left = total if total < room else room
            split = apportion(left, weights) if left > 0 else [0] * len(idx)
        else:
            split = allocate_capped(total=total, weights=weights, caps=caps)
        taken = 0
        for i, amount in zip(idx, split, strict=True):
            if amount:
                lines[i] = amount
                amounts[i] -= amount
                taken += amount
        if headroom is not None:
            state.headroom = headroom - taken
    shipping = _take_shipping(part, state) if part.shipping else {}
    if points:
        state.points_left -= points
    if not lines and not shipping:
        return None
    total = sum(lines.values()) + sum(shipping.values())
    effect = Effect(c, part.key, lines, shipping, points, total)
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
    if len(parts) > 1:
        if c.promo.type == "coupon":
            parts = [_coupon_store(parts, {})]
        elif state.headroom is not None and parts[0].exact:
            # The cap's headroom is shared fairly by the lines (see ``_exact_takes``).
            takes = _exact_takes(parts, state, prep)
            parts = [part._replace(total=t) for part, t in zip(parts, takes, strict=True)]
    for part in parts:  # disjoint units, each computed on these very amounts
        if apply_part(c, part, state, prep, fresh=True) is None:
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
    offered: list[tuple[Candidate, list[Part]]] = []
    placed = False
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
        if c.promo.type in _PLACED and (len(parts) > 1 or c.promo.type == "flash_sale"):
            placed = True
    if placed:
        offered = _place(offered, new.amounts, prep)
    _apply_winners(new, offered, _winners(offered), prep)


def _winners(
    offered: Sequence[tuple[Candidate, list[Part]]],
) -> dict[str, tuple[int, Candidate, Part]]:
    """The best offer on each unit (the earlier promotion on a tie)."""
    winners: dict[str, tuple[int, Candidate, Part]] = {}
    for c, parts in offered:
        for part in parts:
            best = winners.get(part.key)
            if best is None or part.total > best[0]:
                winners[part.key] = (part.total, c, part)
    return winners


_PLACED = frozenset({"coupon", "flash_sale"})
"""Types whose units depend on the rivals in a ``best`` lane (see :func:`_place`)."""

_Rivals = dict[str, tuple[int, int]]
"""The best rival saving on each unit and the position of the promotion offering it."""


def _place(
    offered: Sequence[tuple[Candidate, list[Part]]], amounts: Sequence[int], prep: Prepared
) -> list[tuple[Candidate, list[Part]]]:
    """Place store coupons and flash-sale quotas where they win in a ``best`` lane.

    The lane's store coupons are placed jointly (see :func:`_place_coupons`), then the flash
    sales whose allowance does not cover every line they save on, jointly too (see
    :func:`_place_flash`); a promotion that wins nowhere keeps its own units, to be reported
    beaten there.
    """
    out = list(offered)
    coupons = [n for n, (c, parts) in enumerate(out) if c.promo.type == "coupon" and len(parts) > 1]
    if coupons:
        _place_coupons(out, coupons)
    flashes = [
        (n, c, *_flash_offer(c, amounts, prep))
        for n, (c, parts) in enumerate(out)
        if c.promo.type == "flash_sale" and parts
    ]
    limited = [flash for flash in flashes if flash[2] is not None]
    if limited:
        _place_flash(out, limited, amounts, prep)
    return out


_COUPON_ASSIGNMENTS = 4096
"""Most coupon-to-store assignments :func:`_place_coupons` enumerates (e.g. 4 coupons over 7
stores); beyond it the coupons are placed one at a time in the lane's order."""


def _place_coupons(out: list[tuple[Candidate, list[Part]]], ns: Sequence[int]) -> None:
    """Redeem the lane's store coupons (positions ``ns`` of ``out``) each in one store, jointly.

    The assignment (each coupon in at most one store where it beats the other offers, at most
    one coupon per store) that adds most to the lane's saving; ties go to the smallest store
    ids, taken in the lane's order. A coupon left out keeps the store where it saves most.
    """
    rivals = _rivals(out, ns)
    options: list[list[tuple[str, int, Part]]] = []
    for n in ns:
        won = [
            (part.key, part.total - rivals[part.key][0] if part.key in rivals else part.total, part)
            for part in out[n][1]
            if _beats(part.total, n, rivals.get(part.key))
        ]
        options.append(sorted(won, key=lambda o: o[0]))
    if math.prod(len(o) + 1 for o in options) > _COUPON_ASSIGNMENTS:
        for n in ns:  # one at a time, each against the coupons placed before it
            c, parts = out[n]
            out[n] = (c, [_coupon_store(parts, _rivals(out, (n,)), n)])
        return
    for n, pick in zip(ns, _assign_coupons(options), strict=True):
        c, parts = out[n]
        out[n] = (c, [pick if pick is not None else _coupon_store(parts, {}, n)])


def _assign_coupons(options: Sequence[Sequence[tuple[str, int, Part]]]) -> list[Part | None]:
    """The stores (parts) of the best assignment: the largest gain, then the smallest stores.

    ``options`` lists, per coupon, ``(store, gain, part)`` sorted by store; the search visits
    the stores in that order and "nowhere" last, so the first best found is the answer. A
    branch that cannot beat the best found (its gain plus each remaining coupon's best gain)
    is cut, which keeps that first best.
    """
    best: list[Part | None] = [None] * len(options)
    best_gain = -1
    picks: list[Part | None] = []
    used: set[str] = set()
    # rest[k]: the most the coupons from the k-th on can still add (each its best store).
    rest = [0] * (len(options) + 1)
    for k in range(len(options) - 1, -1, -1):
        rest[k] = rest[k + 1] + max((more for _, more, _ in options[k]), default=0)

    def visit(k: int, gain: int) -> None:
        nonlocal best, best_gain
        if gain + rest[k] <= best_gain:
            return  # branch and bound: nothing below beats the best found (ties keep it)
        if k == len(options):
            best, best_gain = list(picks), gain
            return
        for key, more, part in options[k]:
            if key not in used:
                used.add(key)
                picks.append(part)
                visit(k + 1, gain + more)
                picks.pop()
                used.discard(key)
        picks.append(None)
        visit(k + 1, gain)
        picks.pop()

    visit(0, 0)
    return best


def _rivals(offered: Sequence[tuple[Candidate, list[Part]]], skip: Sequence[int]) -> _Rivals:
    """The best offer on each unit from the promotions other than those at positions ``skip``.

    Ties go to the earlier promotion, as in :func:`apply_best`. Coupons not yet placed (still
    one part per store) offer nothing.
    """
    best: _Rivals = {}
    for m, (c, parts) in enumerate(offered):
        if m in skip or (len(parts) > 1 and c.promo.type == "coupon"):
            continue
        for part in parts:
            got = best.get(part.key)
            if got is None or part.total > got[0]:
                best[part.key] = (part.total, m)
    return best


def _beats(total: int, n: int, rival: tuple[int, int] | None) -> bool:
    """Whether ``total`` offered by the ``n``-th promotion wins a unit against ``rival``."""
    return rival is None or total > rival[0] or (total == rival[0] and n < rival[1])


def _coupon_store(parts: Sequence[Part], rivals: _Rivals, n: int = 0) -> Part:
    """The store (part) a store coupon is redeemed in: one redemption per order.

    The store where it adds most to the lane's saving (what it saves there less the best
    rival it beats there), ties going to the smallest store id. Without rivals (an ``all``
    lane) that is the store where it saves most. When it beats no rival anywhere, the store
    where it saves most.
    """
    best: tuple[int, Part] | None = None
    for part in parts:
        rival = rivals.get(part.key)
        if not _beats(part.total, n, rival):
            continue
        gain = part.total - (rival[0] if rival is not None else 0)
        if best is None or gain > best[0] or (gain == best[0] and part.key < best[1].key):
            best = (gain, part)
    if best is not None:
        return best[1]
    top = max(part.total for part in parts)
    return min((part for part in parts if part.total == top), key=lambda part: part.key)


def _flash_savings(c: Candidate, amounts: Sequence[int], prep: Prepared) -> dict[int, int]:
    """The saving of a flash sale on each line it gets units on, by line index, alone.

    Every line saving something gets all its units when the member's allowance (quota and
    per-member limit) covers them; otherwise the units are placed as in :func:`_place_flash`
    with no rival offers (an ``all`` lane, or a flash sale's own offer in a ``best`` lane).
    """
    limited, full = _flash_offer(c, amounts, prep)
    if limited is None:
        return full
    return _flash_plan([(0, c, limited, full)], amounts, prep, {}).get(0, {})


def _flash_offer(
    c: Candidate, amounts: Sequence[int], prep: Prepared
) -> tuple[int | None, dict[int, int]]:
    """A flash sale's saving on all the units of each line it saves on, and its allowance.

    A saving is at most the line's room above its floor, so units are ranked and placed on
    what they can really save. The allowance (quota and per-member limit) is ``None`` when
    it covers all those units.
    """
    p = c.promo
    assert isinstance(p, FlashSale)
    price = _flash_price(c, prep)
    qty, floors = prep.qty, prep.floors
    full: dict[int, int] = {}
    units = 0
    for i in c.lines:
        # _unit_price_saving on all its units, at most the line's room above its floor
        s = min(amounts[i] - price * qty[i], amounts[i] - floors[i])
        if s > 0:
            full[i] = s
            units += qty[i]
    allowance = flash_sale_allowance(p, prep.context)
    return (allowance if units > allowance else None), full


_Flash = tuple[int, Candidate, int | None, dict[int, int]]
"""A flash sale to place: its position in the lane, itself and its :func:`_flash_offer`."""


def _place_flash(
    out: list[tuple[Candidate, list[Part]]],
    flashes: Sequence[_Flash],
    amounts: Sequence[int],
    prep: Prepared,
) -> None:
    """Place the limited units of the flash sales ``flashes`` (positions in ``out``) jointly.

    Their rivals are the other offers of the lane (flash sales whose allowance covers all
    their lines included); see :func:`_flash_plan`. One flash sale without a rival on its
    lines keeps its own placement.
    """
    rivals = _rivals(out, [flash[0] for flash in flashes])
    keys, ones = prep.line_keys, prep.line_tuples
    if len(flashes) == 1 and not any(keys[i] in rivals for i in flashes[0][3]):
        return
    plans = _flash_plan(flashes, amounts, prep, rivals)
    for n, c, _, _ in flashes:
        savings = plans.get(n)
        if savings:
            out[n] = (c, [Part(keys[i], savings[i], ones[i], exact=True) for i in sorted(savings)])


_FLASH_STEPS = 25_000
"""Most steps (unit-count states times line options) of :func:`_flash_plan`'s exact search;
beyond it the flash sales are placed one at a time, greedily (:func:`_flash_greedy`)."""

_Option = tuple[int, int, int]
"""A flash sale's offer on a line: (its index among the planned flash sales, units, saving)."""


def _flash_plan(
    flashes: Sequence[_Flash],
    amounts: Sequence[int],
    prep: Prepared,
    rivals: _Rivals,
) -> dict[int, dict[int, int]]:
    """Place limited flash-sale units where they add most to a ``best`` lane's saving.

    Each line takes one offer: one flash sale with ``k`` of its units (saving
    ``_unit_price_saving(amount, qty, price, k)``, when that beats the line's best rival) or
    its best rival (``rivals``, position-tagged). The placement maximising the sum over the
    lines, with each flash sale's units within its allowance, is found exactly (dynamic
    programming over the lines and the units each flash sale has used); ties go to the fewest
    units, then by a fixed rule over the lines taken in the order of their contents (sku,
    store, amounts, quantity, floor, category, brand; line id only between lines alike in all
    of these), so neither the lines' order nor their ids change the saving. ``flashes`` are
    :data:`_Flash` tuples; returns the savings by line of each position given units.

    The plan is memoised per pricing call (the lane's subsets share their flash sales), and
    the options no best placement can use are dropped first (:func:`_prune_options`).
    """
    lines = sorted({i for *_, full in flashes for i in full})
    keys = prep.line_keys
    memo_key = (
        tuple((n, c.promo.id, limited) for n, c, limited, _ in flashes),
        tuple((i, amounts[i], rivals.get(keys[i])) for i in lines),
    )
    plans = prep.flash_plans.get(memo_key)
    if plans is None:
        plans = prep.flash_plans[memo_key] = _flash_search(flashes, amounts, prep, rivals)
    return plans


def _flash_search(
    flashes: Sequence[_Flash],
    amounts: Sequence[int],
    prep: Prepared,
    rivals: _Rivals,
) -> dict[int, dict[int, int]]:
    """The search of :func:`_flash_plan` (not memoised)."""
    offers: list[tuple[int, int, int, dict[int, int]]] = []  # position, cap, price, full
    for n, c, limited, full in flashes:
        units = sum(prep.qty[i] for i in full)
        cap = units if limited is None else min(limited, units)
        offers.append((n, cap, _flash_price(c, prep), full))
    caps = [cap for _, cap, _, _ in offers]
    options = {
        i: _flash_options(i, offers, amounts, prep, rivals)
        for i in {i for *_, full in offers for i in full}
    }
    _prune_options(options, {i: _rival_total(rivals, prep, i) for i in options}, sum(caps))
    table: list[tuple[tuple[Any, ...], int, int, list[_Option]]] = [
        (_content(prep, amounts, i), i, _rival_total(rivals, prep, i), opts)
        for i, opts in options.items()
        if opts  # a line no flash sale wins keeps its rival: the same in every placement
    ]
    table.sort()
    strides = [math.prod(cap + 1 for cap in caps[:j]) for j in range(len(caps))]
    size = strides[-1] * (caps[-1] + 1)
    if size * sum(len(opts) + 1 for *_, opts in table) > _FLASH_STEPS:
        return _flash_greedy(flashes, amounts, prep, rivals)
    # gains[state]: the most the flash sales add over the rivals with ``state`` units used
    # (mixed radix, one digit per flash sale), -1 when unreachable.
    gains = [-1] * size
    gains[0] = 0
    steps: list[dict[int, tuple[int, _Option]]] = []
    for _, _, rival, opts in table:
        nxt = list(gains)
        how: dict[int, tuple[int, _Option]] = {}
        for state, gain in enumerate(gains):
            if gain < 0:
                continue
            for opt in opts:
                j, k, s = opt
                if (state // strides[j]) % (caps[j] + 1) + k > caps[j]:
                    continue
                new = state + k * strides[j]
                if gain + s - rival > nxt[new]:
                    nxt[new], how[new] = gain + s - rival, (state, opt)
        gains = nxt
        steps.append(how)
    top = max(gains)
    state = min(
        (st for st, g in enumerate(gains) if g == top),
        key=lambda st: sum((st // strides[j]) % (caps[j] + 1) for j in range(len(caps))),
    )  # the fewest units, then the first state
    plans: dict[int, dict[int, int]] = {}
    for (_, i, _, _), how in zip(reversed(table), reversed(steps), strict=True):
        got = how.get(state)
        if got is not None:
            state, (j, _, s) = got
            plans.setdefault(offers[j][0], {})[i] = s
    return plans


def _prune_options(options: dict[int, list[_Option]], rival: Mapping[int, int], units: int) -> None:
    """Drop the line options of :func:`_flash_plan` that no best placement uses.

    A placement uses at most ``units`` units (the flash sales' caps), so at most
    ``units - k`` lines besides one given ``k`` units of a flash sale. When ``units - k + 1``
    other lines each gain strictly more from ``k`` units of that flash sale, one of them is
    unused, and moving the units there gains more: such an option is in no best placement
    and dropping it changes neither the best gain nor the placement chosen among ties.
    """
    by_offer: dict[tuple[int, int], list[int]] = {}
    for i, opts in options.items():
        for j, k, s in opts:
            by_offer.setdefault((j, k), []).append(s - rival[i])
    floor: dict[tuple[int, int], int] = {}
    for (j, k), gains in by_offer.items():
        keep = units - k + 1
        if len(gains) > keep:
            gains.sort(reverse=True)
            floor[(j, k)] = gains[keep - 1]  # strictly below it: ``keep`` lines gain more
    if not floor:
        return
    for i, opts in options.items():
        # An option's gain is never negative (it beats or ties the rival): -1 keeps it.
        options[i] = [o for o in opts if o[2] - rival[i] >= floor.get((o[0], o[1]), -1)]


def _content(prep: Prepared, amounts: Sequence[int], i: int) -> tuple[Any, ...]:
    """What line ``i`` is, for tie-breaks that must not depend on line ids or order."""
    line = prep.cart.lines[i]
    return (
        line.sku,
        line.store_id,
        amounts[i],
        prep.qty[i],
        prep.list_amounts[i],
        prep.floors[i],
        line.category or "",
        line.brand or "",
        line.line_id,
    )


def _flash_price(c: Candidate, prep: Prepared) -> int:
    p = c.promo
    assert isinstance(p, FlashSale)
    return _m(p.price, prep.scale)


def _rival_total(rivals: _Rivals, prep: Prepared, i: int) -> int:
    rival = rivals.get(prep.line_keys[i])
    return 0 if rival is None else rival[0]


def _flash_options(
    i: int,
    offers: Sequence[tuple[int, int, int, dict[int, int]]],
    amounts: Sequence[int],
    prep: Prepared,
    rivals: _Rivals,
) -> list[_Option]:
    """The flash-sale offers that win line ``i`` against its rival, fewest units first."""
    qty = prep.qty[i]
    room = amounts[i] - prep.floors[i]
    rival = rivals.get(prep.line_keys[i])
    opts: list[_Option] = []
    for j, (n, cap, price, full) in enumerate(offers):
        if i not in full:
            continue
        for k in range(min(qty, cap), 0, -1):  # savings never grow with fewer units
            s = full[i] if k == qty else min(_unit_price_saving(amounts[i], qty, price, k), room)
            if s <= 0 or not _beats(s, n, rival):
                break
            opts.append((j, k, s))
    return sorted(opts, key=lambda o: (o[1], o[0]))


def _flash_greedy(
    flashes: Sequence[_Flash],
    amounts: Sequence[int],
    prep: Prepared,
    rivals: _Rivals,
) -> dict[int, dict[int, int]]:
    """Place flash-sale units one flash sale at a time, greedily (cases too large to search).

    Each flash sale in the lane's order gives its units to the lines with the largest
    advantage per unit over the rival first (ties by the lines' contents), and only where it
    still wins with the units it gets; a placed flash sale is a rival of the next ones.
    """
    rivals = dict(rivals)
    keys, qty = prep.line_keys, prep.qty
    plans: dict[int, dict[int, int]] = {}
    for n, c, limited, full in flashes:
        allowance = sum(qty[i] for i in full) if limited is None else limited
        price = _flash_price(c, prep)
        common = math.lcm(*(qty[i] for i in full)) if full else 1
        ranked = sorted(
            (
                (_rival_total(rivals, prep, i) - s) * (common // qty[i]),
                _content(prep, amounts, i),
                i,
            )
            for i, s in full.items()
            if _beats(s, n, rivals.get(keys[i]))
        )
        savings: dict[int, int] = {}
        for _, _, i in ranked:
            if allowance <= 0:
                break
            k, s = _fewest_units(amounts[i], qty[i], price, min(qty[i], allowance), room=full[i])
            if s > 0 and _beats(s, n, rivals.get(keys[i])):
                savings[i] = s
                allowance -= k
                rivals[keys[i]] = (s, n)
        if savings:
            plans[n] = savings
    return plans


def _fewest_units(cur: int, qty: int, price: int, most: int, *, room: int) -> tuple[int, int]:
    """The fewest of ``most`` units saving what they all save, capped at ``room``, and that."""
    s = min(_unit_price_saving(cur, qty, price, most), room)
    k = most
    while k > 1 and min(_unit_price_saving(cur, qty, price, k - 1), room) == s:
        k -= 1
    return k, s


def _apply_winners(
    new: State,
    offered: Sequence[tuple[Candidate, list[Part]]],
    winners: Mapping[str, tuple[int, Candidate, Part]],
    prep: Prepared,
) -> None:
    """Apply each unit's winner, then say why each promotion that won nothing did not apply.

    The reasons come after the winners are applied: a loser is ``beaten`` by the winner of
    its best unit where that winner saved something, or ``capped`` when the cap or the
    floors left every winner of its units nothing (so a reason never names a promotion that
    did not apply).
    """
    won: dict[str, list[Part]] = {}
    for _, c, part in winners.values():
        won.setdefault(c.promo.id, []).append(part)
    losers = [(c, parts) for c, parts in offered if parts and c.promo.id not in won]
    landed: set[str] = set()  # the units whose winner saved something (read by losers)
    for c, _ in offered:
        mine = won.get(c.promo.id)
        if not mine:
            continue
        mine.sort(key=lambda part: part.key)
        if all(part.exact for part in mine):
            if not _apply_exact_lines(c, mine, new, prep):
                new.misses.append(Miss(c, mine[0].key, "capped"))
            elif losers:
                keys = prep.line_keys
                landed.update(keys[i] for i in new.effects[-1].lines)
            continue
        for part in mine:
            if apply_part(c, part, new, prep) is None:
                new.misses.append(Miss(c, part.key, "capped"))
            else:
                landed.add(part.key)
    for c, parts in losers:
        new.misses.append(_loser_miss(c, parts, winners, landed))


def _loser_miss(
    c: Candidate,
    parts: Sequence[Part],
    winners: Mapping[str, tuple[int, Candidate, Part]],
    landed: set[str],
) -> Miss:
    """Why ``c``, which won no unit, did not apply: beaten where a winner saved, else capped."""
    ranked = sorted(parts, key=lambda part: -part.total)  # stable: the first of equal ones
    for part in ranked:
        if part.key in landed:
            return Miss(c, part.key, "beaten", beaten_by=winners[part.key][1].promo.id)
    return Miss(c, ranked[0].key, "capped")


def _apply_exact_lines(c: Candidate, parts: Sequence[Part], state: State, prep: Prepared) -> bool:
    """Apply per-line item savings as one effect (key ``#``); return whether any landed."""
    lines: dict[int, int] = {}
    amounts, floors = state.amounts, prep.floors
    if state.headroom is None:
        for part in parts:
            i = part.lines[0]
            take = min(part.total, amounts[i] - floors[i])
            if take > 0:
                lines[i] = take
                amounts[i] -= take
    else:
        for part, take in zip(parts, _exact_takes(parts, state, prep), strict=True):
            if take > 0:
                i = part.lines[0]
                lines[i] = take
                amounts[i] -= take
        state.headroom -= sum(lines.values())
    if not lines:
        return False
    total = sum(lines.values())
    state.effects.append(Effect(candidate=c, key="#", lines=lines, shipping={}, total=total))
    state.saving += total
    return True


def _exact_takes(parts: Sequence[Part], state: State, prep: Prepared) -> list[int]:
    """What each per-line item saving of one promotion takes from its line.

    Its saving, at most what is left on the line above its floor. When the policy cap's
    headroom cannot take them all, the headroom is split over the lines by largest remainder,
    weighted by each line's saving, each line capped at its room and the excess carried to the
    others, ties going to the smaller line id: never to whichever line comes first.
    """
    amounts, floors = state.amounts, prep.floors
    wants = [max(0, min(p.total, amounts[p.lines[0]] - floors[p.lines[0]])) for p in parts]
    headroom = state.headroom
    if headroom is None or sum(wants) <= headroom:
        return wants
    ids = prep.line_ids
    order = sorted(range(len(parts)), key=lambda k: ids[parts[k].lines[0]])
    split = allocate_capped(
        total=max(0, headroom),
        weights=[parts[k].total for k in order],
        caps=[wants[k] for k in order],
    )
    takes = [0] * len(parts)
    for k, take in zip(order, split, strict=True):
        takes[k] = take
    return takes
