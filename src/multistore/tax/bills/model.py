"""The common shape of parsed payment bills and the helpers the parsers share."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import zipfile
import zlib
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
    """Read (:func:`read_source`), unpack (:func:`unpack`) and decode (:func:`decode`).

    Returns the text and the display name (``archive/member`` for a bill read from a zip).
    """
    raw, file = read_source(source, name)
    raw, file = unpack(raw, file)
    return decode(raw, encodings, file), file


_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_DETAIL = "业务明细"
_SUMMARY_FILE = "汇总"


def unpack(data: bytes | str, file: str) -> tuple[bytes | str, str]:
    """Unpack a gzip file (WeChat Pay ``tar_type=GZIP``) or pick the bill out of a zip.

    Archives are recognised by their magic bytes, whatever the file is called. In a zip (the
    Alipay bill download holds the ``*_业务明细.csv`` detail file and a ``*_业务明细(汇总).csv``
    summary) the detail file is the one whose name contains 业务明细 but not 汇总; an archive
    with a single file gives that file. Hidden and system entries (``__MACOSX/``, ``._*``,
    ``.DS_Store``, ``Thumbs.db``...) are ignored. Anything else is returned unchanged.

    Raises:
        BillError: ``tax.bill.unreadable`` for a damaged archive; ``tax.bill.no_header`` when
            the archive holds no bill or several candidates (the message lists the files).
    """
    if isinstance(data, str):
        return data, file
    if data.startswith(_GZIP_MAGIC):
        try:
            return gzip.decompress(data), file
        except (OSError, EOFError, zlib.error) as exc:
            raise BillError(
                f"the gzip archive is damaged ({exc}); download the bill again",
                code="tax.bill.unreadable",
                file=file,
            ) from None
    if data.startswith(_ZIP_MAGIC):
        return _from_zip(data, file)
    return data, file


def _from_zip(data: bytes, file: str) -> tuple[bytes, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            named = ((_member_name(i), i) for i in archive.infolist() if not i.is_dir())
            members = {name: i for name, i in named if not _is_system_entry(name)}
            chosen = _pick_member(list(members), file)
            return archive.read(members[chosen]), f"{file}/{chosen}"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as exc:
        raise BillError(
            f"the zip archive is damaged ({exc}); download the bill again",
            code="tax.bill.unreadable",
            file=file,
        ) from None
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown compression
        raise BillError(
            f"the zip archive cannot be opened ({exc}); extract the bill and pass the CSV",
            code="tax.bill.unreadable",
            file=file,
        ) from None


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as the archiver wrote it.

    Names with the UTF-8 flag are already decoded. Names without it are raw bytes that
    :mod:`zipfile` read as cp437: macOS Archive Utility and Info-ZIP write UTF-8 without the
    flag, Windows tools in China write GBK. Strict UTF-8 is tried first (GBK names are almost
    never valid UTF-8), then GB 18030; names that are neither stay as read.
    """
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


_SYSTEM_DIRS = frozenset({"__macosx"})
_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})


def _is_system_entry(name: str) -> bool:
    """Whether a zip member is archiver or OS clutter rather than a file someone put there.

    macOS adds ``__MACOSX/`` and ``._name`` resource forks and ``.DS_Store``; Windows adds
    ``Thumbs.db`` and ``desktop.ini``. Any path part starting with a dot is hidden (``./``
    and ``../`` are not).
    """
    parts = [p for p in re.split(r"[/\\]", name) if p not in {"", ".", ".."}]
    if any(p.startswith(".") or p.lower() in _SYSTEM_DIRS for p in parts):
        return True
    return bool(parts) and parts[-1].lower() in _SYSTEM_FILES


def _pick_member(names: list[str], file: str) -> str:
    detail = [n for n in names if _DETAIL in n and _SUMMARY_FILE not in n]
    if len(detail) == 1:
        return detail[0]
    if not detail and len(names) == 1 and _SUMMARY_FILE not in names[0]:
        return names[0]
    listing = ", ".join(names) if names else "nothing"
    problem = (
        f"the zip archive holds several detail files ({listing}); extract the one to parse"
        if detail
        else f"the zip archive holds no bill detail file (*{_DETAIL}.csv), only: {listing}"
    )
    raise BillError(problem, code="tax.bill.no_header", file=file, details={"members": names})


def split_lines(text: str) -> list[str]:
    r"""Split a bill's text into lines on ``\r\n``, ``\n`` or ``\r`` only.

    Unlike :meth:`str.splitlines`, separators such as U+2028, U+0085 or form feed that a value
    may contain (a product name pasted from a web page) do not end the line.
    """
    lines = _NEWLINE.split(text)
    if lines and not lines[-1]:
        lines.pop()
    return lines


_NEWLINE = re.compile(r"\r\n|\n|\r")


def invalid_value(message: str, *, file: str, line: int, field: str | None = None) -> BillError:
    """A ``tax.bill.invalid_value`` error naming the file, the line and the field."""
    return BillError(message, code="tax.bill.invalid_value", file=file, line=line, field=field)


def short_row(found: int, expected: int, *, file: str, line: int) -> BillError:
    """The error for a row with fewer fields than the header."""
    return invalid_value(
        f"the row has {found} fields but the header has {expected}", file=file, line=line
    )


def long_row(found: int, expected: int, *, file: str, line: int) -> BillError:
    """The error for a row with more fields than the header (a value holds the separator)."""
    return invalid_value(
        f"the row has {found} fields but the header has {expected}; a value contains the field "
        "separator and cannot be told apart, fix that value in the file",
        file=file,
        line=line,
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
