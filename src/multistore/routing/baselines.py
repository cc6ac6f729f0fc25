"""Reference assignments used for comparison in explanations, the demo and the benchmark."""

from __future__ import annotations

from multistore.routing.problem import Problem

__all__ = ["nearest_fill"]


def nearest_fill(p: Problem) -> tuple[dict[int, list[tuple[int, int]]], list[int]]:
    """Fill each SKU from the nearest stores holding it (what Magento MSI's distance sort does).

    Returns:
        (store -> [(sku index, units)], units left unassigned per SKU), like
        :meth:`Problem.assign`. Pinned units are not included.
    """
    out: dict[int, list[tuple[int, int]]] = {}
    short = [0] * len(p.skus)
    dist = p.dist_m
    for k, ent in enumerate(p.ent):
        rem = p.demand[k]
        for _d, i, q in sorted([(dist[i], i, q) for _c, i, q in ent]):
            if rem == 0:
                break
            t = q if q < rem else rem
            out.setdefault(i, []).append((k, t))
            rem -= t
        short[k] = rem
    return out, short
