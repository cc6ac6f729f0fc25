"""In-memory adapters of the promotion ports (one process; thread-safe with a lock).

Every consuming method takes the adapter's lock for the whole check-and-update, so concurrent
threads can neither over-redeem a coupon nor oversell a flash-sale quota, and every method is
idempotent per order id as the ports require.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from multistore.errors import ConflictError, NotFoundError
from multistore.ports.promotions import (
    GroupBuyGroup,
    GroupBuyStatus,
    Redemption,
    SalePoint,
    check_limit,
    check_units,
)
from multistore.pricing.cart import UsageState

__all__ = [
    "MemoryCouponWallet",
    "MemoryFlashSaleQuotas",
    "MemoryGroupBuys",
    "MemoryPriceHistory",
    "MemoryPromotionUsage",
]


class MemoryCouponWallet:
    """Coupon wallets and redemptions in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: dict[str, tuple[str, str]] = {}
        self._redemptions: dict[tuple[str, str], Redemption] = {}
        self._used_codes: set[str] = set()
        self._total_limits: dict[str, int] = {}

    def issue(self, *, member_id: str, promotion_id: str, code: str) -> None:
        """See :meth:`multistore.ports.promotions.CouponWallet.issue`."""
        with self._lock:
            owner = self._owner.get(code)
            if owner is not None and owner != (member_id, promotion_id):
                raise ConflictError(
                    f"coupon code {code!r} is already issued to another member or coupon",
                    code="coupon.code_taken",
                )
            self._owner[code] = (member_id, promotion_id)

    def codes(self, *, member_id: str) -> Sequence[str]:
        """See :meth:`multistore.ports.promotions.CouponWallet.codes`."""
        with self._lock:
            return sorted(
                c
                for c, (m, _) in self._owner.items()
                if m == member_id and c not in self._used_codes
            )

    def redeem(
        self,
        *,
        promotion_id: str,
        code: str,
        member_id: str | None,
        order_id: str,
        per_member_limit: int | None,
        total_limit: int | None,
    ) -> Redemption:
        """See :meth:`multistore.ports.promotions.CouponWallet.redeem`."""
        check_limit(per_member_limit, "per_member_limit")
        check_limit(total_limit, "total_limit")
        with self._lock:
            done = self._redemptions.get((promotion_id, order_id))
            if done is not None:
                return done
            owner = self._owner.get(code)
            if owner is not None and (owner[1] != promotion_id or owner[0] != member_id):
                raise NotFoundError(
                    f"coupon code {code!r} is not in this member's wallet",
                    code="promotion.unknown_coupon_code",
                )
            if owner is not None and code in self._used_codes:
                raise ConflictError(
                    f"coupon code {code!r} was already redeemed", code="promotion.coupon_spent"
                )
            mine = [r for r in self._redemptions.values() if r.promotion_id == promotion_id]
            if total_limit is not None and len(mine) >= total_limit:
                raise ConflictError(
                    f"coupon {promotion_id!r} reached its total limit of {total_limit}",
                    code="promotion.coupon_spent",
                )
            if per_member_limit is not None and member_id is not None:
                used = sum(1 for r in mine if r.member_id == member_id)
                if used >= per_member_limit:
                    raise ConflictError(
                        f"member {member_id!r} already used coupon {promotion_id!r} "
                        f"{used} time(s) (limit {per_member_limit})",
                        code="promotion.coupon_spent",
                    )
            redemption = Redemption(promotion_id, code, member_id, order_id)
            self._redemptions[(promotion_id, order_id)] = redemption
            if total_limit is not None:
                self._total_limits[promotion_id] = total_limit
            if owner is not None:
                self._used_codes.add(code)
            return redemption

    def release(self, *, promotion_id: str, order_id: str) -> bool:
        """See :meth:`multistore.ports.promotions.CouponWallet.release`."""
        with self._lock:
            redemption = self._redemptions.pop((promotion_id, order_id), None)
            if redemption is None:
                return False
            self._used_codes.discard(redemption.code)
            return True

    def total_limit(self, *, promotion_id: str) -> int | None:
        """The last ``total_limit`` a redemption of the coupon was made under (``None``: none)."""
        with self._lock:
            return self._total_limits.get(promotion_id)

    def redemptions(self, *, promotion_id: str) -> list[Redemption]:
        """Return the redemptions of a coupon (for reports and tests), by order id."""
        with self._lock:
            return sorted(
                (r for r in self._redemptions.values() if r.promotion_id == promotion_id),
                key=lambda r: r.order_id,
            )


class MemoryFlashSaleQuotas:
    """Flash-sale quotas in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grants: dict[tuple[str, str], tuple[str | None, int]] = {}
        self._quota: dict[str, int] = {}

    def consume(
        self,
        *,
        promotion_id: str,
        member_id: str | None,
        order_id: str,
        units: int,
        quota: int,
        per_member_limit: int | None,
    ) -> int:
        """See :meth:`multistore.ports.promotions.FlashSaleQuotas.consume`."""
        check_units(units)
        check_limit(quota, "quota")
        check_limit(per_member_limit, "per_member_limit")
        with self._lock:
            done = self._grants.get((promotion_id, order_id))
            if done is not None:
                return done[1]
            self._quota[promotion_id] = quota
            taken = self._taken(promotion_id)
            grant = min(units, max(0, quota - taken))
            if per_member_limit is not None and member_id is not None:
                mine = sum(
                    n
                    for (pid, _), (m, n) in self._grants.items()
                    if pid == promotion_id and m == member_id
                )
                grant = min(grant, max(0, per_member_limit - mine))
            self._grants[(promotion_id, order_id)] = (member_id, grant)
            return grant

    def _taken(self, promotion_id: str) -> int:
        return sum(n for (pid, _), (_, n) in self._grants.items() if pid == promotion_id)

    def release(self, *, promotion_id: str, order_id: str) -> int:
        """See :meth:`multistore.ports.promotions.FlashSaleQuotas.release`."""
        with self._lock:
            grant = self._grants.pop((promotion_id, order_id), None)
            return 0 if grant is None else grant[1]

    def taken(self, *, promotion_id: str) -> int:
        """Units granted so far (for reports and tests)."""
        with self._lock:
            return self._taken(promotion_id)

    def member_units(self, *, promotion_id: str, member_id: str) -> int:
        """Units granted to one member so far."""
        with self._lock:
            return sum(
                n
                for (pid, _), (m, n) in self._grants.items()
                if pid == promotion_id and m == member_id
            )

    def remaining(self, *, promotion_id: str) -> int | None:
        """Units left of the last quota seen for the promotion (``None`` if never consumed)."""
        with self._lock:
            quota = self._quota.get(promotion_id)
            return None if quota is None else max(0, quota - self._taken(promotion_id))


class MemoryPromotionUsage:
    """The :class:`UsageCounters` read side over a memory wallet and memory quotas.

    Args:
        wallet: The coupon wallet.
        quotas: The flash-sale quotas.
        coupon_limits: Total limit of each coupon promotion id (to report what remains);
            without one, the last ``total_limit`` passed to ``redeem`` counts, as in SQL.
    """

    def __init__(
        self,
        *,
        wallet: MemoryCouponWallet,
        quotas: MemoryFlashSaleQuotas,
        coupon_limits: dict[str, int] | None = None,
    ) -> None:
        self._wallet = wallet
        self._quotas = quotas
        self._limits = dict(coupon_limits or {})

    def usage_state(self, *, member_id: str | None, promotion_ids: Collection[str]) -> UsageState:
        """See :meth:`multistore.ports.promotions.UsageCounters.usage_state`."""
        remaining: dict[str, int] = {}
        used: dict[str, int] = {}
        for pid in sorted(promotion_ids):
            redemptions = self._wallet.redemptions(promotion_id=pid)
            limit = self._limits.get(pid, self._wallet.total_limit(promotion_id=pid))
            if limit is not None:
                remaining[pid] = max(0, limit - len(redemptions))
            left = self._quotas.remaining(promotion_id=pid)
            if left is not None:
                remaining[pid] = left
            if member_id is not None:
                n = sum(1 for r in redemptions if r.member_id == member_id)
                n += self._quotas.member_units(promotion_id=pid, member_id=member_id)
                if n:
                    used[pid] = n
        return UsageState(remaining=remaining, member_used=used)


class MemoryGroupBuys:
    """Group-buy groups in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[str, GroupBuyGroup] = {}

    def open(
        self,
        *,
        group_id: str,
        promotion_id: str,
        member_id: str,
        order_id: str,
        min_participants: int,
        deadline: datetime,
    ) -> GroupBuyGroup:
        """See :meth:`multistore.ports.promotions.GroupBuys.open`."""
        with self._lock:
            found = self._groups.get(group_id)
            if found is not None:
                if found.members[0] == (member_id, order_id) and found.promotion_id == promotion_id:
                    return found
                raise ConflictError(
                    f"group {group_id!r} already exists", code="group_buy.duplicate"
                )
            group = GroupBuyGroup(
                group_id=group_id,
                promotion_id=promotion_id,
                min_participants=min_participants,
                deadline=deadline,
                members=((member_id, order_id),),
                status=GroupBuyStatus.OPEN,
            )
            self._groups[group_id] = group
            return group

    def join(self, *, group_id: str, member_id: str, order_id: str, now: datetime) -> GroupBuyGroup:
        """See :meth:`multistore.ports.promotions.GroupBuys.join`."""
        with self._lock:
            group = self._get(group_id)
            if any(m == member_id for m, _ in group.members):
                return group
            if group.status is not GroupBuyStatus.OPEN or now >= group.deadline:
                raise ConflictError(
                    f"group {group_id!r} is {group.status.value} and takes no new members"
                    if group.status is not GroupBuyStatus.OPEN
                    else f"group {group_id!r} closed at {group.deadline.isoformat()}",
                    code="group_buy.closed",
                )
            members = (*group.members, (member_id, order_id))
            status = (
                GroupBuyStatus.SUCCEEDED
                if len(members) >= group.min_participants
                else GroupBuyStatus.OPEN
            )
            group = attrs.evolve(group, members=members, status=status)
            self._groups[group_id] = group
            return group

    def resolve(self, *, group_id: str, now: datetime) -> GroupBuyGroup:
        """See :meth:`multistore.ports.promotions.GroupBuys.resolve`."""
        with self._lock:
            group = self._get(group_id)
            if group.status is GroupBuyStatus.OPEN and now >= group.deadline:
                group = attrs.evolve(
                    group,
                    status=GroupBuyStatus.FAILED,
                    released_orders=tuple(o for _, o in group.members),
                )
                self._groups[group_id] = group
            return group

    def get(self, *, group_id: str) -> GroupBuyGroup:
        """See :meth:`multistore.ports.promotions.GroupBuys.get`."""
        with self._lock:
            return self._get(group_id)

    def _get(self, group_id: str) -> GroupBuyGroup:
        group = self._groups.get(group_id)
        if group is None:
            raise NotFoundError(f"group {group_id!r} does not exist", code="group_buy.not_found")
        return group


class MemoryPriceHistory:
    """Sale prices in memory, kept sorted by time per SKU."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sales: dict[str, list[tuple[datetime, int, SalePoint]]] = {}
        self._seq = 0

    def record_sale(self, *, sku: str, at: datetime, unit_price: Decimal) -> None:
        """See :meth:`multistore.ports.promotions.PriceHistory.record_sale`."""
        with self._lock:
            self._seq += 1
            bisect.insort(
                self._sales.setdefault(sku, []),
                (at, self._seq, SalePoint(sku=sku, at=at, unit_price=unit_price)),
                key=lambda t: (t[0], t[1]),
            )

    def sales(self, *, sku: str, since: datetime | None, until: datetime) -> Sequence[SalePoint]:
        """See :meth:`multistore.ports.promotions.PriceHistory.sales`."""
        with self._lock:
            return [
                p
                for at, _, p in self._sales.get(sku, [])
                if (since is None or at >= since) and at < until
            ]
