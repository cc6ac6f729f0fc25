# ruff: noqa: RUF001, RUF002 - Chinese bill and tax texts use full-width punctuation
r"""Parser of the Alipay business-detail bill (业务明细), the ``*_业务明细.csv`` of the bill zip.

The file is GBK (read as GB 18030, its superset; a UTF-8 re-save is accepted too). ``#`` comment
lines before the header carry the account and the date range; ``#`` lines after the rows carry
the totals (``#交易合计：3笔，商家实收共330.00元，...``), which are checked against the rows.
Values may end in a tab; refunds are negative; the service fee (服务费) is negative when charged.
Columns are found by header name (full-width or ASCII parentheses both match).

Examples:
    >>> text = (
    ...     "#支付宝业务明细查询\n"
    ...     "商户订单号,业务类型,完成时间,订单金额（元）,商家实收（元）,服务费（元）,"
    ...     "退款批次号/请求号\n"
    ...     "O1\t,交易\t,2026-11-02 10:00:00\t,100.00\t,100.00\t,-0.60\t,\t\n"
    ...     "#交易合计：1笔，商家实收共100.00元，服务费共-0.60元\n"
    ... )
    >>> bill = parse_alipay_bill(text.encode("gbk"))
    >>> bill.records[0].amount_minor, bill.records[0].fee_minor
    (10000, 60)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    header_index,
    parse_time,
    read_text,
    required_text,
    short_row,
    split_lines,
    split_row,
    to_minor_exact,
)
from multistore.tax.errors import BillError

__all__ = ["ALIPAY_COLUMNS", "parse_alipay_bill"]

ALIPAY_COLUMNS = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额(元)",
    "商家实收(元)",
    "支付宝红包(元)",
    "集分宝(元)",
    "支付宝优惠(元)",
    "商家优惠(元)",
    "券核销金额(元)",
    "券名称",
    "商家红包消费金额(元)",
    "卡消费金额(元)",
    "退款批次号/请求号",
    "服务费(元)",
    "分润(元)",
    "备注",
]
"""The detail header (the file itself uses full-width parentheses: ``订单金额（元）``)."""

_REQUIRED = ("商户订单号", "业务类型", "完成时间", "商家实收(元)", "服务费(元)")
_TOTAL = re.compile(r"^#?\s*(交易|退款)合计[:：]\s*(\d+)\s*笔(.*)$")
_FIELD = re.compile(r"([^，,：:;；]+?)共\s*(-?[\d,]*\.?\d+)\s*元")
_META = re.compile(r"^#\s*(账号|起始日期|终止日期)[:：]\s*\[([^\]]*)\]")


def _norm(name: str) -> str:
    return clean(name).replace("（", "(").replace("）", ")")


def parse_alipay_bill(  # noqa: PLR0912, PLR0915 - one pass over the file
    source: BillSource,
    *,
    name: str | None = None,
    currency: str | Currency = "CNY",
    encodings: Sequence[str] = ("utf-8", "gb18030"),
    check_summary: bool = True,
) -> Bill:
    """Parse an Alipay business-detail bill.

    Args:
        source: The bill's bytes (GBK) or text, or a ``pathlib.Path``; the downloaded zip
            (its ``*_业务明细.csv`` is read) or gzip bytes are unpacked first.
        name: File name to use in errors.
        currency: The bill's currency (Alipay bills are in CNY).
        encodings: Encodings tried in order; GBK bytes never decode as UTF-8, so the default
            reads both the original GBK file and a UTF-8 re-save.
        check_summary: Check the ``#交易合计`` / ``#退款合计`` footer against the rows.

    Returns:
        The :class:`Bill`: 交易 rows are payments, 退款 rows refunds (negative); other business
        types are listed in ``skipped``.

    Raises:
        BillError: ``tax.bill.encoding``, ``tax.bill.no_header``, ``tax.bill.missing_column``,
            ``tax.bill.invalid_value``, ``tax.bill.totals_mismatch`` (file, line, field named).
    """
    text, file = read_text(source, name, encodings)
    cur = msmoney.currency(currency)
    lines = split_lines(text)
    meta: dict[str, str] = {}
    header_at: int | None = None
    for i, ln in enumerate(lines):
        if ln.startswith("#"):
            for m in _META.finditer(ln):
                meta[m.group(1)] = m.group(2)
            m2 = re.search(r"终止日期[:：]\s*\[([^\]]*)\]", ln)
            if m2:
                meta["终止日期"] = m2.group(1)
            continue
        if ln.strip():
            header_at = i
            break
    if header_at is None or not any(
        k in lines[header_at] for k in ("支付宝交易号", "商户订单号", "业务类型")
    ):
        looks_binary = "\x00" in text or not re.search(r"[\u4e00-\u9fff]", text)
        raise BillError(
            "the file does not decode to an Alipay bill; save it as GBK (the original export)"
            if looks_binary
            else "no detail header (支付宝交易号,商户订单号,...) found; is this an Alipay "
            "business-detail bill?",
            code="tax.bill.encoding" if looks_binary else "tax.bill.no_header",
            file=file,
            line=(header_at or 0) + 1,
        )
    header = [_norm(h) for h in split_row(lines[header_at])]
    if "账务流水号" in header:
        raise BillError(
            "this is the account-detail bill (账务明细); export the business-detail bill "
            "(业务明细) instead",
            code="tax.bill.no_header",
            file=file,
            line=header_at + 1,
        )
    idx = header_index(header, _REQUIRED, file, header_at + 1)
    records: list[BillRecord] = []
    skipped: list[tuple[int, str]] = []
    sums: dict[tuple[str, str], Decimal] = {}
    counts: dict[str, int] = {}
    footer: list[tuple[int, str]] = []
    for i in range(header_at + 1, len(lines)):
        ln = lines[i]
        lineno = i + 1
        if ln.startswith("#"):
            footer.append((lineno, ln))
            continue
        if not ln.strip():
            continue
        cells = split_row(ln)
        if len(cells) < len(_REQUIRED) or len(cells) < max(idx[c] for c in _REQUIRED) + 1:
            raise short_row(len(cells), len(header), file=file, line=lineno)

        def get(col: str, cells: list[str] = cells) -> str:
            return cell(cells, idx, col)

        kind_text = get("业务类型")
        kind_key = "退款" if "退款" in kind_text else "交易" if "交易" in kind_text else ""
        if kind_key:
            counts[kind_key] = counts.get(kind_key, 0) + 1
            for col in header:
                if col.endswith("(元)") and idx[col] < len(cells):
                    v = amount_cell(cells, idx, col, file=file, line=lineno)
                    sums[(kind_key, col)] = sums.get((kind_key, col), ZERO) + v
        if not kind_key:
            skipped.append((lineno, f"business type {kind_text!r} is neither 交易 nor 退款"))
            continue
        settled = amount_cell(cells, idx, "商家实收(元)", file=file, line=lineno)
        service = amount_cell(cells, idx, "服务费(元)", file=file, line=lineno)
        kind = RecordKind.PAYMENT if kind_key == "交易" else RecordKind.REFUND
        value = abs(settled) if kind is RecordKind.PAYMENT else -abs(settled)
        order_id = required_text(get("商户订单号"), file=file, line=lineno, field="商户订单号")
        when_col = "完成时间" if get("完成时间") else "创建时间"
        if when_col not in idx:
            when_col = "完成时间"
        fee = -service
        records.append(
            BillRecord(
                platform="alipay",
                kind=kind,
                order_id=order_id,
                amount_minor=to_minor_exact(
                    value, cur, file=file, line=lineno, field="商家实收(元)"
                ),
                fee_minor=to_minor_exact(fee, cur, file=file, line=lineno, field="服务费(元)"),
                fee_exact=fee,
                currency=cur,
                occurred_at=parse_time(
                    cells[idx[when_col]], file=file, line=lineno, field=when_col
                ),
                platform_txn_id=get("支付宝交易号"),
                refund_id=get("退款批次号/请求号") if kind is RecordKind.REFUND else "",
                store_id=get("门店编号"),
                status=kind_text,
                source_line=lineno,
            )
        )
    summary = _footer(footer, header, counts, sums, file, check=check_summary)
    return Bill(
        platform="alipay",
        file=file,
        records=tuple(records),
        currency=cur,
        summary=summary,
        skipped=tuple(skipped),
        meta=meta,
    )


def _footer(
    footer: list[tuple[int, str]],
    header: list[str],
    counts: dict[str, int],
    sums: dict[tuple[str, str], Decimal],
    file: str,
    *,
    check: bool,
) -> BillSummary | None:
    values: dict[str, Decimal] = {}
    first_line = 0
    for lineno, ln in footer:
        m = _TOTAL.match(ln.strip())
        if not m:
            continue
        first_line = first_line or lineno
        kind, count, rest = m.group(1), int(m.group(2)), m.group(3)
        values[f"{kind}笔数"] = Decimal(count)
        if check:
            check_total(
                name=f"{kind}合计笔数",
                printed=Decimal(count),
                computed=Decimal(counts.get(kind, 0)),
                file=file,
                line=lineno,
            )
        for fm in _FIELD.finditer(rest):
            field = fm.group(1).strip()
            printed = Decimal(fm.group(2).replace(",", ""))
            values[f"{kind}{field}"] = printed
            col = f"{field}(元)"
            if check and col in header:
                check_total(
                    name=f"{kind}合计{field}",
                    printed=printed,
                    computed=sums.get((kind, col), ZERO),
                    file=file,
                    line=lineno,
                )
    if not values:
        if check:
            raise BillError(
                "the footer totals (#交易合计：...) are missing; the file is truncated",
                code="tax.bill.totals_mismatch",
                file=file,
                line=footer[-1][0] if footer else None,
                field="交易合计",
            )
        return None
    return BillSummary(values=values, source_line=first_line)
