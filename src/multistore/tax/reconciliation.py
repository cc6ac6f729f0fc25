"""Three-way reconciliation (多平台对账) of our orders, our payment records and platform bills.

Each entry is keyed by ``(platform, order id, payment|refund, refund id)``. For each key the
report says one of:

* ``matched`` -- order, payment record (when given) and bill agree on the amount and the fee;
* ``amount_mismatch`` -- the amounts differ (the item shows all three);
* ``fee_mismatch`` -- amounts agree but the platform fee differs from the expected fee;
* ``missing_from_bill`` -- we have it, the bill does not;
* ``missing_from_orders`` -- the bill (or a payment record) has it, our orders do not;
* ``missing_payment`` -- order and bill agree but we hold no payment record;
* ``duplicated`` -- the bill (or our orders) has the key more than once.

A refund we hold without a refund id is paired with one of its order's bill refunds that no entry
names by id (equal amount first, then by time). Payment records go by the refund id they name;
id-less ones are paired with refunds that no record names the same way, and a record naming one
refund id is never paired with a refund holding another.

Bills are checked against their own summary when parsed; the report then sums per platform and
day (China calendar day of the bill row, times in other zones converted first, else the order's
day).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TypeVar

import attrs
from money.currency import Currency
from money.money import Money

from multistore import money as msmoney
from multistore.tax.allocation import _money_prop
from multistore.tax.bills.model import CHINA_TZ, Bill, BillRecord, RecordKind
from multistore.tax.refunds import TaxedRefund
from multistore.tax.vat import TaxedOrder

__all__ = [
    "DaySummary",
    "ExpectedEntry",
    "MatchStatus",
    "PaymentEntry",
    "ReconItem",
    "ReconciliationReport",
    "expected_from_orders",
    "reconcile",
]


class MatchStatus(StrEnum):
    """Outcome of one reconciliation key."""

    MATCHED = "matched"
    AMOUNT_MISMATCH = "amount_mismatch"
    FEE_MISMATCH = "fee_mismatch"
    MISSING_FROM_BILL = "missing_from_bill"
    MISSING_FROM_ORDERS = "missing_from_orders"
    MISSING_PAYMENT = "missing_payment"
    DUPLICATED = "duplicated"


@attrs.frozen
class ExpectedEntry:
    """What our orders say a platform should have collected or refunded.

    Attributes:
        platform: ``"wechat"``, ``"alipay"``...
        order_id: Our order id (商户订单号).
        kind: Payment or refund.
        amount: Signed amount (refunds negative).
        day: Business day of the order or refund.
        fee: Expected platform fee (signed like bill fees), ``None`` to skip the fee check.
        refund_id: Our refund id for refunds.
        store_id: The store.
    """

    platform: str
    order_id: str
    kind: RecordKind
    amount: Money
    day: date
    fee: Money | None = None
    refund_id: str = ""
    store_id: str = ""


@attrs.frozen
class PaymentEntry:
    """A payment or refund as our payment records hold it (gateway callbacks).

    Attributes:
        platform: The platform.
        order_id: Our order id.
        kind: Payment or refund.
        amount: Signed amount.
        refund_id: Our refund id for refunds.
    """

    platform: str
    order_id: str
    kind: RecordKind
    amount: Money
    refund_id: str = ""


@attrs.frozen
class ReconItem:
    """One reconciliation key and its outcome (minor units; ``None`` where absent).

    Attributes:
        status: The outcome.
        platform: The platform.
        day: The business day.
        order_id: Our order id.
        kind: Payment or refund.
        refund_id: The refund id.
        order_minor: Amount our orders expect.
        payment_minor: Amount in our payment records.
        bill_minor: Amount on the bill (sum when duplicated).
        expected_fee_minor: Fee we expected.
        bill_fee_minor: Fee on the bill.
        currency: The currency.
        bill_lines: Lines of the bill file(s) concerned.
        explanation: What differs, in plain words.
    """

    status: MatchStatus
    platform: str
    day: date
    order_id: str
    kind: RecordKind
    refund_id: str
    order_minor: int | None
    payment_minor: int | None
    bill_minor: int | None
    expected_fee_minor: int | None
    bill_fee_minor: int | None
    currency: Currency
    bill_lines: tuple[int, ...] = ()
    explanation: tuple[str, ...] = ()

    @property
    def difference_minor(self) -> int:
        """Bill amount minus order amount (absent counts as zero)."""
        return (self.bill_minor or 0) - (self.order_minor or 0)


@attrs.frozen
class DaySummary:
    """Totals of one platform and day; each total is the sum of that day's items.

    Attributes:
        platform: The platform.
        day: The day.
        counts: Items per status.
        order_minor: Sum of order amounts.
        bill_minor: Sum of bill amounts.
        bill_fee_minor: Sum of bill fees.
        currency: The currency.
    """

    platform: str
    day: date
    counts: tuple[tuple[MatchStatus, int], ...]
    order_minor: int
    bill_minor: int
    bill_fee_minor: int
    currency: Currency

    @property
    def difference_minor(self) -> int:
        """Bill minus orders."""
        return self.bill_minor - self.order_minor

    order_total = _money_prop("order_minor", "Sum of order amounts.")
    bill_total = _money_prop("bill_minor", "Sum of bill amounts.")
    difference = _money_prop("difference_minor", "Bill minus orders.")


@attrs.frozen
class ReconciliationReport:
    """The result of :func:`reconcile`.

    Attributes:
        items: One item per key, sorted by platform, day, order id.
        days: Per platform and day totals.
        currency: The currency.
        explanation: Bill checks and counts in plain sentences.
    """

    items: tuple[ReconItem, ...]
    days: tuple[DaySummary, ...]
    currency: Currency
    explanation: tuple[str, ...] = ()

    def with_status(self, status: MatchStatus) -> tuple[ReconItem, ...]:
        """Items with the given status."""
        return tuple(i for i in self.items if i.status is status)

    @property
    def problems(self) -> tuple[ReconItem, ...]:
        """Every item that is not matched."""
        return tuple(i for i in self.items if i.status is not MatchStatus.MATCHED)


Key = tuple[str, str, RecordKind, str]
T = TypeVar("T", BillRecord, PaymentEntry)


def _key(platform: str, order_id: str, kind: RecordKind, refund_id: str) -> Key:
    return (platform, order_id, kind, refund_id if kind is RecordKind.REFUND else "")


def _china_day(when: datetime) -> date:
    """The China calendar day of a bill time (naive times are China time already)."""
    zone = when.tzinfo
    if zone is None or zone is CHINA_TZ:
        return when.date()
    return when.astimezone(CHINA_TZ).date()


def reconcile(
    *,
    orders: Sequence[ExpectedEntry],
    bills: Sequence[Bill],
    payments: Sequence[PaymentEntry] | None = None,
    fee_tolerance_minor: int = 0,
) -> ReconciliationReport:
    """Match our orders (and payment records) against platform bills.

    Entries, bill rows and payment records are matched by key first. A refund we hold without a
    refund id then takes one of its order's bill refunds that no entry names by id: one of
    equal amount first, else the earliest left; several id-less refunds of one order are paired
    with that order's bill refunds the same way (never reported as duplicates). Payment records
    follow the refund id they name. A refund that no payment record names (by our id or its
    bill refund's id) takes an id-less payment record of its order, equal amount first, else by
    day; a record naming a refund id goes only to a refund with no id on either side. Two
    different refund ids are never paired: the refund is ``missing_payment`` and the record
    ``missing_from_orders``.

    Args:
        orders: What our orders expect, one entry per payment or refund.
        bills: Parsed bills (already checked against their own summaries).
        payments: Our payment records; ``None`` for a two-way match.
        fee_tolerance_minor: Allowed fee difference in minor units.

    Returns:
        The :class:`ReconciliationReport`.

    Raises:
        CurrencyMismatchError: bills, orders and payments in different currencies.
    """
    amounts = [e.amount for e in orders] + [p.amount for p in payments or ()]
    amounts += [msmoney.zero(b.currency) for b in bills]
    cur = msmoney.ensure_same_currency(*amounts) or msmoney.currency("CNY")
    billed: dict[Key, list[BillRecord]] = {}
    for b in bills:
        for r in b.records:
            billed.setdefault(_key(r.platform, r.order_id, r.kind, r.refund_id), []).append(r)
    paid: dict[Key, list[PaymentEntry]] = {}
    for p in payments or ():
        paid.setdefault(_key(p.platform, p.order_id, p.kind, p.refund_id), []).append(p)
    expected: dict[Key, list[ExpectedEntry]] = {}
    loose: dict[tuple[str, str], list[ExpectedEntry]] = {}
    for e in orders:
        if e.kind is RecordKind.REFUND and not e.refund_id:
            loose.setdefault((e.platform, e.order_id), []).append(e)
        else:
            expected.setdefault(_key(e.platform, e.order_id, e.kind, e.refund_id), []).append(e)

    match = _Matcher(cur, three_way=payments is not None, fee_tolerance_minor=fee_tolerance_minor)
    items = _match_entries(match, expected, loose, billed, paid)
    for key, recs in billed.items():
        items.append(_bill_only(key, recs, paid.pop(key, None), cur))
    first_day = _first_day(orders)
    items.extend(_payment_only(key, pays, first_day, cur) for key, pays in paid.items())
    items.sort(key=lambda i: (i.platform, i.day, i.order_id, i.kind.value, i.refund_id))
    days = _days(items, cur)
    explanation = [
        f"{b.file}: {len(b.records)} record(s) read"
        + (", totals agree with the bill's own summary" if b.summary is not None else "")
        + (f", {len(b.skipped)} row(s) skipped" if b.skipped else "")
        + "."
        for b in bills
    ]
    counts = {s: sum(1 for i in items if i.status is s) for s in MatchStatus}
    explanation.append(
        ", ".join(f"{n} {s.value}" for s, n in counts.items() if n) + "." if items else "Nothing."
    )
    return ReconciliationReport(tuple(items), days, cur, tuple(explanation))


def _match_entries(
    match: _Matcher,
    expected: dict[Key, list[ExpectedEntry]],
    loose: dict[tuple[str, str], list[ExpectedEntry]],
    billed: dict[Key, list[BillRecord]],
    paid: dict[Key, list[PaymentEntry]],
) -> list[ReconItem]:
    """Items of our entries: exact keys first, then each order's open refunds (`_pair_order`).

    What is matched is taken out of ``billed`` and ``paid``.
    """
    items: list[ReconItem] = []
    unpaid: dict[tuple[str, str], list[_Pairing]] = {}
    for key, entries in expected.items():
        recs, pays = billed.pop(key, None), paid.pop(key, None)
        if pays is None and key[2] is RecordKind.REFUND and paid:
            unpaid.setdefault(key[:2], []).append(_Pairing(key[3], entries, recs))
        else:
            items.append(match.item(key[3], entries, recs, pays))
    order_keys = dict.fromkeys([*loose, *unpaid])
    refund_keys = _refund_keys(billed, paid) if order_keys else {}
    for order_key in order_keys:
        pairs = _pair_order(
            loose.get(order_key, []),
            unpaid.get(order_key, []),
            refund_keys.get(order_key, []),
            billed,
            paid,
        )
        items.extend(match.item(p.refund_id, p.entries, p.recs, p.pays) for p in pairs)
    return items


@attrs.frozen
class _Matcher:
    """Builds the item of one key from its entries, bill rows and payment records."""

    currency: Currency
    three_way: bool
    fee_tolerance_minor: int

    def item(
        self,
        refund_id: str,
        entries: Sequence[ExpectedEntry],
        recs: Sequence[BillRecord] | None,
        pays: Sequence[PaymentEntry] | None,
    ) -> ReconItem:
        e = entries[0]
        order_minor = _entry_minor(entries)
        bill_minor = _bill_minor(recs) if recs else None
        bill_fee = sum(r.fee_minor for r in recs) if recs else None
        pay_minor = _pay_minor(pays) if pays else None
        exp_fee = (
            sum(msmoney.to_minor(x.fee) for x in entries if x.fee is not None)
            if any(x.fee is not None for x in entries)
            else None
        )
        status, why = self._status(
            entries, recs, pays, (order_minor, bill_minor, pay_minor, exp_fee, bill_fee)
        )
        return ReconItem(
            status,
            e.platform,
            _china_day(recs[0].occurred_at) if recs else e.day,
            e.order_id,
            e.kind,
            refund_id if e.kind is RecordKind.REFUND else "",
            order_minor,
            pay_minor,
            bill_minor,
            exp_fee,
            bill_fee,
            self.currency,
            tuple(r.source_line for r in recs or ()),
            (why,) if why else (),
        )

    def _status(
        self,
        entries: Sequence[ExpectedEntry],
        recs: Sequence[BillRecord] | None,
        pays: Sequence[PaymentEntry] | None,
        figures: tuple[int, int | None, int | None, int | None, int | None],
    ) -> tuple[MatchStatus, str]:
        order_minor, bill_minor, pay_minor, exp_fee, bill_fee = figures
        e = entries[0]
        if len(entries) > 1 or (recs and len(recs) > 1) or (pays and len(pays) > 1):
            return MatchStatus.DUPLICATED, (
                f"{e.order_id} appears {len(entries)} time(s) in our orders, "
                f"{len(recs or [])} time(s) on the bill and {len(pays or [])} time(s) in our "
                "payment records."
            )
        if recs is None:
            return MatchStatus.MISSING_FROM_BILL, (
                f"{e.kind.value} of {e.order_id} is in our orders but not on the bill."
            )
        if bill_minor != order_minor or (pay_minor is not None and pay_minor != order_minor):
            paid_note = f", payment records {pay_minor}" if pay_minor is not None else ""
            return MatchStatus.AMOUNT_MISMATCH, (
                f"amounts differ: orders {order_minor}{paid_note}, bill {bill_minor} "
                f"(minor units); difference {(bill_minor or 0) - order_minor}."
            )
        if self.three_way and pays is None:
            return MatchStatus.MISSING_PAYMENT, (
                f"{e.order_id} is on the bill and in our orders but has no payment record."
            )
        if (
            exp_fee is not None
            and bill_fee is not None
            and abs(bill_fee - exp_fee) > self.fee_tolerance_minor
        ):
            return MatchStatus.FEE_MISMATCH, (
                f"fee differs: expected {exp_fee}, bill {bill_fee} (minor units)."
            )
        return MatchStatus.MATCHED, ""


def _bill_only(
    key: Key, recs: list[BillRecord], pays: list[PaymentEntry] | None, cur: Currency
) -> ReconItem:
    r = recs[0]
    note = f"{r.kind.value} of {r.order_id} is on the bill ({r.platform}) but not in our orders"
    if len(recs) > 1:
        note += f", {len(recs)} times"
    return ReconItem(
        MatchStatus.MISSING_FROM_ORDERS,
        r.platform,
        _china_day(r.occurred_at),
        r.order_id,
        r.kind,
        key[3],
        None,
        _pay_minor(pays) if pays else None,
        _bill_minor(recs),
        None,
        sum(x.fee_minor for x in recs),
        cur,
        tuple(x.source_line for x in recs),
        (note + ".",),
    )


def _payment_only(key: Key, pays: list[PaymentEntry], day: date, cur: Currency) -> ReconItem:
    p = pays[0]
    return ReconItem(
        MatchStatus.MISSING_FROM_ORDERS,
        p.platform,
        day,
        p.order_id,
        p.kind,
        key[3],
        None,
        _pay_minor(pays),
        None,
        None,
        None,
        cur,
        (),
        (f"payment record of {p.order_id} matches neither our orders nor the bill.",),
    )


@attrs.define
class _Pairing:
    """Entries of one refund and the bill refund and payment records paired with them."""

    refund_id: str
    entries: list[ExpectedEntry]
    recs: list[BillRecord] | None = None
    pays: list[PaymentEntry] | None = None


def _pair_order(
    loose: list[ExpectedEntry],
    named: list[_Pairing],
    keys: list[Key],
    billed: dict[Key, list[BillRecord]],
    paid: dict[Key, list[PaymentEntry]],
) -> list[_Pairing]:
    """Pair the refunds of one order that exact keys left open.

    ``loose`` are our id-less refunds; they take the order's bill refunds that no entry names
    (equal amount first, else by time), then the payment records naming their bill refund.
    ``named`` are our refunds with an id that no payment record names. Payment records left are
    then given to the pairings still without one, equal amount first, else by day. A record
    naming a refund id only goes to a pairing that has no refund id yet (no entry or bill
    refund id): two different refund ids are a conflict, not a match.

    Takes what it pairs out of ``billed`` and ``paid`` and puts the rest back.
    """
    bill_groups = sorted(_take(billed, keys), key=lambda g: min(r.occurred_at for r in g))
    pay_groups = _take(paid, keys)
    by_day = sorted(loose, key=lambda x: x.day)
    to_bill, bills_left = _pair([_entry_minor([e]) for e in by_day], bill_groups, _bill_minor)
    pairs = [
        _Pairing(recs[0].refund_id if recs else "", [e], recs)
        for e, recs in zip(by_day, to_bill, strict=True)
    ]
    for p in pairs:
        p.pays = next(
            (g for g in pay_groups if p.refund_id and g[0].refund_id == p.refund_id), None
        )
        if p.pays is not None:
            pay_groups.remove(p.pays)
    pairs += named
    on_bill = {r.refund_id for g in bills_left for r in g}
    free = [g for g in pay_groups if not g[0].refund_id or g[0].refund_id not in on_bill]
    waiting = sorted((p for p in pairs if p.pays is None), key=lambda p: p.entries[0].day)
    to_pay, _ = _pair(
        [_entry_minor(p.entries) for p in waiting],
        free,
        _pay_minor,
        fits=lambda i, g: not g[0].refund_id or not waiting[i].refund_id,
    )
    for p, pays in zip(waiting, to_pay, strict=True):
        if pays is not None:
            pay_groups.remove(pays)
            p.pays = pays
            p.refund_id = p.refund_id or pays[0].refund_id
    _put_back(billed, bills_left)
    _put_back(paid, pay_groups)
    return pairs


def _entry_minor(entries: Sequence[ExpectedEntry]) -> int:
    return sum(msmoney.to_minor(e.amount) for e in entries)


def _bill_minor(recs: Sequence[BillRecord]) -> int:
    return sum(r.amount_minor for r in recs)


def _pay_minor(pays: Sequence[PaymentEntry]) -> int:
    return sum(msmoney.to_minor(p.amount) for p in pays)


def _refund_keys(
    billed: dict[Key, list[BillRecord]], paid: dict[Key, list[PaymentEntry]]
) -> dict[tuple[str, str], list[Key]]:
    """The refund keys of the bill and the payment records by ``(platform, order id)``."""
    out: dict[tuple[str, str], list[Key]] = {}
    for k in [*billed, *paid]:
        if k[2] is RecordKind.REFUND:
            out.setdefault(k[:2], []).append(k)
    return out


def _take(source: dict[Key, list[T]], keys: list[Key]) -> list[list[T]]:
    """Take an order's refunds (``keys``) out of ``source``.

    One group per refund id; id-less records each form their own group.
    """
    groups: list[list[T]] = []
    for key in dict.fromkeys(keys):
        recs = source.pop(key, None)
        if recs:
            groups += [[r] for r in recs] if not key[3] else [recs]
    return groups


def _put_back(target: dict[Key, list[T]], groups: list[list[T]]) -> None:
    for g in groups:
        first = g[0]
        key = _key(first.platform, first.order_id, first.kind, first.refund_id)
        target.setdefault(key, []).extend(g)


def _pair(
    wants: list[int],
    groups: list[list[T]],
    amount: Callable[[list[T]], int],
    fits: Callable[[int, list[T]], bool] = lambda i, g: True,
) -> tuple[list[list[T] | None], list[list[T]]]:
    """Give each wanted amount a group it ``fits``: one of equal amount first, then the first left.

    Returns the group per amount (``None`` when none fits) and the groups nobody took.
    """
    left = list(groups)
    out: list[list[T] | None] = [None] * len(wants)
    for i, want in enumerate(wants):
        same = next((g for g in left if amount(g) == want and fits(i, g)), None)
        if same is not None:
            out[i] = same
            left.remove(same)
    for i in range(len(wants)):
        first = None if out[i] is not None else next((g for g in left if fits(i, g)), None)
        if first is not None:
            out[i] = first
            left.remove(first)
    return out, left


def _first_day(orders: Sequence[ExpectedEntry]) -> date:
    return min((e.day for e in orders), default=date(1970, 1, 1))


def _days(items: list[ReconItem], cur: Currency) -> tuple[DaySummary, ...]:
    groups: dict[tuple[str, date], list[ReconItem]] = {}
    for i in items:
        groups.setdefault((i.platform, i.day), []).append(i)
    out = []
    for (platform, day), group in sorted(groups.items()):
        counts = tuple((s, n) for s in MatchStatus if (n := sum(1 for i in group if i.status is s)))
        out.append(
            DaySummary(
                platform,
                day,
                counts,
                sum(i.order_minor or 0 for i in group),
                sum(i.bill_minor or 0 for i in group),
                sum(i.bill_fee_minor or 0 for i in group),
                cur,
            )
        )
    return tuple(out)


def expected_from_orders(
    *,
    orders: Sequence[TaxedOrder],
    refunds: Sequence[TaxedRefund] = (),
    fee_rate: Decimal | None = None,
) -> tuple[ExpectedEntry, ...]:
    """Derive what the payment platforms should show from taxed orders and refunds.

    The expected amount is what the platform settles to the merchant for the order (or takes
    back for the refund): the customer's payment plus the platform-funded discounts, VAT
    included also for tax-exclusive prices (:attr:`TaxedOrder.settled_minor
    <multistore.tax.TaxedOrder.settled_minor>`). That is WeChat Pay's 应结订单金额 / 退款金额
    and Alipay's 商家实收, which include platform-funded (充值) coupons. The expected fee, when
    ``fee_rate`` is given (``Decimal("0.006")`` for 0.6%), is that amount times the rate
    rounded half-up to the fen, with the sign of the amount (fees come back on refunds).

    Args:
        orders: Taxed orders; their ``platform`` and ``tax_date`` are used.
        refunds: Taxed refunds; their ``refund_id`` and ``tax_date`` are used.
        fee_rate: The platform's fee rate, ``None`` to skip fee checks.

    Returns:
        One :class:`ExpectedEntry` per order and per refund.
    """
    rate = Fraction(fee_rate) if fee_rate is not None else None

    def fee(amount: int, cur: Currency) -> Money | None:
        if rate is None:
            return None
        return msmoney.from_minor(msmoney.round_minor(amount * rate), cur)

    out = [
        ExpectedEntry(
            platform=o.order.platform,
            order_id=o.order.order_id,
            kind=RecordKind.PAYMENT,
            amount=msmoney.from_minor(o.settled_minor, o.allocation.currency),
            day=o.order.tax_date,
            fee=fee(o.settled_minor, o.allocation.currency),
            store_id=o.order.store_id,
        )
        for o in orders
    ]
    out += [
        ExpectedEntry(
            platform=r.order.order.platform,
            order_id=r.order.order.order_id,
            kind=RecordKind.REFUND,
            amount=msmoney.from_minor(r.settled_minor, r.currency),
            day=r.tax_date,
            fee=fee(r.settled_minor, r.currency),
            refund_id=r.refund_id,
            store_id=r.order.order.store_id,
        )
        for r in refunds
    ]
    return tuple(out)
