"""ECPay (綠界) B2C e-invoice 2.0: the bytes on the wire, no HTTP.

Every call is a JSON POST of ``{"MerchantID", "RqHeader": {"Timestamp", "Revision"}, "Data"}``
(``Revision`` "3.0.0", the B2C e-invoice API's version; ``Timestamp`` Unix seconds, which ECPay
accepts within 10 minutes of its clock) where ``Data`` is the request's JSON, URL-encoded
the way PHP's ``urlencode`` does (uppercase ``%XX``, space ``+``, everything but
``A-Z a-z 0-9 - _ .`` escaped), then AES-128-CBC with
PKCS7 padding under the merchant's HashKey (key) and HashIV (IV), then base64. The answer is
``{"TransCode", "TransMsg", "Data"}``: ``TransCode`` 1 means the envelope was taken, and the
decrypted ``Data`` carries the business result, ``RtnCode`` 1 for success.

The published example (ECPay's 加密方法說明: ``{"Name":"Test","ID":"A123456789"}`` under the
sandbox keys gives ``uvI4…Dvg==``) pins the encoding; the shared vectors test it.

ECPay assigns the invoice number and random code itself. ``RelateNumber`` (the merchant's own
key for an invoice, at most 30 characters) makes an issue idempotent: a second issue with the
same key is refused, and the adapter then asks ``GetIssue`` for what was issued under it.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from dingdan.domain.invoicing.documents import (
    Allowance,
    AllowanceVoid,
    EInvoice,
    InvoiceVoid,
    Line,
    TaxType,
    whole,
)
from dingdan.domain.shared.ecpay_mac import php_urlencode
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE as TAIPEI

# ECPay's published sandbox shop (developers.ecpay.com.tw, B2C e-invoice 2.0 test account).
SANDBOX_MERCHANT_ID = "2000132"
SANDBOX_HASH_KEY = "ejCk326UnaZWKisg"
SANDBOX_HASH_IV = "q9jcZX8Ib9LM8wYk"
SANDBOX_URL = "https://einvoice-stage.ecpay.com.tw"
PRODUCTION_URL = "https://einvoice.ecpay.com.tw"

PATHS = {
    "issue": "/B2CInvoice/Issue",
    "get_issue": "/B2CInvoice/GetIssue",
    "void": "/B2CInvoice/Invalid",
    "allowance": "/B2CInvoice/Allowance",
    "void_allowance": "/B2CInvoice/AllowanceInvalid",
    "get_allowance_invalid": "/B2CInvoice/GetAllowanceInvalid",
    "check_barcode": "/B2CInvoice/CheckBarcode",
    "check_love_code": "/B2CInvoice/CheckLoveCode",
}

SUCCESS = 1
# CarrierType: "" none (printed, or donated), "1" ECPay's member carrier, "2" citizen
# certificate (自然人憑證), "3" mobile barcode (手機條碼).
CARRIER_TYPES = {"member": "1", "certificate": "2", "mobile": "3"}
# TaxType: 1 taxable, 2 zero-rated, 3 exempt (9 mixed and 4 special rate are not used here).
TAX_TYPES: dict[TaxType, str] = {"taxable": "1", "zero_rated": "2", "exempt": "3"}
INVOICE_TYPE = "07"  # 一般稅額
REVISION = "3.0.0"  # RqHeader.Revision of the B2C e-invoice API
RELATE_NUMBER_MAX = 30


class EcpayWireError(ValueError):
    """An answer that is not ECPay's shape, or does not decrypt under our keys."""


# ---- the AES envelope ----------------------------------------------------------------------


def _cipher(key: str, iv: str) -> Any:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    k, v = key.encode("ascii"), iv.encode("ascii")
    if len(k) != 16 or len(v) != 16:
        raise EcpayWireError("HashKey and HashIV must be 16 characters each")
    return Cipher(algorithms.AES(k), modes.CBC(v))


def encrypt_text(plain: str, key: str, iv: str) -> str:
    """AES-128-CBC/PKCS7 of ``plain`` (already URL-encoded), base64."""
    from cryptography.hazmat.primitives import padding

    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode("utf-8")) + padder.finalize()
    enc = _cipher(key, iv).encryptor()
    return base64.b64encode(enc.update(data) + enc.finalize()).decode("ascii")


def decrypt_text(data: str, key: str, iv: str) -> str:
    """The URL-encoded text inside ``data`` (base64 of AES-128-CBC/PKCS7)."""
    from cryptography.hazmat.primitives import padding

    try:
        raw = base64.b64decode(data, validate=True)
        dec = _cipher(key, iv).decryptor()
        padded = dec.update(raw) + dec.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise EcpayWireError(f"Data does not decrypt under these keys: {exc}") from exc


def dump_json(data: Any) -> str:
    """The JSON text ECPay's own SDKs send: no spaces, non-ASCII as is."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def encrypt_data(data: Any, key: str, iv: str) -> str:
    """``Data`` of a request: JSON → PHP urlencode → AES → base64."""
    return encrypt_text(php_urlencode(dump_json(data)), key, iv)


def decrypt_data(data: str, key: str, iv: str) -> Any:
    """``Data`` of an answer (or a request, for the local stand-in): the JSON value."""
    text = urllib.parse.unquote_plus(decrypt_text(data, key, iv))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EcpayWireError("Data is not JSON once decrypted") from exc


def envelope(merchant_id: str, data: dict[str, Any], key: str, iv: str, timestamp: int) -> bytes:
    """The request body: the envelope with ``Data`` encrypted."""
    body = {
        "MerchantID": merchant_id,
        "RqHeader": {"Timestamp": timestamp, "Revision": REVISION},
        "Data": encrypt_data(data, key, iv),
    }
    return dump_json(body).encode("utf-8")


@dataclass(frozen=True)
class Reply:
    """An answer, opened: ``data`` is the decrypted ``Data`` (None when the envelope was
    refused, ``TransCode`` not 1, and ECPay sent no data)."""

    trans_code: int | None
    trans_msg: str
    data: dict[str, Any] | None

    @property
    def rtn_code(self) -> int | None:
        if self.data is None:
            return None
        try:
            return int(self.data.get("RtnCode"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None

    @property
    def rtn_msg(self) -> str:
        return str((self.data or {}).get("RtnMsg") or "")

    @property
    def ok(self) -> bool:
        return self.trans_code == SUCCESS and self.rtn_code == SUCCESS


def open_reply(body: bytes, key: str, iv: str) -> Reply:
    """Read an answer's bytes; EcpayWireError when it is not ECPay's shape."""
    try:
        outer = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EcpayWireError("the answer is not JSON") from exc
    if not isinstance(outer, dict):
        raise EcpayWireError("the answer is not a JSON object")
    try:
        trans_code = int(outer.get("TransCode"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        trans_code = None
    data = None
    if outer.get("Data"):
        inner = decrypt_data(str(outer["Data"]), key, iv)
        if not isinstance(inner, dict):
            raise EcpayWireError("Data is not a JSON object")
        data = inner
    return Reply(trans_code, str(outer.get("TransMsg") or ""), data)


# ---- what each call sends ------------------------------------------------------------------


def _int(amount: Decimal) -> int:
    return int(whole(amount))


def _number(value: Decimal) -> int | float:
    """Quantities and prices as JSON numbers: whole ones as integers."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _day(at: datetime) -> str:
    return at.astimezone(TAIPEI).strftime("%Y-%m-%d")


def _items(lines: tuple[Line, ...], tax_type: TaxType) -> list[dict[str, Any]]:
    return [
        {
            "ItemSeq": ln.sequence,
            "ItemName": ln.description[:100],
            "ItemCount": _number(ln.quantity),
            "ItemWord": (ln.unit or "件")[:6],
            "ItemPrice": _number(ln.unit_price),
            "ItemTaxType": TAX_TYPES[tax_type],
            "ItemAmount": _int(ln.amount),
        }
        for ln in lines
    ]


def relate_number(invoice_number: str) -> str:
    """The merchant's key of an invoice at ECPay: our document number (letters and digits,
    at most 30)."""
    key = "".join(ch for ch in invoice_number if ch.isalnum())
    if not key or len(key) > RELATE_NUMBER_MAX:
        raise EcpayWireError("RelateNumber must be 1 to 30 letters and digits")
    return key


def issue_data(merchant_id: str, invoice: EInvoice) -> dict[str, Any]:
    """``/B2CInvoice/Issue`` Data for an e-invoice. Prices include the tax (``vat`` 1).

    B2B: ``CustomerIdentifier`` is the buyer's UBN, printed, no carrier, no donation. B2C:
    a carrier (``CarrierType``/``CarrierNum``; the member carrier has no number), or a
    donation (``Donation`` 1, ``LoveCode``), or printed (``Print`` 1) with neither."""
    buyer = invoice.buyer
    donated = invoice.donation_code is not None and not invoice.is_b2b
    carrier = "" if invoice.is_b2b or donated else CARRIER_TYPES.get(invoice.carrier_type or "", "")
    carrier_num = "" if carrier in ("", "1") else (invoice.carrier_id or "")
    return {
        "MerchantID": merchant_id,
        "RelateNumber": relate_number(invoice.number),
        "CustomerID": "",
        "CustomerIdentifier": buyer.ubn or "",
        "CustomerName": buyer.name[:60] if (invoice.printed or invoice.is_b2b) else "",
        "CustomerAddr": (buyer.address or "")[:100],
        "CustomerPhone": (buyer.phone or "")[:20],
        "CustomerEmail": (buyer.email or "")[:80],
        "ClearanceMark": "1" if invoice.tax_type == "zero_rated" else "",
        "Print": "1" if invoice.printed else "0",
        "Donation": "1" if donated else "0",
        "LoveCode": (invoice.donation_code or "") if donated else "",
        "CarrierType": carrier,
        "CarrierNum": carrier_num,
        "TaxType": TAX_TYPES[invoice.tax_type],
        "SalesAmount": _int(invoice.total),
        "InvoiceRemark": (invoice.buyer_remark or "")[:200],
        "Items": _items(invoice.lines, invoice.tax_type),
        "InvType": INVOICE_TYPE,
        "vat": "1",
    }


def get_issue_data(merchant_id: str, invoice_number: str) -> dict[str, Any]:
    """``/B2CInvoice/GetIssue`` by the merchant's key: what ECPay issued under it."""
    return {"MerchantID": merchant_id, "RelateNumber": relate_number(invoice_number)}


def get_issue_by_number_data(merchant_id: str, number: str, issued_at: datetime) -> dict[str, Any]:
    """``/B2CInvoice/GetIssue`` by the centre's number and the invoice's day (its answer's
    ``IIS_Invalid_Status`` is 1 once void)."""
    return {"MerchantID": merchant_id, "InvoiceNo": number, "InvoiceDate": _day(issued_at)}


def void_data(merchant_id: str, void: InvoiceVoid) -> dict[str, Any]:
    """``/B2CInvoice/Invalid``: the invoice's number and date, and why (at most 20)."""
    return {
        "MerchantID": merchant_id,
        "InvoiceNo": void.number,
        "InvoiceDate": _day(void.issued_at),
        "Reason": void.reason[:20],
    }


def allowance_data(merchant_id: str, allowance: Allowance) -> dict[str, Any]:
    """``/B2CInvoice/Allowance`` (paper allowance, by the seller): the invoice, amounts tax
    included, the buyer told by email when we have one (``AllowanceNotify`` E, else N)."""
    email = allowance.buyer.email or ""
    return {
        "MerchantID": merchant_id,
        "InvoiceNo": allowance.invoice_number,
        "InvoiceDate": _day(allowance.invoice_issued_at),
        "AllowanceNotify": "E" if email else "N",
        "CustomerName": allowance.buyer.name[:60],
        "NotifyMail": email[:100],
        "NotifyPhone": "",
        "AllowanceAmount": _int(allowance.total),
        "Items": _items(allowance.lines, allowance.tax_type),
    }


def void_allowance_data(
    merchant_id: str, void: AllowanceVoid, invoice_number: str, centre_allowance_number: str
) -> dict[str, Any]:
    """``/B2CInvoice/AllowanceInvalid``: ECPay's own allowance number (``IA_Allow_No``, 16
    digits, from the allowance's answer), the invoice's number and why."""
    return {
        "MerchantID": merchant_id,
        "InvoiceNo": invoice_number,
        "AllowanceNo": centre_allowance_number,
        "Reason": void.reason[:20],
    }


def get_allowance_invalid_data(
    merchant_id: str, invoice_number: str, centre_allowance_number: str
) -> dict[str, Any]:
    """``/B2CInvoice/GetAllowanceInvalid`` (查詢作廢折讓明細): the void of one allowance, by
    the invoice's number and ECPay's allowance number; ``AI_Allow_No`` in the answer once
    the allowance is void."""
    return {
        "MerchantID": merchant_id,
        "InvoiceNo": invoice_number,
        "AllowanceNo": centre_allowance_number,
    }


def check_barcode_data(merchant_id: str, barcode: str) -> dict[str, Any]:
    return {"MerchantID": merchant_id, "BarCode": barcode}


def check_love_code_data(merchant_id: str, love_code: str) -> dict[str, Any]:
    return {"MerchantID": merchant_id, "LoveCode": love_code}


def exists(reply: Reply) -> bool | None:
    """A CheckBarcode / CheckLoveCode answer: True or False, None when it did not answer."""
    if not reply.ok or reply.data is None:
        return None
    return str(reply.data.get("IsExist") or "").upper() == "Y"
