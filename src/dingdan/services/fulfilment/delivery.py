"""A shipment delivered: one path for staff marking it by hand and for a carrier's tracking
event, so that the order, its timeline and ``order.delivered`` follow the same way."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from dingdan.db.order_tables import Order, Shipment
from dingdan.services.orders.allocation import refresh_order
from dingdan.services.orders.events import event
from dingdan.services.shared.outbox_events import emit


def deliver(
    conn: Connection,
    s: Any,
    actor: str,
    at: datetime,
    message: str | None = None,
    data: Mapping[str, object] | None = None,
) -> str:
    """Shipment ``s`` delivered at ``at``: its order's status follows (completed when paid
    and everything is delivered), the timeline says so and ``order.delivered`` is emitted,
    once (the caller has checked that ``s`` was not delivered). Staff marking it by hand and
    a carrier's tracking event both come here. The order's number."""
    sid = str(s.id)
    conn.execute(
        update(Shipment).where(Shipment.id == s.id).values(status="delivered", delivered_at=at)
    )
    refresh_order(conn, s.order_id)
    event(
        conn,
        s.order_id,
        "delivered",
        actor,
        message or f"Shipment {sid} delivered",
        {"shipment_id": sid, **(data or {})},
    )
    number: str = conn.execute(select(Order.number).where(Order.id == s.order_id)).scalar_one()
    emit(conn, "order.delivered", {"number": number, "shipment_id": sid})
    return number
