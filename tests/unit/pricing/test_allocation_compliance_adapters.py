from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from multistore.adapters.memory.promotions import (
    MemoryCouponWallet,
    MemoryFlashSaleQuotas,
    MemoryGroupBuys,
    MemoryPriceHistory,
    MemoryPromotionUsage,
)
from multistore.errors import ConflictError, NotFoundError
from multistore.ports.promotions import (
    CouponWallet,
    FlashSaleQuotas,
    GroupBuys,
    GroupBuyStatus,
    PriceHistory,
    UsageCounters,
)
from multistore.pricing import (
    PromotionValidationError,
    allocate_capped,
    check_reference_prices,
    load_promotions,
)

T0 = datetime(2026, 11, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("total", "weights", "caps", "expected"),
    [
        (100, [1, 1, 1], [100, 100, 100], [34, 33, 33]),
        (100, [50, 50], [30, 100], [30, 70]),
        (100, [1, 1], [30, 30], [30, 30]),
        (10, [0, 5], [10, 3], [7, 3]),
        (0, [1], [5], [0]),
    ],
)
def test_allocate_capped(total, weights, caps, expected):
    assert expected == allocate_capped(total=total, weights=weights, caps=caps)


def promo_with_was_price(ref: str) -> list:
    return load_promotions(
        [
            {
                "id": "P",
                "type": "percent_off",
                "percent": 10,
                "starts_at": "2026-11-11T00:00:00+00:00",
                "reference_prices": {"tea": ref},
            }
        ]
    )


def test_reference_price_must_not_exceed_the_lowest_price_of_the_last_7_days():
    history = MemoryPriceHistory()
    history.record_sale(sku="tea", at=T0 - timedelta(days=3), unit_price=Decimal("99.00"))
    history.record_sale(sku="tea", at=T0 - timedelta(days=1), unit_price=Decimal("109.00"))
    history.record_sale(sku="tea", at=T0 - timedelta(days=20), unit_price=Decimal("59.00"))
    assert check_reference_prices(promotions=promo_with_was_price("99"), history=history).ok
    report = check_reference_prices(promotions=promo_with_was_price("109"), history=history)
    assert [("P", "tea", Decimal("99.00"), "lowest_7_days")] == [
        (f.promotion_id, f.sku, f.allowed_max, f.basis) for f in report.findings
    ]
    with pytest.raises(PromotionValidationError) as info:
        check_reference_prices(
            promotions=promo_with_was_price("109"), history=history, mode="reject"
        )
    assert "promotion.reference_price_too_high" == info.value.code


def test_without_recent_sales_the_last_transaction_price_is_the_limit():
    history = MemoryPriceHistory()
    history.record_sale(sku="tea", at=T0 - timedelta(days=30), unit_price=Decimal("80.00"))
    history.record_sale(sku="tea", at=T0 - timedelta(days=10), unit_price=Decimal("90.00"))
    report = check_reference_prices(promotions=promo_with_was_price("95"), history=history)
    assert [("last_transaction", Decimal("90.00"))] == [
        (f.basis, f.allowed_max) for f in report.findings
    ]
    empty = check_reference_prices(
        promotions=promo_with_was_price("95"), history=MemoryPriceHistory()
    )
    assert ["no_sales"] == [f.basis for f in empty.findings]


def test_memory_adapters_satisfy_their_ports():
    assert isinstance(MemoryCouponWallet(), CouponWallet)
    assert isinstance(MemoryFlashSaleQuotas(), FlashSaleQuotas)
    assert isinstance(MemoryGroupBuys(), GroupBuys)
    assert isinstance(MemoryPriceHistory(), PriceHistory)
    usage = MemoryPromotionUsage(wallet=MemoryCouponWallet(), quotas=MemoryFlashSaleQuotas())
    assert isinstance(usage, UsageCounters)


def test_coupon_redemption_is_idempotent_per_order_and_limited():
    wallet = MemoryCouponWallet()
    first = wallet.redeem(
        promotion_id="C",
        code="X",
        member_id="m",
        order_id="o1",
        per_member_limit=1,
        total_limit=None,
    )
    again = wallet.redeem(
        promotion_id="C",
        code="X",
        member_id="m",
        order_id="o1",
        per_member_limit=1,
        total_limit=None,
    )
    assert first == again
    with pytest.raises(ConflictError) as info:
        wallet.redeem(
            promotion_id="C",
            code="X",
            member_id="m",
            order_id="o2",
            per_member_limit=1,
            total_limit=None,
        )
    assert "promotion.coupon_spent" == info.value.code
    assert wallet.release(promotion_id="C", order_id="o1")
    assert not wallet.release(promotion_id="C", order_id="o1")
    wallet.redeem(
        promotion_id="C",
        code="X",
        member_id="m",
        order_id="o2",
        per_member_limit=1,
        total_limit=None,
    )


def test_wallet_codes_belong_to_their_member():
    wallet = MemoryCouponWallet()
    wallet.issue(member_id="m", promotion_id="C", code="W1")
    wallet.issue(member_id="m", promotion_id="C", code="W1")
    assert ["W1"] == list(wallet.codes(member_id="m"))
    with pytest.raises(ConflictError):
        wallet.issue(member_id="n", promotion_id="C", code="W1")
    with pytest.raises(NotFoundError):
        wallet.redeem(
            promotion_id="C",
            code="W1",
            member_id="n",
            order_id="o",
            per_member_limit=None,
            total_limit=None,
        )
    wallet.redeem(
        promotion_id="C",
        code="W1",
        member_id="m",
        order_id="o",
        per_member_limit=None,
        total_limit=None,
    )
    assert [] == list(wallet.codes(member_id="m"))


def test_concurrent_redemptions_never_exceed_the_total_limit():
    wallet = MemoryCouponWallet()
    wins: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for k in range(20):
            try:
                wallet.redeem(
                    promotion_id="C",
                    code="X",
                    member_id=f"m{n}-{k}",
                    order_id=f"o{n}-{k}",
                    per_member_limit=None,
                    total_limit=25,
                )
            except ConflictError:
                continue
            with lock:
                wins.append(f"o{n}-{k}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 25 == len(wins) == len(wallet.redemptions(promotion_id="C"))


def test_concurrent_flash_sale_consumption_never_oversells():
    quotas = MemoryFlashSaleQuotas()
    granted: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for k in range(25):
            g = quotas.consume(
                promotion_id="F",
                member_id=f"m{n}",
                order_id=f"o{n}-{k}",
                units=2,
                quota=100,
                per_member_limit=9,
            )
            with lock:
                granted.append(g)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 72 == sum(granted) == quotas.taken(promotion_id="F")  # 8 members x 9
    assert 2 == quotas.consume(
        promotion_id="F", member_id="m0", order_id="o0-0", units=2, quota=100, per_member_limit=9
    )
    assert 2 == quotas.release(promotion_id="F", order_id="o0-0")
    assert 0 == quotas.release(promotion_id="F", order_id="o0-0")
    usage = MemoryPromotionUsage(wallet=MemoryCouponWallet(), quotas=quotas)
    state = usage.usage_state(member_id="m0", promotion_ids=["F"])
    assert {"F": 30} == dict(state.remaining)
    assert {"F": 7} == dict(state.member_used)


def test_group_buy_lifecycle():
    groups = MemoryGroupBuys()
    deadline = T0 + timedelta(hours=24)
    groups.open(
        group_id="g1",
        promotion_id="G",
        member_id="a",
        order_id="oa",
        min_participants=3,
        deadline=deadline,
    )
    joined = groups.join(group_id="g1", member_id="b", order_id="ob", now=T0)
    assert GroupBuyStatus.OPEN == joined.status
    done = groups.join(group_id="g1", member_id="c", order_id="oc", now=T0)
    assert GroupBuyStatus.SUCCEEDED == done.status
    with pytest.raises(ConflictError):
        groups.join(group_id="g1", member_id="d", order_id="od", now=T0)

    groups.open(
        group_id="g2",
        promotion_id="G",
        member_id="a",
        order_id="oa2",
        min_participants=3,
        deadline=deadline,
    )
    groups.join(group_id="g2", member_id="b", order_id="ob2", now=T0)
    assert GroupBuyStatus.OPEN == groups.resolve(group_id="g2", now=T0).status
    failed = groups.resolve(group_id="g2", now=deadline)
    assert (GroupBuyStatus.FAILED, ("oa2", "ob2")) == (failed.status, failed.released_orders)
    assert failed == groups.resolve(group_id="g2", now=deadline + timedelta(days=1))
    with pytest.raises(NotFoundError):
        groups.get(group_id="nope")
