from __future__ import annotations

import time

from multistore.demo.pricing import run


def test_demo_prints_applied_rejected_and_allocation_quickly():
    lines: list[str] = []
    start = time.perf_counter()
    run(lines.append)
    elapsed = time.perf_counter() - start
    text = "\n".join(lines)
    assert "Applied 秒杀价1799 (phone-flash)" in text
    assert "Not applied 双十一满减 (d11-full): 满200减20 needs ¥22.50 more in store S1." in text
    assert "excluded by promotion" in text
    assert "L1 longjing" in text
    assert elapsed < 5
