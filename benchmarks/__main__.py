"""Run benchmark modules and print a table per case (``python -m benchmarks``).

Usage::

    python -m benchmarks                 # every bench_*.py at full scale
    python -m benchmarks --only routing  # one module
    python -m benchmarks --scale 0.05    # a quick look with smaller suites

Results are also written as JSON to ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

from benchmarks.harness import Row

RESULTS = Path(__file__).parent / "results"


def _modules(only: list[str]) -> list[str]:
    names = sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    return [n for n in names if not only or n in only]


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}"
    return str(value)


def print_rows(name: str, rows: list[Row]) -> None:
    """Print rows grouped by case as aligned text tables."""
    cases: dict[str, list[Row]] = {}
    for r in rows:
        cases.setdefault(r.case, []).append(r)
    for case, group in cases.items():
        metrics: list[str] = []
        for r in group:
            metrics.extend(k for k in r.metrics if k not in metrics)
        header = ["subject", *metrics]
        table = [header] + [
            [r.subject] + [_fmt(r.metrics.get(m, "")) for m in metrics] for r in group
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        print(f"\n## {name}: {case}")
        for i, row in enumerate(table):
            print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
            if i == 0:
                print("  " + "  ".join("-" * w for w in widths))
        for r in group:
            if r.note:
                print(f"  * {r.subject}: {r.note}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``make bench``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--only", action="append", default=[], help="module name, repeatable")
    parser.add_argument("--scale", type=float, default=1.0, help="suite size factor (0-1]")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    failed = 0
    for name in _modules(args.only):
        module = importlib.import_module(f"benchmarks.bench_{name}")
        start = time.perf_counter()
        try:
            rows: list[Row] = module.run(args.scale)
        except Exception as exc:
            print(f"\n## {name}: FAILED: {exc!r}", file=sys.stderr)
            failed += 1
            continue
        print_rows(name, rows)
        print(f"  ({name} took {time.perf_counter() - start:.1f}s)")
        (RESULTS / f"{name}.json").write_text(
            json.dumps(
                [{"case": r.case, "subject": r.subject, **r.metrics, "note": r.note} for r in rows],
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
