"""What a customer may see of an order through its unguessable tracking token: status,
items and shipments. Never an email, a phone or an address beyond city and country."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine, Shipment
from dingdan.domain.shared.errors import NotFound
from dingdan.services.shared.common import iso


def tracking_view(db: Database, token: str) -> dict[str, Any]:
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        raise NotFound(detail="No order has this tracking link.")

    def work(conn: Connection) -> dict[str, Any]:
        order = conn.execute(select(Order).where(Order.tracking_token == token)).first()
        if order is None:
            raise NotFound(detail="No order has this tracking link.")
        lines = conn.execute(
            select(
                OrderLine.sku,
                OrderLine.name,
                OrderLine.quantity,
                OrderLine.shipped,
                OrderLine.cancelled,
            )
            .where(OrderLine.order_id == order.id)
            .order_by(OrderLine.position)
        )
        shipments = conn.execute(
            select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
        )
        address = order.shipping_address or {}
        return {
            "number": order.number,
            "status": order.status,
            "fulfillment_status": order.fulfillment_status,
            "created_at": iso(order.created_at),
            "destination": {"city": address.get("city"), "country": address.get("country")},
            "items": [
                {"sku": k, "name": n, "quantity": q, "shipped": s, "cancelled": c}
                for k, n, q, s, c in lines
            ],
            "shipments": [
                {
                    "carrier": s.carrier,
                    "tracking_number": s.tracking_number,
                    "status": s.status,
                    "lines": s.lines,
                    "shipped_at": iso(s.created_at),
                    "delivered_at": iso(s.delivered_at),
                }
                for s in shipments
            ],
        }

    return db.read(work)
