"""Bulk allocation + VAT for many orders at once (month-end runs, data jobs).

:func:`allocate_and_tax_batch` gives, order by order, the same integer results as
:func:`~multistore.tax.allocate_minor_lines` followed by :func:`~multistore.tax.vat_split_minor`
(the property tests check the equality), but processes every order's k-th adjustment in one
vectorised step over int64 arrays. Everything stays in exact integers: floor division and
remainders, never floats. Inputs whose products could overflow int64 fall back to the
per-order Python path.

Supported shape: every adjustment applies to every line of its order, weighted by the lines'
current amounts (the default of :func:`~multistore.tax.allocate`). Orders with restricted or
explicitly weighted adjustments go through :func:`~multistore.tax.allocate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import chain
from operator import itemgetter
from typing import Any

import attrs

from multistore.tax.allocation import Effect, allocate_minor_lines
from multistore.tax.errors import AllocationError
from multistore.tax.vat import vat_split_minor

__all__ = ["BatchResult", "allocate_and_tax_batch"]

_LIMIT = 1 << 62
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_CHUNK = 8192


@attrs.frozen
class BatchResult:
    """Results of :func:`allocate_and_tax_batch` as flat per-line int64 numpy arrays.

    Orders are concatenated in input order; ``.tolist()`` gives plain Python ints.

    Attributes:
        order_index: For each line, the index of its order.
        shares: ``shares[k, j]``: line ``j``'s share of its order's k-th adjustment (0 when the
            order has fewer adjustments); shape ``(max adjustments, lines)``.
        taxable: Taxable amount per line after discounts and charges.
        net: Net (excl. VAT) per line.
        tax: VAT per line.
    """

    order_index: Any
    shares: Any
    taxable: Any
    net: Any
    tax: Any


def allocate_and_tax_batch(
    *,
    amounts: Sequence[Sequence[int]],
    rates: Sequence[Sequence[Fraction]],
    adjustments: Sequence[Sequence[tuple[Effect, int]]],
    prices_include_tax: bool = True,
) -> BatchResult:
    """Allocate every order's adjustments and compute VAT per line, for many orders at once.

    Args:
        amounts: Per order, the line amounts in minor units (not negative).
        rates: Per order, one rate per line (exact Fractions such as ``Fraction(13, 100)``).
        adjustments: Per order, ``(effect, total)`` pairs applied in order (totals >= 0).
        prices_include_tax: Whether line amounts include VAT.

    Returns:
        Flat per-line results (see :class:`BatchResult`).

    Raises:
        AllocationError: mismatched input lengths, negative amounts, or a discount larger than
            its order.
    """
    import numpy as np  # noqa: PLC0415 - optional fast path; numpy comes with shapely

    n_orders = len(amounts)
    if not (n_orders == len(rates) == len(adjustments)):
        raise AllocationError("amounts, rates and adjustments need one entry per order")
    if n_orders <= _CHUNK:
        return _batch(amounts, rates, adjustments, prices_include_tax=prices_include_tax)
    # cache-sized chunks are faster than one huge pass
    parts = [
        _batch(
            amounts[i : i + _CHUNK],
            rates[i : i + _CHUNK],
            adjustments[i : i + _CHUNK],
            prices_include_tax=prices_include_tax,
        )
        for i in range(0, n_orders, _CHUNK)
    ]
    k_max = max(p.shares.shape[0] for p in parts)
    n_lines = sum(len(p.net) for p in parts)
    dtype = object if any(p.net.dtype == object for p in parts) else np.int64
    shares = np.zeros((k_max, n_lines), dtype=dtype)
    col = 0
    for p in parts:
        shares[: p.shares.shape[0], col : col + len(p.net)] = p.shares
        col += len(p.net)
    return BatchResult(
        np.concatenate([p.order_index + i * _CHUNK for i, p in enumerate(parts)]),
        shares,
        np.concatenate([p.taxable for p in parts]),
        np.concatenate([p.net for p in parts]),
        np.concatenate([p.tax for p in parts]),
    )


def _batch(
    amounts: Sequence[Sequence[int]],
    rates: Sequence[Sequence[Fraction]],
    adjustments: Sequence[Sequence[tuple[Effect, int]]],
    *,
    prices_include_tax: bool,
) -> BatchResult:
    """One chunk of :func:`allocate_and_tax_batch`."""
    import numpy as np  # noqa: PLC0415

    n_orders = len(amounts)
    try:
        sizes, cur, order, starts = _line_arrays(amounts, rates)
        totals, effects = _adjustment_matrix(adjustments, n_orders)
    except OverflowError:  # amounts beyond int64: exact Python ints instead
        return _python(amounts, rates, adjustments, prices_include_tax)
    n_lines = len(cur)
    num_d, den_d, rate_idx = _rate_arrays(rates, n_lines)
    biggest = int((np.add.reduceat(cur, starts) + totals.sum(axis=0)).max()) + 1
    max_den = max((int(d) + int(n) for n, d in zip(num_d, den_d, strict=True)), default=1)
    if biggest * biggest * 4 >= _LIMIT or biggest * 4 * max_den >= _LIMIT:
        return _python(amounts, rates, adjustments, prices_include_tax)
    k_max = totals.shape[0]
    shares = np.zeros((k_max, n_lines), dtype=np.int64)
    idx = np.arange(n_lines, dtype=np.int64)
    pos = idx - starts[order]
    width = int(sizes.max()) if n_orders else 0
    for k in range(k_max):
        eff_o = effects[k]
        tot_o = totals[k]
        wsum = np.add.reduceat(cur, starts)
        if ((eff_o > 0) & (wsum == 0) & (tot_o > 0)).any():
            return _python(amounts, rates, adjustments, prices_include_tax)
        if ((eff_o == 1) & (tot_o > wsum)).any():
            raise AllocationError("a discount exceeds what its order's lines hold")
        # inactive orders have total 0, so their lines get q = r = 0
        safe = np.where(wsum == 0, 1, wsum)
        q, r = np.divmod(tot_o[order] * cur, safe[order])
        left = tot_o - np.add.reduceat(q, starts)
        if left.any():
            if width <= 16:
                q += _leftover_small(r, left, order, pos=pos, width=width)
            else:
                q += _leftover(r, left, int(wsum.max()), order, starts=starts, idx=idx)
        shares[k] = q
        sign_o = np.where(eff_o == 1, -1, np.where(eff_o == 2, 1, 0))
        cur += sign_o[order] * q
    num = num_d.astype(np.int64)[rate_idx]
    den = den_d.astype(np.int64)[rate_idx]
    if prices_include_tax:
        d = den + num
        net = (2 * cur * den + d) // (2 * d)
        tax = cur - net
    else:
        net = cur.copy()
        tax = (2 * cur * num + den) // (2 * den)
    return BatchResult(order, shares, cur, net, tax)


def _line_arrays(
    amounts: Sequence[Sequence[int]], rates: Sequence[Sequence[Fraction]]
) -> tuple[Any, Any, Any, Any]:
    """Return ``(sizes, amounts, order index, order starts)`` as int64 arrays, validated."""
    import numpy as np  # noqa: PLC0415

    n_orders = len(amounts)
    sizes = np.fromiter(map(len, amounts), dtype=np.int64, count=n_orders)
    rate_sizes = np.fromiter(map(len, rates), dtype=np.int64, count=n_orders)
    if (sizes != rate_sizes).any() or (sizes == 0).any():
        raise AllocationError("each order needs at least one line and one rate per line")
    n_lines = int(sizes.sum())
    cur = np.fromiter(chain.from_iterable(amounts), dtype=np.int64, count=n_lines)
    order = np.repeat(np.arange(n_orders, dtype=np.int64), sizes)
    starts = np.zeros(n_orders, dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    if n_lines and int(cur.min()) < 0:
        raise AllocationError("line amounts must not be negative")
    return sizes, cur, order, starts


def _adjustment_matrix(
    adjustments: Sequence[Sequence[tuple[Effect, int]]], n_orders: int
) -> tuple[Any, Any]:
    """Return ``(totals, effects)`` as (k_max x orders) arrays.

    Effects: 0 none, 1 discount, 2 charge, 3 fee.
    """
    import numpy as np  # noqa: PLC0415

    counts = np.fromiter(map(len, adjustments), dtype=np.int64, count=n_orders)
    k_max = int(counts.max()) if n_orders else 0
    n_adj = int(counts.sum())
    totals = np.zeros((k_max, n_orders), dtype=np.int64)
    effects = np.zeros((k_max, n_orders), dtype=np.int8)
    if n_adj:
        # Everything below runs in C: enum members are told apart by identity (Enum hashing
        # is Python-level and slow), totals are pulled out with itemgetter.
        flat = list(chain.from_iterable(adjustments))
        kinds = np.fromiter(map(id, map(_FIRST, flat)), dtype=np.uint64, count=n_adj)
        amounts = np.fromiter(map(_SECOND, flat), dtype=np.int64, count=n_adj)
        codes = np.where(
            kinds == id(Effect.DISCOUNT), 1, np.where(kinds == id(Effect.CHARGE), 2, 3)
        )
        adj_order = np.repeat(np.arange(n_orders, dtype=np.int64), counts)
        adj_start = np.zeros(n_orders, dtype=np.int64)
        np.cumsum(counts[:-1], out=adj_start[1:])
        adj_k = np.arange(n_adj, dtype=np.int64) - adj_start[adj_order]
        totals[adj_k, adj_order] = amounts
        effects[adj_k, adj_order] = codes
    if (totals < 0).any():
        raise AllocationError("adjustment totals must not be negative")
    return totals, effects


def _rate_arrays(rates: Sequence[Sequence[Fraction]], n_lines: int) -> tuple[Any, Any, Any]:
    """Return numerators and denominators of the distinct rates, and each line's index.

    Fractions hash slowly, so distinct rates are found by identity.
    """
    import numpy as np  # noqa: PLC0415

    flat_rates = list(chain.from_iterable(rates))
    ids = np.fromiter(map(id, flat_rates), dtype=np.uint64, count=n_lines)
    _, first, rate_idx = np.unique(ids, return_index=True, return_inverse=True)
    objs = [flat_rates[int(j)] for j in first]
    if any(r < 0 for r in objs):
        raise AllocationError("rates must not be negative")
    num_d = np.array([r.numerator for r in objs], dtype=object)
    den_d = np.array([r.denominator for r in objs], dtype=object)
    return num_d, den_d, rate_idx.ravel()


def _leftover_small(r: Any, left: Any, order: Any, *, pos: Any, width: int) -> Any:
    """Return the +1 per line for orders of at most ``width`` lines, without sorting.

    A line's rank in its order is the number of lines with a larger remainder, or an equal one
    earlier in the order; the ``left`` best-ranked lines of each order get one more unit.
    """
    import numpy as np  # noqa: PLC0415

    n_orders = len(left)
    grid = np.full((n_orders, width), -1, dtype=np.int64)
    grid[order, pos] = r
    other = grid[:, None, :]
    mine = grid[:, :, None]
    earlier = np.tri(width, width, -1, dtype=bool)  # earlier[i, j]: j < i
    beats = (other > mine) | ((other == mine) & earlier)
    rank = beats.sum(axis=2)
    return (rank[order, pos] < left[order]).astype(np.int64)


def _leftover(r: Any, left: Any, wmax: int, order: Any, *, starts: Any, idx: Any) -> Any:
    """Return the +1 per line that largest remainder hands out.

    In each order, ``left`` units go to the largest remainders, the earlier line first on ties
    (as ``allocate_minor`` does).
    """
    import numpy as np  # noqa: PLC0415

    n_lines = len(r)
    extra = np.zeros(n_lines, dtype=np.int64)
    max_left = int(left.max())
    if max_left <= 8 and (wmax + 1) * (n_lines + 1) < _LIMIT:
        # one round per unit: each order's best remaining line wins one
        key = r * (n_lines + 1) + (n_lines - idx)
        need = left.copy()
        for _ in range(max_left):
            best = np.maximum.reduceat(key, starts)
            win = (key == best[order]) & (need[order] > 0)
            extra += win
            need -= np.add.reduceat(win.astype(np.int64), starts)
            key = np.where(win, -1, key)
        return extra
    span = wmax + 1
    if span * (len(starts) + 1) < _LIMIT:
        # one int64 key: order first, then larger remainder; the stable sort keeps line order
        perm = np.argsort(order * span + (span - 1 - r), kind="stable")
    else:
        perm = np.lexsort((idx, -r, order))
    rank = np.empty(n_lines, dtype=np.int64)
    rank[perm] = idx - starts[order[perm]]
    extra += rank < left[order]
    return extra


def _python(
    amounts: Sequence[Sequence[int]],
    rates: Sequence[Sequence[Fraction]],
    adjustments: Sequence[Sequence[tuple[Effect, int]]],
    inclusive: bool,
) -> BatchResult:
    k_max = max((len(a) for a in adjustments), default=0)
    order_index: list[int] = []
    shares: list[list[int]] = [[] for _ in range(k_max)]
    taxable: list[int] = []
    net: list[int] = []
    tax: list[int] = []
    for i, (am, rt, adjs) in enumerate(zip(amounts, rates, adjustments, strict=True)):
        rows = allocate_minor_lines(amounts=am, adjustments=adjs)
        cur = list(am)
        for (eff, _), row in zip(adjs, rows, strict=True):
            for j, s in enumerate(row):
                if eff is Effect.DISCOUNT:
                    cur[j] -= s
                elif eff is Effect.CHARGE:
                    cur[j] += s
        for k in range(k_max):
            shares[k].extend(rows[k] if k < len(rows) else [0] * len(am))
        for t, r in zip(cur, rt, strict=True):
            n_, t_ = vat_split_minor(t, r, prices_include_tax=inclusive)
            net.append(n_)
            tax.append(t_)
        taxable.extend(cur)
        order_index.extend([i] * len(am))
    import numpy as np  # noqa: PLC0415

    n = len(taxable)
    return BatchResult(
        np.array(order_index, dtype=np.int64),
        np.array(shares, dtype=object).reshape(k_max, n) if k_max else np.zeros((0, n), np.int64),
        np.array(taxable, dtype=object),
        np.array(net, dtype=object),
        np.array(tax, dtype=object),
    )
