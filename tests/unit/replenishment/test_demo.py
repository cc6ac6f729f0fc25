from multistore.demo import replenishment as demo


def test_demo_prints_transfers_and_purchase_lines_with_their_numbers():
    lines: list[str] = []
    demo.run(lines.append)
    text = "\n".join(lines)
    assert "Top transfers between stores:" in text
    assert "Top purchase lines:" in text
    assert "HZ-XH (杭州市) -> SH-XH (上海市)" in text
    assert "reorder point" in text
    assert "On hand" in text


def test_demo_plan_is_deterministic():
    first, second = demo.demo_plan(), demo.demo_plan()
    assert first == second
    assert first.transfers
    assert first.purchase_orders
