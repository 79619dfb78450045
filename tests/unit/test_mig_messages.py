"""MIG 4.0 messages: element order and required elements as the specification lists them,
amounts and tax adding up, B2B tax from tax-included totals (half up)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from lxml import etree

from dingdan.domain.invoicing import mig
from dingdan.domain.invoicing.documents import (
    Allowance,
    AllowanceVoid,
    EInvoice,
    InvoiceVoid,
    Line,
    Party,
    tax_split,
)

SELLER = Party("茶行有限公司", "04595257", address="台北市信義區信義路五段7號")
ISSUED = datetime(2026, 11, 30, 16, 5, 9, tzinfo=UTC)  # 2026-12-01 00:05:09 in Taipei
# Each message's sequence (MIG 4.0): required elements, then the optional ones in between.
F0401_MAIN = [
    "InvoiceNumber",
    "InvoiceDate",
    "InvoiceTime",
    "Seller",
    "Buyer",
    "BuyerRemark",
    "MainRemark",
    "CustomsClearanceMark",
    "Category",
    "RelateNumber",
    "InvoiceType",
    "GroupMark",
    "DonateMark",
    "CarrierType",
    "CarrierId1",
    "CarrierId2",
    "PrintMark",
    "NPOBAN",
    "RandomNumber",
    "BondedAreaConfirm",
    "ZeroTaxRateReason",
]
F0401_MAIN_REQUIRED = {
    "InvoiceNumber",
    "InvoiceDate",
    "InvoiceTime",
    "Seller",
    "Buyer",
    "InvoiceType",
    "DonateMark",
    "PrintMark",
    "RandomNumber",
}
F0401_ITEM = [
    "Description",
    "Quantity",
    "Unit",
    "UnitPrice",
    "TaxType",
    "Amount",
    "SequenceNumber",
    "Remark",
    "RelateNumber",
]
F0401_AMOUNT = [
    "SalesAmount",
    "FreeTaxSalesAmount",
    "ZeroTaxSalesAmount",
    "TaxType",
    "TaxRate",
    "TaxAmount",
    "TotalAmount",
    "DiscountAmount",
    "OriginalCurrencyAmount",
    "ExchangeRate",
    "Currency",
]
PARTY = [
    "Identifier",
    "Name",
    "Address",
    "PersonInCharge",
    "TelephoneNumber",
    "FacsimileNumber",
    "EmailAddress",
    "CustomerNumber",
    "RoleRemark",
]
F0501 = [
    "CancelInvoiceNumber",
    "InvoiceDate",
    "BuyerId",
    "SellerId",
    "CancelDate",
    "CancelTime",
    "CancelReason",
    "ReturnTaxDocumentNumber",
    "Remark",
]
G0401_MAIN = ["AllowanceNumber", "AllowanceDate", "Seller", "Buyer", "AllowanceType", "Attachment"]
G0401_ITEM = [
    "OriginalInvoiceDate",
    "OriginalInvoiceNumber",
    "OriginalSequenceNumber",
    "OriginalDescription",
    "Quantity",
    "Unit",
    "UnitPrice",
    "Amount",
    "Tax",
    "AllowanceSequenceNumber",
    "TaxType",
]
G0501 = [
    "CancelAllowanceNumber",
    "AllowanceType",
    "AllowanceDate",
    "BuyerId",
    "SellerId",
    "CancelDate",
    "CancelTime",
    "CancelReason",
    "Remark",
]


def _names(el: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in el]


def _in_order(el: etree._Element, sequence: list[str], required: set[str] | None = None) -> None:
    names = _names(el)
    assert all(n in sequence for n in names), names
    assert [sequence.index(n) for n in names] == sorted(sequence.index(n) for n in names), names
    assert (required or set()) <= set(names), names


def _line(seq: int, desc: str, qty: int, price: str) -> Line:
    return Line(seq, desc, Decimal(qty), Decimal(price), Decimal(qty) * Decimal(price))


def _invoice(**over) -> EInvoice:
    values = dict(
        number="AB10000000",
        issued_at=ISSUED,
        random_code="0123",
        seller=SELLER,
        buyer=Party("0000000000"),
        lines=(_line(1, "烏龍茶", 2, "350"), _line(2, "運費", 1, "60")),
        total=Decimal(760),
    )
    return EInvoice(**(values | over))


def _root(data: bytes, message: str) -> etree._Element:
    root = etree.fromstring(data)
    assert root.nsmap[None] == f"urn:GEINV:eInvoiceMessage:{message}:4.0"
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return root


def _text(el: etree._Element, name: str) -> str:
    [child] = [c for c in el if etree.QName(c).localname == name]
    return str(child.text)


def test_f0401_b2c_with_a_carrier_in_the_specification_order():
    inv = _invoice(carrier_type="mobile", carrier_id="/TRM+O+P")
    root = _root(mig.f0401(inv), "F0401")
    assert _names(root) == ["Main", "Details", "Amount"]
    main, details, amount = root
    _in_order(main, F0401_MAIN, F0401_MAIN_REQUIRED)
    _in_order(main[3], PARTY, {"Identifier", "Name"})
    _in_order(main[4], PARTY, {"Identifier", "Name"})
    assert (_text(main, "InvoiceDate"), _text(main, "InvoiceTime")) == ("20261201", "00:05:09")
    assert (_text(main, "CarrierType"), _text(main, "CarrierId1")) == ("3J0002", "/TRM+O+P")
    assert (_text(main, "PrintMark"), _text(main, "DonateMark")) == ("N", "0")
    assert _text(main[4], "Identifier") == "0000000000"
    for item in details:
        _in_order(
            item,
            F0401_ITEM,
            {"Description", "Quantity", "UnitPrice", "TaxType", "Amount", "SequenceNumber"},
        )
    assert [_text(i, "Amount") for i in details] == ["700", "60"]
    _in_order(amount, F0401_AMOUNT, set(F0401_AMOUNT[:7]))
    # B2C: the tax stays in the sales amount.
    assert [_text(amount, n) for n in ("SalesAmount", "TaxAmount", "TotalAmount")] == [
        "760",
        "0",
        "760",
    ]


def test_f0401_b2b_shows_the_tax_from_the_tax_included_total():
    inv = _invoice(
        buyer=Party("甲公司", "04595257"), total=Decimal(1000), lines=(_line(1, "禮盒", 1, "1000"),)
    )
    amount = _root(mig.f0401(inv), "F0401")[2]
    sales, tax = int(_text(amount, "SalesAmount")), int(_text(amount, "TaxAmount"))
    assert (sales, tax) == (952, 48)  # 1000 / 1.05 * 0.05 = 47.62 → 48, half up
    assert sales + tax == int(_text(amount, "TotalAmount")) == 1000
    assert _text(_root(mig.f0401(inv), "F0401")[0], "PrintMark") == "Y"


def test_b2b_tax_rounds_half_up_and_always_adds_up():
    assert tax_split(Decimal(21), b2b=True) == (Decimal(20), Decimal(1))  # 1.0 exactly
    assert tax_split(Decimal(10), b2b=True) == (Decimal(10), Decimal(0))  # 0.476 → 0
    assert tax_split(Decimal(11), b2b=True) == (Decimal(10), Decimal(1))  # 0.5238 → 1
    for total in range(0, 3000):
        sales, tax = tax_split(Decimal(total), b2b=True)
        assert sales + tax == total and abs(tax - Decimal(total) / 21) <= Decimal("0.5")


def test_f0401_donation_carries_npoban_and_is_not_printed():
    main = _root(mig.f0401(_invoice(donation_code="168001")), "F0401")[0]
    assert (_text(main, "DonateMark"), _text(main, "NPOBAN"), _text(main, "PrintMark")) == (
        "1",
        "168001",
        "N",
    )


def test_f0501_void_in_order():
    void = InvoiceVoid(
        "AB10000000", ISSUED, datetime(2026, 12, 2, 3, tzinfo=UTC), "客戶取消", "04595257", None
    )
    root = _root(mig.f0501(void), "F0501")
    assert etree.QName(root).localname == "CancelInvoice"
    _in_order(root, F0501, set(F0501[:7]))
    assert (_text(root, "BuyerId"), _text(root, "CancelDate")) == ("0000000000", "20261202")


def _allowance() -> Allowance:
    return Allowance(
        number="AL-2026-000001",
        issued_at=ISSUED,
        invoice_number="AB10000000",
        invoice_issued_at=ISSUED,
        seller=SELLER,
        buyer=Party("甲公司", "04595257"),
        lines=(_line(1, "烏龍茶", 1, "350"), _line(2, "運費", 1, "60")),
        total=Decimal(410),
    )


def test_g0401_allowance_lines_without_tax_and_the_tax_apart_adding_up():
    root = _root(mig.g0401(_allowance()), "G0401")
    assert _names(root) == ["Main", "Details", "Amount"]
    main, details, amount = root
    _in_order(main, G0401_MAIN, set(G0401_MAIN[:5]))
    assert _text(main, "AllowanceType") == "2"
    required = {
        "OriginalInvoiceDate",
        "OriginalInvoiceNumber",
        "OriginalDescription",
        "Quantity",
        "UnitPrice",
        "Amount",
        "Tax",
        "AllowanceSequenceNumber",
        "TaxType",
    }
    for item in details:
        _in_order(item, G0401_ITEM, required)
    amounts = [int(_text(i, "Amount")) for i in details]
    taxes = [int(_text(i, "Tax")) for i in details]
    assert sum(amounts) + sum(taxes) == 410
    assert sum(taxes) == int(_text(amount, "TaxAmount")) == 20  # 410 / 21 = 19.52 → 20
    assert sum(amounts) == int(_text(amount, "TotalAmount")) == 390


def test_g0501_allowance_void_in_order():
    void = AllowanceVoid(
        "AL-2026-000001",
        ISSUED,
        datetime(2026, 12, 3, tzinfo=UTC),
        "金額有誤",
        "04595257",
        "04595257",
    )
    root = _root(mig.g0501(void), "G0501")
    assert etree.QName(root).localname == "CancelAllowance"
    _in_order(
        root,
        G0501,
        {
            "CancelAllowanceNumber",
            "AllowanceDate",
            "BuyerId",
            "SellerId",
            "CancelDate",
            "CancelTime",
            "CancelReason",
        },
    )
