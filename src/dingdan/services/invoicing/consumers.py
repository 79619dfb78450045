"""What the invoicing context does with the outbox's events (subscribed in
services/jobs/worker.py). Every handler is idempotent: the order's one live invoice, the
allowance keyed by its refund or edit, the pending invoices numbered once."""

from __future__ import annotations

from typing import Any

from dingdan.db.engine import Database
from dingdan.services.invoicing import issuing
from dingdan.services.invoicing import settings as invoicing_settings

TOPICS = (
    "order.paid",
    "order.shipped",
    "order.updated",
    "order.cancelled",
    "refund.created",
    "einvoice.range_added",
)


def on_event(db: Database, event: Any) -> None:
    """``event``: the outbox's claimed message (id, topic, payload, created_at)."""
    topic, payload = event.topic, event.payload or {}
    number = payload.get("number")
    if not invoicing_settings.get(db)["configured"]:
        return  # no invoice before the seller has said who it is (settings)
    if topic == "einvoice.range_added":
        issuing.issue_pending(db)
    elif not isinstance(number, str):
        return
    elif topic == "order.paid":
        issuing.issue_for_order(db, number, "payment")
    elif topic == "order.shipped":
        issuing.issue_for_order(db, number, "shipment")
    elif topic in ("order.updated", "order.cancelled"):
        issuing.on_order_changed(db, number, f"edit:{event.id}", topic == "order.cancelled")
    elif topic == "refund.created":
        issuing.on_refund(
            db,
            number,
            str(payload.get("amount", "0")),
            str(payload.get("payment_id", event.id)),
            str(payload.get("reason") or ""),
        )
