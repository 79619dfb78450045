"""Amego (光貿) e-invoice API: the bytes on the wire, no HTTP.

Each call is a form POST (``application/x-www-form-urlencoded``) to ``/json/<message>`` of
``invoice`` (the seller's UBN), ``data`` (the message's JSON text), ``time`` (Unix seconds)
and ``sign = md5(data + time + appKey)`` in lowercase hex (invoice.amego.tw/api_doc). The
messages are named after MIG's: ``f0401`` issue, ``f0501`` void, ``g0401`` allowance,
``g0501`` allowance void; the answer is JSON ``{"code": 0, "msg": ""}`` (0 is success), with
the number and random code Amego assigned for an issue.

Amego assigns numbers itself from the seller's ranges registered there; ``OrderId`` is our
key for an invoice, and a repeated one is answered from ``invoice_query``.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from datetime import datetime
from decimal import Decimal
from typing import Any

from dingdan.domain.invoicing.documents import (
    B2C_BUYER_UBN,
    TAX_RATE,
    Allowance,
    AllowanceVoid,
    EInvoice,
    InvoiceVoid,
    Line,
    TaxType,
    tax_split,
    whole,
)
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE as TAIPEI

# Amego's published test account (invoice.amego.tw/api_doc: 統編 12345678, App Key below).
SANDBOX_UBN = "12345678"
SANDBOX_APP_KEY = "sHeq7t8G1wiQvhAuIM27"
URL = "https://invoice-api.amego.tw"

PATHS = {
    "issue": "/json/f0401",
    "void": "/json/f0501",
    "allowance": "/json/g0401",
    "void_allowance": "/json/g0501",
    "query": "/json/invoice_query",
    "check_barcode": "/json/barcode",
}

SUCCESS = 0
# CarrierType: 3J0002 mobile barcode, CQ0001 citizen certificate, "amego" the platform's
# member carrier (its id is the buyer's email).
CARRIER_TYPES = {"mobile": "3J0002", "certificate": "CQ0001", "member": "amego"}
TAX_TYPES: dict[TaxType, int] = {"taxable": 1, "zero_rated": 2, "exempt": 3}
ALLOWANCE_BY_SELLER = 2  # AllowanceType 2: 賣方開立折讓證明單


def sign(data: str, time: int, app_key: str) -> str:
    """``md5(data + time + appKey)``, lowercase hex, over the UTF-8 bytes."""
    return hashlib.md5(f"{data}{time}{app_key}".encode()).hexdigest()  # noqa: S324 - their rule


def dump_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def form_body(ubn: str, data: Any, time: int, app_key: str) -> bytes:
    """The request body: ``invoice``, ``data``, ``time``, ``sign``, form-encoded."""
    text = dump_json(data)
    fields = {"invoice": ubn, "data": text, "time": str(time), "sign": sign(text, time, app_key)}
    return urllib.parse.urlencode(fields, quote_via=urllib.parse.quote).encode("ascii")


def read_form(body: bytes) -> dict[str, str]:
    """A request body back into its fields (for the local stand-in and tests)."""
    pairs = urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True)
    return dict(pairs)


def verify(fields: dict[str, str], app_key: str) -> bool:
    """Whether a request's ``sign`` is right for its ``data`` and ``time``."""
    try:
        return fields["sign"] == sign(fields["data"], int(fields["time"]), app_key)
    except (KeyError, ValueError):
        return False


def _number(value: Decimal) -> int | float:
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _int(amount: Decimal) -> int:
    return int(whole(amount))


def _yyyymmdd(at: datetime) -> str:
    return at.astimezone(TAIPEI).strftime("%Y%m%d")


def _products(lines: tuple[Line, ...], tax_type: TaxType) -> list[dict[str, Any]]:
    return [
        {
            "Description": ln.description[:256],
            "Quantity": _number(ln.quantity),
            "Unit": (ln.unit or "")[:6],
            "UnitPrice": _number(ln.unit_price),
            "Amount": _int(ln.amount),
            "Remark": "",
            "TaxType": TAX_TYPES[tax_type],
        }
        for ln in lines
    ]


def issue_data(invoice: EInvoice) -> dict[str, Any]:
    """``f0401``: prices tax included (``DetailVat`` 1). B2B shows the tax apart (sales +
    tax = total); B2C keeps it inside the sales amount with ``TaxAmount`` 0."""
    sales, tax = tax_split(invoice.total, b2b=invoice.is_b2b, tax_type=invoice.tax_type)
    donated = invoice.donation_code is not None and not invoice.is_b2b
    carrier = "" if invoice.is_b2b or donated else CARRIER_TYPES.get(invoice.carrier_type or "", "")
    if carrier == "amego":
        carrier_id = invoice.buyer.email or ""
    else:
        carrier_id = (invoice.carrier_id or "") if carrier else ""
    taxable = invoice.tax_type == "taxable"
    return {
        "OrderId": invoice.number,
        "BuyerIdentifier": invoice.buyer.ubn or B2C_BUYER_UBN,
        "BuyerName": invoice.buyer.name[:60]
        if invoice.is_b2b
        else (invoice.buyer.name or "消費者")[:60],
        "BuyerAddress": (invoice.buyer.address or "")[:100],
        "BuyerTelephoneNumber": (invoice.buyer.phone or "")[:26],
        "BuyerEmailAddress": (invoice.buyer.email or "")[:80],
        "MainRemark": (invoice.buyer_remark or "")[:200],
        "CarrierType": carrier,
        "CarrierId1": carrier_id,
        "CarrierId2": carrier_id,
        "NPOBAN": (invoice.donation_code or "") if donated else "",
        "ProductItem": _products(invoice.lines, invoice.tax_type),
        "SalesAmount": _int(sales) if taxable else 0,
        "FreeTaxSalesAmount": _int(invoice.total) if invoice.tax_type == "exempt" else 0,
        "ZeroTaxSalesAmount": _int(invoice.total) if invoice.tax_type == "zero_rated" else 0,
        "TaxType": TAX_TYPES[invoice.tax_type],
        "TaxRate": str(TAX_RATE) if taxable else "0",  # as Amego's own example writes it
        "TaxAmount": _int(tax),
        "TotalAmount": _int(invoice.total),
        "DetailVat": 1,
    }


def query_data(invoice_number: str) -> dict[str, Any]:
    """``invoice_query`` by our key (``OrderId``): what Amego issued under it."""
    return {"type": "order", "order_id": invoice_number}


def query_number_data(invoice_number: str) -> dict[str, Any]:
    """``invoice_query`` by the invoice's number (its ``invoice_type`` says F0501/C0501 once
    void)."""
    return {"type": "invoice", "invoice_number": invoice_number}


VOID_TYPES = frozenset({"F0501", "C0501", "A0501"})
# An allowance listed by invoice_query under its invoice: G0401/D0401 taken, void once
# G0501/D0501.
ALLOWANCE_VOID_TYPES = frozenset({"G0501", "D0501", "B0501"})


def void_data(void: InvoiceVoid) -> list[dict[str, Any]]:
    """``f0501``: a list of the numbers to void."""
    return [{"CancelInvoiceNumber": void.number}]


def _line_tax(amount: Decimal, tax_type: TaxType) -> Decimal:
    if tax_type != "taxable":
        return Decimal(0)
    return whole(whole(amount) * TAX_RATE / (1 + TAX_RATE))


def allowance_data(allowance: Allowance) -> list[dict[str, Any]]:
    """``g0401`` by the seller: per line the amount without tax and its tax (rounded half up
    per line, the totals their sums, as MIG's G0401 adds them up)."""
    items = []
    for ln in allowance.lines:
        tax = _line_tax(ln.amount, allowance.tax_type)
        net = whole(ln.amount) - tax
        unit = (net / ln.quantity) if ln.quantity else net
        items.append(
            {
                "OriginalInvoiceNumber": allowance.invoice_number,
                "OriginalInvoiceDate": _yyyymmdd(allowance.invoice_issued_at),
                "OriginalSequenceNumber": ln.sequence,
                "OriginalDescription": ln.description[:256],
                "Quantity": _number(ln.quantity),
                "Unit": (ln.unit or "")[:6],
                "UnitPrice": _number(unit.quantize(Decimal("0.0000001"))),
                "Amount": _int(net),
                "Tax": _int(tax),
                "TaxType": TAX_TYPES[allowance.tax_type],
            }
        )
    return [
        {
            "AllowanceNumber": allowance.number,
            "AllowanceDate": _yyyymmdd(allowance.issued_at),
            "AllowanceType": ALLOWANCE_BY_SELLER,
            "BuyerIdentifier": allowance.buyer.ubn or B2C_BUYER_UBN,
            "BuyerName": (allowance.buyer.name or "消費者")[:60],
            "ProductItem": items,
            "TaxAmount": sum(i["Tax"] for i in items),
            "TotalAmount": sum(i["Amount"] for i in items),
        }
    ]


def void_allowance_data(void: AllowanceVoid) -> list[dict[str, Any]]:
    """``g0501``: a list of the allowance numbers to void."""
    return [{"CancelAllowanceNumber": void.number}]


def check_barcode_data(barcode: str) -> dict[str, Any]:
    return {"barCode": barcode}


def open_reply(body: bytes) -> dict[str, Any]:
    """An answer's JSON object; ValueError when it is not one."""
    value = json.loads(body)
    if not isinstance(value, dict) or "code" not in value:
        raise ValueError("the answer is not Amego's {code, msg}")
    return value


def code_of(reply: dict[str, Any]) -> int | None:
    try:
        return int(reply.get("code"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
