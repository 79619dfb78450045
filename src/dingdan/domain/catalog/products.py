"""Rules for products and locations that need no database."""

from __future__ import annotations

import re
from typing import Any

from dingdan.domain.shared import money
from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.numbers import MAX_INT
from dingdan.domain.shared.text import check_clean

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
TAX_CLASSES = ("standard", "reduced", "zero", "exempt")
LOCATION_KINDS = ("warehouse", "store")


def check_sku(sku: Any, field: str, errors: FieldErrors) -> None:
    if not isinstance(sku, str) or not SKU_RE.match(sku):
        errors.add(field, "invalid_sku")


def check_code(code: Any, field: str, errors: FieldErrors) -> None:
    if not isinstance(code, str) or not CODE_RE.match(code):
        errors.add(field, "invalid_location_code")


def check_text(
    value: Any, field: str, errors: FieldErrors, *, max_len: int, required: bool
) -> None:
    if value is None:
        if required:
            errors.add(field, "required")
        return
    if not isinstance(value, str) or (required and not value.strip()):
        errors.add(field, "not_empty")
    elif len(value) > max_len:
        errors.add(field, "at_most_characters", max=max_len)
    else:
        check_clean(value, field, errors)


def check_currency(currency: Any, field: str, errors: FieldErrors) -> bool:
    if not money.is_currency(currency):
        errors.add(field, "invalid_currency")
        return False
    return True


def check_non_negative(value: Any, field: str, errors: FieldErrors) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        errors.add(field, "below_zero")
    elif value is not None and value > MAX_INT:
        errors.add(field, "too_large")


def price_minor(price: Any, currency: str, field: str, errors: FieldErrors) -> int | None:
    from dingdan.domain.shared.errors import ValidationFailed

    try:
        return money.parse_amount(price, currency, field)
    except ValidationFailed as exc:
        errors.items.extend(exc.errors)
        return None
