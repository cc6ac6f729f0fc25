"""Below-reorder-point alerts, once per crossing (智能补货提醒).

An alert fires when a (store, sku) inventory position moves from *above* its reorder point to
*at or below* it; further sales while it stays low raise nothing. The alert re-arms once the
position rises above the reorder point again (a delivery, a transfer, a raised level). The state
is an immutable value, so the service layer can persist it and publish each
:class:`ReorderAlert` through the outbox in the same transaction as the stock change.

Examples:
    >>> state = AlertState()
    >>> state, alert = check_reorder(state=state, store_id="SH01", sku="TEA",
    ...                              inventory_position=9, reorder_point=10)
    >>> alert.inventory_position, alert.reorder_point
    (9, 10)
    >>> state, alert = check_reorder(state=state, store_id="SH01", sku="TEA",
    ...                              inventory_position=7, reorder_point=10)
    >>> alert is None
    True
"""

from __future__ import annotations

from datetime import datetime

import attrs

from multistore.replenishment import _checks

__all__ = ["AlertState", "ReorderAlert", "ReorderAlertDetector", "check_reorder"]


@attrs.frozen(slots=True)
class ReorderAlert:
    """A (store, sku) crossed down to its reorder point.

    Attributes:
        store_id: The store.
        sku: The SKU.
        inventory_position: The position that crossed (on hand + on order - backorders).
        reorder_point: The reorder point it reached.
        occurred_at: When the crossing was observed (given by the caller; ``None`` if not).
        explanation: The figures in a sentence.
    """

    store_id: str
    sku: str
    inventory_position: float
    reorder_point: float
    occurred_at: datetime | None = None
    explanation: tuple[str, ...] = ()

    @property
    def event_type(self) -> str:
        """The outbox event type, ``replenishment.below_reorder_point``."""
        return "replenishment.below_reorder_point"

    def to_event(self) -> dict[str, object]:
        """A JSON-ready payload for the outbox."""
        return {
            "type": self.event_type,
            "store_id": self.store_id,
            "sku": self.sku,
            "inventory_position": self.inventory_position,
            "reorder_point": self.reorder_point,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
        }


@attrs.frozen(slots=True)
class AlertState:
    """Which (store, sku) pairs are currently at or below their reorder point.

    Attributes:
        low: The ``(store_id, sku)`` pairs already alerted and not yet re-armed.
    """

    low: frozenset[tuple[str, str]] = frozenset()


def check_reorder(
    *,
    state: AlertState,
    store_id: str,
    sku: str,
    inventory_position: float,
    reorder_point: float,
    at: datetime | None = None,
) -> tuple[AlertState, ReorderAlert | None]:
    """Advance the alert state by one observation; return the new state and any alert.

    Args:
        state: The state after the previous observation.
        store_id: The store.
        sku: The SKU.
        inventory_position: The position after the change (sale, receipt, adjustment).
        reorder_point: The current reorder point.
        at: When the change happened (copied into the alert).

    Returns:
        ``(new_state, alert)``, ``alert`` being ``None`` unless this observation crossed.
    """
    ip = _checks.number(inventory_position, "inventory position")
    rop = _checks.number(reorder_point, "reorder point")
    key = (store_id, sku)
    was_low = key in state.low
    if ip <= rop:
        if was_low:
            return state, None
        alert = ReorderAlert(
            store_id=store_id,
            sku=sku,
            inventory_position=inventory_position,
            reorder_point=reorder_point,
            occurred_at=at,
            explanation=(
                (
                    f"{sku} in {store_id}: inventory position {inventory_position:g} is at or "
                    f"below the reorder point {reorder_point:g}; replenish now."
                ),
            ),
        )
        return AlertState(low=state.low | {key}), alert
    if was_low:
        return AlertState(low=state.low - {key}), None
    return state, None


class ReorderAlertDetector:
    """A mutable convenience wrapper around :func:`check_reorder` for in-process use.

    Examples:
        >>> det = ReorderAlertDetector()
        >>> fired = [
        ...     det.observe(store_id="S", sku="A", inventory_position=p, reorder_point=5)
        ...     for p in (8, 5, 3, 9, 4)
        ... ]
        >>> sum(alert is not None for alert in fired)
        2
    """

    def __init__(self, state: AlertState | None = None) -> None:
        self.state = state or AlertState()

    def observe(
        self,
        *,
        store_id: str,
        sku: str,
        inventory_position: float,
        reorder_point: float,
        at: datetime | None = None,
    ) -> ReorderAlert | None:
        """Record one observation; return an alert when it crosses down to the reorder point."""
        self.state, alert = check_reorder(
            state=self.state,
            store_id=store_id,
            sku=sku,
            inventory_position=inventory_position,
            reorder_point=reorder_point,
            at=at,
        )
        return alert
