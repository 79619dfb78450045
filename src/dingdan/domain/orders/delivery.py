"""How an order reaches its customer when it is not shipped to the address
(shared/CONTRACT.md, "Pickup"): picked up at a convenience store (超商取貨) or at one of the
seller's store locations. Checks that need no database; the service checks that a
``store_pickup`` location exists."""

from __future__ import annotations

import re
from typing import Any

from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.text import check_text

CVS_PICKUP = "cvs_pickup"
STORE_PICKUP = "store_pickup"
TYPES = (CVS_PICKUP, STORE_PICKUP)
# The four convenience-store chains that take parcels, as the contract spells them.
CVS_BRANDS = ("7-ELEVEN", "FamilyMart", "Hi-Life", "OK")
# Store ids as the chains number their stores (7-ELEVEN: 6 digits; FamilyMart: 6 or more
# characters with letters): letters and digits, at most 20.
_STORE_ID = re.compile(r"[A-Za-z0-9]{1,20}")
_LOCATION = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def check(data: Any, errors: FieldErrors) -> dict[str, str] | None:
    """The delivery as stored on the order (None: ship to the address), or None with the
    bad fields in ``errors``."""
    if data is None:
        return None
    if not isinstance(data, dict):
        errors.add("delivery", "not_an_object")
        return None
    kind = data.get("type")
    if kind not in TYPES:
        errors.add("delivery.type", "not_one_of", choices=", ".join(TYPES))
        return None
    before = len(errors.items)
    if kind == STORE_PICKUP:
        location = data.get("location")
        if not isinstance(location, str) or not _LOCATION.fullmatch(location):
            errors.add("delivery.location", "required")
            return None
        return {"type": STORE_PICKUP, "location": location}
    brand = data.get("brand")
    if brand not in CVS_BRANDS:
        errors.add("delivery.brand", "not_one_of", choices=", ".join(CVS_BRANDS))
    store_id = data.get("store_id")
    if not isinstance(store_id, str) or not _STORE_ID.fullmatch(store_id.strip()):
        errors.add("delivery.store_id", "invalid", reason="letters and digits, at most 20")
    name = check_text(
        data.get("store_name"), "delivery.store_name", errors, max_length=100, required=True
    )
    address = check_text(data.get("address"), "delivery.address", errors, max_length=200)
    if len(errors.items) > before:
        return None
    assert isinstance(store_id, str) and isinstance(brand, str) and name is not None
    out = {"type": CVS_PICKUP, "brand": brand, "store_id": store_id.strip(), "store_name": name}
    if address:
        out["address"] = address
    return out


def describe(delivery: dict[str, Any] | None) -> str | None:
    """One line for slips and pages: ``7-ELEVEN 123456 台北門市`` / ``pickup at TPE``."""
    if not delivery:
        return None
    if delivery.get("type") == STORE_PICKUP:
        return f"pickup at {delivery.get('location')}"
    return " ".join(
        str(delivery[k]) for k in ("brand", "store_id", "store_name") if delivery.get(k)
    )
