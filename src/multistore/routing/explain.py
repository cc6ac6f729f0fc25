"""Plain-language explanations of a routing plan, for store operators."""

from __future__ import annotations

from typing import TYPE_CHECKING

from multistore.money import from_minor, minor_per_major
from multistore.routing.plan import RoutingPlan, Shipment

if TYPE_CHECKING:
    from multistore.routing.router import Context

__all__ = ["explain", "yuan"]

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
    n_lines = len(ctx.request.lines)
    n_units = sum(q for _s, q in ctx.request.lines)
    if reason is not None:
        out.append(f"Nothing ships: {reason}.")
    elif plan.shipments:
        minors = _minors(ctx, plan)
        labels = [_label(ctx, s.store_id) for s in plan.shipments]
        parts = [
            f"{label}: {_lines(s)}, "
            f"{'picked up in store' if s.pickup else f'{s.distance_km:.1f} km'}, "
            f"{yuan(minor, cur)}"
            for s, label, minor in zip(plan.shipments, labels, minors, strict=True)
        ]
        out.append(
            f"{n_lines} line(s), {n_units} unit(s) go in {len(plan.shipments)} shipment(s): "
            + "; ".join(parts)
            + f". Shipping costs {yuan(sum(minors), cur)}."
        )
        if ctx.pickup is not None and any(not s.pickup for s in plan.shipments):
            home = ctx.net.stores[ctx.pickup].label
            out.append(f"The customer collects at {home}; the other stores transfer to it.")
        holders = ctx.sku_holders
        for s, label in zip(plan.shipments, labels, strict=True):
            only = [
                line.sku
                for line in s.lines
                if holders.get(line.sku) == 1 and line.sku not in s.pinned
            ]
            if s.pinned:
                out.append(f"{label} ships {', '.join(s.pinned)}: pinned by an operator.")
            if len(s.lines) == n_lines and len(plan.shipments) == 1:
                why = f"{label} takes all {n_lines} line(s)"
                if only:
                    why += f": the only eligible store holding {', '.join(only)}"
                out.append(why + ".")
            elif only:
                out.append(f"{label} is the only eligible store holding {', '.join(only)}.")
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
    out.extend(f"{u.sku}: {u.quantity} unit(s) cannot ship: {u.reason}." for u in plan.unfulfilled)
    _ineligible(ctx, out)
    return tuple(out)


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
            f"{yuan(cost, cur)}, {yuan(-diff, cur)} less in shipping, but it needs "
            f"{len(ids)} shipment(s), which the split penalty or the shipment limit rules out."
        )
    else:
        out.append(
            f"Filling each line from the nearest store holding it ({stores}) costs the same "
            f"{yuan(cost, cur)}; the tie-break (priority, distance, id) chose this plan."
        )


def _ineligible(ctx: Context, out: list[str]) -> None:
    reasons = ctx.elig.reasons
    if reasons:
        stores = ctx.net.stores
        shown = [f"{stores[i].store_id} ({why})" for i, why in sorted(reasons.items())[:5]]
        more = len(reasons) - len(shown)
        tail = f" and {more} more" if more > 0 else ""
        out.append(f"Not considered: {', '.join(shown)}{tail}.")
    if ctx.elig.unreachable:
        out.append(
            f"{ctx.elig.unreachable} store(s) are outside delivery range of the destination."
        )
