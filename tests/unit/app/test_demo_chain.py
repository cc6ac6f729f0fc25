"""The demo's chain section: the store chain in SQLite, no oversell, one reorder alert."""

from __future__ import annotations

from pathlib import Path

from multistore.demo import store_chain


def test_the_chain_section_never_oversells_and_alerts_once(tmp_path: Path) -> None:
    lines: list[str] = []
    store_chain.run(lines.append, db_path=tmp_path / "demo.db")
    text = "\n".join(lines)
    assert "OVERSOLD" not in text
    assert "  -> no oversell: every unit was sold at most once." in lines
    summary = next(line for line in lines if line.startswith("MILK-1L at SH-JA"))
    assert summary.endswith("6 single sales -> 1 alert(s) through the outbox (once per crossing):")
    alert = lines[lines.index(summary) + 1]
    assert "on hand 15 is at or below the reorder point 15.00" in alert
