"""Reading carrier tracking events: a shipment's, and the latest received (the
unmatched ones to hand)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Shipment
from dingdan.db.tracking_tables import TrackingEventRow
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.domain.shared.numbers import row_id
from dingdan.services.fulfilment.shapes import TrackingEventList, TrackingEventView
from dingdan.services.shared.common import iso


def event_view(e: Any, order: str | None = None) -> TrackingEventView:
    return {
        "id": str(e.id),
        "carrier": e.carrier,
        "tracking_number": e.tracking_number,
        "shipment_id": str(e.shipment_id) if e.shipment_id is not None else None,
        "order": order,
        "status": e.status,
        "exception": e.exception,
        "occurred_at": iso(e.occurred_at),
        "location": e.location,
        "description": e.description,
        "source": e.source,
        "applied": e.applied,
        "received_at": iso(e.received_at),
    }


def events_of_shipment(db: Database, shipment_id: str) -> TrackingEventList:
    sid = row_id(shipment_id)

    def work(conn: Connection) -> TrackingEventList:
        order = conn.execute(
            select(Order.number)
            .join(Shipment, Shipment.order_id == Order.id)
            .where(Shipment.id == sid)
        ).scalar()
        if order is None:
            raise NotFound(detail=f"No shipment with id {shipment_id!r}.")
        rows = conn.execute(
            select(TrackingEventRow)
            .where(TrackingEventRow.shipment_id == sid)
            .order_by(TrackingEventRow.occurred_at.desc(), TrackingEventRow.id.desc())
        )
        return {"items": [event_view(r, order) for r in rows], "next_cursor": None}

    return db.read(work)


def list_events(
    db: Database, *, unmatched: bool | None = None, carrier: str | None = None, limit: int = 100
) -> TrackingEventList:
    """The latest events received, newest first; ``unmatched`` those no shipment took;
    ``limit`` 1 to 500 (422 ``out_of_range`` on ``limit`` otherwise)."""
    if not 1 <= limit <= 500:
        raise ValidationFailed.on("limit", "out_of_range", min=1, max=500)

    def work(conn: Connection) -> TrackingEventList:
        stmt = (
            select(*TrackingEventRow.__table__.c, Order.number.label("order_number"))
            .outerjoin(Shipment, Shipment.id == TrackingEventRow.shipment_id)
            .outerjoin(Order, Order.id == Shipment.order_id)
            .order_by(TrackingEventRow.id.desc())
            .limit(limit)
        )
        if unmatched is True:
            stmt = stmt.where(TrackingEventRow.shipment_id.is_(None))
        elif unmatched is False:
            stmt = stmt.where(TrackingEventRow.shipment_id.is_not(None))
        if carrier:
            stmt = stmt.where(TrackingEventRow.carrier == carrier)
        items = [event_view(row, row.order_number) for row in conn.execute(stmt)]
        return {"items": items, "next_cursor": None}

    return db.read(work)
