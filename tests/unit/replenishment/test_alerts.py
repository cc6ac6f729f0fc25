from datetime import UTC, datetime

from multistore.replenishment import AlertState, ReorderAlertDetector, check_reorder


def test_one_alert_per_crossing_not_per_sale():
    det = ReorderAlertDetector()
    positions = [20, 15, 10, 9, 7, 3, 40, 12, 10, 10, 2]
    fired = [
        det.observe(store_id="SH", sku="TEA", inventory_position=p, reorder_point=10) is not None
        for p in positions
    ]
    assert [False, False, True, False, False, False, False, False, True, False, False] == fired


def test_pairs_are_independent_and_state_is_a_value():
    state = AlertState()
    state, a = check_reorder(
        state=state, store_id="SH", sku="A", inventory_position=1, reorder_point=5
    )
    state, b = check_reorder(
        state=state, store_id="HZ", sku="A", inventory_position=1, reorder_point=5
    )
    before = state
    state, c = check_reorder(
        state=state, store_id="SH", sku="A", inventory_position=0, reorder_point=5
    )
    assert a is not None
    assert b is not None
    assert c is None
    assert before == state
    assert frozenset({("SH", "A"), ("HZ", "A")}) == state.low


def test_alert_payload_for_the_outbox():
    at = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    _, alert = check_reorder(
        state=AlertState(), store_id="SH", sku="A", inventory_position=4, reorder_point=5, at=at
    )
    assert {
        "type": "replenishment.below_reorder_point",
        "store_id": "SH",
        "sku": "A",
        "inventory_position": 4,
        "reorder_point": 5,
        "occurred_at": "2024-05-01T08:00:00+00:00",
    } == alert.to_event()
    assert alert.explanation


def test_rearms_after_rising_above_reorder_point():
    state = AlertState()
    alerts = []
    for p in (3, 11, 4):
        state, alert = check_reorder(
            state=state, store_id="S", sku="A", inventory_position=p, reorder_point=10
        )
        alerts.append(alert is not None)
    assert [True, False, True] == alerts
