"""Every runnable example in ``examples/`` and every Python snippet in the docs runs cleanly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _run(code_path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, str(code_path)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example: Path, tmp_path: Path) -> None:
    result = _run(example, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), f"{example.name} printed nothing"


def _doc_snippets() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for page in DOCS:
        blocks = FENCE.findall(page.read_text(encoding="utf-8"))
        runnable = [b for b in blocks if "# skip-test" not in b]
        if runnable:
            # The blocks of one page build on each other, like a reader following along.
            found.append((str(page.relative_to(ROOT)), "\n".join(runnable)))
    return found


@pytest.mark.parametrize(("page", "code"), _doc_snippets(), ids=lambda v: str(v)[:60])
def test_docs_snippets_run(page: str, code: str, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    result = _run(script, tmp_path)
    assert result.returncode == 0, f"{page}:\n{result.stderr[-3000:]}"
