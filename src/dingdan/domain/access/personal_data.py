"""Customers' emails and phones as the roles that may not read them see them
(shared/CONTRACT.md, "Personal data"): an email as its first character, ``***`` and its
domain (``w***@example.com``); a phone as its country code, a ``*`` per hidden digit and its
last three digits (``+886******678``)."""

from __future__ import annotations

import phonenumbers

from dingdan.domain.access.roles import Role

MASKED_ROLES = frozenset({Role.WAREHOUSE, Role.VIEWER})


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
