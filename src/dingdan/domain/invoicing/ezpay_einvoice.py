"""ezPay (簡單行動支付) e-invoice API: the bytes on the wire, no HTTP.

Each call is a form POST (``application/x-www-form-urlencoded``) of two fields:
``MerchantID_`` (the shop's merchant id) and ``PostData_``: the request's fields as a query
string (``http_build_query``: form encoding, space ``+``), AES-256-CBC under the shop's
HashKey (32 characters, the key) and HashIV (16 characters, the IV), PKCS7-padded to a
multiple of 32 bytes as ezPay's own PHP example pads (``addpadding($string, 32)``), then
lowercase hex. The answer (``RespondType=JSON``) is plain JSON ``{Status, Message, Result}``:
``Status`` ``SUCCESS`` or ezPay's error code (``LIB10003``, ``KEY10002``...), ``Result`` a
JSON text (InvoiceNumber, RandomNum, InvoiceTransNo, CheckCode, CreateTime...).

An issue's ``Result`` carries ``CheckCode``: uppercase SHA256 of ``HashIV=<iv>&`` + the query
string of InvoiceTransNo, MerchantID, MerchantOrderNo, RandomNum and TotalAmt in name order
+ ``&HashKey=<key>`` (manual 附件二; the shared vectors test it). An answer whose CheckCode
does not verify is not trusted.

ezPay assigns the invoice number and random code itself. ``MerchantOrderNo`` (the shop's own
key, at most 20 letters, digits and ``_``) makes an issue idempotent: a repeat is refused
(``LIB10003``) and the adapter then asks ``invoice_search`` for what was issued under it.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from dingdan.domain.invoicing.documents import (
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

# ezPay publishes no shared test shop: each seller applies for its own test account on the
# test host, so the keys have no default.
TEST_URL = "https://cinv.ezpay.com.tw"
PRODUCTION_URL = "https://inv.ezpay.com.tw"

# (path, Version) per operation.
ENDPOINTS: dict[str, tuple[str, str]] = {
    "issue": ("/Api/invoice_issue", "1.5"),
    "void": ("/Api/invoice_invalid", "1.0"),
    "allowance": ("/Api/allowance_issue", "1.3"),
    "void_allowance": ("/Api/allowanceInvalid", "1.0"),
    "query": ("/Api/invoice_search", "1.3"),
}

SUCCESS = "SUCCESS"
DUPLICATE = "LIB10003"  # 自訂編號重覆: this MerchantOrderNo was issued before
ALREADY_VOID = "LIB10005"  # 發票已作廢過
# Status codes that say "not now" (網路異常, 逾時): tried again later like an HTTP 5xx.
RETRYABLE = frozenset({"NOR10001", "KEY10014"})
# CarrierType: 0 mobile barcode (手機條碼), 1 citizen certificate, 2 ezPay's member carrier
# (its number is the buyer's email).
CARRIER_TYPES = {"mobile": "0", "certificate": "1", "member": "2"}
TAX_TYPES: dict[TaxType, str] = {"taxable": "1", "zero_rated": "2", "exempt": "3"}
ORDER_NO_MAX = 20
BLOCK = 32  # ezPay pads to 32 bytes
CHECK_FIELDS = ("InvoiceTransNo", "MerchantID", "MerchantOrderNo", "RandomNum", "TotalAmt")


class EzpayWireError(ValueError):
    """Keys of the wrong size, data that does not decrypt, an answer not in ezPay's shape,
    or a document ezPay cannot take (a MerchantOrderNo it would refuse)."""


# ---- PostData_ -----------------------------------------------------------------------------


def _cipher(key: str, iv: str) -> Any:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        k, v = key.encode("ascii"), iv.encode("ascii")
    except UnicodeEncodeError as exc:
        raise EzpayWireError("HashKey and HashIV must be ASCII") from exc
    if len(k) != 32 or len(v) != 16:
        raise EzpayWireError("ezPay's HashKey must be 32 characters and its HashIV 16")
    return Cipher(algorithms.AES(k), modes.CBC(v))


def query_string(fields: Mapping[str, str]) -> str:
    """``http_build_query`` of the fields in their order (form encoding, space ``+``)."""
    return urllib.parse.urlencode(list(fields.items()))


def encrypt(plain: str, key: str, iv: str) -> str:
    """AES-256-CBC of ``plain`` (UTF-8), PKCS7 to 32 bytes, lowercase hex."""
    raw = plain.encode("utf-8")
    pad = BLOCK - len(raw) % BLOCK
    enc = _cipher(key, iv).encryptor()
    return (enc.update(raw + bytes([pad]) * pad) + enc.finalize()).hex()


def decrypt(data: str, key: str, iv: str) -> str:
    """The text inside ``data`` (hex of AES-256-CBC, PKCS7 padded to 16 or 32 bytes)."""
    try:
        raw = bytes.fromhex(data.strip())
    except ValueError as exc:
        raise EzpayWireError("PostData_ is not hex") from exc
    if not raw or len(raw) % 16:
        raise EzpayWireError("PostData_ is not whole AES blocks")
    dec = _cipher(key, iv).decryptor()
    padded = dec.update(raw) + dec.finalize()
    pad = padded[-1]
    if not 1 <= pad <= BLOCK or pad > len(padded) or padded[-pad:] != bytes([pad]) * pad:
        raise EzpayWireError("PostData_ does not decrypt under these keys (bad padding)")
    try:
        return padded[:-pad].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EzpayWireError("PostData_ does not decrypt under these keys") from exc


def form_body(merchant_id: str, fields: Mapping[str, str], key: str, iv: str) -> bytes:
    """The request body: ``MerchantID_`` and ``PostData_``, form-encoded."""
    post = encrypt(query_string(fields), key, iv)
    return urllib.parse.urlencode({"MerchantID_": merchant_id, "PostData_": post}).encode("ascii")


def read_form(body: bytes, key: str, iv: str) -> tuple[str, dict[str, str]]:
    """A request body back into (MerchantID_, the fields of PostData_), for the local
    stand-in and tests; EzpayWireError when it is not one."""
    try:
        outer = dict(urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise EzpayWireError("the body is not a form") from exc
    if "MerchantID_" not in outer or "PostData_" not in outer:
        raise EzpayWireError("MerchantID_ and PostData_ are required")
    inner = urllib.parse.parse_qsl(decrypt(outer["PostData_"], key, iv), keep_blank_values=True)
    return outer["MerchantID_"], dict(inner)


# ---- CheckCode -----------------------------------------------------------------------------


def check_code(fields: Mapping[str, Any], key: str, iv: str) -> str:
    """Uppercase SHA256 of ``HashIV=iv&`` + the five fields sorted by name + ``&HashKey=key``."""
    parts = {n: "" if fields.get(n) is None else str(fields.get(n)) for n in CHECK_FIELDS}
    raw = f"HashIV={iv}&{query_string(dict(sorted(parts.items())))}&HashKey={key}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest().upper()


def check_code_ok(result: Mapping[str, Any], key: str, iv: str) -> bool:
    """Whether a Result's CheckCode is right (a Result without one has nothing to check)."""
    given = result.get("CheckCode")
    if not given:
        return True
    return str(given).upper() == check_code(result, key, iv)


# ---- answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """An answer, opened: ``result`` is ``Result`` parsed (empty when there is none)."""

    status: str
    message: str
    result: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE


def open_reply(body: bytes, key: str, iv: str) -> Reply:
    """Read an answer's bytes; EzpayWireError when it is not ezPay's shape or its CheckCode
    does not verify under our keys."""
    try:
        outer = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EzpayWireError("the answer is not JSON") from exc
    if not isinstance(outer, dict) or not isinstance(outer.get("Status"), str):
        raise EzpayWireError("the answer is not ezPay's {Status, Message, Result}")
    raw = outer.get("Result")
    result: Any = {}
    if isinstance(raw, str) and raw.strip():
        try:
            result = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise EzpayWireError("Result is not JSON") from exc
    elif isinstance(raw, dict):
        result = raw
    if not isinstance(result, dict):
        result = {}
    if not check_code_ok(result, key, iv):
        raise EzpayWireError("the answer's CheckCode does not verify under our keys")
    return Reply(outer["Status"].strip(), str(outer.get("Message") or ""), result)


# ---- what each call sends ------------------------------------------------------------------


def _num(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _int(amount: Decimal) -> str:
    return str(int(whole(amount)))


def _clean(text: str) -> str:
    """Item texts are joined with ``|``: one inside a text would split it."""
    return text.replace("|", "/")


def _head(operation: str, timestamp: int) -> dict[str, str]:
    return {
        "RespondType": "JSON",
        "Version": ENDPOINTS[operation][1],
        "TimeStamp": str(timestamp),
    }


def merchant_order_no(number: str) -> str:
    """Our key of an invoice at ezPay: the document number (letters, digits and ``_``, at
    most 20)."""
    key = "".join(ch for ch in number if ch.isascii() and (ch.isalnum() or ch == "_"))
    if not key or len(key) > ORDER_NO_MAX:
        raise EzpayWireError("MerchantOrderNo must be 1 to 20 letters, digits or _")
    return key


def _net_lines(lines: tuple[Line, ...], net_total: Decimal) -> list[Decimal]:
    """Line amounts without tax (B2B), the last one taking the rounding so they add up."""
    nets = [whole(whole(ln.amount) / (1 + TAX_RATE)) for ln in lines]
    if nets:
        nets[-1] += net_total - sum(nets, Decimal(0))
    return nets


def issue_fields(invoice: EInvoice, timestamp: int) -> dict[str, str]:
    """``invoice_issue`` (Version 1.5), issued now (``Status`` 1). ``Amt`` + ``TaxAmt`` =
    ``TotalAmt``. B2C items are priced tax included (they add up to TotalAmt); B2B items
    without the tax (they add up to Amt). A B2B invoice is printed; a B2C one carries a
    carrier, a donation (``LoveCode``) or neither (printed)."""
    taxable = invoice.tax_type == "taxable"
    sales, tax = tax_split(invoice.total, b2b=True, tax_type=invoice.tax_type)
    donated = invoice.donation_code is not None and not invoice.is_b2b
    carrier = "" if invoice.is_b2b or donated else CARRIER_TYPES.get(invoice.carrier_type or "", "")
    if carrier == "2":
        carrier_num = invoice.buyer.email or ""
    else:
        carrier_num = (invoice.carrier_id or "") if carrier else ""
    if invoice.is_b2b and taxable:
        amounts = _net_lines(invoice.lines, sales)
        prices = [
            (a / ln.quantity).quantize(Decimal("0.01")) if ln.quantity else a
            for a, ln in zip(amounts, invoice.lines, strict=True)
        ]
    else:
        amounts = [whole(ln.amount) for ln in invoice.lines]
        prices = [ln.unit_price for ln in invoice.lines]
    fields = _head("issue", timestamp)
    fields.update(
        {
            "MerchantOrderNo": merchant_order_no(invoice.number),
            "Status": "1",
            "CreateStatusTime": "",
            "Category": "B2B" if invoice.is_b2b else "B2C",
            "BuyerName": (invoice.buyer.name or ("" if invoice.is_b2b else "消費者"))[:60],
            "BuyerUBN": (invoice.buyer.ubn or "") if invoice.is_b2b else "",
            "BuyerAddress": (invoice.buyer.address or "")[:100],
            "BuyerEmail": (invoice.buyer.email or "")[:50],
            "CarrierType": carrier,
            "CarrierNum": carrier_num,
            "LoveCode": (invoice.donation_code or "") if donated else "",
            "PrintFlag": "Y" if invoice.printed else "N",
            "TaxType": TAX_TYPES[invoice.tax_type],
            "TaxRate": str(int(TAX_RATE * 100)) if taxable else "0",
            "Amt": _int(sales),
            "TaxAmt": _int(tax),
            "TotalAmt": _int(invoice.total),
            "ItemName": "|".join(_clean(ln.description)[:30] for ln in invoice.lines),
            "ItemCount": "|".join(_num(ln.quantity) for ln in invoice.lines),
            "ItemUnit": "|".join(_clean(ln.unit or "件")[:2] for ln in invoice.lines),
            "ItemPrice": "|".join(_num(p) for p in prices),
            "ItemAmt": "|".join(_int(a) for a in amounts),
            "Comment": (invoice.buyer_remark or "")[:200],
        }
    )
    if invoice.tax_type == "zero_rated":
        fields["CustomsClearance"] = "1"  # 非經海關出口
    return fields


def search_fields(order_no: str, total: Decimal, timestamp: int) -> dict[str, str]:
    """``invoice_search`` by our key and the amount (``SearchType`` 1)."""
    fields = _head("query", timestamp)
    fields.update(
        {
            "SearchType": "1",
            "MerchantOrderNo": merchant_order_no(order_no),
            "TotalAmt": _int(total),
            "InvoiceNumber": "",
            "RandomNum": "",
        }
    )
    return fields


def _reason(text: str) -> str:
    """A void's reason: at most 20 bytes (6 Chinese characters or 20 letters)."""
    out = ""
    for ch in text.strip() or "作廢":
        if len((out + ch).encode("utf-8")) > 20:
            break
        out += ch
    return out


def void_fields(void: InvoiceVoid, timestamp: int) -> dict[str, str]:
    """``invoice_invalid``: the invoice's number and why."""
    fields = _head("void", timestamp)
    fields.update({"InvoiceNumber": void.number, "InvalidReason": _reason(void.reason)})
    return fields


def allowance_fields(allowance: Allowance, order_no: str, timestamp: int) -> dict[str, str]:
    """``allowance_issue`` (Version 1.3), confirmed at once (``Status`` 1): per line the
    amount without tax and its tax; ``TotalAmt`` tax included (their sum)."""
    taxable = allowance.tax_type == "taxable"
    nets: list[Decimal] = []
    taxes: list[Decimal] = []
    for ln in allowance.lines:
        tax = whole(whole(ln.amount) * TAX_RATE / (1 + TAX_RATE)) if taxable else Decimal(0)
        taxes.append(tax)
        nets.append(whole(ln.amount) - tax)
    fields = _head("allowance", timestamp)
    fields.update(
        {
            "InvoiceNo": allowance.invoice_number,
            "MerchantOrderNo": merchant_order_no(order_no),
            "ItemName": "|".join(_clean(ln.description)[:30] for ln in allowance.lines),
            "ItemCount": "|".join(_num(ln.quantity) for ln in allowance.lines),
            "ItemUnit": "|".join(_clean(ln.unit or "件")[:2] for ln in allowance.lines),
            "ItemPrice": "|".join(
                _num((n / ln.quantity).quantize(Decimal("0.01")) if ln.quantity else n)
                for n, ln in zip(nets, allowance.lines, strict=True)
            ),
            "ItemAmt": "|".join(_int(n) for n in nets),
            "ItemTaxAmt": "|".join(_int(t) for t in taxes),
            "TotalAmt": _int(sum(nets, Decimal(0)) + sum(taxes, Decimal(0))),
            "BuyerEmail": (allowance.buyer.email or "")[:50],
            "Status": "1",
        }
    )
    return fields


def void_allowance_fields(
    void: AllowanceVoid, centre_number: str, timestamp: int
) -> dict[str, str]:
    """``allowanceInvalid``: ezPay's own allowance number (from the allowance's answer)."""
    fields = _head("void_allowance", timestamp)
    fields.update({"AllowanceNo": centre_number, "InvalidReason": _reason(void.reason)})
    return fields


def issued_at(text: Any) -> datetime | None:
    """``CreateTime`` (``2026-11-30 10:00:00``, Taiwan's time), aware; None if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        local = datetime.strptime(text.strip()[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return local.replace(tzinfo=TAIPEI)
