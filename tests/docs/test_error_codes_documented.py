"""Every error code raised in the source is listed on docs/errors.md with what to do about it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE_IN_SOURCE = re.compile(
    r"""(?:code=|default_code\s*=\s*|code\s*:\s*str\s*=\s*)"""  # where a code is assigned
    r"""["']([a-z_]+(?:\.[a-z_]+)+)["']"""  # the dotted code itself
)


def _codes_in_source() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "src" / "multistore").rglob("*.py"):
        codes.update(CODE_IN_SOURCE.findall(path.read_text(encoding="utf-8")))
    return codes


def test_every_error_code_is_documented() -> None:
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", page))
    missing = sorted(_codes_in_source() - documented)
    assert [] == missing, "add these codes to docs/errors.md with what to do about each"


def test_codes_are_dotted_and_lowercase() -> None:
    assert all(re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", c) for c in _codes_in_source())
