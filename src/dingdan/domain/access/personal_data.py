"""Customers' emails and phones as the roles that may not read them see them
(shared/CONTRACT.md, "Personal data"): an email as its first character, ``***`` and its
domain (``w***@example.com``); a phone as its country code, a ``*`` per hidden digit and its
last three digits (``+886******678``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import phonenumbers

from dingdan.domain.access.roles import Role

MASKED_ROLES = frozenset({Role.WAREHOUSE, Role.VIEWER, Role.DRIVER})


def sees_masked(role: Role) -> bool:
    return role in MASKED_ROLES


def mask_email(email: str | None) -> str | None:
    if not email:
        return email
    local, at, domain = email.rpartition("@")
    if not at:
        return email[:1] + "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = "".join(ch for ch in phone if ch.isdigit())
    code = ""
    if phone.startswith("+"):
        try:
            code = str(phonenumbers.parse(phone, None).country_code)
        except phonenumbers.NumberParseException:
            code = ""
    rest = digits[len(code) :] if code and digits.startswith(code) else digits
    shown = rest[-3:]
    return ("+" + code if code else "") + "*" * (len(rest) - len(shown)) + shown


# Roles that see the shipping address in full, its phone included: labels and hand-overs
# need it (shared/CONTRACT.md). Every other masked role sees that phone masked too.
SEES_SHIPPING_ADDRESS = frozenset({Role.WAREHOUSE, Role.DRIVER})


def mask_contact(value: str | None) -> str | None:
    """A message's recipient (an email, a phone, a LINE user id) as the masked roles see
    it: an email or a phone as above, anything else as its first four characters."""
    if not value:
        return value
    if "@" in value:
        return mask_email(value)
    if value.lstrip("+").replace(" ", "").replace("-", "").isdigit():
        return mask_phone(value)
    return value[:4] + "***"


def masked_items(items: list[dict[str, Any]], role: Role, *fields: str) -> list[dict[str, Any]]:
    """List items (messages, deliveries, rows of a report) with ``fields`` masked as
    contacts for the masked roles; unchanged for the others."""
    if not sees_masked(role):
        return items
    return [
        {**item, **{f: mask_contact(item.get(f)) for f in fields if f in item}} for item in items
    ]


def masked_order(view: Mapping[str, Any], role: Role) -> Mapping[str, Any]:
    """An order view (or an order of a list) as ``role`` may see it: the customer's email and
    phone masked for the masked roles, and the shipping address's phone too unless the role
    ships. The view is not changed: a copy is answered when anything is masked."""
    if not sees_masked(role):
        return view
    out = dict(view)
    customer = out.get("customer")
    if isinstance(customer, dict):
        out["customer"] = {
            **customer,
            "email": mask_email(customer.get("email")),
            "phone": mask_phone(customer.get("phone")),
        }
    address = out.get("shipping_address")
    if isinstance(address, dict) and role not in SEES_SHIPPING_ADDRESS:
        out["shipping_address"] = {**address, "phone": mask_phone(address.get("phone"))}
    return out


def masked_customer(customer: Mapping[str, Any], role: Role) -> Mapping[str, Any]:
    """A customer (list item or details) as ``role`` may see it: email, phone and the
    phones of the saved addresses masked for the masked roles."""
    if not sees_masked(role):
        return customer
    out = {
        **customer,
        "email": mask_email(customer.get("email")),
        "phone": mask_phone(customer.get("phone")),
    }
    if isinstance(customer.get("addresses"), list):
        out["addresses"] = [
            {**a, "phone": mask_phone(a.get("phone"))} if isinstance(a, dict) else a
            for a in customer["addresses"]
        ]
    return out
