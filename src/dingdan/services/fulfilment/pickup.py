"""Store pickup (issue 25, part 5): an order with ``delivery: {"type": "store_pickup",
"location"}`` is collected at one of the seller's locations instead of shipped.

* Ready: when the order is packed at its pickup location, it gets a pickup code and the
  customer hears "ready for pickup" (``order.ready_for_pickup``; the message shows the code,
  and so does the order's tracking page).
* Handed over: staff scan or type the code the customer shows (``POST
  /api/v1/orders/{number}/pickup`` or the /pickup page of the location); a wrong code is
  refused and changes nothing; the right one ships what is held at the store as a shipment of
  the carrier ``store_pickup`` and delivers it at once, in one transaction, audited. A second
  hand-over of the same order is refused (409).

Codes: 6 characters of an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V),
drawn at random (``secrets``), unique among open pickups: ``store_pickups.open_code`` is
unique and emptied at hand-over, so a code may come back once its pickup is closed.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.label_tables import StorePickup
from dingdan.db.order_tables import Order
from dingdan.db.tables import Location
from dingdan.db.types import utcnow
from dingdan.services.fulfilment.shapes import OpenPickup, PickupState, PlaceView
from dingdan.services.orders.events import event
from dingdan.services.orders.tracking import pickup_place
from dingdan.services.shared.common import iso
from dingdan.services.shared.outbox_events import emit

ALPHABET = "ACDEFGHJKMNPQRTWXY3479"
CODE_LENGTH = 6
CARRIER = "store_pickup"  # the carrier of a hand-over's shipment
_NOT_CODE = re.compile(r"[\s\-_.·]+")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: Any) -> str:
    """What staff typed or scanned: full-width folded, separators dropped, upper case."""
    if not isinstance(text, str) or len(text) > 40:
        return ""
    return _NOT_CODE.sub("", unicodedata.normalize("NFKC", text)).upper()


def pickup_location(order: Any) -> str | None:
    """The location code of a store-pickup order, else None."""
    delivery = getattr(order, "delivery", None)
    if isinstance(delivery, dict) and delivery.get("type") == "store_pickup":
        location = delivery.get("location")
        return str(location) if isinstance(location, str) and location else None
    return None


# ---- ready ----------------------------------------------------------------------------------


def mark_ready(conn: Connection, actor: str, order: Any, location_id: int, location: str) -> None:
    """Called by a pack in its transaction: a store-pickup order packed at its pickup location
    gets its code (once) and the customer is told it is ready."""
    if pickup_location(order) != location:
        return
    exists = conn.execute(
        select(StorePickup.order_id).where(StorePickup.order_id == order.id)
    ).first()
    if exists is not None:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    while True:  # a code an open pickup holds: draw again (one chance in millions)
        code = new_code()
        stmt = (
            dialect.insert(StorePickup)
            .values(
                order_id=order.id,
                location_id=location_id,
                code=code,
                open_code=code,
                status="ready",
                ready_at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(StorePickup.order_id)
        )
        if conn.execute(stmt).first() is not None:
            break
    event(
        conn,
        order.id,
        "ready_for_pickup",
        actor,
        f"Ready for pickup at {location}",
        {"location": location},
    )
    emit(conn, "order.ready_for_pickup", {"number": order.number, "location": location})


# ---- reading --------------------------------------------------------------------------------


def place_view(loc: Any) -> PlaceView:
    """A location as a place a parcel leaves from or waits at: its name and address."""
    return {"code": loc.code, **pickup_place(loc)}


def pickup_of(conn: Connection, order_id: int) -> PickupState | None:
    """The order's pickup: code, status, where (the location's name and address), when."""
    p = conn.execute(select(StorePickup).where(StorePickup.order_id == order_id)).first()
    if p is None:
        return None
    loc = conn.execute(select(Location).where(Location.id == p.location_id)).one()
    return {
        "code": p.code,
        "status": p.status,
        "location": place_view(loc),
        "ready_at": iso(p.ready_at),
        "handed_over_at": iso(p.handed_over_at),
    }


def open_pickups(db: Database, location: str) -> list[OpenPickup]:
    """The orders ready and waiting at ``location``, oldest first (never their codes)."""

    def work(conn: Connection) -> list[OpenPickup]:
        rows = conn.execute(
            select(Order.number, Order.shipping_address, StorePickup.ready_at)
            .join(StorePickup, StorePickup.order_id == Order.id)
            .join(Location, Location.id == StorePickup.location_id)
            .where(Location.code == location, StorePickup.status == "ready")
            .order_by(StorePickup.ready_at, Order.id)
            .limit(200)
        )
        return [
            {
                "number": r.number,
                "name": (r.shipping_address or {}).get("name") or "",
                "ready_at": iso(r.ready_at),
            }
            for r in rows
        ]

    return db.read(work)
