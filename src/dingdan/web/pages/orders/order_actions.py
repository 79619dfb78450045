"""Which fulfilment actions an order page, a pack screen and a packing slip offer, and why
not when they do not: a button is offered only when the step can be done (the same rules as
``services.fulfilment.shipments``: open, paid in full unless cash on delivery, something
allocated and unshipped), and the reason is shown in its place otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dingdan.web.pages.shared.messages import N_

NOT_OPEN = N_("The order is %(status)s: nothing more can be shipped.")
NOT_PAID = N_(
    "Not paid in full yet (balance due %(due)s): record the payment before packing and shipping."
)
NOTHING_ALLOCATED = N_("Nothing is allocated and unshipped: there is nothing to pack or ship.")


def can_ship(order: Mapping[str, Any]) -> dict[str, Any]:
    """``{"ok": True}``, or ``{"ok": False, "reason": msgid, "params": {...}}`` with the first
    rule the order breaks (the template translates it)."""
    if order["status"] != "open":
        return {"ok": False, "reason": NOT_OPEN, "params": {"status": order["status"]}}
    if order["payment_method"] != "cod" and Decimal(order["balance_due"]) > 0:
        return {"ok": False, "reason": NOT_PAID, "params": {"due": order["balance_due"]}}
    if not order["allocations"]:
        return {"ok": False, "reason": NOTHING_ALLOCATED, "params": {}}
    return {"ok": True}
