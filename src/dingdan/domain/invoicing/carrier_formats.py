"""The format rules of e-invoice carriers and donation codes, for when no centre can be asked.

A mobile barcode (手機條碼) is ``/`` and 7 of ``0-9 A-Z . + -``; a citizen certificate
(自然人憑證) carrier two capital letters and 14 digits; a donation code (愛心碼) 3 to 7 digits
(the contract, and MOF's rules as published by e-invoice providers). Whether a barcode or a
code exists only the centre's lookup can say (``services.invoicing.centres``).
"""

from __future__ import annotations

import re

_MOBILE = re.compile(r"/[0-9A-Z.+\-]{7}")
_CERTIFICATE = re.compile(r"[A-Z]{2}[0-9]{14}")
_LOVE_CODE = re.compile(r"[0-9]{3,7}")
_INVOICE_NUMBER = re.compile(r"[A-Z]{2}[0-9]{8}")


def is_mobile_barcode(value: str) -> bool:
    return bool(_MOBILE.fullmatch(value))


def is_certificate_carrier(value: str) -> bool:
    return bool(_CERTIFICATE.fullmatch(value))


def is_love_code(value: str) -> bool:
    return bool(_LOVE_CODE.fullmatch(value))


def is_invoice_number(value: str) -> bool:
    return bool(_INVOICE_NUMBER.fullmatch(value))
