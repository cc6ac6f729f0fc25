"""The common shape of parsed payment bills and the helpers the parsers share."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

import attrs
from money.currency import Currency

from multistore import money as msmoney
from multistore.tax.allocation import _money_prop
from multistore.tax.errors import BillError

__all__ = [
    "Bill",
    "BillRecord",
    "BillSource",
    "BillSummary",
    "RecordKind",
]

BillSource = bytes | str | os.PathLike[str]
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
ZERO = Decimal(0)


class RecordKind(StrEnum):
    """A payment (money in) or a refund (money out)."""

    PAYMENT = "payment"
    REFUND = "refund"


@attrs.frozen
class BillRecord:
    """One detail row of a payment bill, normalised.

    Amounts are signed: payments positive, refunds negative. ``fee`` is what the platform
    charged (positive) or gave back on a refund (negative).

    Attributes:
        platform: ``"wechat"``, ``"alipay"`` or the generic mapping's platform.
        kind: Payment or refund.
        order_id: Our order id (商户订单号).
        amount_minor: Signed settled amount in minor units.
        fee_minor: Signed fee in minor units (rounded half-up from ``fee_exact``).
        fee_exact: The fee exactly as printed (WeChat prints five decimals).
        currency: The currency.
        occurred_at: Time of the transaction (timezone-aware, China time when the bill has none).
        platform_txn_id: The platform's transaction id.
        refund_id: Our refund id (商户退款单号 / 退款批次号) for refunds.
        store_id: Store or device id when the bill has one.
        status: The row's status as printed.
        source_line: 1-based line number in the bill file.
    """

    platform: str
    kind: RecordKind
    order_id: str
    amount_minor: int
    fee_minor: int
    fee_exact: Decimal
    currency: Currency
    occurred_at: datetime
    platform_txn_id: str = ""
    refund_id: str = ""
    store_id: str = ""
    status: str = ""
    source_line: int = 0

    amount = _money_prop("amount_minor", "Signed settled amount.")
    fee = _money_prop("fee_minor", "Signed fee.")


@attrs.frozen
class BillSummary:
    """A bill's own totals (summary section or footer), as printed.

    Attributes:
        values: Summary field name to its value (Decimal for amounts, int for counts).
        source_line: Line of the summary in the file.
    """

    values: Mapping[str, Decimal]
    source_line: int


@attrs.frozen
class Bill:
    """A parsed bill.

    Attributes:
        platform: The platform.
        file: The file name used in errors.
        records: Payment and refund rows in file order.
        currency: The currency.
        summary: The bill's own totals, already checked against the rows.
        skipped: ``(line, reason)`` of rows that are neither payments nor refunds.
        meta: Header facts (account, date range) when the bill has them.
    """

    platform: str
    file: str
    records: tuple[BillRecord, ...]
    currency: Currency
    summary: BillSummary | None = None
    skipped: tuple[tuple[int, str], ...] = ()
    meta: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def amount_minor(self) -> int:
        """Net of every record's signed amount."""
        return sum(r.amount_minor for r in self.records)

    @property
    def fee_minor(self) -> int:
        """Net of every record's signed fee."""
        return sum(r.fee_minor for r in self.records)


def read_source(source: BillSource, name: str | None) -> tuple[bytes | str, str]:
    """Return the raw content and a display name for errors.

    ``bytes`` and ``str`` are the bill's content; an ``os.PathLike`` (``pathlib.Path``) is read.
    """
    if isinstance(source, os.PathLike):
        path = Path(source)
        try:
            return path.read_bytes(), name or str(path)
        except OSError as exc:
            raise BillError(
                f"cannot read the bill: {exc.strerror}", code="tax.bill.unreadable", file=str(path)
            ) from None
    return source, name or "<bill>"


def decode(data: bytes | str, encodings: Sequence[str], file: str) -> str:
    """Decode with the first encoding that works; a typed error names the expected ones."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    for enc in encodings:
        try:
            return data.decode(enc).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    raise BillError(
        f"the bytes are not valid {' or '.join(encodings)}; export the bill again in its "
        "original encoding",
        code="tax.bill.encoding",
        file=file,
    )


def read_text(source: BillSource, name: str | None, encodings: Sequence[str]) -> tuple[str, str]:
    """Read (:func:`read_source`) and decode (:func:`decode`): the text and the display name."""
    raw, file = read_source(source, name)
    return decode(raw, encodings, file), file


def invalid_value(message: str, *, file: str, line: int, field: str | None = None) -> BillError:
    """A ``tax.bill.invalid_value`` error naming the file, the line and the field."""
    return BillError(message, code="tax.bill.invalid_value", file=file, line=line, field=field)


def short_row(found: int, expected: int, *, file: str, line: int) -> BillError:
    """The error for a row with fewer fields than the header."""
    return invalid_value(
        f"the row has {found} fields but the header has {expected}", file=file, line=line
    )


def required_text(value: str, *, file: str, line: int, field: str, what: str = "") -> str:
    """Return ``value``; an empty one is an error (``empty <what or field>``)."""
    if not value:
        raise invalid_value(f"empty {what or field}", file=file, line=line, field=field)
    return value


def split_row(text: str) -> list[str]:
    """Split one CSV line (quotes honoured)."""
    return next(csv.reader(io.StringIO(text)), [])


def clean(value: str) -> str:
    """Strip whitespace, tabs and the backtick WeChat puts before every value."""
    return value.strip().lstrip("`").strip()


def cell(cells: Sequence[str], idx: Mapping[str, int], col: str) -> str:
    """The cleaned value of column ``col``; ``""`` when the header or the row lacks it."""
    return clean(cells[idx[col]]) if col in idx and idx[col] < len(cells) else ""


def header_index(
    header: Sequence[str], required: Sequence[str], file: str, line: int
) -> dict[str, int]:
    """Map column names to positions; every missing required column in one error."""
    index = {clean(h): i for i, h in enumerate(header)}
    missing = [c for c in required if c not in index]
    if missing:
        raise BillError(
            f"missing column(s) {', '.join(missing)}; the header has: {', '.join(index)}",
            code="tax.bill.missing_column",
            file=file,
            line=line,
            field=missing[0],
            details={"missing": missing},
        )
    return index


def decimal_value(
    raw: str, *, file: str, line: int, field: str, blank: Decimal | None = None
) -> Decimal:
    """Parse an amount such as ``1,234.50`` or ``-0.60000`` exactly."""
    text = clean(raw).replace(",", "").replace("¥", "")
    if not text:
        if blank is not None:
            return blank
        raise invalid_value("empty amount", file=file, line=line, field=field)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise invalid_value(
            f"{raw!r} is not an amount", file=file, line=line, field=field
        ) from None
    if not value.is_finite():
        raise invalid_value(f"{raw!r} is not finite", file=file, line=line, field=field)
    return value


def amount_cell(
    cells: Sequence[str], idx: Mapping[str, int], col: str, *, file: str, line: int
) -> Decimal:
    """The amount in column ``col`` (:func:`decimal_value`); zero when blank or no such column."""
    if col not in idx:
        return ZERO
    return decimal_value(cells[idx[col]], file=file, line=line, field=col, blank=ZERO)


def to_minor_exact(value: Decimal, cur: Currency, *, file: str, line: int, field: str) -> int:
    """Major-unit Decimal to minor units; more decimals than the currency has is an error."""
    minor = value * msmoney.minor_per_major(cur)
    if minor != minor.to_integral_value():
        raise invalid_value(
            f"amount {value} has more decimals than {cur.value} allows",
            file=file,
            line=line,
            field=field,
        )
    return int(minor)


def to_minor_rounded(value: Decimal, cur: Currency) -> int:
    """Major-unit Decimal to minor units, half away from zero (fees with five decimals)."""
    return msmoney.round_minor(value * msmoney.minor_per_major(cur))


def parse_time(raw: str, *, file: str, line: int, field: str, fmt: str | None = None) -> datetime:
    """Parse ``2026-11-02 10:00:00`` (China time unless the value has a zone)."""
    text = clean(raw)
    try:
        value = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
    except ValueError:
        raise invalid_value(
            f"{raw!r} is not a date-time like 2026-11-02 10:00:00",
            file=file,
            line=line,
            field=field,
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)


def check_total(
    *,
    name: str,
    printed: Decimal,
    computed: Decimal,
    file: str,
    line: int,
) -> None:
    """Raise ``tax.bill.totals_mismatch`` when a printed total disagrees with the rows."""
    if printed != computed:
        raise BillError(
            f"the bill says {name} = {printed} but its rows add up to {computed}; the file is "
            "truncated or edited, download it again",
            code="tax.bill.totals_mismatch",
            file=file,
            line=line,
            field=name,
            details={"printed": str(printed), "computed": str(computed)},
        )


def currency_of(raw: str, default: Currency, *, file: str, line: int, field: str) -> Currency:
    """Currency from a bill cell (``CNY``); blank means the default."""
    text = clean(raw)
    if not text:
        return default
    try:
        return msmoney.currency(text)
    except Exception:  # noqa: BLE001 - re-raised as a bill error naming the cell
        raise invalid_value(
            f"unknown currency {text!r}", file=file, line=line, field=field
        ) from None
