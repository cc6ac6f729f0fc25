"""The stateful side of promotions as one bundle, on memory or on SQL.

:class:`PromotionState` groups one adapter of every port in :mod:`multistore.ports.promotions`.
Build it with :func:`memory_promotion_state` (one process, tests, demos) or with
:func:`multistore.adapters.sqlalchemy.promotions.promotion_state` (SQLite or PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from multistore.adapters.memory.promotions import (
    MemoryCouponWallet,
    MemoryFlashSaleQuotas,
    MemoryGroupBuys,
    MemoryPriceHistory,
    MemoryPromotionUsage,
)
from multistore.ports.promotions import (
    CouponWallet,
    FlashSaleQuotas,
    GroupBuys,
    PriceHistory,
    UsageCounters,
)

__all__ = ["PromotionState", "memory_promotion_state"]


@attrs.frozen
class PromotionState:
    """One adapter of each promotion port, sharing one store of state.

    Attributes:
        wallet: Coupon wallets and redemptions.
        quotas: Flash-sale quotas.
        usage: The read side feeding :class:`~multistore.pricing.UsageState` to the engine.
        group_buys: Group-buy groups.
        price_history: Actual sale prices (the reference-price rule).
    """

    wallet: CouponWallet
    quotas: FlashSaleQuotas
    usage: UsageCounters
    group_buys: GroupBuys
    price_history: PriceHistory


def memory_promotion_state(*, coupon_limits: Mapping[str, int] | None = None) -> PromotionState:
    """Return in-memory promotion state (thread-safe, one process).

    Args:
        coupon_limits: Total limit of each coupon promotion id, so that ``usage`` can report
            what remains of it.

    Examples:
        >>> state = memory_promotion_state()
        >>> state.quotas.consume(promotion_id="F", member_id="m", order_id="o1", units=2,
        ...                      quota=5, per_member_limit=None)
        2
    """
    wallet = MemoryCouponWallet()
    quotas = MemoryFlashSaleQuotas()
    usage = MemoryPromotionUsage(
        wallet=wallet, quotas=quotas, coupon_limits=dict(coupon_limits or {})
    )
    return PromotionState(
        wallet=wallet,
        quotas=quotas,
        usage=usage,
        group_buys=MemoryGroupBuys(),
        price_history=MemoryPriceHistory(),
    )
