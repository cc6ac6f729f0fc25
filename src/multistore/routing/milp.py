"""An optional exact backend: the same problem as a MILP solved by HiGHS (``highspy``).

Variables: ``y_s`` (open store s, binary), ``x_sk`` (units of SKU k from s, integer),
``u_k`` (unfulfilled units, only when partial plans are allowed under ``max_shipments``).
``x`` may stay continuous: once ``y`` is fixed each SKU is a bounded transportation problem
whose optimum is integral.
Minimise ``Σ F_s y_s + Σ c_sk x_sk + M Σ u_k`` subject to ``Σ_s x_sk + u_k = d_k``,
``x_sk <= q_sk y_s``, ``Σ y_s <= max_shipments`` and pinned stores open.

Costs are passed to HiGHS as floats, so the opened set it returns is then re-priced exactly.
"""

from __future__ import annotations

from typing import Any

from multistore.routing.errors import RoutingValidationError
from multistore.routing.exact import SearchResult
from multistore.routing.problem import Problem

__all__ = ["solve_milp"]


def solve_milp(p: Problem) -> SearchResult:
    """Solve with HiGHS; returns the optimum's opened flags and exact scaled cost.

    Raises:
        RoutingValidationError: ``routing.milp_unavailable`` when ``highspy`` is not installed.
    """
    try:
        import highspy  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise RoutingValidationError(
            "mode='milp' needs the optional highspy package: pip install 'multistore[milp]'",
            code="routing.milp_unavailable",
        ) from None
    h: Any = highspy.Highs()  # type: ignore[no-untyped-call]
    h.silent()
    h.setOptionValue("mip_rel_gap", 0.0)
    inf = highspy.kHighsInf
    scale = float(p.weight) * 1e6
    n = p.n
    forced = set(p.forced)
    for i in range(n):
        lo = 1.0 if i in forced else 0.0
        h.addVar(lo, 1.0)
        h.changeColCost(i, p.fixed_scaled[i] / scale)
        h.changeColIntegrality(i, highspy.HighsVarType.kInteger)
    col = n
    rows_x: list[list[int]] = [[] for _ in p.skus]
    for k, ent in enumerate(p.ent):
        for c, i, q in ent:
            h.addVar(0.0, float(q))
            h.changeColCost(col, c / scale)
            h.addRow(-inf, 0.0, 2, [col, i], [1.0, -float(q)])
            rows_x[k].append(col)
            col += 1
    for k, cols in enumerate(rows_x):
        idx = list(cols)
        val = [1.0] * len(idx)
        if p.dummy is not None:
            h.addVar(0.0, float(p.demand[k]))
            h.changeColCost(col, p.dummy / scale)
            idx.append(col)
            val.append(1.0)
            col += 1
        d = float(p.demand[k])
        h.addRow(d, d, len(idx), idx, val)
    if p.max_open is not None:
        h.addRow(-inf, float(p.max_open), n, list(range(n)), [1.0] * n)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return SearchResult(None, None, None, 0, proven=True)
    values = h.getSolution().col_value
    is_open = bytearray(1 if values[i] > 0.5 else 0 for i in range(n))
    cost = p.evaluate(is_open)
    return SearchResult(is_open, cost, None, 0, proven=False)
