"""Mainland China fapiao (发票) requests: what a CN order may carry for the seller's tax system.

A buyer asks for an electronic general fapiao (数电普票) with a title (抬头: the company's name,
or the person's), the company's unified social credit code (统一社会信用代码, checked with its
check character) and the email it is sent to. A person (个人) has no tax ID. Dingdan only
checks and keeps the request and exports it; the seller's own tax system issues the fapiao.

``check_fapiao_request`` reads the request as it comes in an order (a JSON object) and
reports every bad field at once with the shared codes: ``not_an_object``, ``not_a_field``
(an unknown key; a fapiao on an order not shipped to mainland China; a tax ID on a personal
request), ``not_one_of``, ``required``, ``at_most_characters``, ``invalid_uscc``,
``invalid_email``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dingdan.domain.shared.business_ids import check_cn_uscc
from dingdan.domain.shared.contact import normalize_email
from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.text import check_text

BuyerType = Literal["company", "personal"]
BUYER_TYPES: tuple[BuyerType, ...] = ("company", "personal")
FIELDS = ("buyer_type", "title", "tax_id", "email")
MAX_TITLE = 100  # 抬头: a company's registered name fits


@dataclass(frozen=True)
class FapiaoRequest:
    buyer_type: BuyerType
    title: str
    tax_id: str | None  # the USCC in its stored form (18 characters), None for a person
    email: str

    def export_row(self) -> dict[str, str]:
        """The request as the seller's tax system imports it (a CSV row)."""
        return {
            "buyer_type": "企业" if self.buyer_type == "company" else "个人",
            "title": self.title,
            "tax_id": self.tax_id or "",
            "email": self.email,
        }


def check_fapiao_request(
    value: Any, field: str, errors: FieldErrors, *, country: str | None
) -> FapiaoRequest | None:
    """The request of an order shipped to ``country``, or None with its errors added.

    ``buyer_type`` defaults to ``company`` when a ``tax_id`` is given, else ``personal``."""
    if value is None:
        return None
    if (country or "").upper() != "CN":
        errors.add(field, "not_a_field")
        return None
    if not isinstance(value, dict):
        errors.add(field, "not_an_object")
        return None
    before = len(errors.items)
    for key in value:
        if key not in FIELDS:
            errors.add(f"{field}.{key}", "not_a_field")
    raw_tax_id = value.get("tax_id")
    has_tax_id = raw_tax_id not in (None, "")
    buyer_type = value.get("buyer_type") or ("company" if has_tax_id else "personal")
    if buyer_type not in BUYER_TYPES:
        errors.add(f"{field}.buyer_type", "not_one_of", choices=", ".join(BUYER_TYPES))
    title = check_text(
        value.get("title"), f"{field}.title", errors, max_length=MAX_TITLE, required=True
    )
    tax_id = None
    if buyer_type == "company":
        if not has_tax_id:
            errors.add(f"{field}.tax_id", "required")
        else:
            tax_id = check_cn_uscc(raw_tax_id, f"{field}.tax_id", errors)
    elif buyer_type == "personal" and has_tax_id:
        errors.add(f"{field}.tax_id", "not_a_field")
    email = normalize_email(value.get("email"), f"{field}.email", errors)
    if len(errors.items) > before or title is None or email is None:
        return None
    return FapiaoRequest(buyer_type, title, tax_id, email)  # type: ignore[arg-type]
