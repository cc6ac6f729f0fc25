r"""A configurable CSV mapping for marketplace settlement statements (Meituan, Ele.me, JD...).

Describe the file once as a :class:`GenericBillMapping` (a pydantic model, loadable from a dict,
JSON or YAML) and parse every statement with it.

Examples:
    >>> mapping = GenericBillMapping(
    ...     platform="meituan",
    ...     columns={"order_id": "订单号", "amount": "结算金额", "fee": "佣金",
    ...              "occurred_at": "下单时间", "kind": "类型"},
    ...     refund_values=["退款"],
    ... )
    >>> text = "订单号,类型,结算金额,佣金,下单时间\nM1,外卖,50.00,4.00,2026-11-02 12:00:00\n"
    >>> parse_generic_bill(text, mapping=mapping).records[0].fee_minor
    400
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pydantic
import yaml

from multistore import money as msmoney
from multistore.errors import ValidationError
from multistore.tax.bills.model import (
    Bill,
    BillRecord,
    BillSource,
    BillSummary,
    RecordKind,
    amount_cell,
    check_total,
    clean,
    currency_of,
    header_index,
    invalid_value,
    parse_time,
    read_text,
    required_text,
    split_lines,
    split_row,
    to_minor_exact,
    to_minor_rounded,
)
from multistore.tax.errors import BillCurrencyError, BillError

__all__ = ["GenericBillMapping", "load_bill_mapping", "parse_generic_bill"]

_FIELDS = (
    "order_id",
    "amount",
    "fee",
    "occurred_at",
    "kind",
    "txn_id",
    "refund_id",
    "store_id",
    "currency",
)


class GenericBillMapping(pydantic.BaseModel):
    """How to read one platform's CSV statement.

    Attributes:
        platform: Platform id given to the records.
        encoding: Encodings tried in order.
        delimiter: Field delimiter.
        comment_prefix: Lines starting with it are skipped (``""`` for none).
        columns: Our field -> the file's column header. Required: ``order_id``, ``amount``,
            ``occurred_at``; optional: ``fee``, ``kind``, ``txn_id``, ``refund_id``,
            ``store_id``, ``currency``.
        refund_values: Values of the ``kind`` column that mark a refund (others are payments).
        skip_values: Values of the ``kind`` column to ignore.
        refunds_negative: Whether refund amounts are printed negative (either way refunds come
            out negative).
        fee_negative: Whether charged fees are printed negative.
        datetime_format: ``strptime`` format; ``None`` for ISO 8601.
        currency: Currency when there is no currency column.
        total_row_marker: A first-cell value that marks a totals row (``合计``), checked against
            the rows' amount and fee.
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    platform: str = pydantic.Field(min_length=1)
    encoding: list[str] = pydantic.Field(default_factory=lambda: ["utf-8", "gb18030"])
    delimiter: str = pydantic.Field(default=",", min_length=1, max_length=1)
    comment_prefix: str = "#"
    columns: dict[str, str]
    refund_values: list[str] = pydantic.Field(default_factory=list)
    skip_values: list[str] = pydantic.Field(default_factory=list)
    refunds_negative: bool = False
    fee_negative: bool = False
    datetime_format: str | None = None
    currency: str = "CNY"
    total_row_marker: str | None = None

    @pydantic.field_validator("columns")
    @classmethod
    def _columns(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; use {list(_FIELDS)}")
        missing = [f for f in ("order_id", "amount", "occurred_at") if f not in value]
        if missing:
            raise ValueError(f"missing required field(s) {missing}")
        return value

    @pydantic.field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        msmoney.currency(value)
        return value


def load_bill_mapping(data: Mapping[str, Any] | str) -> GenericBillMapping:
    """Validate a mapping from a dict, JSON or YAML; every invalid field reported at once.

    Raises:
        ValidationError: ``tax.bill_mapping`` with ``details["errors"]``.
    """
    raw: Any = data
    if isinstance(data, str):
        raw = json.loads(data) if data.strip().startswith("{") else yaml.safe_load(data)
    try:
        return GenericBillMapping.model_validate(raw)
    except pydantic.ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        raise ValidationError(
            "invalid bill mapping: " + "; ".join(f"{e['field']}: {e['problem']}" for e in errors),
            code="tax.bill_mapping",
            details={"errors": errors},
        ) from None


def parse_generic_bill(
    source: BillSource, *, mapping: GenericBillMapping, name: str | None = None
) -> Bill:
    """Parse a CSV statement described by ``mapping``.

    Args:
        source: Bytes, text, or a ``pathlib.Path``; gzip or zip bytes are unpacked first.
        mapping: The column mapping.
        name: File name for errors.

    Returns:
        The :class:`Bill` (payments positive, refunds negative, fees positive when charged).

    Raises:
        BillError: encoding, missing columns, bad values (``tax.bill.invalid_value`` naming the
            file, line and field, an unknown currency code included), or a totals row that
            disagrees.
        BillCurrencyError: a row in another currency than the mapping's
            (``money.currency_mismatch``).
    """
    text, file = read_text(source, name, mapping.encoding)
    cur = msmoney.currency(mapping.currency)
    cols = mapping.columns
    lines = split_lines(text)
    header_at = next(
        (
            i
            for i, ln in enumerate(lines)
            if ln.strip() and not (mapping.comment_prefix and ln.startswith(mapping.comment_prefix))
        ),
        None,
    )
    if header_at is None:
        raise BillError("the file has no header line", code="tax.bill.no_header", file=file, line=1)

    def split(ln: str) -> list[str]:
        if mapping.delimiter == ",":
            return split_row(ln)
        return ln.split(mapping.delimiter)

    idx = header_index(split(lines[header_at]), list(cols.values()), file, header_at + 1)
    records: list[BillRecord] = []
    skipped: list[tuple[int, str]] = []
    amount_sum = fee_sum = Decimal(0)
    summary: BillSummary | None = None
    for i in range(header_at + 1, len(lines)):
        ln, lineno = lines[i], i + 1
        if not ln.strip() or (mapping.comment_prefix and ln.startswith(mapping.comment_prefix)):
            continue
        cells = split(ln)
        if len(cells) < len(idx):
            raise invalid_value(
                f"the row has {len(cells)} fields, expected {len(idx)}", file=file, line=lineno
            )

        def get(field: str, cells: list[str] = cells) -> str:
            return clean(cells[idx[cols[field]]]) if field in cols else ""

        def num(field: str, cells: list[str] = cells, lineno: int = lineno) -> Decimal:
            if field not in cols:
                return Decimal(0)
            return amount_cell(cells, idx, cols[field], file=file, line=lineno)

        if mapping.total_row_marker and clean(cells[0]) == mapping.total_row_marker:
            summary = BillSummary(
                values={"amount": num("amount"), "fee": num("fee")}, source_line=lineno
            )
            check_total(
                name=cols["amount"],
                printed=num("amount"),
                computed=amount_sum,
                file=file,
                line=lineno,
            )
            if "fee" in cols:
                check_total(
                    name=cols["fee"], printed=num("fee"), computed=fee_sum, file=file, line=lineno
                )
            continue
        kind_value = get("kind")
        if kind_value and kind_value in mapping.skip_values:
            skipped.append((lineno, f"type {kind_value!r} is skipped by the mapping"))
            continue
        amount, fee = num("amount"), num("fee")
        amount_sum += amount
        fee_sum += fee
        is_refund = kind_value in mapping.refund_values if mapping.refund_values else amount < 0
        kind = RecordKind.REFUND if is_refund else RecordKind.PAYMENT
        value = -abs(amount) if is_refund else amount
        fee_value = -fee if mapping.fee_negative else fee
        if "currency" in cols:
            row_cur = currency_of(
                cells[idx[cols["currency"]]], cur, file=file, line=lineno, field=cols["currency"]
            )
            if row_cur is not cur:
                raise BillCurrencyError(
                    f"currency {row_cur.value} in a {cur.value} statement",
                    file=file,
                    line=lineno,
                    field=cols["currency"],
                )
        order_id = required_text(
            get("order_id"), file=file, line=lineno, field=cols["order_id"], what="order id"
        )
        records.append(
            BillRecord(
                platform=mapping.platform,
                kind=kind,
                order_id=order_id,
                amount_minor=to_minor_exact(
                    value, cur, file=file, line=lineno, field=cols["amount"]
                ),
                fee_minor=to_minor_rounded(fee_value, cur),
                fee_exact=fee_value,
                currency=cur,
                occurred_at=parse_time(
                    cells[idx[cols["occurred_at"]]],
                    file=file,
                    line=lineno,
                    field=cols["occurred_at"],
                    fmt=mapping.datetime_format,
                ),
                platform_txn_id=get("txn_id"),
                refund_id=get("refund_id") if is_refund else "",
                store_id=get("store_id"),
                status=kind_value,
                source_line=lineno,
            )
        )
    return Bill(
        platform=mapping.platform,
        file=file,
        records=tuple(records),
        currency=cur,
        summary=summary,
        skipped=tuple(skipped),
    )
