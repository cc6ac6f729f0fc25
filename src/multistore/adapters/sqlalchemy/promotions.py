"""Promotion state on SQLite and PostgreSQL: wallets, redemptions, quotas, group buys, prices.

Every consuming call runs in one transaction through
:meth:`~multistore.adapters.sqlalchemy.SqlStorage.run_in_transaction` (busy, deadlock and
serialisation failures are retried as a whole) and decides with single statements:

* the order is claimed first with ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on its
  ``(promotion_id, order_id)`` primary key, so a repeated or concurrent call for the same order
  finds the first outcome and consumes nothing more (never read-then-insert);
* a coupon's total limit and a member's limit are conditional upserts
  (``INSERT ... ON CONFLICT DO UPDATE SET used = used + 1 WHERE used < :limit RETURNING``): no
  returned row means the limit is reached and the whole transaction is rolled back;
* a flash-sale quota is taken with ``UPDATE flash_sale_quotas SET sold = sold + :g WHERE
  promotion_id = :p AND sold + :g <= :quota``; the member's running total is locked by its upsert
  first, so the grant also respects the per-member limit.

A call that raises has changed nothing. Driver errors come out as multistore errors through
:mod:`multistore.adapters.sqlalchemy.errors`.

Examples:
    >>> from multistore.adapters.sqlalchemy import create_storage
    >>> storage = create_storage("sqlite://")
    >>> state = promotion_state(storage)
    >>> state.quotas.consume(promotion_id="F", member_id="m", order_id="o1", units=3,
    ...                      quota=2, per_member_limit=None)
    2
    >>> storage.close()
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import CHAR

from multistore.adapters.promotion_state import PromotionState
from multistore.adapters.sqlalchemy.errors import translating
from multistore.adapters.sqlalchemy.storage import SqlStorage, SqlUnitOfWork
from multistore.adapters.sqlalchemy.tables import BigId, UtcDateTime, metadata
from multistore.errors import (
    ConflictError,
    NotFoundError,
    StorageError,
    TransientStorageError,
    ValidationError,
)
from multistore.money import currency as _currency
from multistore.money import minor_per_major
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
    "PROMOTION_TABLES",
    "SqlCouponWallet",
    "SqlFlashSaleQuotas",
    "SqlGroupBuys",
    "SqlPriceHistory",
    "SqlPromotionUsage",
    "promotion_state",
]

T = TypeVar("T")

# --------------------------------------------------------------------------------------------
# Tables (on the shared metadata, created by migration 0003)
# --------------------------------------------------------------------------------------------

coupon_codes = Table(
    "promotion_coupon_codes",
    metadata,
    Column("code", String(), primary_key=True),
    Column("member_id", String(), nullable=False),
    Column("promotion_id", String(), nullable=False),
    Column("used_by_order", String(), nullable=True),
    Index("ix_promotion_coupon_codes_member_id", "member_id"),
)
"""Codes issued to members; ``used_by_order`` is set while a redemption holds the code."""

coupon_usage = Table(
    "promotion_coupon_usage",
    metadata,
    Column("promotion_id", String(), primary_key=True),
    Column("used", BigInteger(), nullable=False),
    Column("total_limit", BigInteger(), nullable=True),
    CheckConstraint("used >= 0", name="used_not_negative"),
)
"""Redemptions counted per coupon, with the last total limit seen."""

member_usage = Table(
    "promotion_member_usage",
    metadata,
    Column("promotion_id", String(), primary_key=True),
    Column("member_id", String(), primary_key=True),
    Column("used", BigInteger(), nullable=False),
    CheckConstraint("used >= 0", name="used_not_negative"),
)
"""Redemptions counted per coupon and member."""

redemptions = Table(
    "promotion_redemptions",
    metadata,
    Column("promotion_id", String(), primary_key=True),
    Column("order_id", String(), primary_key=True),
    Column("code", String(), nullable=False),
    Column("member_id", String(), nullable=True),
)
"""One row per redeemed ``(coupon, order)``: the primary key makes redemption idempotent."""

flash_quotas = Table(
    "flash_sale_quotas",
    metadata,
    Column("promotion_id", String(), primary_key=True),
    Column("quota", BigInteger(), nullable=False),
    Column("sold", BigInteger(), nullable=False),
    CheckConstraint("sold >= 0", name="sold_not_negative"),
    CheckConstraint("quota >= 0", name="quota_not_negative"),
)
"""Units sold of each flash sale and the last quota seen."""

flash_member_units = Table(
    "flash_sale_member_units",
    metadata,
    Column("promotion_id", String(), primary_key=True),
    Column("member_id", String(), primary_key=True),
    Column("units", BigInteger(), nullable=False),
    CheckConstraint("units >= 0", name="units_not_negative"),
)
"""Units granted to each member per flash sale."""

flash_grants = Table(
    "flash_sale_grants",
    metadata,
    Column("promotion_id", String(), primary_key=True),
    Column("order_id", String(), primary_key=True),
    Column("member_id", String(), nullable=True),
    Column("units", BigInteger(), nullable=False),
    CheckConstraint("units >= 0", name="units_not_negative"),
)
"""What each order was granted: the primary key makes consumption idempotent."""

group_buys = Table(
    "group_buys",
    metadata,
    Column("group_id", String(), primary_key=True),
    Column("promotion_id", String(), nullable=False),
    Column("min_participants", Integer(), nullable=False),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("member_count", Integer(), nullable=False),
)
"""Group-buy groups (``status``: open, succeeded, failed)."""

group_buy_members = Table(
    "group_buy_members",
    metadata,
    Column("group_id", String(), ForeignKey("group_buys.group_id"), primary_key=True),
    Column("member_id", String(), primary_key=True),
    Column("order_id", String(), nullable=False),
    Column("position", Integer(), nullable=False),
    UniqueConstraint("group_id", "position"),
)
"""Participants of each group, leader at position 0."""

price_history = Table(
    "promotion_price_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sku", String(), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("unit_price_minor", BigInteger(), nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Index("ix_promotion_price_history_sku_at", "sku", "at"),
)
"""Actual sale prices in minor units (the reference-price rule)."""

PROMOTION_TABLES = (
    coupon_codes,
    coupon_usage,
    member_usage,
    redemptions,
    flash_quotas,
    flash_member_units,
    flash_grants,
    group_buys,
    group_buy_members,
    price_history,
)
"""Every table of this module (for tooling and recounts)."""

_CODES = coupon_codes.c
_CU = coupon_usage.c
_MU = member_usage.c
_RED = redemptions.c
_FQ = flash_quotas.c
_FM = flash_member_units.c
_FG = flash_grants.c
_GB = group_buys.c
_GM = group_buy_members.c
_PH = price_history.c


def _insert(uow: SqlUnitOfWork, table: Table) -> sqlite.Insert | postgresql.Insert:
    if uow.dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class _SqlAdapter:
    def __init__(self, storage: SqlStorage) -> None:
        self._storage = storage

    def _run(
        self, action: str, fn: Callable[[Connection, SqlUnitOfWork], T], *, read_only: bool = False
    ) -> T:
        def body(uow: SqlUnitOfWork) -> T:
            with translating(action):
                return fn(uow.connection(), uow)

        return self._storage.run_in_transaction(body, read_only=read_only)


def _spent(message: str) -> ConflictError:
    return ConflictError(message, code="promotion.coupon_spent")


_CLAIM_ATTEMPTS = 5
"""How often a per-order claim is retried when a concurrent release keeps removing the row."""


def _claim_race(what: str, order_id: str) -> TransientStorageError:
    return TransientStorageError(
        f"the {what} of order {order_id!r} was claimed and released concurrently "
        f"{_CLAIM_ATTEMPTS} times in a row; retry the call",
        code="storage.transient",
    )


# --------------------------------------------------------------------------------------------
# Coupon wallet
# --------------------------------------------------------------------------------------------


class SqlCouponWallet(_SqlAdapter):
    """Coupon wallets and redemptions on SQL (the ``CouponWallet`` port).

    Args:
        storage: A migrated SQLite or PostgreSQL storage.
    """

    def issue(self, *, member_id: str, promotion_id: str, code: str) -> None:
        """See :meth:`multistore.ports.promotions.CouponWallet.issue`."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> None:
            stmt = (
                _insert(uow, coupon_codes)
                .values(code=code, member_id=member_id, promotion_id=promotion_id)
                .on_conflict_do_nothing()
                .returning(_CODES.code)
            )
            if conn.execute(stmt).first() is not None:
                return
            owner = conn.execute(
                select(_CODES.member_id, _CODES.promotion_id).where(_CODES.code == code)
            ).one()
            if (owner.member_id, owner.promotion_id) != (member_id, promotion_id):
                raise ConflictError(
                    f"coupon code {code!r} is already issued to another member or coupon",
                    code="coupon.code_taken",
                )

        self._run("issuing a coupon", fn)

    def codes(self, *, member_id: str) -> Sequence[str]:
        """See :meth:`multistore.ports.promotions.CouponWallet.codes`."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> list[str]:
            rows = conn.execute(
                select(_CODES.code)
                .where(_CODES.member_id == member_id, _CODES.used_by_order.is_(None))
                .order_by(_CODES.code)
            )
            return [str(r) for r in rows.scalars()]

        return self._run("listing coupon codes", fn, read_only=True)

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

        def fn(conn: Connection, uow: SqlUnitOfWork) -> Redemption:
            claim = (
                _insert(uow, redemptions)
                .values(
                    promotion_id=promotion_id, order_id=order_id, code=code, member_id=member_id
                )
                .on_conflict_do_nothing()
                .returning(_RED.order_id)
            )
            for _ in range(_CLAIM_ATTEMPTS):
                if conn.execute(claim).first() is not None:
                    break
                done = conn.execute(
                    select(_RED.code, _RED.member_id).where(
                        _RED.promotion_id == promotion_id, _RED.order_id == order_id
                    )
                ).first()
                if done is not None:
                    return Redemption(promotion_id, done.code, done.member_id, order_id)
                # The other claim was released between our insert and our read: claim again.
            else:
                raise _claim_race("coupon redemption", order_id)
            owner = conn.execute(
                select(_CODES.member_id, _CODES.promotion_id).where(_CODES.code == code)
            ).first()
            if owner is not None:
                if owner.promotion_id != promotion_id or owner.member_id != member_id:
                    raise NotFoundError(
                        f"coupon code {code!r} is not in this member's wallet",
                        code="promotion.unknown_coupon_code",
                    )
                taken = conn.execute(
                    update(coupon_codes)
                    .where(_CODES.code == code, _CODES.used_by_order.is_(None))
                    .values(used_by_order=order_id)
                )
                if taken.rowcount != 1:
                    raise _spent(f"coupon code {code!r} was already redeemed")
            self._count_total(conn, uow, promotion_id, total_limit)
            if member_id is not None:
                self._count_member(conn, uow, promotion_id, member_id, per_member_limit)
            return Redemption(promotion_id, code, member_id, order_id)

        return self._run("redeeming a coupon", fn)

    @staticmethod
    def _count_total(
        conn: Connection, uow: SqlUnitOfWork, promotion_id: str, limit: int | None
    ) -> None:
        if limit == 0:
            raise _spent(f"coupon {promotion_id!r} reached its total limit of 0")
        ins = _insert(uow, coupon_usage).values(
            promotion_id=promotion_id, used=1, total_limit=limit
        )
        set_: dict[str, Any] = {"used": _CU.used + 1}
        if limit is not None:
            set_["total_limit"] = ins.excluded.total_limit
        stmt = ins.on_conflict_do_update(
            index_elements=[_CU.promotion_id],
            set_=set_,
            where=None if limit is None else _CU.used < limit,
        ).returning(_CU.used)
        if conn.execute(stmt).first() is None:
            raise _spent(f"coupon {promotion_id!r} reached its total limit of {limit}")

    @staticmethod
    def _count_member(
        conn: Connection, uow: SqlUnitOfWork, promotion_id: str, member_id: str, limit: int | None
    ) -> None:
        if limit == 0:
            raise _spent(f"member {member_id!r} may not use coupon {promotion_id!r} (limit 0)")
        ins = _insert(uow, member_usage).values(
            promotion_id=promotion_id, member_id=member_id, used=1
        )
        stmt = ins.on_conflict_do_update(
            index_elements=[_MU.promotion_id, _MU.member_id],
            set_={"used": _MU.used + 1},
            where=None if limit is None else _MU.used < limit,
        ).returning(_MU.used)
        if conn.execute(stmt).first() is None:
            raise _spent(
                f"member {member_id!r} already used coupon {promotion_id!r} "
                f"{limit} time(s) (limit {limit})"
            )

    def release(self, *, promotion_id: str, order_id: str) -> bool:
        """See :meth:`multistore.ports.promotions.CouponWallet.release`."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> bool:
            gone = conn.execute(
                delete(redemptions)
                .where(_RED.promotion_id == promotion_id, _RED.order_id == order_id)
                .returning(_RED.code, _RED.member_id)
            ).first()
            if gone is None:
                return False
            conn.execute(
                update(coupon_usage)
                .where(_CU.promotion_id == promotion_id, _CU.used > 0)
                .values(used=_CU.used - 1)
            )
            if gone.member_id is not None:
                conn.execute(
                    update(member_usage)
                    .where(
                        _MU.promotion_id == promotion_id,
                        _MU.member_id == gone.member_id,
                        _MU.used > 0,
                    )
                    .values(used=_MU.used - 1)
                )
            conn.execute(
                update(coupon_codes)
                .where(_CODES.code == gone.code, _CODES.used_by_order == order_id)
                .values(used_by_order=None)
            )
            return True

        return self._run("releasing a coupon redemption", fn)

    def redemptions(self, *, promotion_id: str) -> list[Redemption]:
        """Return the redemptions of a coupon (for reports and tests), by order id."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> list[Redemption]:
            rows = conn.execute(
                select(_RED.code, _RED.member_id, _RED.order_id)
                .where(_RED.promotion_id == promotion_id)
                .order_by(_RED.order_id)
            )
            return [Redemption(promotion_id, r.code, r.member_id, r.order_id) for r in rows]

        return self._run("listing coupon redemptions", fn, read_only=True)


# --------------------------------------------------------------------------------------------
# Flash-sale quotas
# --------------------------------------------------------------------------------------------


class SqlFlashSaleQuotas(_SqlAdapter):
    """Flash-sale quotas on SQL (see :class:`~multistore.ports.promotions.FlashSaleQuotas`).

    Args:
        storage: A migrated SQLite or PostgreSQL storage.
    """

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

        def fn(conn: Connection, uow: SqlUnitOfWork) -> int:
            claim = (
                _insert(uow, flash_grants)
                .values(promotion_id=promotion_id, order_id=order_id, member_id=member_id, units=0)
                .on_conflict_do_nothing()
                .returning(_FG.order_id)
            )
            for _ in range(_CLAIM_ATTEMPTS):
                if conn.execute(claim).first() is not None:
                    break
                granted = conn.execute(
                    select(_FG.units).where(
                        _FG.promotion_id == promotion_id, _FG.order_id == order_id
                    )
                ).scalar_one_or_none()
                if granted is not None:
                    return int(granted)
                # The other claim was released between our insert and our read: claim again.
            else:
                raise _claim_race("flash-sale grant", order_id)
            want = units
            if member_id is not None:
                # Locks the member's running total until commit (PostgreSQL row lock; SQLite
                # holds the write lock already), so the member limit cannot be overrun.
                ins = _insert(uow, flash_member_units).values(
                    promotion_id=promotion_id, member_id=member_id, units=0
                )
                mine = conn.execute(
                    ins.on_conflict_do_update(
                        index_elements=[_FM.promotion_id, _FM.member_id],
                        set_={"units": _FM.units},
                    ).returning(_FM.units)
                ).scalar_one()
                if per_member_limit is not None:
                    want = min(want, max(0, per_member_limit - int(mine)))
            grant = self._take(conn, uow, promotion_id, want, quota)
            if grant:
                conn.execute(
                    update(flash_grants)
                    .where(_FG.promotion_id == promotion_id, _FG.order_id == order_id)
                    .values(units=grant)
                )
                if member_id is not None:
                    conn.execute(
                        update(flash_member_units)
                        .where(_FM.promotion_id == promotion_id, _FM.member_id == member_id)
                        .values(units=_FM.units + grant)
                    )
            return grant

        return self._run("consuming a flash-sale quota", fn)

    @staticmethod
    def _take(
        conn: Connection, uow: SqlUnitOfWork, promotion_id: str, want: int, quota: int
    ) -> int:
        conn.execute(
            _insert(uow, flash_quotas)
            .values(promotion_id=promotion_id, quota=quota, sold=0)
            .on_conflict_do_nothing()
        )
        while True:
            sold = int(
                conn.execute(select(_FQ.sold).where(_FQ.promotion_id == promotion_id)).scalar_one()
            )
            grant = min(want, max(0, quota - sold))
            if grant == 0:
                conn.execute(
                    update(flash_quotas).where(_FQ.promotion_id == promotion_id).values(quota=quota)
                )
                return 0
            taken = conn.execute(
                update(flash_quotas)
                .where(_FQ.promotion_id == promotion_id, _FQ.sold + grant <= quota)
                .values(sold=_FQ.sold + grant, quota=quota)
            )
            if taken.rowcount == 1:
                return grant
            # Another worker sold units in between (PostgreSQL): read the new total and retry.

    def release(self, *, promotion_id: str, order_id: str) -> int:
        """See :meth:`multistore.ports.promotions.FlashSaleQuotas.release`."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> int:
            gone = conn.execute(
                delete(flash_grants)
                .where(_FG.promotion_id == promotion_id, _FG.order_id == order_id)
                .returning(_FG.member_id, _FG.units)
            ).first()
            if gone is None or not gone.units:
                return 0
            units = int(gone.units)
            conn.execute(
                update(flash_quotas)
                .where(_FQ.promotion_id == promotion_id)
                .values(sold=_FQ.sold - units)
            )
            if gone.member_id is not None:
                conn.execute(
                    update(flash_member_units)
                    .where(_FM.promotion_id == promotion_id, _FM.member_id == gone.member_id)
                    .values(units=_FM.units - units)
                )
            return units

        return self._run("releasing a flash-sale grant", fn)

    def taken(self, *, promotion_id: str) -> int:
        """Units granted so far (for reports and tests)."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> int:
            sold = conn.execute(
                select(_FQ.sold).where(_FQ.promotion_id == promotion_id)
            ).scalar_one_or_none()
            return int(sold or 0)

        return self._run("reading a flash-sale quota", fn, read_only=True)

    def member_units(self, *, promotion_id: str, member_id: str) -> int:
        """Units granted to one member so far."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> int:
            units = conn.execute(
                select(_FM.units).where(
                    _FM.promotion_id == promotion_id, _FM.member_id == member_id
                )
            ).scalar_one_or_none()
            return int(units or 0)

        return self._run("reading a member's flash-sale units", fn, read_only=True)

    def remaining(self, *, promotion_id: str) -> int | None:
        """Units left of the last quota seen for the promotion (``None`` if never consumed)."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> int | None:
            row = conn.execute(
                select(_FQ.quota, _FQ.sold).where(_FQ.promotion_id == promotion_id)
            ).first()
            return None if row is None else max(0, int(row.quota) - int(row.sold))

        return self._run("reading a flash-sale quota", fn, read_only=True)


# --------------------------------------------------------------------------------------------
# Usage counters
# --------------------------------------------------------------------------------------------


class SqlPromotionUsage(_SqlAdapter):
    """The :class:`~multistore.ports.promotions.UsageCounters` read side on SQL.

    Coupons report what remains of the last ``total_limit`` passed to ``redeem`` (or of
    ``coupon_limits``, which takes precedence); flash sales of the last ``quota`` passed to
    ``consume``.

    Args:
        storage: A migrated SQLite or PostgreSQL storage.
        coupon_limits: Total limit of each coupon promotion id, overriding the recorded one.
    """

    def __init__(
        self, storage: SqlStorage, *, coupon_limits: Mapping[str, int] | None = None
    ) -> None:
        super().__init__(storage)
        self._limits = dict(coupon_limits or {})

    def usage_state(self, *, member_id: str | None, promotion_ids: Collection[str]) -> UsageState:
        """See :meth:`multistore.ports.promotions.UsageCounters.usage_state`."""
        ids = sorted(set(promotion_ids))
        if not ids:
            return UsageState()

        def fn(conn: Connection, uow: SqlUnitOfWork) -> UsageState:
            if uow.dialect == "postgresql":  # one snapshot for every read below
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            remaining: dict[str, int] = {}
            used: dict[str, int] = {}
            coupons = {
                r.promotion_id: r
                for r in conn.execute(
                    select(_CU.promotion_id, _CU.used, _CU.total_limit).where(
                        _CU.promotion_id.in_(ids)
                    )
                )
            }
            for pid in ids:
                row = coupons.get(pid)
                limit = self._limits.get(pid, None if row is None else row.total_limit)
                if limit is not None:
                    remaining[pid] = max(0, int(limit) - (0 if row is None else int(row.used)))
            for r in conn.execute(
                select(_FQ.promotion_id, _FQ.quota, _FQ.sold).where(_FQ.promotion_id.in_(ids))
            ):
                remaining[r.promotion_id] = max(0, int(r.quota) - int(r.sold))
            if member_id is not None:
                for table, count in ((member_usage, _MU.used), (flash_member_units, _FM.units)):
                    pid_col = table.c.promotion_id
                    for pid, n in conn.execute(
                        select(pid_col, count).where(
                            pid_col.in_(ids), table.c.member_id == member_id
                        )
                    ):
                        if n:
                            used[pid] = used.get(pid, 0) + int(n)
            return UsageState(remaining=remaining, member_used=used)

        return self._run("reading promotion usage", fn, read_only=True)


# --------------------------------------------------------------------------------------------
# Group buys
# --------------------------------------------------------------------------------------------


def _group_not_found(group_id: str) -> NotFoundError:
    return NotFoundError(f"group {group_id!r} does not exist", code="group_buy.not_found")


class SqlGroupBuys(_SqlAdapter):
    """Group-buy groups on SQL (see :class:`~multistore.ports.promotions.GroupBuys`).

    Joining and resolving lock the group's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
    holds the write lock), so a group never takes more members than one transaction saw.

    Args:
        storage: A migrated SQLite or PostgreSQL storage.
    """

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

        def fn(conn: Connection, uow: SqlUnitOfWork) -> GroupBuyGroup:
            created = conn.execute(
                _insert(uow, group_buys)
                .values(
                    group_id=group_id,
                    promotion_id=promotion_id,
                    min_participants=min_participants,
                    deadline=deadline,
                    status=GroupBuyStatus.OPEN.value,
                    member_count=1,
                )
                .on_conflict_do_nothing()
                .returning(_GB.group_id)
            ).first()
            if created is not None:
                conn.execute(
                    group_buy_members.insert().values(
                        group_id=group_id, member_id=member_id, order_id=order_id, position=0
                    )
                )
                return _load_group(conn, group_id)
            found = _load_group(conn, group_id)
            if found.members[0] == (member_id, order_id) and found.promotion_id == promotion_id:
                return found
            raise ConflictError(f"group {group_id!r} already exists", code="group_buy.duplicate")

        return self._run("opening a group buy", fn)

    def join(self, *, group_id: str, member_id: str, order_id: str, now: datetime) -> GroupBuyGroup:
        """See :meth:`multistore.ports.promotions.GroupBuys.join`."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> GroupBuyGroup:
            row = conn.execute(
                select(group_buys).where(_GB.group_id == group_id).with_for_update()
            ).first()
            if row is None:
                raise _group_not_found(group_id)
            already = conn.execute(
                select(_GM.order_id).where(_GM.group_id == group_id, _GM.member_id == member_id)
            ).first()
            if already is not None:
                return _load_group(conn, group_id)
            status = GroupBuyStatus(row.status)
            if status is not GroupBuyStatus.OPEN:
                raise ConflictError(
                    f"group {group_id!r} is {status.value} and takes no new members",
                    code="group_buy.closed",
                )
            if now >= row.deadline:
                raise ConflictError(
                    f"group {group_id!r} closed at {row.deadline.isoformat()}",
                    code="group_buy.closed",
                )
            count = int(row.member_count)
            conn.execute(
                group_buy_members.insert().values(
                    group_id=group_id, member_id=member_id, order_id=order_id, position=count
                )
            )
            new_status = (
                GroupBuyStatus.SUCCEEDED
                if count + 1 >= int(row.min_participants)
                else GroupBuyStatus.OPEN
            )
            moved = conn.execute(
                update(group_buys)
                .where(
                    _GB.group_id == group_id,
                    _GB.member_count == count,
                    _GB.status == GroupBuyStatus.OPEN.value,
                )
                .values(member_count=count + 1, status=new_status.value)
            )
            if moved.rowcount != 1:  # pragma: no cover - the row lock makes this unreachable
                raise StorageError(
                    f"group {group_id!r} changed while it was locked; retry the join",
                    code="storage.error",
                )
            return _load_group(conn, group_id)

        return self._run("joining a group buy", fn)

    def resolve(self, *, group_id: str, now: datetime) -> GroupBuyGroup:
        """See :meth:`multistore.ports.promotions.GroupBuys.resolve`."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> GroupBuyGroup:
            row = conn.execute(
                select(_GB.status, _GB.deadline).where(_GB.group_id == group_id).with_for_update()
            ).first()
            if row is None:
                raise _group_not_found(group_id)
            if row.status == GroupBuyStatus.OPEN.value and now >= row.deadline:
                conn.execute(
                    update(group_buys)
                    .where(_GB.group_id == group_id, _GB.status == GroupBuyStatus.OPEN.value)
                    .values(status=GroupBuyStatus.FAILED.value)
                )
            return _load_group(conn, group_id)

        return self._run("resolving a group buy", fn)

    def get(self, *, group_id: str) -> GroupBuyGroup:
        """See :meth:`multistore.ports.promotions.GroupBuys.get`."""
        return self._run(
            "reading a group buy", lambda conn, uow: _load_group(conn, group_id), read_only=True
        )


def _load_group(conn: Connection, group_id: str) -> GroupBuyGroup:
    row = conn.execute(select(group_buys).where(_GB.group_id == group_id)).first()
    if row is None:
        raise _group_not_found(group_id)
    members = tuple(
        (m.member_id, m.order_id)
        for m in conn.execute(
            select(_GM.member_id, _GM.order_id)
            .where(_GM.group_id == group_id)
            .order_by(_GM.position)
        )
    )
    status = GroupBuyStatus(row.status)
    return GroupBuyGroup(
        group_id=group_id,
        promotion_id=row.promotion_id,
        min_participants=int(row.min_participants),
        deadline=row.deadline,
        members=members,
        status=status,
        released_orders=tuple(o for _, o in members) if status is GroupBuyStatus.FAILED else (),
    )


# --------------------------------------------------------------------------------------------
# Price history
# --------------------------------------------------------------------------------------------


class SqlPriceHistory(_SqlAdapter):
    """Actual sale prices on SQL, in minor units of one currency.

    Args:
        storage: A migrated SQLite or PostgreSQL storage.
        currency: ISO code of the prices recorded and read through this adapter.
    """

    def __init__(self, storage: SqlStorage, *, currency: str = "CNY") -> None:
        super().__init__(storage)
        self._currency = _currency(currency).name
        self._scale = minor_per_major(self._currency)

    def record_sale(self, *, sku: str, at: datetime, unit_price: Decimal) -> None:
        """See :meth:`multistore.ports.promotions.PriceHistory.record_sale`.

        Raises:
            ValidationError: ``promotion.invalid_amount`` for a price that is not a decimal,
                is negative or has more decimals than the currency allows.
        """
        minor = self._to_minor(unit_price)

        def fn(conn: Connection, uow: SqlUnitOfWork) -> None:
            conn.execute(
                price_history.insert().values(
                    sku=sku, at=at, unit_price_minor=minor, currency=self._currency
                )
            )

        self._run("recording a sale price", fn)

    def _to_minor(self, unit_price: Decimal) -> int:
        value = unit_price if isinstance(unit_price, Decimal) else None
        if value is None or not value.is_finite() or value < 0:
            raise ValidationError(
                f"unit_price must be a Decimal >= 0, got {unit_price!r}",
                code="promotion.invalid_amount",
            )
        minor = value * self._scale
        if minor != minor.to_integral_value():
            raise ValidationError(
                f"unit_price {unit_price} has more decimals than {self._currency} allows",
                code="promotion.invalid_amount",
            )
        return int(minor)

    def sales(self, *, sku: str, since: datetime | None, until: datetime) -> Sequence[SalePoint]:
        """See :meth:`multistore.ports.promotions.PriceHistory.sales`."""

        def fn(conn: Connection, uow: SqlUnitOfWork) -> list[SalePoint]:
            stmt = select(_PH.at, _PH.unit_price_minor).where(
                _PH.sku == sku, _PH.currency == self._currency, _PH.at < until
            )
            if since is not None:
                stmt = stmt.where(_PH.at >= since)
            rows = conn.execute(stmt.order_by(_PH.at, _PH.id))
            return [
                SalePoint(
                    sku=sku, at=r.at, unit_price=Decimal(int(r.unit_price_minor)) / self._scale
                )
                for r in rows
            ]

        return self._run("reading sale prices", fn, read_only=True)


def promotion_state(
    storage: SqlStorage,
    *,
    coupon_limits: Mapping[str, int] | None = None,
    currency: str = "CNY",
) -> PromotionState:
    """Return the promotion ports backed by ``storage`` (SQLite or PostgreSQL).

    Args:
        storage: A storage from :func:`~multistore.adapters.sqlalchemy.create_storage` (its
            migrations include the promotion tables).
        coupon_limits: Total limit of each coupon promotion id, overriding the last limit
            recorded by ``redeem`` when ``usage`` reports what remains.
        currency: Currency of the price history.
    """
    return PromotionState(
        wallet=SqlCouponWallet(storage),
        quotas=SqlFlashSaleQuotas(storage),
        usage=SqlPromotionUsage(storage, coupon_limits=coupon_limits),
        group_buys=SqlGroupBuys(storage),
        price_history=SqlPriceHistory(storage, currency=currency),
    )
