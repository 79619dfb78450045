"""The invoice an order asks for at capture (shared/CONTRACT.md, "Invoices and Taiwan
e-invoices"): a B2C invoice with a carrier (載具), a donation (愛心碼) or neither (printed),
or a B2B invoice with the buyer's business number (統一編號). Checked here, with the other
fields of the order; the invoicing context reads what was stored and issues it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from dingdan.domain.shared.business_ids import is_valid_tw_ubn
from dingdan.domain.shared.errors import FieldErrors

CARRIER_TYPES = ("mobile", "certificate", "member")
# 手機條碼: "/" and 7 of 0-9 A-Z . + -; 自然人憑證: two capital letters and 14 digits.
MOBILE_BARCODE = re.compile(r"/[0-9A-Z.+\-]{7}", re.ASCII)
CITIZEN_CERTIFICATE = re.compile(r"[A-Z]{2}[0-9]{14}", re.ASCII)
DONATION_CODE = re.compile(r"[0-9]{3,7}", re.ASCII)
_B2C_FIELDS = frozenset({"type", "carrier_type", "carrier_id", "donation_code"})
_B2B_FIELDS = frozenset({"type", "buyer_ubn", "buyer_name"})


@dataclass(frozen=True)
class InvoiceRequest:
    type: str  # b2c | b2b
    carrier_type: str | None = None
    carrier_id: str | None = None
    donation_code: str | None = None
    buyer_ubn: str | None = None
    buyer_name: str | None = None
    # A mobile barcode or donation code: "centre" when the e-invoice centre said it exists,
    # "format" when only its format was checked (no centre, or it did not answer clearly).
    verified: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> InvoiceRequest:
        """From what was stored (None: the default, a printed B2C invoice)."""
        if not data:
            return cls("b2c")
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]


def is_valid_carrier(carrier_type: str, carrier_id: str) -> bool:
    if carrier_type == "mobile":
        return MOBILE_BARCODE.fullmatch(carrier_id) is not None
    if carrier_type == "certificate":
        return CITIZEN_CERTIFICATE.fullmatch(carrier_id) is not None
    # A member carrier (會員載具) is the shop's own id of the customer: printable, 1 to 64.
    return 0 < len(carrier_id) <= 64 and carrier_id.isprintable() and carrier_id.isascii()


def _text(data: dict[str, Any], key: str, field: str, errors: FieldErrors) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(f"{field}.{key}", "not_text")
        return None
    return value.strip()


def _b2c(data: dict[str, Any], field: str, errors: FieldErrors) -> InvoiceRequest | None:
    carrier_type = data.get("carrier_type")
    if carrier_type is not None and carrier_type not in CARRIER_TYPES:
        errors.add(f"{field}.carrier_type", "not_one_of", choices=", ".join(CARRIER_TYPES))
        return None
    carrier_id = _text(data, "carrier_id", field, errors)
    donation = _text(data, "donation_code", field, errors)
    if carrier_type is not None and not carrier_id:
        errors.add(f"{field}.carrier_id", "required")
    elif carrier_type is None and carrier_id:
        errors.add(f"{field}.carrier_type", "required")
    elif carrier_type is not None and carrier_id and not is_valid_carrier(carrier_type, carrier_id):
        errors.add(f"{field}.carrier_id", "invalid_carrier_id")
    if donation is not None and DONATION_CODE.fullmatch(donation) is None:
        errors.add(f"{field}.donation_code", "invalid_donation_code")
    if donation and (carrier_type is not None or carrier_id):
        errors.add(f"{field}.donation_code", "invoice_carrier_and_donation")
    return InvoiceRequest("b2c", carrier_type, carrier_id or None, donation or None)


def _b2b(data: dict[str, Any], field: str, errors: FieldErrors) -> InvoiceRequest | None:
    for key in ("carrier_type", "carrier_id", "donation_code"):
        if data.get(key) is not None:
            errors.add(f"{field}.{key}", "invoice_b2b_no_carrier")
    ubn = _text(data, "buyer_ubn", field, errors)
    if not ubn:
        errors.add(f"{field}.buyer_ubn", "required")
    elif not is_valid_tw_ubn(ubn):
        errors.add(f"{field}.buyer_ubn", "invalid_ubn")
    name = _text(data, "buyer_name", field, errors)
    if not name:
        errors.add(f"{field}.buyer_name", "required")
    elif len(name) > 60:  # MIG 4.0 Buyer/Name: at most 60 characters
        errors.add(f"{field}.buyer_name", "too_long", max=60)
    return InvoiceRequest("b2b", buyer_ubn=ubn, buyer_name=name)


def check(data: Any, errors: FieldErrors, field: str = "invoice") -> InvoiceRequest | None:
    """The request, or None when it is absent (a printed B2C invoice) or has errors (added
    to ``errors``). Fields the type does not take are refused, as a combination the
    contract forbids (a carrier with a donation, a B2B invoice with either) is."""
    if data is None:
        return None
    if not isinstance(data, dict):
        errors.add(field, "not_an_object")
        return None
    kind = data.get("type")
    if kind not in ("b2c", "b2b"):
        errors.add(f"{field}.type", "not_one_of", choices="b2c, b2b")
        return None
    allowed = _B2C_FIELDS if kind == "b2c" else _B2B_FIELDS | _B2C_FIELDS
    for key in sorted(set(data) - allowed):
        errors.add(f"{field}.{key}", "not_a_field")
    before = len(errors.items)
    out = _b2c(data, field, errors) if kind == "b2c" else _b2b(data, field, errors)
    return out if len(errors.items) == before else None
