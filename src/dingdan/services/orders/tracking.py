"""What a customer may see of an order through its unguessable tracking token: status,
items, shipments and their carriers' tracking events, and for a store pickup the store and
the pickup code. Never the customer's email, phone or address beyond city and country."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import Connection, select

from dingdan.config import get_settings
from dingdan.db.ecpay_tables import EcpayTrade
from dingdan.db.engine import Database
from dingdan.db.label_tables import StorePickup
from dingdan.db.message_tables import OrderRating
from dingdan.db.order_tables import Order, OrderLine, Shipment
from dingdan.db.tables import Location
from dingdan.db.tracking_tables import TrackingEventRow
from dingdan.domain.shared.errors import NotFound
from dingdan.domain.shared.money import format_amount
from dingdan.services.orders.shapes import (
    CarrierEventView,
    PayView,
    PickupPlace,
    PickupView,
    RatingLink,
    TrackingView,
)
from dingdan.services.shared.common import iso


def rating_signature(tracking_token: str) -> str:
    """The key of an order's rating page (an HMAC of its tracking token under the secret
    key): the delivered message's links and the tracking page carry it."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"rating:{tracking_token}".encode(), hashlib.sha256).hexdigest()[:32]


def rating_path(tracking_token: str) -> str:
    return f"/track/{tracking_token}/rating?sig={rating_signature(tracking_token)}"


def tracking_view(db: Database, token: str) -> TrackingView:
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        raise NotFound(detail="No order has this tracking link.")

    def work(conn: Connection) -> TrackingView:
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
        ).all()
        events = _events(conn, [s.id for s in shipments])
        address = order.shipping_address or {}
        # Once something was delivered the customer may rate the order, once: the page
        # offers the scores (the rating page takes them) or shows the rating given.
        rating: RatingLink | None = None
        if any(s.status == "delivered" for s in shipments):
            given = conn.execute(
                select(OrderRating.rating).where(OrderRating.order_id == order.id)
            ).scalar()
            rating = {"path": rating_path(token), "given": given}
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
                    "events": events.get(s.id, []),
                }
                for s in shipments
            ],
            "rating": rating,
            "pickup": _pickup(conn, order),
            "pay": _pay(conn, order),
        }

    return db.read(work)


def pickup_place(loc: Any) -> PickupPlace:
    """A location as the place a parcel waits at: its name and address (fulfilment's
    packing slips and pickups add its code)."""
    return {
        "name": loc.name,
        "line1": loc.line1,
        "line2": loc.line2,
        "city": loc.city,
        "region": loc.region,
        "postal_code": loc.postal_code,
        "country": loc.country,
        "phone": loc.phone,
    }


def _pickup(conn: Connection, order: Any) -> PickupView | None:
    """Where a store-pickup order is collected, and its pickup code once it is ready there
    (services/fulfilment/pickup.py); None for an order delivered otherwise."""
    delivery = getattr(order, "delivery", None)
    if not isinstance(delivery, dict) or delivery.get("type") != "store_pickup":
        return None
    loc = conn.execute(select(Location).where(Location.code == delivery.get("location"))).first()
    p = conn.execute(select(StorePickup).where(StorePickup.order_id == order.id)).first()
    return {
        "location": pickup_place(loc) if loc is not None else None,
        "status": p.status if p is not None else "preparing",
        "code": p.code if p is not None and p.status == "ready" else None,
        "handed_over_at": iso(p.handed_over_at) if p is not None else None,
    }


def _pay(conn: Connection, order: Any) -> PayView:
    """What is due and how: the pay page (``/pay/{token}``) while something is due, and the
    ATM account or convenience-store code ECPay gave, once given."""
    due = max(0, order.total_minor - order.paid_minor)
    waiting = conn.execute(
        select(EcpayTrade)
        .where(EcpayTrade.order_id == order.id, EcpayTrade.status == "waiting")
        .order_by(EcpayTrade.id.desc())
        .limit(1)
    ).first()
    return {
        "payable": order.status != "cancelled" and due > 0,
        "due": format_amount(due, order.currency),
        "currency": order.currency,
        "path": f"/pay/{order.tracking_token}",
        "waiting": None
        if waiting is None or due == 0
        else {
            "bank_code": waiting.bank_code,
            "v_account": waiting.v_account,
            "payment_no": waiting.payment_no,
            "expires_at": iso(waiting.expires_at),
        },
    }


def _events(conn: Connection, shipment_ids: list[int]) -> dict[int, list[CarrierEventView]]:
    """Each shipment's tracking events, latest first (what the carrier said, where, when)."""
    out: dict[int, list[CarrierEventView]] = {}
    if not shipment_ids:
        return out
    rows = conn.execute(
        select(TrackingEventRow)
        .where(TrackingEventRow.shipment_id.in_(shipment_ids))
        .order_by(TrackingEventRow.occurred_at.desc(), TrackingEventRow.id.desc())
    )
    for e in rows:
        out.setdefault(e.shipment_id, []).append(
            {
                "status": e.status,
                "exception": e.exception,
                "occurred_at": iso(e.occurred_at),
                "location": e.location,
                "description": e.description,
            }
        )
    return out
