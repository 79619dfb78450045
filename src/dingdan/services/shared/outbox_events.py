"""The events other parts of the system and other systems hear about, written to the outbox
in the transaction that caused them.

Every event of an order carries the order's ``number`` in its payload (the webhook and
message layers look the order up by it, and keep one order's events in order), and what
the event is about (a shipment, a return, an amount). The worker hands each to its
consumers after the commit (services/jobs/worker.py): outgoing webhooks, customer
messages, staff notifications. An event is never sent from here: it is only recorded.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, insert

from dingdan.db.prepared import Prepared
from dingdan.db.tables import OutboxMessage, table_of

# Each event type and when it happens. The contract's list ("Outgoing webhooks") is the
# floor; a subscription names these (or "*").
EVENT_TYPES: dict[str, str] = {
    "order.created": "An order was captured.",
    "order.updated": "An order's lines, address or prices were edited.",
    "order.paid": "A payment was recorded against an order.",
    "order.cancelled": "An order was cancelled.",
    "order.shipped": "A shipment of the order left the warehouse.",
    "order.out_for_delivery": "A shipment is out for delivery (the carrier says so).",
    "order.delivery_exception": "A shipment has a delivery exception (lost, refused, delayed).",
    "order.delivered": "A shipment of the order was delivered.",
    "order.rated": "The customer rated a delivered order (1 to 5) from its message's link.",
    "order.ready_for_pickup": "A store-pickup order is packed and waits at its store.",
    "order.store_closed": "The convenience store a parcel was going to closed: the customer "
    "is asked to choose another.",
    "return.requested": "A customer or staff member asked for a return.",
    "return.approved": "A return was approved.",
    "return.rejected": "A return was rejected.",
    "return.received": "A return's goods arrived at a warehouse.",
    "refund.created": "Money was refunded on an order.",
    "store_credit.issued": "Store credit was issued to a customer.",
    "dispute.opened": "A payment dispute was opened on an order.",
    "invoice.issued": "An invoice was issued.",
    "invoice.voided": "An invoice was voided.",
    "einvoice.range_added": "An e-invoice number range (字軌) was added.",
    "einvoice.range_low": "An e-invoice number range is 80% used: ask for the next one.",
    "inventory.low_stock": "A product's stock at a location fell to its reorder point "
    "(available + on order), or, without one, its available stock to its low-stock threshold.",
    "inventory.changed": (
        "A product's available stock changed: what each channel may sell of it now"
        " (one event per SKU per worker round)."
    ),
    "purchase_order.sent": "A purchase order was sent to its supplier.",
    "purchase_order.received": "Goods of a purchase order were received.",
    "inbound.needs_attention": "A channel's delivery could not become an order (kept to retry).",
}

_INSERT = Prepared(insert(table_of(OutboxMessage)))


def emit(conn: Connection, topic: str, payload: Mapping[str, object]) -> None:
    """Record one event in the caller's transaction; it leaves only after the commit.
    ``payload`` is stored as JSON (what each type carries: ``EVENT_TYPES``)."""
    if topic not in EVENT_TYPES:  # a typo here would be an event nobody ever hears
        raise ValueError(f"unknown event type {topic!r}")
    _INSERT.run(conn, {"topic": topic, "payload": payload})
