"""The order's notes: the customer's note sent with the order (kept as a ``customer_note``
event when the order is captured) and the notes staff added (``note`` events), oldest first,
for the order page, the pack screen and the packing slip."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderEvent
from dingdan.services.orders.shapes import NoteView
from dingdan.services.shared.common import iso

NOTE_KINDS = ("customer_note", "note")
MAX_NOTE = 1000


def customer_note(note: Any) -> str | None:
    """The customer's note as it is kept: stripped text, or None when there is none."""
    if not isinstance(note, str) or not note.strip():
        return None
    return note.strip()[:MAX_NOTE]


def notes_in(conn: Connection, order_id: int) -> list[NoteView]:
    """The order's notes, in the order they were written (fulfilment's packing slips)."""
    rows = conn.execute(
        select(OrderEvent.kind, OrderEvent.actor, OrderEvent.message, OrderEvent.created_at)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind.in_(NOTE_KINDS))
        .order_by(OrderEvent.id)
    )
    return [
        {
            "kind": r.kind,
            "by_customer": r.kind == "customer_note",
            "actor": r.actor,
            "text": r.message or "",
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]


def notes_of(db: Database, number: str) -> list[NoteView]:
    """The order's notes, the customer's first (it came with the order); [] for no order."""

    def work(conn: Connection) -> list[NoteView]:
        order_id = conn.execute(select(Order.id).where(Order.number == number)).scalar()
        return [] if order_id is None else notes_in(conn, order_id)

    return db.read(work)
