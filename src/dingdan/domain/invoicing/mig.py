"""MIG 4.0 messages of the e-invoice platform, built from ``documents.py`` values.

F0401 (issue), F0501 (void), G0401 (allowance) and G0501 (allowance void), each element in
the order the specification's schema lists it; optional elements with no value are left
out. Amounts are whole NT$. In F0401 the lines' amounts include the tax (as Taiwan's shops
price); a B2B invoice shows the tax apart in ``Amount`` (``tax_split``: the tax from the
tax-included total, half up, and the sales amount the rest), a B2C one folds it into the
sales amount with ``TaxAmount`` 0. In G0401 every line's ``Amount`` excludes the tax and
``Tax`` carries it (the platform's allowance is always split).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from lxml import etree

from dingdan.domain.invoicing.documents import (
    B2C_BUYER_UBN,
    TAX_RATE,
    Allowance,
    AllowanceVoid,
    EInvoice,
    InvoiceVoid,
    Line,
    Party,
    tax_split,
    whole,
)
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE

NS = "urn:GEINV:eInvoiceMessage:{}:4.0"
_TAX_TYPE = {"taxable": "1", "zero_rated": "2", "exempt": "3"}
_CARRIER_TYPE = {"mobile": "3J0002", "certificate": "CQ0001", "member": "EJ0113"}
INVOICE_TYPE = "07"  # 一般稅額計算之電子發票
SELLER_ALLOWANCE = "2"  # AllowanceType 2: the seller issues the allowance


def _date(moment: datetime) -> str:
    return moment.astimezone(SELLER_TIMEZONE).strftime("%Y%m%d")


def _time(moment: datetime) -> str:
    return moment.astimezone(SELLER_TIMEZONE).strftime("%H:%M:%S")


def _number(value: Decimal) -> str:
    """A decimal without a needless exponent or trailing zeros (quantities, prices)."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


class _Builder:
    def __init__(self, message: str, root: str) -> None:
        self.root = etree.Element(root, nsmap={None: NS.format(message)})

    def put(self, parent: etree._Element, name: str, value: str | None) -> etree._Element | None:
        """A child with text; None (an optional element without value) adds nothing."""
        if value is None:
            return None
        el = etree.SubElement(parent, name)
        el.text = value
        return el

    def tree(self, parent: etree._Element, name: str) -> etree._Element:
        return etree.SubElement(parent, name)

    def bytes(self) -> bytes:
        return bytes(
            etree.tostring(self.root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        )


def _party(b: _Builder, main: etree._Element, tag: str, party: Party, *, buyer: bool) -> None:
    el = b.tree(main, tag)
    ubn = party.ubn or B2C_BUYER_UBN
    b.put(el, "Identifier", ubn)
    # A consumer buyer without a name is written as the B2C identifier, as the samples do.
    b.put(el, "Name", party.name or (B2C_BUYER_UBN if buyer else ""))
    b.put(el, "Address", party.address)
    b.put(el, "TelephoneNumber", party.phone)
    b.put(el, "EmailAddress", party.email)


def f0401(invoice: EInvoice) -> bytes:
    """The issue message (F0401) of one e-invoice."""
    b = _Builder("F0401", "Invoice")
    main = b.tree(b.root, "Main")
    b.put(main, "InvoiceNumber", invoice.number)
    b.put(main, "InvoiceDate", _date(invoice.issued_at))
    b.put(main, "InvoiceTime", _time(invoice.issued_at))
    _party(b, main, "Seller", invoice.seller, buyer=False)
    _party(b, main, "Buyer", invoice.buyer, buyer=True)
    b.put(main, "BuyerRemark", invoice.buyer_remark)
    b.put(main, "InvoiceType", INVOICE_TYPE)
    b.put(main, "DonateMark", "1" if invoice.donation_code else "0")
    if invoice.carrier_type is not None:
        b.put(main, "CarrierType", _CARRIER_TYPE[invoice.carrier_type])
        b.put(main, "CarrierId1", invoice.carrier_id)
        b.put(main, "CarrierId2", invoice.carrier_id)
    b.put(main, "PrintMark", "Y" if invoice.printed else "N")
    b.put(main, "NPOBAN", invoice.donation_code)
    b.put(main, "RandomNumber", invoice.random_code)
    details = b.tree(b.root, "Details")
    tax_type = _TAX_TYPE[invoice.tax_type]
    for line in invoice.lines:
        item = b.tree(details, "ProductItem")
        b.put(item, "Description", line.description)
        b.put(item, "Quantity", _number(line.quantity))
        b.put(item, "Unit", line.unit)
        b.put(item, "UnitPrice", _number(line.unit_price))
        b.put(item, "TaxType", tax_type)
        b.put(item, "Amount", _number(whole(line.amount)))
        b.put(item, "SequenceNumber", f"{line.sequence:03d}")
    sales, tax = tax_split(invoice.total, b2b=invoice.is_b2b, tax_type=invoice.tax_type)
    amount = b.tree(b.root, "Amount")
    taxable = invoice.tax_type == "taxable"
    b.put(amount, "SalesAmount", _number(sales if taxable else Decimal(0)))
    b.put(
        amount, "FreeTaxSalesAmount", _number(sales if invoice.tax_type == "exempt" else Decimal(0))
    )
    b.put(
        amount,
        "ZeroTaxSalesAmount",
        _number(sales if invoice.tax_type == "zero_rated" else Decimal(0)),
    )
    b.put(amount, "TaxType", tax_type)
    b.put(amount, "TaxRate", str(TAX_RATE) if taxable else "0")
    b.put(amount, "TaxAmount", _number(tax))
    b.put(amount, "TotalAmount", _number(sales + tax))
    return b.bytes()


def _cancel(
    message: str,
    root: str,
    number_tag: str,
    number: str,
    issued: datetime,
    cancel: tuple[datetime, str, str, str | None],
    date_tag: str = "InvoiceDate",
    allowance_type: bool = False,
) -> bytes:
    voided_at, reason, seller_ubn, buyer_ubn = cancel
    b = _Builder(message, root)
    b.put(b.root, number_tag, number)
    if allowance_type:
        b.put(b.root, "AllowanceType", SELLER_ALLOWANCE)
    b.put(b.root, date_tag, _date(issued))
    b.put(b.root, "BuyerId", buyer_ubn or B2C_BUYER_UBN)
    b.put(b.root, "SellerId", seller_ubn)
    b.put(b.root, "CancelDate", _date(voided_at))
    b.put(b.root, "CancelTime", _time(voided_at))
    b.put(b.root, "CancelReason", reason[:20])  # MIG: at most 20 characters
    return b.bytes()


def f0501(void: InvoiceVoid) -> bytes:
    """The void message (F0501) of an issued invoice."""
    return _cancel(
        "F0501",
        "CancelInvoice",
        "CancelInvoiceNumber",
        void.number,
        void.issued_at,
        (void.voided_at, void.reason, void.seller_ubn, void.buyer_ubn),
    )


def allowance_lines(allowance: Allowance) -> list[tuple[Line, Decimal, Decimal]]:
    """Each line with its tax-excluded amount and its tax; the taxes add up to the
    allowance's tax (the split of the total, the last line taking the remainder)."""
    _, total_tax = tax_split(allowance.total, b2b=True, tax_type=allowance.tax_type)
    out, left = [], total_tax
    for i, line in enumerate(allowance.lines):
        last = i == len(allowance.lines) - 1
        _, tax = tax_split(line.amount, b2b=True, tax_type=allowance.tax_type)
        tax = left if last else min(tax, left)
        left -= tax
        out.append((line, whole(line.amount) - tax, tax))
    return out


def g0401(allowance: Allowance) -> bytes:
    """The allowance message (G0401): lines' amounts without tax, the tax apart."""
    b = _Builder("G0401", "Allowance")
    main = b.tree(b.root, "Main")
    b.put(main, "AllowanceNumber", allowance.number)
    b.put(main, "AllowanceDate", _date(allowance.issued_at))
    _party(b, main, "Seller", allowance.seller, buyer=False)
    _party(b, main, "Buyer", allowance.buyer, buyer=True)
    b.put(main, "AllowanceType", SELLER_ALLOWANCE)
    details = b.tree(b.root, "Details")
    tax_type = _TAX_TYPE[allowance.tax_type]
    rows = allowance_lines(allowance)
    for line, amount, tax in rows:
        item = b.tree(details, "ProductItem")
        b.put(item, "OriginalInvoiceDate", _date(allowance.invoice_issued_at))
        b.put(item, "OriginalInvoiceNumber", allowance.invoice_number)
        b.put(item, "OriginalDescription", line.description)
        b.put(item, "Quantity", _number(line.quantity))
        b.put(item, "Unit", line.unit)
        b.put(item, "UnitPrice", _number(line.unit_price))
        b.put(item, "Amount", _number(amount))
        b.put(item, "Tax", _number(tax))
        b.put(item, "AllowanceSequenceNumber", str(line.sequence))
        b.put(item, "TaxType", tax_type)
    total = b.tree(b.root, "Amount")
    b.put(total, "TaxAmount", _number(sum((t for _, _, t in rows), Decimal(0))))
    b.put(total, "TotalAmount", _number(sum((a for _, a, _ in rows), Decimal(0))))
    return b.bytes()


def g0501(void: AllowanceVoid) -> bytes:
    """The allowance void message (G0501)."""
    return _cancel(
        "G0501",
        "CancelAllowance",
        "CancelAllowanceNumber",
        void.number,
        void.issued_at,
        (void.voided_at, void.reason, void.seller_ubn, void.buyer_ubn),
        date_tag="AllowanceDate",
        allowance_type=True,
    )


def roc_year_month(period: str) -> str:
    """A two-month period named by its first month (``2026-11``) as MIG writes it: the ROC
    year and the period's even (last) month, ``11512``."""
    year, month = (int(p) for p in period.split("-"))
    return f"{year - 1911:03d}{month + 1:02d}"


def e0402(seller_ubn: str, period: str, prefix: str, blanks: list[tuple[int, int]]) -> bytes:
    """The blank (unused) numbers of one prefix in one period (E0402, 空白未使用字軌), for the
    upload after the period closes: each run of numbers never issued, first and last."""
    b = _Builder("E0402", "BranchTrackBlank")
    main = b.tree(b.root, "Main")
    b.put(main, "HeadBan", seller_ubn)
    b.put(main, "BranchBan", seller_ubn)
    b.put(main, "InvoiceType", INVOICE_TYPE)
    b.put(main, "YearMonth", roc_year_month(period))
    b.put(main, "InvoiceTrack", prefix)
    details = b.tree(b.root, "Details")
    for first, last in blanks:
        item = b.tree(details, "BranchTrackBlankItem")
        b.put(item, "InvoiceBeginNo", f"{first:08d}")
        b.put(item, "InvoiceEndNo", f"{last:08d}")
    return b.bytes()
