"""Contract of the promotion ports (:mod:`multistore.ports.promotions`).

Subclass :class:`PromotionStateContract` and override :meth:`~PromotionStateContract.
make_promotion_state` to run it on your adapters:

Examples:
    >>> from multistore.adapters.promotion_state import memory_promotion_state
    >>> class TestMemoryPromotions(PromotionStateContract):
    ...     def make_promotion_state(self, *, coupon_limits=None):
    ...         return memory_promotion_state(coupon_limits=coupon_limits)

The suite uses ids with a random prefix and tolerates state shared with other runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal

import pytest

from multistore.adapters.promotion_state import PromotionState
from multistore.errors import ConflictError, NotFoundError, ValidationError
from multistore.ports.promotions import (
    CouponWallet,
    FlashSaleQuotas,
    GroupBuys,
    GroupBuyStatus,
    PriceHistory,
    Redemption,
    SalePoint,
    UsageCounters,
)
from multistore.testing.builders import T0, unique_prefix

__all__ = ["PromotionStateContract"]


class PromotionStateContract:
    """Wallets, redemptions, quotas, usage, group buys and price history keep the port promises."""

    def make_promotion_state(
        self, *, coupon_limits: Mapping[str, int] | None = None
    ) -> PromotionState:
        """Return the promotion adapters under test."""
        raise NotImplementedError(
            "override make_promotion_state() to return your adapters as a PromotionState"
        )

    @pytest.fixture
    def state(self) -> PromotionState:
        """The adapters under test, made by :meth:`make_promotion_state`."""
        return self.make_promotion_state()

    @pytest.fixture
    def uid(self) -> str:
        """A random prefix for this test's ids."""
        return unique_prefix()

    def test_adapters_satisfy_their_ports(self, state: PromotionState) -> None:
        """Every adapter is an instance of its runtime-checkable port."""
        assert isinstance(state.wallet, CouponWallet)
        assert isinstance(state.quotas, FlashSaleQuotas)
        assert isinstance(state.usage, UsageCounters)
        assert isinstance(state.group_buys, GroupBuys)
        assert isinstance(state.price_history, PriceHistory)

    def test_redemption_is_idempotent_per_order_and_limited_per_member(
        self, state: PromotionState, uid: str
    ) -> None:
        """The same order gets the same redemption back; a second order hits the member limit."""
        c, m = f"C-{uid}", f"m-{uid}"
        w = state.wallet

        def redeem(order: str) -> Redemption:
            return w.redeem(
                promotion_id=c,
                code="X",
                member_id=m,
                order_id=order,
                per_member_limit=1,
                total_limit=None,
            )

        first = redeem(f"o1-{uid}")
        assert Redemption(c, "X", m, f"o1-{uid}") == first
        assert first == redeem(f"o1-{uid}")
        with pytest.raises(ConflictError) as info:
            redeem(f"o2-{uid}")
        assert info.value.code == "promotion.coupon_spent"
        assert w.release(promotion_id=c, order_id=f"o1-{uid}")
        assert not w.release(promotion_id=c, order_id=f"o1-{uid}")
        assert Redemption(c, "X", m, f"o2-{uid}") == redeem(f"o2-{uid}")

    def test_total_limit_counts_every_member_and_a_failed_call_consumes_nothing(
        self, state: PromotionState, uid: str
    ) -> None:
        """Refused redemptions leave the counters as they were."""
        c = f"C-{uid}"
        w = state.wallet

        def redeem(member: str | None, order: str) -> Redemption:
            return w.redeem(
                promotion_id=c,
                code="PUBLIC",
                member_id=member,
                order_id=f"{order}-{uid}",
                per_member_limit=1,
                total_limit=2,
            )

        redeem("a", "o1")
        with pytest.raises(ConflictError):
            redeem("a", "o2")  # member limit: must not use up the total
        redeem(None, "o3")  # guests have no member limit
        with pytest.raises(ConflictError) as info:
            redeem("b", "o4")
        assert info.value.code == "promotion.coupon_spent"
        state_usage = state.usage.usage_state(member_id="a", promotion_ids=[c])
        assert state_usage.member_used.get(c) == 1

    def test_wallet_codes_belong_to_their_member(self, state: PromotionState, uid: str) -> None:
        """Issuing is idempotent; a code is redeemable once, by its member, for its coupon."""
        c, m, n, code = f"C-{uid}", f"m-{uid}", f"n-{uid}", f"W-{uid}"
        w = state.wallet
        w.issue(member_id=m, promotion_id=c, code=code)
        w.issue(member_id=m, promotion_id=c, code=code)
        w.issue(member_id=m, promotion_id=c, code=f"{code}-2")
        assert [code, f"{code}-2"] == list(w.codes(member_id=m))
        with pytest.raises(ConflictError) as taken:
            w.issue(member_id=n, promotion_id=c, code=code)
        assert taken.value.code == "coupon.code_taken"
        with pytest.raises(NotFoundError) as unknown:
            w.redeem(
                promotion_id=c,
                code=code,
                member_id=n,
                order_id=f"o-{uid}",
                per_member_limit=None,
                total_limit=None,
            )
        assert unknown.value.code == "promotion.unknown_coupon_code"
        w.redeem(
            promotion_id=c,
            code=code,
            member_id=m,
            order_id=f"o-{uid}",
            per_member_limit=None,
            total_limit=None,
        )
        assert [f"{code}-2"] == list(w.codes(member_id=m))
        with pytest.raises(ConflictError) as spent:
            w.redeem(
                promotion_id=c,
                code=code,
                member_id=m,
                order_id=f"o2-{uid}",
                per_member_limit=None,
                total_limit=None,
            )
        assert spent.value.code == "promotion.coupon_spent"
        assert w.release(promotion_id=c, order_id=f"o-{uid}")
        assert [code, f"{code}-2"] == list(w.codes(member_id=m))

    def test_flash_sale_grants_what_quota_and_member_limit_allow(
        self, state: PromotionState, uid: str
    ) -> None:
        """Partial grants, idempotent repeats, releases and the usage read side."""
        f, a, b = f"F-{uid}", f"a-{uid}", f"b-{uid}"
        q = state.quotas

        def consume(member: str | None, order: str, units: int) -> int:
            return q.consume(
                promotion_id=f,
                member_id=member,
                order_id=f"{order}-{uid}",
                units=units,
                quota=5,
                per_member_limit=3,
            )

        assert consume(a, "o1", 2) == 2
        assert consume(a, "o2", 2) == 1  # member limit 3
        assert consume(a, "o1", 2) == 2  # idempotent
        assert consume(a, "o3", 1) == 0
        assert consume(b, "o4", 2) == 2
        assert consume(None, "o5", 4) == 0  # quota 5 sold out
        state_a = state.usage.usage_state(member_id=a, promotion_ids=[f])
        assert ({f: 0}, {f: 3}) == (dict(state_a.remaining), dict(state_a.member_used))
        assert q.release(promotion_id=f, order_id=f"o1-{uid}") == 2
        assert q.release(promotion_id=f, order_id=f"o1-{uid}") == 0
        assert consume(None, "o6", 4) == 2
        state_a = state.usage.usage_state(member_id=a, promotion_ids=[f])
        assert ({f: 0}, {f: 1}) == (dict(state_a.remaining), dict(state_a.member_used))

    def test_usage_reports_coupon_limits_and_member_use(self, uid: str) -> None:
        """Remaining redemptions of a limited coupon and what the member used."""
        c, m = f"C-{uid}", f"m-{uid}"
        state = self.make_promotion_state(coupon_limits={c: 3})
        for k in range(2):
            state.wallet.redeem(
                promotion_id=c,
                code="X",
                member_id=m,
                order_id=f"o{k}-{uid}",
                per_member_limit=None,
                total_limit=3,
            )
        usage = state.usage.usage_state(member_id=m, promotion_ids=[c, f"none-{uid}"])
        assert ({c: 1}, {c: 2}) == (dict(usage.remaining), dict(usage.member_used))
        guest = state.usage.usage_state(member_id=None, promotion_ids=[c])
        assert ({c: 1}, {}) == (dict(guest.remaining), dict(guest.member_used))

    def test_group_buy_lifecycle(self, state: PromotionState, uid: str) -> None:
        """Open -> joined -> succeeded; an unfilled group fails at its deadline."""
        g = state.group_buys
        g1, g2, p = f"g1-{uid}", f"g2-{uid}", f"G-{uid}"
        deadline = T0 + timedelta(hours=24)
        opened = g.open(
            group_id=g1,
            promotion_id=p,
            member_id="a",
            order_id="oa",
            min_participants=3,
            deadline=deadline,
        )
        assert (opened.status, opened.members) == (GroupBuyStatus.OPEN, (("a", "oa"),))
        again = g.open(
            group_id=g1,
            promotion_id=p,
            member_id="a",
            order_id="oa",
            min_participants=3,
            deadline=deadline,
        )
        assert opened == again
        with pytest.raises(ConflictError) as dup:
            g.open(
                group_id=g1,
                promotion_id=p,
                member_id="x",
                order_id="ox",
                min_participants=3,
                deadline=deadline,
            )
        assert dup.value.code == "group_buy.duplicate"
        joined = g.join(group_id=g1, member_id="b", order_id="ob", now=T0)
        assert joined.status == GroupBuyStatus.OPEN
        assert joined == g.join(group_id=g1, member_id="b", order_id="ob", now=T0)
        done = g.join(group_id=g1, member_id="c", order_id="oc", now=T0)
        assert done.status == GroupBuyStatus.SUCCEEDED
        assert done.members == (("a", "oa"), ("b", "ob"), ("c", "oc"))
        with pytest.raises(ConflictError) as closed:
            g.join(group_id=g1, member_id="d", order_id="od", now=T0)
        assert closed.value.code == "group_buy.closed"
        assert done == g.resolve(group_id=g1, now=deadline + timedelta(days=1))

        g.open(
            group_id=g2,
            promotion_id=p,
            member_id="a",
            order_id="oa2",
            min_participants=3,
            deadline=deadline,
        )
        g.join(group_id=g2, member_id="b", order_id="ob2", now=T0)
        with pytest.raises(ConflictError):
            g.join(group_id=g2, member_id="late", order_id="ol", now=deadline)
        assert g.resolve(group_id=g2, now=T0).status == GroupBuyStatus.OPEN
        failed = g.resolve(group_id=g2, now=deadline)
        assert (failed.status, failed.released_orders) == (GroupBuyStatus.FAILED, ("oa2", "ob2"))
        assert failed == g.resolve(group_id=g2, now=deadline + timedelta(days=1))
        assert failed == g.get(group_id=g2)
        missing_calls: list[Callable[[], object]] = [
            lambda: g.get(group_id=f"nope-{uid}"),
            lambda: g.join(group_id=f"nope-{uid}", member_id="a", order_id="o", now=T0),
            lambda: g.resolve(group_id=f"nope-{uid}", now=T0),
        ]
        for call in missing_calls:
            with pytest.raises(NotFoundError) as missing:
                call()
            assert missing.value.code == "group_buy.not_found"

    def test_concurrent_joins_never_overfill_a_group(self, state: PromotionState, uid: str) -> None:
        """Of many members joining a group of 4 at once, exactly 3 get in after the leader."""
        g, gid = state.group_buys, f"g-{uid}"
        g.open(
            group_id=gid,
            promotion_id="G",
            member_id="lead",
            order_id="o-lead",
            min_participants=4,
            deadline=T0 + timedelta(hours=1),
        )
        outcomes: list[bool] = []
        lock = threading.Lock()

        def join(n: int) -> None:
            try:
                g.join(group_id=gid, member_id=f"m{n}", order_id=f"o{n}", now=T0)
                ok = True
            except ConflictError:
                ok = False
            with lock:
                outcomes.append(ok)

        threads = [threading.Thread(target=join, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        group = g.get(group_id=gid)
        assert len(outcomes) == 8, "a joining thread failed with an unexpected error"
        assert (
            sum(outcomes),
            len(group.members),
            group.status,
        ) == (3, 4, GroupBuyStatus.SUCCEEDED)

    def test_price_history_returns_sales_in_the_window_oldest_first(
        self, state: PromotionState, uid: str
    ) -> None:
        """``since <= at < until``, oldest first; no lower bound without ``since``."""
        h, sku = state.price_history, f"K-{uid}"
        h.record_sale(sku=sku, at=T0 + timedelta(days=2), unit_price=Decimal("9.50"))
        h.record_sale(sku=sku, at=T0, unit_price=Decimal("10.00"))
        h.record_sale(sku=sku, at=T0 + timedelta(days=5), unit_price=Decimal("8"))
        h.record_sale(sku=f"other-{uid}", at=T0, unit_price=Decimal("1.00"))
        got = h.sales(sku=sku, since=T0 + timedelta(days=1), until=T0 + timedelta(days=5))
        assert [SalePoint(sku, T0 + timedelta(days=2), Decimal("9.50"))] == list(got)
        everything = h.sales(sku=sku, since=None, until=T0 + timedelta(days=6))
        assert [Decimal("10.00"), Decimal("9.50"), Decimal("8")] == [
            s.unit_price for s in everything
        ]

    @pytest.mark.parametrize(
        ("numbers", "code"),
        [
            ((-1, 5, None), "promotion.invalid_units"),
            ((2.5, 5, None), "promotion.invalid_units"),
            ((True, 5, None), "promotion.invalid_units"),
            ((1, -3, None), "promotion.invalid_limit"),
            ((1, 5, -1), "promotion.invalid_limit"),
        ],
    )
    def test_bad_quota_arguments_are_typed_errors_and_write_nothing(
        self, state: PromotionState, uid: str, numbers: tuple[object, object, object], code: str
    ) -> None:
        """Negative, fractional or bool units and limits: ``ValidationError``, nothing taken."""
        units, quota, member_limit = numbers
        f = f"F-{uid}"
        with pytest.raises(ValidationError) as err:
            state.quotas.consume(
                promotion_id=f,
                member_id="m",
                order_id=f"o-{uid}",
                units=units,  # type: ignore[arg-type]
                quota=quota,  # type: ignore[arg-type]
                per_member_limit=member_limit,  # type: ignore[arg-type]
            )
        assert code == err.value.code
        usage = state.usage.usage_state(member_id="m", promotion_ids=[f])
        assert (dict(usage.remaining), dict(usage.member_used)) == ({}, {})

    @pytest.mark.parametrize(("member_limit", "total_limit"), [(-1, None), (None, -1), (1.5, 3)])
    def test_bad_coupon_limits_are_typed_errors_and_redeem_nothing(
        self, state: PromotionState, uid: str, member_limit: object, total_limit: object
    ) -> None:
        """A negative or fractional limit is ``promotion.invalid_limit``; nothing is redeemed."""
        c = f"C-{uid}"
        with pytest.raises(ValidationError) as err:
            state.wallet.redeem(
                promotion_id=c,
                code="X",
                member_id="m",
                order_id=f"o-{uid}",
                per_member_limit=member_limit,  # type: ignore[arg-type]
                total_limit=total_limit,  # type: ignore[arg-type]
            )
        assert err.value.code == "promotion.invalid_limit"
        usage = state.usage.usage_state(member_id="m", promotion_ids=[c])
        assert (dict(usage.remaining), dict(usage.member_used)) == ({}, {})

    def test_usage_reports_the_total_limit_given_to_redeem(self, uid: str) -> None:
        """Without configured limits, ``remaining`` follows the last ``total_limit`` redeemed under.

        A pricing call that reads this usage then refuses a coupon whose limit is used up.
        """
        c = f"C-{uid}"
        state = self.make_promotion_state()
        state.wallet.redeem(
            promotion_id=c,
            code="PUBLIC",
            member_id="m2",
            order_id=f"o-{uid}",
            per_member_limit=None,
            total_limit=1,
        )
        usage = state.usage.usage_state(member_id="m1", promotion_ids=[c])
        assert ({c: 0}, {}) == (dict(usage.remaining), dict(usage.member_used))
