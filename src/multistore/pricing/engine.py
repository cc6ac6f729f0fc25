"""``price_cart``: eligible promotions -> best valid combination -> per-line result.

Examples:
    >>> from datetime import datetime, timezone
    >>> from multistore.money import money
    >>> from multistore.pricing import Cart, CartLine, PricingContext, load_promotions
    >>> cart = Cart(lines=[CartLine(line_id="L1", sku="tea", store_id="S1", quantity=3,
    ...                             unit_price=money("100.00"))])
    >>> promos = load_promotions([{"id": "M", "type": "spend_tiers",
    ...                            "tiers": [{"threshold": 300, "amount": 50}]}])
    >>> now = datetime(2026, 11, 11, tzinfo=timezone.utc)
    >>> priced = price_cart(cart=cart, promotions=promos, context=PricingContext(now=now))
    >>> str(priced.total.amount), priced.applied[0].promotion_id
    ('250.00', 'M')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from money.currency import Currency
from money.money import Money

from multistore.money import currency as to_currency
from multistore.money import from_minor, minor_maker
from multistore.pricing.best import Selection, brute_force, conflicts, is_optional, search
from multistore.pricing.cart import Cart, PricingContext
from multistore.pricing.conditions import check_eligibility
from multistore.pricing.errors import (
    CouponSpentError,
    PromotionCurrencyMismatchError,
    PromotionValidationError,
    UnknownCouponCodeError,
)
from multistore.pricing.explain import format_minor, lane_title
from multistore.pricing.lanes import (
    Candidate,
    Miss,
    Part,
    Prepared,
    State,
    initial_parts,
    parts_of,
    prepare,
)
from multistore.pricing.promotions import (
    Coupon,
    Promotion,
    PromotionBase,
    duplicate_code_errors,
    load_promotions,
)
from multistore.pricing.results import (
    Adjustment,
    PricedLine,
    PricedShipping,
    priced_line,
    priced_shipping,
)
from multistore.pricing.stacking import DEFAULT_POLICY, StackingPolicy, load_policy

__all__ = [
    "Adjustment",
    "AppliedPromotion",
    "Hint",
    "NotApplied",
    "PricedCart",
    "PricedLine",
    "PricedShipping",
    "price_cart",
]


@attrs.frozen
class AppliedPromotion:
    """A promotion that saved something.

    Attributes:
        promotion_id: Its id.
        name: Its display name.
        lane: The lane it was applied in.
        amount: Total saving across lines and shipping.
        units: Where it applied: store ids, ``*`` for the whole cart, or line ids.
        coupon_code: The code redeemed, for coupons.
        points_used: Points spent, for points redemption.
    """

    promotion_id: str
    name: str
    lane: str
    amount: Money
    units: tuple[str, ...] = ()
    coupon_code: str | None = None
    points_used: int = 0


@attrs.frozen
class NotApplied:
    """A promotion that saved nothing, with the reason.

    Attributes:
        promotion_id: Its id.
        name: Its display name.
        code: Stable reason code (``threshold_not_met``, ``excluded``, ``outside_window``...).
        reason: A plain sentence (``满300减50 needs ¥12.30 more``).
    """

    promotion_id: str
    name: str
    code: str
    reason: str


@attrs.frozen
class Hint:
    """A 凑单 hint: spending a little more reaches a threshold.

    Attributes:
        promotion_id: The promotion whose threshold is within reach.
        unit: Store id or ``*`` (the whole cart).
        shortfall: Amount still missing (zero when the shortfall is in items).
        items_short: Items still missing, for quantity thresholds.
        message: A plain sentence.
    """

    promotion_id: str
    unit: str
    shortfall: Money
    items_short: int
    message: str


@attrs.frozen
class PricedCart:
    """The priced cart. ``total == sum(line finals) + sum(shipping finals)`` always.

    Attributes:
        currency: The cart's currency.
        lines: Priced lines, in cart order.
        shipping: Priced shipping per store with a fee.
        subtotal: Sum of list amounts.
        goods_total: Sum of final line amounts.
        shipping_total: Sum of final shipping amounts.
        discount_total: Everything saved (goods and shipping).
        total: What the customer pays.
        applied: Promotions that saved something, in application order.
        not_applied: Promotions that did not apply, with reasons.
        hints: Thresholds within reach.
        points_used: Points redeemed.
        exhaustive: Whether the best combination was proven by exhaustive search.
        explanation: Plain sentences describing the result.
    """

    currency: Currency
    lines: tuple[PricedLine, ...]
    shipping: tuple[PricedShipping, ...]
    subtotal: Money
    goods_total: Money
    shipping_total: Money
    discount_total: Money
    total: Money
    applied: tuple[AppliedPromotion, ...]
    not_applied: tuple[NotApplied, ...]
    hints: tuple[Hint, ...]
    points_used: int
    exhaustive: bool
    explanation: tuple[str, ...]

    @property
    def applied_ids(self) -> tuple[str, ...]:
        """Ids of the applied promotions."""
        return tuple(a.promotion_id for a in self.applied)


def _check_codes(promotions: Sequence[Promotion], context: PricingContext) -> None:
    coupons = [p for p in promotions if isinstance(p, Coupon)]
    codes = [code for c in coupons for code in c.codes]
    if len(set(codes)) < len(codes) and (dupes := duplicate_code_errors(promotions)):
        raise PromotionValidationError(
            f"{dupes[0]['problem']}; give every coupon code to one promotion only",
            code="promotion.duplicate_code",
            details={"errors": dupes},
        )
    for code in context.coupon_codes:
        matches = [c for c in coupons if code in c.codes]
        if not matches:
            raise UnknownCouponCodeError(
                f"coupon code {code!r} matches no coupon; check the code or remove it",
                details={"code": code},
            )
        for c in matches:
            remaining = context.usage.remaining.get(c.id)
            used = context.usage.member_used.get(c.id, 0)
            if (c.total_limit is not None and remaining is not None and remaining <= 0) or (
                c.per_member_limit is not None and used >= c.per_member_limit
            ):
                raise CouponSpentError(
                    f"coupon {c.id!r} (code {code!r}) has no redemptions left"
                    + (" for this member" if c.per_member_limit is not None else "")
                    + "; remove the code",
                    details={"code": code, "promotion_id": c.id},
                )


def _collect(
    *,
    cart: Cart,
    promotions: Sequence[Promotion],
    policy: StackingPolicy,
    context: PricingContext,
) -> tuple[list[Candidate], list[NotApplied]]:
    cur = cart.currency
    seen: set[str] = set()
    currencies: dict[str, Currency] = {}
    for p in promotions:
        code = currencies.get(p.currency)
        if code is None:
            code = currencies[p.currency] = to_currency(p.currency)
        if code is not cur:
            raise PromotionCurrencyMismatchError(
                f"promotion {p.id!r} is in {p.currency} but the cart is in {cur.value}; "
                "price the cart with promotions of its own currency",
                details={"promotion_id": p.id},
            )
        if p.id in seen:
            raise PromotionValidationError(
                f"promotion id {p.id!r} appears twice; give every promotion its own id",
                code="promotion.duplicate_id",
                details={
                    "errors": [
                        {
                            "field": "id",
                            "problem": f"duplicate id {p.id!r}",
                            "code": "promotion.duplicate_id",
                        }
                    ]
                },
            )
        seen.add(p.id)
    _check_codes(promotions, context)
    lanes = {lane.name for lane in policy.lanes}
    candidates: list[Candidate] = []
    rejected: list[NotApplied] = []
    # Position of each line in line-id order (ids are unique), to sort eligible lines by id.
    by_id = sorted(range(len(cart.lines)), key=[line.line_id for line in cart.lines].__getitem__)
    in_id_order = by_id == list(range(len(by_id)))  # eligible lines come in index order
    rank = [0] * len(by_id)
    for pos, i in enumerate(by_id):
        rank[i] = pos
    for p in sorted(promotions, key=lambda p: (p.priority, p.id)):
        lane = p.effective_lane()
        if lane not in lanes:
            rejected.append(
                NotApplied(p.id, p.label(), "lane_disabled", f"the policy has no {lane} lane")
            )
            continue
        elig = check_eligibility(promotion=p, cart=cart, context=context)
        if elig.reason is not None:
            if elig.code != "no_code":
                rejected.append(NotApplied(p.id, p.label(), elig.code, elig.reason))
            continue
        ordered = (
            tuple(elig.lines) if in_id_order else tuple(sorted(elig.lines, key=rank.__getitem__))
        )
        candidates.append(
            Candidate(
                promo=p,
                lines=ordered,
                lane=lane,
                order=(p.priority, 1 if isinstance(p, Coupon) else 0, p.id),
                coupon_code=elig.coupon_code,
            )
        )
    return candidates, rejected


def _unit_name(key: str, prep: Prepared) -> str:
    if key == "*":
        return "cart"
    if key.startswith("#"):
        return f"line {prep.line_ids[int(key[1:])]}" if len(key) > 1 else "lines"
    return f"store {key}"


def _shortfall_text(miss: Miss, prep: Prepared) -> str:
    if miss.unit == "items":
        return f"{miss.shortfall} more item(s)"
    return f"{format_minor(miss.shortfall, prep.cart.currency)} more"


def _at_lane_entry(
    c: Candidate,
    policy: StackingPolicy,
    prep: Prepared,
    final: State,
    entries: dict[str, State],
) -> tuple[list[Part], list[Miss]]:
    """What ``c`` would save on the amounts entering its lane in the chosen selection.

    On list prices when its lane checks thresholds on them (``before``) or comes first;
    otherwise on the amounts the earlier lanes left, rebuilt from the final effects (memoised
    per lane in ``entries``).
    """
    names: list[str] = [lane.name for lane in policy.lanes]
    j = names.index(c.lane)
    if j == 0 or policy.lanes[j].threshold_base == "before":
        return initial_parts(c, prep)
    state = entries.get(c.lane)
    if state is None:
        earlier = set(names[:j])
        amounts = list(prep.list_amounts)
        shipping = dict(prep.shipping)
        points = prep.context.points_available
        for e in final.effects:
            if e.candidate.lane in earlier:
                for i, amount in e.lines.items():
                    amounts[i] -= amount
                for store, amount in e.shipping.items():
                    shipping[store] -= amount
                points -= e.points
        state = entries[c.lane] = State(amounts, shipping, None, points, [], [])
    misses: list[Miss] = []
    return parts_of(c, state, state.amounts, prep, misses), misses


def _not_chosen_reason(
    c: Candidate,
    *,
    chosen: Sequence[Candidate],
    policy: StackingPolicy,
    prep: Prepared,
    final: State,
    entries: dict[str, State],
) -> tuple[str, str, list[Miss]]:
    """Why ``c`` is not in the chosen selection: code, sentence and its threshold misses.

    A threshold is checked on what enters ``c``'s lane in the chosen selection (see
    :func:`_at_lane_entry`) when nothing chosen excludes ``c``; otherwise on list prices, as
    the amounts entering its lane came from promotions it cannot join.
    """
    blockers = [s for s in chosen if conflicts(c, s)]
    parts, misses = (
        initial_parts(c, prep) if blockers else _at_lane_entry(c, policy, prep, final, entries)
    )
    need = [m for m in misses if m.code == "threshold_not_met"]
    if need and not parts:
        label = need[0].label or c.promo.label()
        return "threshold_not_met", f"{label} needs {_shortfall_text(need[0], prep)}", need
    if blockers:
        b = blockers[0]
        what = "coupon" if isinstance(b.promo, Coupon) else "promotion"
        if (
            c.promo.exclusive_group is not None
            and c.promo.exclusive_group == b.promo.exclusive_group
        ):
            why = f"exclusive group {c.promo.exclusive_group!r}"
        else:
            why = "they do not combine"
        return "excluded", f"excluded by {what} {b.promo.label()} ({b.promo.id}; {why})", []
    if is_optional(c):
        return "not_best", "the best combination saves more without it", []
    return "not_best", "not part of the best combination", []


def _miss_reason(miss: Miss, prep: Prepared) -> tuple[str, str]:
    label = miss.candidate.promo.label()
    where = "" if miss.key == "*" else f" in {_unit_name(miss.key, prep)}"
    if miss.code == "threshold_not_met":
        return miss.code, f"{miss.label or label} needs {_shortfall_text(miss, prep)}{where}"
    if miss.code == "beaten":
        return miss.code, f"a better offer ({miss.beaten_by}) applied{where}"
    if miss.code == "capped":
        return miss.code, "the discount cap or the lines' floor prices were already reached"
    return "no_saving", "saves nothing on these prices"


def _label(labels: dict[str, str], promo: Promotion) -> str:
    """``promo.label()``, computed once per promotion id in ``labels``."""
    name = labels.get(promo.id)
    if name is None:
        name = labels[promo.id] = promo.label()
    return name


def _misses_by_promotion(misses: Sequence[Miss]) -> dict[str, list[Miss]]:
    """Each promotion's misses other than ``next_tier``, in order."""
    out: dict[str, list[Miss]] = {}
    for m in misses:
        if m.code != "next_tier":
            out.setdefault(m.candidate.promo.id, []).append(m)
    return out


def _sum_effects(
    state: State,
    prep: Prepared,
    *,
    line_adj: list[list[Any]],
    ship_adj: dict[str, list[Any]],
    labels: dict[str, str],
) -> tuple[list[Candidate], dict[str, int], dict[str, dict[str, None]], dict[str, int]]:
    """Append every effect's adjustments to its lines and fees; sum it per promotion.

    Adjustments are appended as flat records ``promotion_id, name, lane, minor units`` (see
    :mod:`multistore.pricing.results`). Returns the promotions in application order with
    their totals, units (insertion-ordered) and points; ``labels`` memoises their labels.
    """
    totals: dict[str, int] = {}
    units: dict[str, dict[str, None]] = {}  # insertion-ordered sets
    points: dict[str, int] = {}
    order: list[Candidate] = []
    line_ids = prep.line_ids
    for e in state.effects:
        c = e.candidate
        pid, lane = c.promo.id, c.lane
        name = _label(labels, c.promo)
        # One adjustment per line (the order across lines is moot) and per shipping fee.
        for i, amount in e.lines.items():
            line_adj[i] += (pid, name, lane, amount)
        for store, amount in e.shipping.items():
            ship_adj[store] += (pid, name, lane, amount)
        if pid not in totals:
            order.append(c)
            totals[pid] = e.total
            units[pid] = {}
            points[pid] = e.points
        else:
            totals[pid] += e.total
            points[pid] += e.points
        key = e.key
        if key.startswith("#"):
            names = (
                [line_ids[i] for i in sorted(e.lines)] if key == "#" else [line_ids[int(key[1:])]]
            )
            units[pid].update(dict.fromkeys(names))  # new names in order; known ones stay put
        else:
            units[pid].setdefault(key)
    return order, totals, units, points


def _build(
    *,
    cart: Cart,
    policy: StackingPolicy,
    prep: Prepared,
    sel: Selection,
    rejected: list[NotApplied],
    candidates: Sequence[Candidate],
) -> PricedCart:
    cur = cart.currency
    state = sel.state
    monies: dict[int, Money] = {}
    make = minor_maker(cur)

    def as_money(n: int) -> Money:
        m = monies.get(n)
        if m is None:
            m = monies[n] = make(n)
        return m

    line_adj: list[list[Any]] = [[] for _ in cart.lines]
    ship_adj: dict[str, list[Any]] = {s: [] for s in prep.shipping}
    labels: dict[str, str] = {}
    order, totals, units, points = _sum_effects(
        state, prep, line_adj=line_adj, ship_adj=ship_adj, labels=labels
    )
    applied = tuple(
        AppliedPromotion(
            c.promo.id,
            labels[c.promo.id],
            c.lane,
            as_money(totals[c.promo.id]),
            tuple(units[c.promo.id]),
            c.coupon_code,
            points[c.promo.id],
        )
        for c in order
    )
    chosen_ids = {c.promo.id for c in sel.chosen}
    own_misses = _misses_by_promotion(state.misses)
    not_applied = list(rejected)
    # A coupon is redeemed once per order: once it applies, its misses in other stores are
    # no reason to spend more there.
    hint_misses: Sequence[Miss] = [
        m
        for m in state.misses
        if not (m.candidate.promo.type == "coupon" and m.candidate.promo.id in totals)
    ]
    entries: dict[str, State] = {}
    for c in candidates:
        pid = c.promo.id
        if pid in totals:
            continue
        if pid not in chosen_ids:
            code, reason, need = _not_chosen_reason(
                c,
                chosen=sel.chosen,
                policy=policy,
                prep=prep,
                final=state,
                entries=entries,
            )
            if need and is_optional(c):
                # A presented coupon short of its minimum spend gets a 凑单 hint too.
                hint_misses = [*hint_misses, *need]
        else:
            own = own_misses.get(pid, [])
            code, reason = (
                _miss_reason(own[0], prep)
                if own
                else ("no_saving", "saves nothing on these prices")
            )
        not_applied.append(NotApplied(pid, _label(labels, c.promo), code, reason))
    hints = _hints(prep, policy, hint_misses)
    list_amounts, amounts = prep.list_amounts, state.amounts
    # Amounts stay in minor units: the results build Money when they are read.
    lines = tuple(
        [
            priced_line(
                line.line_id,
                line.sku,
                line.store_id,
                line.quantity,
                list_amounts[i],
                tuple(line_adj[i]),
                amounts[i],
                cur,
            )
            for i, line in enumerate(cart.lines)
        ]
    )
    shipping = tuple(
        priced_shipping(s, fee, tuple(ship_adj[s]), state.shipping[s], cur)
        for s, fee in prep.shipping.items()
    )
    goods = sum(state.amounts)
    ship = sum(state.shipping.values())
    subtotal = sum(prep.list_amounts)
    discount = subtotal + sum(prep.shipping.values()) - goods - ship
    explanation = _explain(
        cur,
        applied=applied,
        totals=totals,
        not_applied=not_applied,
        hints=hints,
        subtotal=subtotal,
        discount=discount,
        total=goods + ship,
        sel=sel,
    )
    return PricedCart(
        currency=cur,
        lines=lines,
        shipping=shipping,
        subtotal=as_money(subtotal),
        goods_total=as_money(goods),
        shipping_total=as_money(ship),
        discount_total=as_money(discount),
        total=as_money(goods + ship),
        applied=applied,
        not_applied=tuple(not_applied),
        hints=hints,
        points_used=sum(points.values()),
        exhaustive=sel.exhaustive,
        explanation=explanation,
    )


def _hints(prep: Prepared, policy: StackingPolicy, misses: Sequence[Miss]) -> tuple[Hint, ...]:
    cur = prep.cart.currency
    out: dict[tuple[str, str], Hint] = {}
    for m in misses:
        if m.code not in {"threshold_not_met", "next_tier"} or m.shortfall <= 0:
            continue
        if m.shortfall * 100 > m.target * policy.hint_within_percent:
            continue
        where = "" if m.key == "*" else f" from {_unit_name(m.key, prep)}"
        label = m.label or m.candidate.promo.label()
        if m.unit == "items":
            msg = f"Add {m.shortfall} more item(s){where} to reach {label}."
            hint = Hint(m.candidate.promo.id, m.key, from_minor(0, cur), m.shortfall, msg)
        else:
            msg = f"Add {format_minor(m.shortfall, cur)} more{where} to reach {label}."
            hint = Hint(m.candidate.promo.id, m.key, from_minor(m.shortfall, cur), 0, msg)
        out.setdefault((m.candidate.promo.id, m.key), hint)
    return tuple(out.values())


def _explain(
    cur: Currency,
    *,
    applied: Sequence[AppliedPromotion],
    totals: Mapping[str, int],
    not_applied: Sequence[NotApplied],
    hints: Sequence[Hint],
    subtotal: int,
    discount: int,
    total: int,
    sel: Selection,
) -> tuple[str, ...]:
    out = [
        (
            f"List price {format_minor(subtotal, cur)}; you pay {format_minor(total, cur)} "
            f"after saving {format_minor(discount, cur)}."
        )
    ]
    for a in applied:
        extra = "" if a.units in {(), ("*",)} or a.lane == "item" else f" ({', '.join(a.units)})"
        extra += f" with code {a.coupon_code}" if a.coupon_code else ""
        extra += f" using {a.points_used} points" if a.points_used else ""
        out.append(
            f"Applied {a.name} ({a.promotion_id}) in the {lane_title(a.lane)}{extra}: "
            f"-{format_minor(totals[a.promotion_id], cur)}."
        )
    out.extend(f"Not applied {n.name} ({n.promotion_id}): {n.reason}." for n in not_applied)
    out.extend(h.message for h in hints)
    if not sel.exhaustive:
        out.append("Too many optional promotions to search them all; chose lane by lane instead.")
    return tuple(out)


def price_cart(
    *,
    cart: Cart,
    promotions: Sequence[Promotion] | Sequence[Mapping[str, Any]] | str,
    context: PricingContext,
    policy: StackingPolicy | Mapping[str, Any] | None = None,
    oracle: bool = False,
) -> PricedCart:
    """Price a cart: pick the best valid combination of promotions and allocate every discount.

    Lanes run in the policy's order (default item -> store -> platform -> points -> shipping),
    each on the prices left by the earlier ones. Among valid selections (no two conflicting
    promotions, every applicable automatic promotion in unless excluded by a chosen one,
    coupons optional) the one with the largest saving wins (``policy.objective``), ties broken
    by fewer promotions and then by sorted ids. Every discount is allocated to its lines by
    largest remainder, weighted by the line's amount at that lane and capped at what is left
    on the line, so lines never go negative and always sum to the total.

    Args:
        cart: The cart (lines may span stores).
        promotions: Promotion definitions (see :func:`load_promotions`); dicts or a YAML/JSON
            string are loaded and validated first.
        context: Time, member, channel, coupon codes, points and usage state.
        policy: The stacking policy (default :data:`DEFAULT_POLICY`), or a dict to validate.
        oracle: Use the brute-force oracle instead of the search (for tests and benchmarks).

    Returns:
        The priced cart with per-line adjustments, applied and not-applied promotions, 凑单
        hints and an explanation.

    Raises:
        PromotionCurrencyMismatchError: ``promotion.currency_mismatch`` when a promotion's
            currency differs from the cart's.
        UnknownCouponCodeError: ``promotion.unknown_coupon_code`` for a code no coupon has.
        CouponSpentError: ``promotion.coupon_spent`` for a coupon with no redemptions left.
        PromotionValidationError: ``promotion.duplicate_id`` for two promotions with one id,
            ``promotion.duplicate_code`` for a coupon code used by two coupons.
    """
    stacking = DEFAULT_POLICY if policy is None else load_policy(policy)
    promos: list[Promotion] = (
        load_promotions(promotions)
        if isinstance(promotions, str) or any(not isinstance(p, PromotionBase) for p in promotions)
        else list(promotions)  # type: ignore[arg-type]
    )
    candidates, rejected = _collect(cart=cart, promotions=promos, policy=stacking, context=context)
    prep = prepare(cart=cart, context=context, cap=stacking.cap)
    finder = brute_force if oracle else search
    sel = finder(prep=prep, policy=stacking, candidates=candidates)
    return _build(
        cart=cart, policy=stacking, prep=prep, sel=sel, rejected=rejected, candidates=candidates
    )
