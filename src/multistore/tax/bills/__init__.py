"""Payment-bill parsers: WeChat Pay trade bill, Alipay business-detail bill, generic CSV."""

from multistore.tax.bills.alipay import ALIPAY_COLUMNS, parse_alipay_bill
from multistore.tax.bills.generic import GenericBillMapping, load_bill_mapping, parse_generic_bill
from multistore.tax.bills.model import Bill, BillRecord, BillSummary, RecordKind
from multistore.tax.bills.wechat import WECHAT_COLUMNS, WECHAT_SUMMARY, parse_wechat_bill

__all__ = [
    "ALIPAY_COLUMNS",
    "WECHAT_COLUMNS",
    "WECHAT_SUMMARY",
    "Bill",
    "BillRecord",
    "BillSummary",
    "GenericBillMapping",
    "RecordKind",
    "load_bill_mapping",
    "parse_alipay_bill",
    "parse_generic_bill",
    "parse_wechat_bill",
]
