"""Packing slips: what to pack of an order at a location, and its barcodes.

A slip is one order at one ship-from location: the lines still allocated there (reserved and
not yet shipped), so a partly shipped order shows only what is left. The order number is a
Code128 barcode and the customer's tracking page a QR code, both inline SVG drawn with
presentation attributes only (no style attribute, which our Content-Security-Policy would
block). The PDF of a slip is made by ``services.documents``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Allocation, Order, OrderLine, Shipment
from dingdan.db.tables import Location, Product
from dingdan.services.fulfilment import picking
from dingdan.services.fulfilment.pickup import place_view
from dingdan.services.fulfilment.shapes import (
    LocationSlips,
    OrderSlips,
    SlipLineView,
    SlipView,
)
from dingdan.services.inventory import locations
from dingdan.services.orders.notes import notes_in
from dingdan.services.orders.queries import fetch
from dingdan.services.shared.common import Actor, audit, iso

# ---- slips ---------------------------------------------------------------------------------


def _ready_to_ship(order: Any) -> bool:
    """The shipping rule of the pick list: open, and paid in full or cash on delivery."""
    paid = order.payment_method == "cod" or order.paid_minor >= order.total_minor
    return bool(order.status == "open" and paid)


def _slips(conn: Connection, orders: list[Any], location_id: int | None) -> list[SlipView]:
    """One slip per order and location holding its unshipped allocations, in the given order
    of orders, then by location priority; lines in the order's line order."""
    if not orders:
        return []
    stmt = (
        select(
            Allocation.order_id,
            Allocation.location_id,
            OrderLine.sku,
            OrderLine.name,
            OrderLine.quantity.label("ordered"),
            Allocation.quantity,
            Product.barcode,
        )
        .join(OrderLine, OrderLine.id == Allocation.line_id)
        .join(Product, Product.id == Allocation.product_id)
        .join(Location, Location.id == Allocation.location_id)
        .where(Allocation.order_id.in_([o.id for o in orders]))
        .order_by(Allocation.order_id, Location.priority, Location.code, OrderLine.position)
    )
    if location_id is not None:
        stmt = stmt.where(Allocation.location_id == location_id)
    groups: dict[tuple[int, int], list[SlipLineView]] = {}
    for r in conn.execute(stmt):
        groups.setdefault((r.order_id, r.location_id), []).append(
            {
                "sku": r.sku,
                "name": r.name,
                "barcode": r.barcode,
                "ordered": r.ordered,
                "to_pack": r.quantity,
            }
        )
    loc_ids = {lid for _, lid in groups}
    locs = {loc.id: loc for loc in conn.execute(select(Location).where(Location.id.in_(loc_ids)))}
    out = []
    for o in orders:
        for (oid, lid), lines in groups.items():
            if oid == o.id:
                out.append(_slip(o, locs[lid], lines, notes_in(conn, o.id)))
    return out


def _shipped_slips(conn: Connection, order: Any) -> list[SlipView]:
    """A slip per shipment of the order, for a reprint: what that shipment took, from where,
    with its carrier and tracking number."""
    shipped = list(
        conn.execute(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id))
    )
    if not shipped:
        return []
    lines = {
        r.sku: r
        for r in conn.execute(
            select(OrderLine.sku, OrderLine.name, OrderLine.quantity, Product.barcode)
            .join(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id == order.id)
        )
    }
    loc_ids = {s.location_id for s in shipped}
    locs = {loc.id: loc for loc in conn.execute(select(Location).where(Location.id.in_(loc_ids)))}
    notes = notes_in(conn, order.id)
    out = []
    for s in shipped:
        rows: list[SlipLineView] = []
        for item in s.lines or []:
            ln = lines.get(item.get("sku"))
            rows.append(
                {
                    "sku": item.get("sku"),
                    "name": ln.name if ln else item.get("sku"),
                    "barcode": ln.barcode if ln else None,
                    "ordered": ln.quantity if ln else item.get("quantity"),
                    "to_pack": int(item.get("quantity") or 0),
                }
            )
        slip = _slip(order, locs[s.location_id], rows, notes)
        slip["shipment"] = {
            "id": str(s.id),
            "carrier": s.carrier,
            "tracking_number": s.tracking_number,
            "shipped_at": iso(s.created_at),
        }
        out.append(slip)
    return out


def _pickup(order: Any) -> dict[str, object] | None:
    """The convenience store the parcel goes to, when the order is a store pickup."""
    d = getattr(order, "delivery", None)
    return dict(d) if isinstance(d, dict) and d.get("type") == "cvs_pickup" else None


def _slip(
    order: Any, loc: Any, lines: list[SlipLineView], notes: Sequence[Mapping[str, object]]
) -> SlipView:
    return {
        "shipment": None,
        "notes": notes,
        "number": order.number,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "ready_to_ship": _ready_to_ship(order),
        "ordered_at": iso(order.created_at),
        "tracking_token": order.tracking_token,
        "customer_name": (order.customer or {}).get("name"),
        "ship_to": dict(order.shipping_address or {}),
        "pickup": _pickup(order),
        "ship_from": place_view(loc),
        "lines": lines,
        "units": sum(ln["to_pack"] for ln in lines),
    }


def order_slips(db: Database, number: str, location: str | None = None) -> OrderSlips:
    """The slips of one order: one per location still holding units of it (or only the one
    of ``location``), then one per shipment already made (``shipment`` set), so a slip can
    always be printed again after shipping."""

    def work(conn: Connection) -> OrderSlips:
        order = fetch(conn, number)
        loc = locations.fetch(conn, location) if location else None
        shipped = [
            s
            for s in _shipped_slips(conn, order)
            if loc is None or s["ship_from"]["code"] == loc.code
        ]
        return {
            "number": order.number,
            "status": order.status,
            "ready_to_ship": _ready_to_ship(order),
            "location": loc.code if loc else None,
            "slips": _slips(conn, [order], loc.id if loc else None) + shipped,
        }

    return db.read(work)


def location_slips(db: Database, location: str, limit: int = 100) -> LocationSlips:
    """The slips of the orders of a location's pick list (the same orders, in its order)."""
    picks = picking.pick_list(db, location, limit=limit)

    def work(conn: Connection) -> LocationSlips:
        loc = locations.fetch(conn, location)
        rows = {
            o.number: o
            for o in conn.execute(select(Order).where(Order.number.in_(picks["orders"])))
        }
        orders = [rows[n] for n in picks["orders"] if n in rows]
        return {
            "location": loc.code,
            "location_name": loc.name,
            "orders": [o.number for o in orders],
            "slips": _slips(conn, orders, loc.id),
        }

    return db.read(work)


def record_views(db: Database, actor: Actor, numbers: list[str]) -> None:
    """Audit the view of each order's slip (name and address) as a view of the order, the
    way the order page is audited; one transaction for a whole batch."""
    if not numbers:
        return

    def work(conn: Connection) -> None:
        for n in dict.fromkeys(numbers):
            audit(conn, actor, "view", "order", n)

    db.write(work)


# ---- barcodes (SVG with presentation attributes only: no style attribute, for our CSP) ----


def code128_svg(value: str, height: int = 40) -> str:
    """An inline Code128 SVG of ``value``, scaled by CSS; empty if it cannot be encoded."""
    import barcode

    try:
        modules = barcode.get("code128", value).build()[0]
    except (barcode.errors.BarcodeError, ValueError, KeyError):
        return ""
    quiet = 10
    width = len(modules) + 2 * quiet
    bars, x = [], 0
    while x < len(modules):
        if modules[x] == "1":
            run = len(modules[x:]) - len(modules[x:].lstrip("1"))
            bars.append(f"M{x + quiet} 0h{run}v{height}h-{run}z")
            x += run
        else:
            x += 1
    label = html.escape(value, quote=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img"'
        f' aria-label="{label}" viewBox="0 0 {width} {height}" preserveAspectRatio="none"'
        f' shape-rendering="crispEdges"><rect width="{width}" height="{height}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(bars)}"/></svg>'
    )


def qr_svg(text: str) -> str:
    """An inline QR code SVG of ``text`` (error correction M), scaled by CSS."""
    import segno

    code = segno.make(text, error="m", micro=False)
    svg: str = code.svg_inline(
        scale=1, border=2, omitsize=True, svgclass="qr", lineclass=None, dark="#000", light="#fff"
    )
    return svg
