"""Bulk allocation + VAT for many orders at once (month-end runs, data jobs).

:func:`allocate_and_tax_batch` gives, order by order, the same integer results as
:func:`~multistore.tax.allocate_minor_lines` followed by :func:`~multistore.tax.vat_split_minor`
(the property tests check the equality), but processes the k-th adjustment of every order of
one line count in one vectorised step over int64 arrays (see :func:`_allocate`). Everything
stays in exact integers: floor division and remainders, never floats. Inputs whose products
could overflow int64 fall back to the per-order Python path, which checks the input the same
way first (the same :class:`~multistore.tax.errors.AllocationError` for the same bad order).

Supported shape: every adjustment applies to every line of its order, weighted by the lines'
current amounts (the default of :func:`~multistore.tax.allocate`). Orders with restricted or
explicitly weighted adjustments go through :func:`~multistore.tax.allocate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import chain, pairwise
from operator import itemgetter
from typing import Any

import attrs

from multistore.tax.allocation import Effect
from multistore.tax.errors import AllocationError
from multistore.tax.vat import allocate_and_tax_minor

__all__ = ["BatchResult", "allocate_and_tax_batch"]

_LIMIT = 1 << 62
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_CHUNK = 1 << 16  # orders per vectorised pass (bounds the working memory)
_READ = 512  # orders per slice when reading the input (cache-sized)
_EXACT = 8  # orders of up to this many lines are grouped by exact size
_FEW_RATES = 16  # up to this many distinct rate objects are found by a table on their ids
_SAMPLE = 256  # lines whose rate objects are tried first for every line
_PAIRWISE = 16  # widths up to this rank remainders by pairwise comparison, wider by argsort


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
        AllocationError: mismatched input lengths, orders without lines, negative amounts,
            totals or rates (``tax.allocation``), or a discount larger than its order
            (``tax.allocation_exceeds``); nothing is returned for the batch.
    """
    import numpy as np  # noqa: PLC0415 - optional fast path; numpy comes with shapely

    n_orders = len(amounts)
    if not (n_orders == len(rates) == len(adjustments)):
        raise AllocationError("amounts, rates and adjustments need one entry per order")
    if not n_orders:
        empty = np.zeros(0, dtype=np.int64)
        return BatchResult(empty, np.zeros((0, 0), dtype=np.int64), empty, empty, empty)
    if n_orders <= _CHUNK:
        return _batch(amounts, rates, adjustments, prices_include_tax=prices_include_tax)
    # chunks bound the working memory (the per-step arrays and the remainder comparisons)
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

    try:
        col = _convert(amounts, rates, adjustments)
        nums, dens, rate_code = _rate_codes(rates, col.rate_ids, col.starts)
    except OverflowError:  # amounts or rates beyond int64: exact Python ints instead
        return _python(amounts, rates, adjustments, prices_include_tax)
    if not _fits_int64(col, int((nums + dens).max())):
        return _python(amounts, rates, adjustments, prices_include_tax)
    shares, taxable = _allocate(col)
    if prices_include_tax:
        # net = round_half_up(taxable * den / (den + num)); tax = taxable - net
        half = (nums + dens)[rate_code]
        net = (taxable * (2 * dens)[rate_code] + half) // (2 * half)
        tax = taxable - net
    else:
        # tax = round_half_up(taxable * num / den)
        net = taxable.copy()
        tax = (taxable * (2 * nums)[rate_code] + dens[rate_code]) // (2 * dens)[rate_code]
    order = np.zeros(len(taxable), dtype=np.int64)
    order[col.starts[1:]] = 1
    np.cumsum(order, out=order)
    return BatchResult(order, shares, taxable, net, tax)


@attrs.frozen
class _Group:
    """Orders of one width, as a ``(width, orders)`` block of the cell layout."""

    offset: int  # first cell of the block
    width: int
    orders: Any  # order indexes, most adjustments first
    mask: Any  # (width, orders) real-line mask, None when no cell is padding


def _layout(col: _Columns) -> tuple[Any, list[_Group]]:
    """Group the orders by width and lay their lines out as cells, group after group.

    Within a group, orders are sorted by adjustment count, most first, so the orders that have
    a k-th adjustment are a prefix. Returns the line index of every cell (``n_lines`` for
    padding) and the groups.
    """
    import numpy as np  # noqa: PLC0415

    n_lines = len(col.cur)
    k_max = int(col.counts.max())
    width = _widths(col.sizes)
    key = width * (k_max + 1) + (k_max - col.counts)
    if int(key.max()) < 1 << 15:
        key = key.astype(np.int16)  # a stable sort of int16 is a radix sort
    perm = np.argsort(key, kind="stable")
    ws = width[perm]
    cuts = [0, *(np.flatnonzero(ws[1:] != ws[:-1]) + 1).tolist(), len(perm)]
    blocks: list[Any] = []
    groups: list[_Group] = []
    size = 0
    for lo, hi in pairwise(cuts):
        orders = perm[lo:hi]
        w = int(ws[lo])
        pos = np.arange(w, dtype=np.int64)[:, None]
        where = col.starts[orders] + pos
        mask = None
        if w != int(col.sizes[orders].min()):
            mask = pos < col.sizes[orders]
            where = np.where(mask, where, n_lines)
        blocks.append(where.ravel())
        groups.append(_Group(size, w, orders, mask))
        size += w * (hi - lo)
    return np.concatenate(blocks), groups


def _allocate(col: _Columns) -> tuple[Any, Any]:
    """Return ``(shares, taxable)`` of every line (see :class:`BatchResult`).

    A group is a dense ``(width, orders)`` view of the cell array: sums over an order's lines
    are adds of ``width`` contiguous rows, and step ``k`` works on the prefix of orders that
    have a k-th adjustment, without gathers, ``reduceat`` or sorting.
    """
    import numpy as np  # noqa: PLC0415

    n_lines = len(col.cur)
    n_adj = len(col.totals)
    k_max = int(col.counts.max())
    cells, groups = _layout(col)
    padded = len(cells) != n_lines
    flat = np.append(col.cur, 0)[cells] if padded else col.cur[cells]
    got = np.zeros((k_max, len(cells)), dtype=np.int64)
    tot_x = np.append(col.totals, 0)
    sign_x = np.append(col.sign, 0)
    for g in groups:
        w, n, off = g.width, len(g.orders), g.offset
        mat = flat[off : off + w * n].reshape(w, n)
        cnt = col.counts[g.orders]
        actives = np.searchsorted(-cnt, -np.arange(int(cnt[0])), side="left").tolist()
        at = np.minimum(col.adj_start[g.orders] + np.arange(len(actives))[:, None], n_adj)
        tot = tot_x[at]
        sign = sign_x[at]
        pos = np.arange(w, dtype=np.int64)[:, None]
        for k, active in enumerate(actives):
            c = mat[:, :active]
            mask = None if g.mask is None else g.mask[:, :active]
            q = _step(c, tot[k, :active], sign[k, :active], pos=pos, mask=mask)
            got[k, off : off + w * n].reshape(w, n)[:, :active] = q
            c += q * sign[k, :active]
    # back to line order: the cell of each line (padding cells all land on the spare slot)
    cell_of = np.empty(n_lines + 1, dtype=np.intp)
    cell_of[cells] = np.arange(len(cells), dtype=np.intp)
    cell_of = cell_of[:n_lines]
    return np.take(got, cell_of, axis=1), np.take(flat, cell_of)


def _fits_int64(col: _Columns, max_den: int) -> bool:
    """Whether every product formed by :func:`_batch` stays below 2**62.

    The biggest amount a step meets is bounded, per order, by its lines plus its adjustments;
    products are at most that squared (shares), times the width (remainder keys) or times
    ``2 (num + den)`` (VAT).
    """
    import numpy as np  # noqa: PLC0415

    wmax = int(col.sizes.max())
    n_adj = len(col.totals)
    tmax = int(col.totals.max()) if n_adj else 0
    if int(col.cur.max()) * wmax >= _LIMIT or tmax * (n_adj + 1) >= _LIMIT:
        return False
    tsum = np.zeros(n_adj + 1, dtype=np.int64)
    np.cumsum(col.totals, out=tsum[1:])
    order_sum = (
        np.add.reduceat(col.cur, col.starts)
        + tsum[col.adj_start + col.counts]
        - tsum[col.adj_start]
    )
    biggest = int(order_sum.max()) + 1
    return (
        biggest * biggest * 4 < _LIMIT
        and biggest * 4 * max_den < _LIMIT
        and biggest * (wmax + 1) < _LIMIT
    )


def _step(c: Any, tot: Any, sign: Any, *, pos: Any, mask: Any) -> Any:
    """Split each column's ``tot`` over the rows of ``c`` by largest remainder.

    ``c`` is ``(w, orders)``: the current line amounts (the weights), padding rows 0 and ``mask``
    False there. ``sign`` is -1 for a discount. Weights all zero mean equal weights over the real
    lines (as in ``allocate_minor_lines``).
    """
    import numpy as np  # noqa: PLC0415

    w = len(c)
    wsum = c.sum(axis=0)
    short = tot > wsum
    if short.any():  # rare: a discount too large, or nothing to weigh by
        if (short & (sign < 0)).any():
            raise AllocationError(
                "a discount exceeds what its order's lines hold; reduce the discount",
                code="tax.allocation_exceeds",
            )
        zero = wsum == 0
        real = np.ones_like(c) if mask is None else mask.astype(np.int64)
        c = np.where(zero, real, c)
        wsum = c.sum(axis=0)
    if w == 1:
        return tot[None, :].copy()
    q, r = np.divmod(c * tot, np.maximum(wsum, 1))
    left = tot - q.sum(axis=0)
    if left.any():
        # unique key per line: larger remainder first, earlier line first on ties
        key = r * w + (w - 1 - pos)
        if w <= _PAIRWISE:
            rank = (key[None, :, :] > key[:, None, :]).sum(axis=1, dtype=np.int8)
        else:
            rank = np.empty_like(key)
            np.put_along_axis(rank, np.argsort(-key, axis=0), pos, axis=0)
        q += rank < left
    return q


def _widths(sizes: Any) -> Any:
    """Group width per order: its line count up to 8, then the next of 12, 16, 24, 32, 48..."""
    import numpy as np  # noqa: PLC0415

    if int(sizes.max()) <= _EXACT:
        return sizes
    distinct = np.unique(sizes).tolist()
    table = np.zeros(distinct[-1] + 1, dtype=np.int64)
    for s in distinct:
        w = s
        if s > _EXACT:
            w = 1 << (s - 1).bit_length()
            if 3 * w // 4 >= s:
                w = 3 * w // 4
        table[s] = w
    return table[sizes]


@attrs.frozen
class _Columns:
    """The orders as flat int64 arrays (see :func:`_convert`)."""

    sizes: Any  # lines per order
    cur: Any  # line amounts, orders concatenated
    starts: Any  # first line of each order
    counts: Any  # adjustments per order
    adj_start: Any  # first adjustment of each order
    totals: Any  # adjustment totals, orders concatenated
    sign: Any  # -1 discount, +1 charge, 0 fee
    rate_ids: Any  # id() of each line's rate object


def _convert(
    amounts: Sequence[Sequence[int]],
    rates: Sequence[Sequence[Fraction]],
    adjustments: Sequence[Sequence[tuple[Effect, int]]],
) -> _Columns:
    """Read the nested Python lists into flat arrays, validated.

    Reading touches every list, tuple and int once per pass; slices of :data:`_READ` orders keep
    one slice's objects in cache across the passes (reading all orders in each pass is slower
    by half on 10^4 orders). Everything runs in C iterators: enum members are told apart by
    identity (Enum hashing is Python-level), totals are pulled out with itemgetter.

    Raises:
        OverflowError: an amount or total does not fit int64.
    """
    import numpy as np  # noqa: PLC0415

    parts: list[list[Any]] = [[] for _ in range(7)]
    for i in range(0, len(amounts), _READ):
        am = amounts[i : i + _READ]
        rt = rates[i : i + _READ]
        ad = adjustments[i : i + _READ]
        n = len(am)
        sizes = np.fromiter(map(len, am), dtype=np.int64, count=n)
        rate_sizes = np.fromiter(map(len, rt), dtype=np.int64, count=n)
        n_lines = int(sizes.sum())
        if (sizes != rate_sizes).any():
            raise AllocationError("each order needs one rate per line")
        cur = np.fromiter(chain.from_iterable(am), dtype=np.int64, count=n_lines)
        ids = np.fromiter(map(id, chain.from_iterable(rt)), dtype=np.uint64, count=n_lines)
        counts = np.fromiter(map(len, ad), dtype=np.int64, count=n)
        flat = list(chain.from_iterable(ad))
        kinds = np.fromiter(map(id, map(_FIRST, flat)), dtype=np.uint64, count=len(flat))
        totals = np.fromiter(map(_SECOND, flat), dtype=np.int64, count=len(flat))
        for part, arr in zip(parts, (sizes, cur, ids, counts, kinds, totals), strict=False):
            part.append(arr)
    sizes, cur, ids, counts, kinds, totals = (np.concatenate(p) for p in parts[:6])
    if (sizes == 0).any():
        raise AllocationError("each order needs at least one line")
    if len(cur) and int(cur.min()) < 0:
        raise AllocationError("line amounts must not be negative")
    if len(totals) and int(totals.min()) < 0:
        raise AllocationError("adjustment totals must not be negative")
    starts = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    adj_start = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(counts[:-1], out=adj_start[1:])
    sign = (kinds == id(Effect.CHARGE)).astype(np.int64) - (kinds == id(Effect.DISCOUNT))
    return _Columns(sizes, cur, starts, counts, adj_start, totals, sign, ids)


def _rate_codes(rates: Sequence[Sequence[Fraction]], ids: Any, starts: Any) -> tuple[Any, Any, Any]:
    """Return the numerators and denominators of the distinct rates, and each line's index.

    Fractions hash slowly, so distinct rates are found by identity (``ids``).

    Raises:
        OverflowError: a numerator or denominator does not fit int64.
    """
    import numpy as np  # noqa: PLC0415

    # usually a few rate objects serve every line: try those of the first lines
    distinct = np.unique(ids[:_SAMPLE])
    code = _few_codes(distinct, ids) if len(distinct) <= _FEW_RATES else None
    if code is None:
        distinct = np.unique(ids)
        code = np.searchsorted(distinct, ids)
        first = np.unique(ids, return_index=True)[1].tolist()
    else:
        first = [int(np.argmax(ids == x)) for x in distinct]
    order = np.searchsorted(starts, first, side="right") - 1
    begin = starts[order].tolist()
    fracs = [rates[o][i - b] for o, i, b in zip(order.tolist(), first, begin, strict=True)]
    if any(f < 0 for f in fracs):
        raise AllocationError("rates must not be negative")
    nums = [f.numerator for f in fracs]
    dens = [f.denominator for f in fracs]
    if max(nums) >= _LIMIT or max(dens) >= _LIMIT:
        raise OverflowError
    return np.array(nums, dtype=np.int64), np.array(dens, dtype=np.int64), code


def _few_codes(distinct: Any, ids: Any) -> Any:
    """Index in ``distinct`` of each of ``ids``, or ``None`` when one is missing.

    A 1024-slot table on bits of the id replaces a binary search; the ids found are checked.
    """
    import numpy as np  # noqa: PLC0415

    slot = (distinct >> np.uint64(4)) & np.uint64(1023)
    if len(np.unique(slot)) < len(distinct):
        code = np.minimum(np.searchsorted(distinct, ids), len(distinct) - 1)
    else:
        table = np.zeros(1024, dtype=np.intp)
        table[slot] = np.arange(len(distinct))
        code = table[(ids >> np.uint64(4)) & np.uint64(1023)]
    return code if bool((distinct[code] == ids).all()) else None


def _check(
    amounts: Sequence[Sequence[int]],
    rates: Sequence[Sequence[Fraction]],
    adjustments: Sequence[Sequence[tuple[Effect, int]]],
) -> None:
    """The checks of :func:`_convert` and :func:`_rate_codes`, on Python ints of any size.

    The Python fallback runs them on the whole chunk before computing anything, so an input
    too big for int64 is refused with the same :class:`AllocationError` as the numpy path.
    """
    if any(len(am) != len(rt) for am, rt in zip(amounts, rates, strict=True)):
        raise AllocationError("each order needs one rate per line")
    if any(len(am) == 0 for am in amounts):
        raise AllocationError("each order needs at least one line")
    if any(x < 0 for am in amounts for x in am):
        raise AllocationError("line amounts must not be negative")
    if any(total < 0 for adjs in adjustments for _, total in adjs):
        raise AllocationError("adjustment totals must not be negative")
    if any(r < 0 for rt in rates for r in rt):
        raise AllocationError("rates must not be negative")


def _python(
    amounts: Sequence[Sequence[int]],
    rates: Sequence[Sequence[Fraction]],
    adjustments: Sequence[Sequence[tuple[Effect, int]]],
    inclusive: bool,
) -> BatchResult:
    _check(amounts, rates, adjustments)
    k_max = max((len(a) for a in adjustments), default=0)
    order_index: list[int] = []
    shares: list[list[int]] = [[] for _ in range(k_max)]
    taxable: list[int] = []
    net: list[int] = []
    tax: list[int] = []
    for i, (am, rt, adjs) in enumerate(zip(amounts, rates, adjustments, strict=True)):
        rows, cur, nets, taxes = allocate_and_tax_minor(am, rt, adjs, prices_include_tax=inclusive)
        for k in range(k_max):
            shares[k].extend(rows[k] if k < len(rows) else [0] * len(am))
        net.extend(nets)
        tax.extend(taxes)
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
