"""Money as integer minor units beside an ISO 4217 code; decimal strings in and out."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pycountry

from dingdan.domain.shared.errors import ValidationFailed
from dingdan.domain.shared.numbers import ascii_text

# ISO 4217 minor-unit exponents that differ from 2 (CLDR differs from ISO for some, e.g. IQD).
_ZERO = ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG")
_ZERO_MORE = ("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF")
_THREE = ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_ZERO + _ZERO_MORE, 0),
    **dict.fromkeys(_THREE, 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
# Codes without a minor unit at all (funds, metals, test code) are not money for orders.
_NOT_TRADED = {
    "XAG",
    "XAU",
    "XBA",
    "XBB",
    "XBC",
    "XBD",
    "XDR",
    "XPD",
    "XPT",
    "XSU",
    "XTS",
    "XUA",
    "XXX",
}
_DECIMAL_RE = re.compile(r"^-?[0-9]{1,15}(\.[0-9]+)?$", re.ASCII)
_TOO_LARGE = Decimal(10) ** 15


def is_currency(code: object) -> bool:
    return (
        isinstance(code, str)
        and len(code) == 3
        and code.isupper()
        and code not in _NOT_TRADED
        and pycountry.currencies.get(alpha_3=code) is not None
    )


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def parse_amount(
    text: str, currency: str, field: str, *, allow_zero: bool = True, allow_negative: bool = False
) -> int:
    """Turn a decimal string like ``"1299.5"`` into minor units, refusing too many decimals.

    Full-width characters are read after NFKC (``１２９９`` is 1299); no other form or
    script's digits are read as digits (``numbers.ascii_text``)."""
    if isinstance(text, str):
        text = ascii_text(text)
    if not isinstance(text, str) or not _DECIMAL_RE.match(text):
        raise ValidationFailed.on(field, "too_large" if is_too_large(text) else "not_a_number")
    value = Decimal(text)
    places = -value.as_tuple().exponent if value.as_tuple().exponent < 0 else 0  # type: ignore[operator]
    exp = exponent(currency)
    if places > exp:
        raise ValidationFailed.on(field, "too_many_decimals", currency=currency, places=exp)
    if value < 0 and not allow_negative:
        raise ValidationFailed.on(field, "must_not_be_negative")
    if value == 0 and not allow_zero:
        raise ValidationFailed.on(field, "must_be_positive")
    return int(value.scaleb(exp))


def is_too_large(text: object) -> bool:
    """Whether ``text`` is a number (``"1e30"``, twenty digits) beyond the 15 digits before the
    point that an amount may have: too large for the database, not malformed."""
    if not isinstance(text, str) or len(text) > 100:
        return False
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return False
    return value.is_finite() and abs(value) >= _TOO_LARGE


def format_amount(minor: int, currency: str) -> str:
    """Minor units to the contract's decimal string with exactly the currency's decimals."""
    exp = exponent(currency)
    if exp == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}"


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))
