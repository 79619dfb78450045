"""The invoice a channel's order asks for (issue 22, part 5): Shopify's note attributes and
WooCommerce's order meta mapped to the capture's ``invoice`` (shared/CONTRACT.md).

Taiwan's shops collect the invoice choice at checkout with an app or plugin that keeps it
on the order under names of its own; the names accepted here, and their values, are listed
in docs/integrations-invoice-attributes.md: Dingdan's own (``invoice_type``,
``carrier_type``, ``carrier_id``, ``donation_code``, ``buyer_ubn``, ``buyer_name``), the
Chinese labels shops give them, ECPay's WooCommerce plugin (``_wooecpay_invoice_*``) and
the RY invoice plugins (``_invoice_type``, ``_invoice_carruer_*``, ...).

A choice that is not valid (a UBN failing its check, a malformed barcode) does not hold the
order: it is captured with a printed invoice and the reason is put in its note, for a
person to correct from the order's edit page before the invoice is issued.
"""

from __future__ import annotations

from collections.abc import Mapping

from dingdan.domain.orders import invoice_request
from dingdan.domain.shared.errors import FieldErrors
from dingdan.services.integrations.channel_json import each, get
from dingdan.services.integrations.shapes import InvoiceAsked

# Each field of the request, and the names (after normalising: lower case, no leading "_",
# no "wooecpay_" or "ecpay_" prefix) under which channels keep it.
_NAMES: dict[str, tuple[str, ...]] = {
    "type": ("invoice_type", "invoice_kind", "發票類型", "发票类型", "發票種類", "發票開立方式"),
    "carrier_type": (
        "carrier_type",
        "invoice_carrier_type",
        "invoice_carruer_type",
        "載具類型",
        "载具类型",
        "載具類別",
    ),
    "carrier_id": (
        "carrier_id",
        "carrier_number",
        "invoice_carrier_id",
        "invoice_carruer_num",
        "invoice_carruer_no",
        "載具號碼",
        "载具号码",
        "載具編號",
    ),
    "donation_code": (
        "donation_code",
        "love_code",
        "invoice_love_code",
        "invoice_donate_no",
        "捐贈碼",
        "愛心碼",
        "捐赠码",
        "爱心码",
    ),
    "buyer_ubn": (
        "buyer_ubn",
        "ubn",
        "invoice_customer_identifier",
        "invoice_no",
        "統一編號",
        "统一编号",
        "統編",
    ),
    "buyer_name": (
        "buyer_name",
        "company_name",
        "invoice_customer_company",
        "invoice_company_name",
        "公司抬頭",
        "公司名稱",
        "发票抬头",
        "發票抬頭",
    ),
}
_TYPES = {
    "b2c": "b2c",
    "personal": "b2c",
    "p": "b2c",
    "個人": "b2c",
    "个人": "b2c",
    "b2b": "b2b",
    "company": "b2b",
    "c": "b2b",
    "公司": "b2b",
    "donate": "donation",
    "donation": "donation",
    "d": "donation",
    "捐贈": "donation",
    "捐赠": "donation",
}
# ECPay's plugin numbers the carriers (0 paper, 1 ECPay's member cloud, 2 citizen
# certificate, 3 mobile barcode); the RY plugins name them.
_CARRIERS = {
    "mobile": "mobile",
    "3": "mobile",
    "phone_barcode": "mobile",
    "手機條碼": "mobile",
    "certificate": "certificate",
    "2": "certificate",
    "moica": "certificate",
    "自然人憑證": "certificate",
    "member": "member",
    "1": "member",
    "ecpay_host": "member",
    "ezpay_host": "member",
    "amego_host": "member",
    "smilepay_host": "member",
    "會員載具": "member",
    "none": None,
    "0": None,
    "paper": None,
    "紙本": None,
}


def _key(name: str) -> str:
    key = name.strip().lower().lstrip("_")
    for prefix in ("wooecpay_", "ecpay_"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key


def _pick(pairs: dict[str, str], field: str) -> str | None:
    for name in _NAMES[field]:
        value = pairs.get(name)
        if value:
            return value
    return None


def _pairs(items: object, name_key: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in each(items):
        if not isinstance(item, dict):
            continue
        name, value = item.get(name_key), item.get("value")
        if isinstance(name, str) and isinstance(value, str | int) and not isinstance(value, bool):
            out.setdefault(_key(name), str(value).strip()[:100])
    return out


def from_pairs(pairs: dict[str, str], email: object = None) -> InvoiceAsked | None:
    """The capture's ``invoice`` from a channel's named values (None: nothing asked, a
    printed invoice). Not checked here: ``check`` does that."""
    kind = _TYPES.get((_pick(pairs, "type") or "").lower())
    carrier_raw = _pick(pairs, "carrier_type")
    carrier = _CARRIERS.get(carrier_raw.lower()) if carrier_raw else None
    carrier_id = _pick(pairs, "carrier_id")
    donation = _pick(pairs, "donation_code")
    ubn = _pick(pairs, "buyer_ubn")
    if kind is None:  # no type said: what the values say
        kind = "b2b" if ubn else "donation" if donation else "b2c" if carrier else None
    if kind is None:
        return None
    if kind == "b2b":
        return {"type": "b2b", "buyer_ubn": ubn, "buyer_name": _pick(pairs, "buyer_name")}
    if kind == "donation":
        return {"type": "b2c", "donation_code": donation}
    if carrier is None:
        if carrier_raw and carrier_raw.lower() not in _CARRIERS:
            return {"type": "b2c", "carrier_type": carrier_raw, "carrier_id": carrier_id}
        return {"type": "b2c"}
    if carrier == "member":
        # A centre's member (cloud) carrier: the centre knows the buyer by the email.
        return {"type": "b2c", "carrier_type": carrier, "carrier_id": carrier_id or email}
    if carrier == "mobile" and carrier_id:
        carrier_id = carrier_id.upper()
    return {"type": "b2c", "carrier_type": carrier, "carrier_id": carrier_id}


def check(asked: InvoiceAsked | None) -> tuple[dict[str, object] | None, str | None]:
    """(the request to capture, None) when valid; (None, why) when it is not, so that the
    order is captured with a printed invoice and the reason noted."""
    if asked is None or asked == {"type": "b2c"}:
        return None, None
    errors = FieldErrors()
    got = invoice_request.check(asked, errors)
    if got is None:
        why = ", ".join(f"{e.field} {e.code}" for e in errors.items) or "invalid"
        return None, f"Invoice request from the channel not used ({why}): {asked}"
    return got.as_dict(), None


def shopify(order: Mapping[str, object], email: object) -> InvoiceAsked | None:
    """From a Shopify order's ``note_attributes`` (``[{"name", "value"}]``)."""
    return from_pairs(_pairs(order.get("note_attributes"), "name"), email)


def woocommerce(order: Mapping[str, object], email: object) -> InvoiceAsked | None:
    """From a WooCommerce order's ``meta_data`` (``[{"id", "key", "value"}]``); the billing
    company names a company invoice that has none of its own."""
    pairs = _pairs(order.get("meta_data"), "key")
    company = get(order.get("billing") or {}, "company")
    if isinstance(company, str) and company.strip():
        pairs.setdefault("company_name", company.strip()[:100])
    return from_pairs(pairs, email)


def apply(body: dict[str, object], asked: InvoiceAsked | None) -> None:
    """Put the checked request on the capture's ``body`` (or the reason in its note)."""
    request, why = check(asked)
    if request is not None:
        body["invoice"] = request
    elif why is not None:
        note = body.get("note")
        body["note"] = (f"{note}\n{why}" if note else why)[:1000]
