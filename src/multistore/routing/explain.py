"""Plain-language explanations of a routing plan, for store operators."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from multistore.money import from_minor, minor_per_major
from multistore.routing.baselines import nearest_fill
from multistore.routing.cost import NANO
from multistore.routing.plan import RoutingPlan, Shipment, UnfulfilledLine
from multistore.routing.problem import Problem

if TYPE_CHECKING:
    from multistore.routing.candidates import StoreNetwork
    from multistore.routing.router import Context

__all__ = [
    "explain",
    "explain_kept",
    "pickup_sentence",
    "pinned_sentence",
    "shipments_sentence",
    "shipped_counts",
    "unfulfilled_sentences",
    "yuan",
]

_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "JPY": "¥", "GBP": "£", "HKD": "HK$"}


_YUAN_CACHE: dict[tuple[int, str], str] = {}


def yuan(minor: int, currency: str) -> str:
    """Format minor units as ``¥8.20`` (or the currency's symbol / code)."""
    key = (minor, currency)
    text = _YUAN_CACHE.get(key)
    if text is None or type(minor) is not int:
        m = from_minor(minor, currency)
        sym = _SYMBOLS.get(currency)
        text = f"{sym}{m.amount}" if sym else f"{m.amount} {currency}"
        if type(minor) is int:
            if len(_YUAN_CACHE) >= 4096:
                _YUAN_CACHE.clear()
            _YUAN_CACHE[key] = text
    return text


def _minor(s: Shipment) -> int:
    return int(s.cost.amount * minor_per_major(s.cost.currency.value))


def _lines(s: Shipment) -> str:
    return ", ".join(f"{line.sku} x{line.quantity}" for line in s.lines)


def _label(ctx: Context, store_id: str) -> str:
    return ctx.net.stores[ctx.net.index_of[store_id]].label


def explain(*, ctx: Context, plan: RoutingPlan, reason: str | None) -> tuple[str, ...]:
    """Build the explanation of ``plan`` (see :attr:`RoutingPlan.explanation`)."""
    cur = ctx.currency
    out: list[str] = []
    if reason is not None:
        out.append(f"Nothing ships: {reason}.")
    elif plan.shipments:
        minors = _minors(ctx, plan)
        labels = [_label(ctx, s.store_id) for s in plan.shipments]
        if plan.unfulfilled:  # count what ships, not what was ordered
            n_lines, n_units = shipped_counts(plan.shipments)
        else:
            n_lines = len(ctx.request.lines)
            n_units = sum(q for _s, q in ctx.request.lines)
        out.append(shipments_sentence(plan.shipments, labels, minors, cur, n_lines, n_units))
        if ctx.pickup is not None and any(not s.pickup for s in plan.shipments):
            out.append(pickup_sentence(ctx.net.stores[ctx.pickup].label))
        _claims(ctx, plan, labels, out)
        _compare(ctx, plan, out)
        if plan.optimal:
            out.append(
                f"This plan is proven optimal ({plan.mode} mode, {plan.nodes} search node(s))."
            )
        elif plan.gap is not None and plan.lower_bound is not None:
            out.append(
                f"Best plan found ({plan.mode} mode); no plan can cost less than "
                f"{yuan(int(plan.lower_bound.amount * minor_per_major(cur)), cur)}, "
                f"a gap of at most {plan.gap * 100:.2f}%."
            )
    out.extend(unfulfilled_sentences(plan.unfulfilled))
    _ineligible(ctx, plan, out)
    return tuple(out)


def shipped_counts(shipments: Sequence[Shipment]) -> tuple[int, int]:
    """Lines (distinct SKUs) and units that ``shipments`` carry."""
    skus = {line.sku for s in shipments for line in s.lines}
    return len(skus), sum(s.units for s in shipments)


def shipments_sentence(  # noqa: PLR0917 - the figures of one sentence
    shipments: Sequence[Shipment],
    labels: Sequence[str],
    minors: Sequence[int],
    currency: str,
    n_lines: int,
    n_units: int,
) -> str:
    """The sentence listing who ships what, how far and at what cost, and the shipping total.

    Args:
        shipments: The plan's shipments.
        labels: Each shipment's store label (same order).
        minors: Each shipment's rounded cost in minor units (same order).
        currency: ISO 4217 code of the costs.
        n_lines: Lines the shipments carry.
        n_units: Units the shipments carry.
    """
    parts = [
        f"{label}: {_lines(s)}, "
        f"{'picked up in store' if s.pickup else f'{s.distance_km:.1f} km'}, "
        f"{yuan(minor, currency)}"
        for s, label, minor in zip(shipments, labels, minors, strict=True)
    ]
    return (
        f"{n_lines} line(s), {n_units} unit(s) go in {len(shipments)} shipment(s): "
        + "; ".join(parts)
        + f". Shipping costs {yuan(sum(minors), currency)}."
    )


def pickup_sentence(home: str) -> str:
    """The sentence saying where the customer collects the order (``home``: the store label)."""
    return f"The customer collects at {home}; the other stores transfer to it."


def pinned_sentence(label: str, skus: Sequence[str]) -> str:
    """The sentence saying which SKUs an operator pinned to a shipping store."""
    return f"{label} ships {', '.join(skus)}: pinned by an operator."


def unfulfilled_sentences(unfulfilled: Sequence[UnfulfilledLine]) -> list[str]:
    """One sentence per unfulfilled line: how many units cannot ship and why."""
    return [f"{u.sku}: {u.quantity} unit(s) cannot ship: {u.reason}." for u in unfulfilled]


def explain_kept(
    *,
    plan: RoutingPlan,
    rejected_id: str,
    kept: Sequence[Shipment],
    moved: Sequence[Shipment],
    net: StoreNetwork,
    currency: str,
) -> tuple[str, ...]:
    """Explain a re-route that keeps the other shipments and routes only the rejected lines.

    The plan is described as merged: its shipments with their own costs, where the rejected
    lines went, pins, pickup and every unfulfilled line. No optimality is claimed: only the
    rejected lines were searched.

    Args:
        plan: The merged plan.
        rejected_id: The store that rejected its shipment.
        kept: The shipments kept from the rejected plan.
        moved: The shipments the rejected lines were routed to (possibly on kept stores).
        net: The store network (for labels).
        currency: ISO 4217 code of the costs.
    """
    stores = net.stores
    index_of = net.index_of
    kept_ids = {s.store_id for s in kept}
    targets = [
        f"{stores[index_of[s.store_id]].label} ({_lines(s)}"
        + (", added to its kept shipment)" if s.store_id in kept_ids else ")")
        for s in moved
    ]
    out = [
        (
            f"Store {rejected_id} rejected its shipment; the other {len(kept)} shipment(s) are "
            f"kept and its lines move to {', '.join(targets) or 'no store'}."
        )
    ]
    if plan.shipments:
        labels = [stores[index_of[s.store_id]].label for s in plan.shipments]
        n_lines, n_units = shipped_counts(plan.shipments)
        minors = [_minor(s) for s in plan.shipments]
        out.append(shipments_sentence(plan.shipments, labels, minors, currency, n_lines, n_units))
        home = plan.request.pickup_store
        if home is not None and any(not s.pickup for s in plan.shipments):
            out.append(pickup_sentence(stores[index_of[home]].label))
        out.extend(
            pinned_sentence(label, s.pinned)
            for s, label in zip(plan.shipments, labels, strict=True)
            if s.pinned
        )
    out.extend(unfulfilled_sentences(plan.unfulfilled))
    return tuple(out)


def _claims(ctx: Context, plan: RoutingPlan, labels: list[str], out: list[str]) -> None:
    """Why each store ships: pinned lines, and the lines no other store taking part holds.

    A store takes part when it is eligible, pinned or (re-routing) already shipping. A store
    that ships without being eligible is said to, with the reason, and never called eligible.
    """
    n_lines = len(ctx.request.lines)
    holders = ctx.sku_holders
    outsiders = _outsiders(ctx, plan)
    for s, label in zip(plan.shipments, labels, strict=True):
        only = [
            line.sku for line in s.lines if holders.get(line.sku) == 1 and line.sku not in s.pinned
        ]
        if s.pinned:
            out.append(pinned_sentence(label, s.pinned))
        outsider = bool(outsiders) and ctx.net.index_of[s.store_id] in outsiders
        if outsider:
            why_not = _why_not(ctx, ctx.net.index_of[s.store_id])
            because = "it is pinned" if s.pinned else "it already ships this order"
            out.append(f"{label} is not eligible ({why_not}) but ships because {because}.")
        if len(s.lines) == n_lines and len(plan.shipments) == 1 and not plan.unfulfilled:
            why = f"{label} takes all {n_lines} line(s)"
            if only:
                why += (
                    f": no eligible store holds {', '.join(only)}"
                    if outsider
                    else f": the only eligible store holding {', '.join(only)}"
                )
            out.append(why + ".")
        elif only:
            out.append(
                f"{label} also ships {', '.join(only)}, which no eligible store holds."
                if outsider
                else f"{label} is the only eligible store holding {', '.join(only)}."
            )


def _why_not(ctx: Context, i: int) -> str:
    """Why store ``i`` is not eligible for this order (it is not among ``ctx.elig.stores``)."""
    why = ctx.elig.reasons.get(i)
    if why is not None:
        return why
    if ctx.pickup is not None and not ctx.policy.pickup_transfers:
        return "the customer collects the order at the pickup store"
    return "outside delivery range of the destination"


def _minor_total(plan: RoutingPlan) -> int:
    return sum(_minor(s) for s in plan.shipments)


def _minors(ctx: Context, plan: RoutingPlan) -> list[int]:
    """Each shipment's cost in minor units (as the router priced them, when it says so)."""
    known = ctx.minors
    if known is not None and len(known) == len(plan.shipments):
        return known
    return [_minor(s) for s in plan.shipments]


def _compare(ctx: Context, plan: RoutingPlan, out: list[str]) -> None:
    from multistore.routing.router import nearest_alternative  # noqa: PLC0415 - cycle

    if ctx.problem.pinned_units or ctx.free:
        return
    cur = ctx.currency
    total = sum(_minors(ctx, plan))
    alt = nearest_alternative(ctx)
    if alt is None:
        return
    ids, cost = alt
    if ids == list(plan.store_ids) and cost == total:
        out.append("Filling each line from the nearest store holding it gives this same plan.")
        return
    diff = cost - total
    stores = ", ".join(ids)
    if diff > 0:
        out.append(
            f"Filling each line from the nearest store holding it ({stores}) would need "
            f"{len(ids)} shipment(s) costing {yuan(cost, cur)}, {yuan(diff, cur)} more."
        )
    elif diff < 0:
        out.append(
            f"Filling each line from the nearest store holding it ({stores}) would cost "
            f"{yuan(cost, cur)}, {yuan(-diff, cur)} less in shipping, but "
            f"{_not_chosen(ctx, plan, len(ids))}."
        )
    else:
        out.append(
            f"Filling each line from the nearest store holding it ({stores}) costs the same "
            f"{yuan(cost, cur)}; {_not_chosen(ctx, plan, len(ids))}."
        )


def _not_chosen(ctx: Context, plan: RoutingPlan, count: int) -> str:
    """Why the router did not pick the nearest fill of ``count`` shipments (no dearer in shipping).

    The router minimises the exact (unrounded) shipping cost plus the split penalty, within the
    shipment limit; shipping costs are rounded to the minor unit shipment by shipment afterwards.
    The clause names whichever of these makes the difference, with the figures compared.
    """
    cur = ctx.currency
    limit = ctx.policy.max_shipments
    if limit is not None and count > limit:
        return f"it needs {count} shipment(s), more than the limit of {limit}"
    p = ctx.problem
    pen = ctx.penalty_nano
    alt_exact = _nearest_exact(p)
    own_exact = _plan_exact(ctx, plan)
    alt_obj = alt_exact + pen * max(0, count - 1)
    own_obj = own_exact + pen * max(0, len(plan.shipments) - 1)
    if alt_obj > own_obj:
        if alt_exact > own_exact:
            a, b = _exact_texts(alt_exact, own_exact, cur)
            return (
                f"before rounding it costs {a} against {b} for this plan; the router compares "
                f"exact costs, and rounding each shipment to {yuan(1, cur)} reverses the order"
            )
        a, b = _exact_texts(alt_obj, own_obj, cur)
        return (
            f"with the split penalty of {yuan(pen // NANO, cur)} per extra shipment its "
            f"{count} shipment(s) come to {a} against {b} for this plan"
        )
    if alt_obj == own_obj:
        return "the tie-break (priority, distance, id) chose this plan"
    return (
        f"the search stopped before finding it ({plan.mode} mode; this plan is not proven optimal)"
        if not plan.optimal
        else "the policy rules it out"
    )


def _nearest_exact(p: Problem) -> int:
    """Exact shipping cost (nano-minor units) of the nearest fill of the problem's demand."""
    assignment, _short = nearest_fill(p)
    return sum(_exact(p, r, [(p.skus[k], t) for k, t in parts]) for r, parts in assignment.items())


def _plan_exact(ctx: Context, plan: RoutingPlan) -> int:
    """Exact shipping cost (nano-minor units) of the plan's shipments, before rounding."""
    p = ctx.problem
    rank_of = {ni: r for r, ni in enumerate(p.net_index)}
    index_of = ctx.net.index_of
    return sum(
        _exact(p, rank_of[index_of[s.store_id]], [(line.sku, line.quantity) for line in s.lines])
        for s in plan.shipments
    )


def _exact(p: Problem, r: int, lines: list[tuple[str, int]]) -> int:
    return p.fixed_nano[r] + sum(q * p.unit_cost(r, sku) for sku, q in lines)


def _exact_texts(a: int, b: int, currency: str) -> tuple[str, str]:
    """Two exact amounts (nano-minor units) in major units, with as many decimals as needed."""
    scale = Decimal(NANO * minor_per_major(currency))
    amounts = [Decimal(a) / scale, Decimal(b) / scale]
    places = max(
        [_places(minor_per_major(currency))]
        + [-min(0, int(x.normalize().as_tuple().exponent)) for x in amounts]
    )
    sym = _SYMBOLS.get(currency)
    first, second = (
        f"{sym}{x:.{places}f}" if sym else f"{x:.{places}f} {currency}" for x in amounts
    )
    return first, second


def _places(minor_per_major: int) -> int:
    return len(str(minor_per_major)) - 1


def _ineligible(ctx: Context, plan: RoutingPlan, out: list[str]) -> None:
    """List the stores not considered and count those out of range (never a shipping store)."""
    reasons = ctx.elig.reasons
    unreachable = ctx.elig.unreachable
    outsiders = _outsiders(ctx, plan)
    if outsiders:
        reasons = {i: why for i, why in reasons.items() if i not in outsiders}
        unreachable -= sum(1 for i in outsiders if i not in ctx.elig.reasons and _unreached(ctx, i))
    if reasons:
        stores = ctx.net.stores
        shown = [f"{stores[i].store_id} ({why})" for i, why in sorted(reasons.items())[:5]]
        more = len(reasons) - len(shown)
        tail = f" and {more} more" if more > 0 else ""
        out.append(f"Not considered: {', '.join(shown)}{tail}.")
    if unreachable:
        out.append(f"{unreachable} store(s) are outside delivery range of the destination.")


def _outsiders(ctx: Context, plan: RoutingPlan) -> set[int]:
    """Network indices of the shipping stores that are not eligible (pinned or already shipping)."""
    if not ctx.problem.pinned_units and not ctx.free:
        return set()
    index_of = ctx.net.index_of
    shipping = {index_of[s.store_id] for s in plan.shipments}
    return shipping.difference(ctx.elig.stores)


def _unreached(ctx: Context, i: int) -> bool:
    """Whether store ``i`` is among the stores counted as out of range of the destination."""
    if not ctx.elig.unreachable:
        return False
    target = ctx.request.destination
    if ctx.pickup is not None:
        target = ctx.net.stores[ctx.pickup].location
    assert target is not None
    return not ctx.net.in_reach(i, target)
