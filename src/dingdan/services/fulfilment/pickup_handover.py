"""Handing a store-pickup order over at the counter (services/fulfilment/pickup.py says how
a pickup comes to be ready): the code checked, what the store holds shipped and delivered at
once, in one transaction, audited."""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import Connection, select, update

from dingdan.db.engine import Database
from dingdan.db.label_tables import StorePickup
from dingdan.db.order_tables import Order, Shipment
from dingdan.db.tables import Location
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import InvalidTransition, ValidationFailed
from dingdan.services.fulfilment import shipments
from dingdan.services.fulfilment.delivery import deliver
from dingdan.services.fulfilment.pickup import CARRIER, normalize_code, pickup_location, pickup_of
from dingdan.services.fulfilment.shapes import PickupView
from dingdan.services.orders.audit import audit_order
from dingdan.services.orders.queries import fetch
from dingdan.services.shared.common import Actor, iso


def _check(conn: Connection, order: Any, code: str) -> Any:
    """The order's open pickup if ``code`` is its code; refused otherwise (nothing written)."""
    p = conn.execute(select(StorePickup).where(StorePickup.order_id == order.id)).first()
    if p is None:
        if pickup_location(order) is None:
            raise InvalidTransition(detail=f"Order {order.number} is not for store pickup.")
        raise InvalidTransition(detail=f"Order {order.number} is not ready for pickup yet.")
    if p.status != "ready":
        raise InvalidTransition(
            detail=f"Order {order.number} was already handed over ({iso(p.handed_over_at)})."
        )
    if not code or not hmac.compare_digest(code.encode(), p.code.encode()):
        raise ValidationFailed.on("code", "wrong_pickup_code")
    return p


def hand_over(db: Database, actor: Actor, number: str, code: object) -> PickupView:
    """The order handed over to who showed its code: shipped from the store and delivered."""
    typed = normalize_code(code)
    # Checked first with a read, for the answer (a wrong code writes nothing at all), then
    # again inside the shipment's transaction, where the order's row lock makes a second
    # hand-over wait and then find the pickup closed.
    p = db.read(lambda conn: _check(conn, fetch(conn, number), typed))
    location = db.read(
        lambda conn: conn.execute(
            select(Location.code).where(Location.id == p.location_id)
        ).scalar_one()
    )

    def finish(conn: Connection, shipment_id: int) -> None:
        order = fetch(conn, number)
        _check(conn, order, typed)
        now = utcnow()
        s = conn.execute(select(Shipment).where(Shipment.id == shipment_id)).one()
        deliver(conn, s, actor.name, now, f"Handed over at {location} (pickup code checked)")
        conn.execute(
            update(StorePickup)
            .where(StorePickup.order_id == order.id)
            .values(
                status="handed_over",
                open_code=None,
                handed_over_at=now,
                handed_over_by=actor.name,
                shipment_id=shipment_id,
            )
        )
        audit_order(conn, actor, "hand_over", order, shipment_id=str(shipment_id))

    shipment = shipments.create_shipment(
        db, actor, number, {"location": location}, own_carrier=CARRIER, within=finish
    )
    view = db.read(lambda conn: pickup_of(conn, fetch(conn, number).id))
    assert view is not None
    return {
        "order": number,
        "shipment_id": str(shipment["id"]),
        "code": view["code"],
        "status": view["status"],
        "location": view["location"],
        "ready_at": view["ready_at"],
        "handed_over_at": view["handed_over_at"],
    }


def hand_over_by_code(db: Database, actor: Actor, location: str, code: object) -> PickupView:
    """The page's hand-over: the open pickup at ``location`` whose code was scanned."""
    typed = normalize_code(code)

    def find(conn: Connection) -> str | None:
        return conn.execute(
            select(Order.number)
            .join(StorePickup, StorePickup.order_id == Order.id)
            .join(Location, Location.id == StorePickup.location_id)
            .where(StorePickup.open_code == typed, Location.code == location)
        ).scalar()

    number = db.read(find) if typed else None
    if number is None:
        raise ValidationFailed.on("code", "wrong_pickup_code")
    return hand_over(db, actor, number, typed)
