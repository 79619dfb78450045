"""Asking the e-invoice centre whether a buyer's mobile barcode (手機條碼) or donation code
(愛心碼) really exists, where a buyer's invoice choice is taken (capture through the API and
the order entry page, the order edit, the tracking page).

The format rules (domain/orders/invoice_request.py) run first. Then, before the order's
write transaction starts (never inside it), the centre is asked with a short timeout
(``DINGDAN_EINVOICE_LOOKUP_TIMEOUT``); its exchange is kept in the centre's exchange log.
The centre says it does not exist → 422 with the same code as a bad format
(``invalid_carrier_id``, ``invalid_donation_code``) and a message saying the centre does not
know it. No centre set, the centre down, slow or unclear → the code is taken on its format
(an order is never refused because a centre is down) and the request records it:
``verified`` is ``format``; ``centre`` when the centre confirmed it.

The centres are the invoicing context's, which sits above orders: ``use`` is how the
wiring (``bootstrap.wire``) hands the lookup down. Without it nothing is asked and
nothing is recorded (services run alone in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dingdan.db.engine import Database
from dingdan.domain.orders import invoice_request
from dingdan.domain.orders.invoice_request import InvoiceRequest
from dingdan.domain.shared.errors import FieldError, FieldErrors, ValidationFailed

# (db, "mobile" | "donation", the code) → True exists, False does not, None not known.
Lookup = Callable[[Database, str, str], "bool | None"]
_lookup: list[Lookup] = []


def use(lookup: Lookup | None) -> None:
    """Set (None: clear) the lookup every invoice choice goes through."""
    _lookup.clear()
    if lookup is not None:
        _lookup.append(lookup)


def _what(request: InvoiceRequest) -> tuple[str, str, str, str] | None:
    """(kind, code, field, error code) of what the centre can check, None for nothing."""
    if request.type != "b2c":
        return None
    if request.carrier_type == "mobile" and request.carrier_id:
        return "mobile", request.carrier_id, "carrier_id", "invalid_carrier_id"
    if request.donation_code:
        return "donation", request.donation_code, "donation_code", "invalid_donation_code"
    return None


def needs_lookup(request: InvoiceRequest | None) -> bool:
    """Whether taking this request would ask a centre (then it is no hot-path capture)."""
    return bool(_lookup) and request is not None and _what(request) is not None


def verify(db: Database, request: InvoiceRequest | None, field: str = "invoice") -> Any:
    """The request to keep (with ``verified``), or 422 when the centre does not know its
    mobile barcode or donation code. Call it with no transaction open."""
    if request is None or not _lookup:
        return request
    what = _what(request)
    if what is None:
        return request
    kind, code, name, error = what
    found = _lookup[0](db, kind, code)
    if found is False:
        refused = FieldError.of(f"{field}.{name}", error, variant="unknown_at_centre")
        raise ValidationFailed(detail=refused.message, errors=[refused])
    return replace(request, verified="centre" if found else "format")


def verify_body(db: Database, body: Any, field: str = "invoice") -> dict[str, str] | None:
    """``verify`` for an invoice request as sent (an edit's ``invoice``): the dict to keep,
    or None when it is absent or breaks a format rule (the caller's own check says so)."""
    if body is None:
        return None
    asked = invoice_request.check(body, FieldErrors(), field)
    if asked is None:
        return None
    checked = verify(db, asked, field)
    return dict(checked.as_dict())
