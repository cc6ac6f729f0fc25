r"""Parser of the WeChat Pay trade bill (交易账单), ALL, SUCCESS and REFUND variants.

Columns are found by header name, never by position. Every value may carry the backtick that
WeChat Pay prefixes to stop spreadsheets from mangling long numbers; the file may start with a
UTF-8 BOM. After the detail rows comes the summary section (``总交易单数,应结订单总金额,...``)
whose totals are checked against the rows.

Examples:
    >>> text = (
    ...     "交易时间,商户订单号,交易状态,货币种类,应结订单金额,退款金额,手续费\n"
    ...     "`2026-11-02 10:00:00,`O1,`SUCCESS,`CNY,`100.00,`0.00,`0.60000\n"
    ...     "总交易单数,应结订单总金额,退款总金额,手续费总金额\n"
    ...     "`1,`100.00,`0.00,`0.60000\n"
    ... )
    >>> bill = parse_wechat_bill(text)
    >>> bill.records[0].amount_minor, bill.records[0].fee_minor
    (10000, 60)
"""

from __future__ import annotations

from decimal import Decimal

from money.currency import Currency

from multistore import money as msmoney
from multistore.tax.bills.model import (
    ZERO,
    Bill,
    BillRecord,
    BillSource,
    BillSummary,
    RecordKind,
    amount_cell,
    cell,
    check_total,
    clean,
    currency_of,
    decimal_value,
    header_index,
    long_row,
    parse_time,
    read_text,
    required_text,
    short_row,
    split_lines,
    split_row,
    to_minor_exact,
    to_minor_rounded,
)
from multistore.tax.errors import BillCurrencyError, BillError

__all__ = ["WECHAT_COLUMNS", "WECHAT_SUMMARY", "parse_wechat_bill"]

WECHAT_COLUMNS = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
]
"""The detail header of the ALL bill (SUCCESS and REFUND bills use subsets plus refund times)."""

WECHAT_SUMMARY = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
]
"""The summary header."""

_REQUIRED = ("交易时间", "商户订单号", "交易状态", "应结订单金额", "手续费")

# Older bills (before the 2017 layout) name some columns and totals differently.
_ALIASES = {
    "总金额": "应结订单金额",
    "子商户号": "特约商户号",
    "企业红包金额": "代金券金额",
    "代金券或立减优惠金额": "代金券金额",
    "企业红包退款金额": "充值券退款金额",
    "代金券或立减优惠退款金额": "充值券退款金额",
    "总交易额": "应结订单总金额",
    "总退款金额": "退款总金额",
    "总企业红包退款金额": "充值券退款总金额",
    "总代金券或立减优惠退款金额": "充值券退款总金额",
}


def parse_wechat_bill(  # noqa: PLR0912, PLR0915 - one pass over the file
    source: BillSource,
    *,
    name: str | None = None,
    currency: str | Currency = "CNY",
    check_summary: bool = True,
) -> Bill:
    """Parse a WeChat Pay trade bill.

    Args:
        source: The bill's bytes (UTF-8, optional BOM) or text, or a ``pathlib.Path``; gzip
            (``tar_type=GZIP``) or zip bytes are unpacked first.
        name: File name to use in errors (defaults to the path or ``<bill>``).
        currency: Currency when the bill has no 货币种类 column.
        check_summary: Check the summary section against the rows (and require it).

    Returns:
        The :class:`Bill`; payments positive, refunds negative, ``SUCCESS`` rows are payments,
        ``REFUND`` rows refunds, other statuses listed in ``skipped``.

    Raises:
        BillError: ``tax.bill.encoding``, ``tax.bill.no_header``, ``tax.bill.missing_column``,
            ``tax.bill.invalid_value``, ``tax.bill.totals_mismatch`` (file, line and field named).
        BillCurrencyError: rows in different currencies (``money.currency_mismatch``; a
            ``BillError`` and a ``CurrencyMismatchError``).
    """
    text, file = read_text(source, name, ["utf-8"])
    lines = split_lines(text)
    default_cur = msmoney.currency(currency)
    header_at = next(
        (i for i, ln in enumerate(lines) if "交易时间" in ln and "商户订单号" in ln), None
    )
    if header_at is None:
        raise BillError(
            "no detail header (交易时间,...,商户订单号,...) found; is this a WeChat Pay "
            "trade bill?",
            code="tax.bill.no_header",
            file=file,
            line=1,
        )
    header = [_ALIASES.get(clean(h), clean(h)) for h in split_row(lines[header_at])]
    idx = header_index(header, _REQUIRED, file, header_at + 1)
    records: list[BillRecord] = []
    skipped: list[tuple[int, str]] = []
    sums: dict[str, Decimal] = {}
    pay_sums: dict[str, Decimal] = {}
    rows = 0
    cur: Currency | None = None
    summary: BillSummary | None = None
    i = header_at + 1
    while i < len(lines):
        ln = lines[i]
        lineno = i + 1
        i += 1
        if not ln.strip():
            continue
        cells = split_wechat_row(ln, len(header))
        if clean(cells[0]).startswith("总交易单数"):
            summary = _summary(cells, lines, i, file)
            break
        if len(cells) < len(header):
            raise short_row(len(cells), len(header), file=file, line=lineno)
        if len(cells) > len(header):
            raise long_row(len(cells), len(header), file=file, line=lineno)
        rows += 1

        def get(col: str, cells: list[str] = cells) -> str:
            return cell(cells, idx, col)

        def amount(col: str, lineno: int = lineno, cells: list[str] = cells) -> Decimal:
            return amount_cell(cells, idx, col, file=file, line=lineno)

        status = get("交易状态").upper()
        row_cur = (
            currency_of(
                cells[idx["货币种类"]], default_cur, file=file, line=lineno, field="货币种类"
            )
            if "货币种类" in idx
            else default_cur
        )
        if cur is None:
            cur = row_cur
        elif row_cur is not cur:
            raise BillCurrencyError(
                f"{row_cur.value} in a {cur.value} bill; split the bill by currency",
                file=file,
                line=lineno,
                field="货币种类",
            )
        settle = amount("应结订单金额")
        for col in (
            "应结订单金额",
            "退款金额",
            "充值券退款金额",
            "手续费",
            "订单金额",
            "申请退款金额",
        ):
            v = amount(col)
            sums[col] = sums.get(col, ZERO) + v
            if status == "SUCCESS":
                pay_sums[col] = pay_sums.get(col, ZERO) + v
        fee = amount("手续费")
        if status == "SUCCESS":
            kind = RecordKind.PAYMENT
            value = settle
            when_col = "交易时间"
        elif status == "REFUND":
            if "退款金额" not in idx:
                raise BillError(
                    "a REFUND row needs the 退款金额 column",
                    code="tax.bill.missing_column",
                    file=file,
                    line=header_at + 1,
                    field="退款金额",
                )
            kind = RecordKind.REFUND
            value = -abs(amount("退款金额"))
            # 交易时间 is the payment's time; a refund still processing has no 退款成功时间
            when_col = next((c for c in ("退款成功时间", "退款申请时间") if get(c)), "交易时间")
        else:
            skipped.append((lineno, f"status {status or '(blank)'} is neither SUCCESS nor REFUND"))
            continue
        order_id = required_text(get("商户订单号"), file=file, line=lineno, field="商户订单号")
        records.append(
            BillRecord(
                platform="wechat",
                kind=kind,
                order_id=order_id,
                amount_minor=to_minor_exact(
                    value,
                    cur,
                    file=file,
                    line=lineno,
                    field="退款金额" if kind is RecordKind.REFUND else "应结订单金额",
                ),
                fee_minor=to_minor_rounded(fee, cur),
                fee_exact=fee,
                currency=cur,
                occurred_at=parse_time(
                    cells[idx[when_col]], file=file, line=lineno, field=when_col
                ),
                platform_txn_id=get("微信退款单号")
                if kind is RecordKind.REFUND
                else get("微信订单号"),
                refund_id=get("商户退款单号") if kind is RecordKind.REFUND else "",
                store_id=get("设备号"),
                status=status,
                source_line=lineno,
            )
        )
    if check_summary:
        if summary is None:
            raise BillError(
                "the summary section (总交易单数,...) is missing; the file is truncated",
                code="tax.bill.totals_mismatch",
                file=file,
                line=len(lines),
                field="总交易单数",
            )
        _check(summary, rows, sums, pay_sums, file)
    return Bill(
        platform="wechat",
        file=file,
        records=tuple(records),
        currency=cur or default_cur,
        summary=summary,
        skipped=tuple(skipped),
    )


def split_wechat_row(text: str, width: int) -> list[str]:
    """Split one WeChat Pay bill line into its values.

    WeChat Pay does not quote values; it puts a backtick before each, so a comma inside a value
    (商品名称 ``牛奶,2盒``, JSON in 商户数据包) is told apart from the separators (a comma
    followed by a backtick). Lines that do not start with a backtick (headers, hand-made files)
    are read as CSV, and so is a backticked line whose split on the separators does not give
    ``width`` values while the CSV split does.
    """
    body = text.strip()
    if body.startswith("`"):
        parts = body[1:].split(",`")
        if len(parts) == width:
            return parts
        cells = split_row(text)
        return cells if len(cells) == width else parts
    return split_row(text)


def _summary(head: list[str], lines: list[str], start: int, file: str) -> BillSummary:
    names = [_ALIASES.get(clean(c), clean(c)) for c in head]
    for j in range(start, len(lines)):
        if lines[j].strip():
            cells = split_wechat_row(lines[j], len(names))
            values = {
                n: decimal_value(c, file=file, line=j + 1, field=n, blank=ZERO)
                for n, c in zip(names, cells, strict=False)
                if n
            }
            return BillSummary(values=values, source_line=j + 1)
    raise BillError(
        "the summary header has no values line",
        code="tax.bill.totals_mismatch",
        file=file,
        line=start,
        field="总交易单数",
    )


_SUMMARY_OF = {
    "应结订单总金额": "应结订单金额",
    "退款总金额": "退款金额",
    "充值券退款总金额": "充值券退款金额",
    "手续费总金额": "手续费",
    "订单总金额": "订单金额",
    "申请退款总金额": "申请退款金额",
}


def _check(
    summary: BillSummary,
    rows: int,
    sums: dict[str, Decimal],
    pay_sums: dict[str, Decimal],
    file: str,
) -> None:
    line = summary.source_line
    if "总交易单数" in summary.values:
        check_total(
            name="总交易单数",
            printed=summary.values["总交易单数"],
            computed=Decimal(rows),
            file=file,
            line=line,
        )
    for total_name, col in _SUMMARY_OF.items():
        if total_name not in summary.values or col not in sums:
            continue
        printed = summary.values[total_name]
        # Some bills total the column over every row, others over the payments only.
        if printed == pay_sums.get(col, ZERO):
            continue
        check_total(name=total_name, printed=printed, computed=sums[col], file=file, line=line)
