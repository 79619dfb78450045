"""Orders that could leave together: open orders of one customer to one address, each with
units allocated (reserved, not yet shipped) at the same location. Read only; the order page
and the warehouse page offer them so the packer ships one parcel instead of two."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Allocation, Order
from dingdan.db.tables import Location
from dingdan.domain.shared.text import folded
from dingdan.services.orders.shapes import ShipGroup, ShipTogether

MAX_ORDERS = 2000  # open orders read at one location for the warehouse's list


def address_key(address: Mapping[str, object] | None) -> tuple[str, ...]:
    """Where a parcel goes, as compared: the address's place fields, trimmed and case-folded
    (the name and phone on it may differ between two orders of one customer)."""
    a = address or {}
    keys = ("line1", "line2", "city", "region", "postal_code", "country")
    return tuple(folded(str(a.get(k) or "").strip()).replace("台", "臺") for k in keys)


def _waiting_at(conn: Connection, location_id: int, customer_id: int | None = None) -> list[Any]:
    held = (
        select(Allocation.id)
        .where(Allocation.order_id == Order.id, Allocation.location_id == location_id)
        .exists()
    )
    stmt = (
        select(Order.id, Order.number, Order.customer_id, Order.shipping_address)
        .where(Order.status == "open", held)
        .order_by(Order.id)
        .limit(MAX_ORDERS)
    )
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    return list(conn.execute(stmt))


def ship_together(db: Database, number: str) -> list[ShipTogether]:
    """For each location holding units of order ``number``: the other open orders of its
    customer to its address waiting there, ``[{"location", "orders": [numbers]}]``
    (locations with none are left out)."""

    def work(conn: Connection) -> list[ShipTogether]:
        order = conn.execute(
            select(Order.id, Order.status, Order.customer_id, Order.shipping_address).where(
                Order.number == number
            )
        ).first()
        if order is None or order.status != "open":
            return []
        here = address_key(order.shipping_address)
        locations = conn.execute(
            select(Location.id, Location.code)
            .where(
                Location.id.in_(
                    select(Allocation.location_id).where(Allocation.order_id == order.id)
                )
            )
            .order_by(Location.priority, Location.code)
        ).all()
        out: list[ShipTogether] = []
        for loc in locations:
            others = [
                o.number
                for o in _waiting_at(conn, loc.id, order.customer_id)
                if o.id != order.id and address_key(o.shipping_address) == here
            ]
            if others:
                out.append({"location": loc.code, "orders": others})
        return out

    return db.read(work)


def ship_together_at(db: Database, location_code: str) -> list[ShipGroup]:
    """Groups of two or more open orders waiting at the location, of one customer to one
    address: ``[{"orders": [numbers], "name", "city"}]``, oldest group first."""

    def work(conn: Connection) -> list[ShipGroup]:
        loc = conn.execute(select(Location.id).where(Location.code == location_code)).first()
        if loc is None:
            return []
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for o in _waiting_at(conn, loc.id):
            key = (o.customer_id, *address_key(o.shipping_address))
            groups.setdefault(key, []).append(o)
        return [
            {
                "orders": [o.number for o in group],
                "name": (group[0].shipping_address or {}).get("name"),
                "city": (group[0].shipping_address or {}).get("city"),
            }
            for group in groups.values()
            if len(group) > 1
        ]

    return db.read(work)


def active_location_codes(db: Database) -> list[str]:
    """The active locations' codes, by priority: where an allocation may be moved to."""
    stmt = (
        select(Location.code)
        .where(Location.active.is_(True))
        .order_by(Location.priority, Location.code)
    )
    return list(db.read(lambda conn: conn.execute(stmt).scalars().all()))
