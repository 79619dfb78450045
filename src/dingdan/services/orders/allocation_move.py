"""Moving an order's allocation from one location to another before picking: the units are
released at one and reserved at the other through the ledger, in one transaction (refused
whole when the other location has not enough), with an event and an audit entry. What the
release frees at the first location serves its backorders in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select, update

from dingdan.db import stock as stock_sql
from dingdan.db.engine import Database
from dingdan.db.order_tables import Allocation, OrderEvent, OrderLine, PackRecord
from dingdan.db.tables import Location
from dingdan.domain.inventory.stock import MovementKind, check_quantity
from dingdan.domain.shared.errors import (
    FieldErrors,
    InsufficientStock,
    InvalidTransition,
    ValidationFailed,
)
from dingdan.services.orders import backorders
from dingdan.services.orders.allocation import add_allocation
from dingdan.services.orders.audit import audit_order
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch, view
from dingdan.services.orders.shapes import AllocationMove, MoveLine
from dingdan.services.shared.common import Actor
from dingdan.services.shared.outbox_events import emit
from dingdan.services.shared.view_types import OrderView

REASON = "allocation move"  # the ledger's reason for both sides of a move


def _check_body(body: AllocationMove) -> tuple[str, str, dict[str, int] | None]:
    """(from, to, {sku: quantity} or None for everything at ``from``)."""
    errors = FieldErrors()
    codes = []
    for name in ("from", "to"):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 32:
            errors.add(name, "required_text", max=32)
        codes.append(value.strip() if isinstance(value, str) else "")
    wanted: dict[str, int] | None = None
    lines = body.get("lines")
    if lines is not None:
        wanted = {}
        if not isinstance(lines, list) or not lines:
            errors.add("lines", "no_lines")
        for i, ln in enumerate(lines if isinstance(lines, list) else []):
            sku = ln.get("sku") if isinstance(ln, dict) else None
            if not isinstance(sku, str) or not sku:
                errors.add(f"lines[{i}].sku", "required")
                continue
            if sku in wanted:
                errors.add(f"lines[{i}].sku", "duplicate_sku")
            check_quantity(ln.get("quantity"), f"lines[{i}].quantity", errors)
            wanted[sku] = ln.get("quantity") if isinstance(ln.get("quantity"), int) else 0
    if not errors.items and codes[0] == codes[1]:
        errors.add("to", "same_as_from", location=codes[1])
    errors.raise_if_any()
    return codes[0], codes[1], wanted


def _location(conn: Connection, code: str, field: str) -> Any:
    row = conn.execute(
        select(Location.id, Location.code, Location.active).where(Location.code == code)
    ).first()
    if row is None:
        raise ValidationFailed.on(field, "unknown_location", location=code)
    if not row.active and field == "to":
        raise ValidationFailed.on(field, "inactive_location", location=code)
    return row


def picking_began(conn: Connection, order_id: int, location: Any) -> bool:
    """Whether the order was marked picked, or packed and not yet shipped, at ``location``."""
    picked = conn.execute(
        select(OrderEvent.data).where(OrderEvent.order_id == order_id, OrderEvent.kind == "picked")
    ).scalars()
    if any((d or {}).get("location") == location.code for d in picked):
        return True
    packed = conn.execute(
        select(PackRecord.id).where(
            PackRecord.order_id == order_id,
            PackRecord.location_id == location.id,
            PackRecord.shipment_id.is_(None),
        )
    ).first()
    return packed is not None


def _shares(
    conn: Connection, order_id: int, from_id: int, wanted: dict[str, int] | None
) -> list[tuple[Any, int]]:
    """(allocation row with its sku, units to move) at the first location."""
    rows = conn.execute(
        select(
            Allocation.id,
            Allocation.line_id,
            Allocation.product_id,
            Allocation.quantity,
            OrderLine.sku,
        )
        .join(OrderLine, OrderLine.id == Allocation.line_id)
        .where(Allocation.order_id == order_id, Allocation.location_id == from_id)
        .order_by(OrderLine.position, Allocation.id)
    ).all()
    if wanted is None:
        return [(r, int(r.quantity)) for r in rows]
    errors = FieldErrors()
    out: list[tuple[Any, int]] = []
    for i, (sku, qty) in enumerate(wanted.items()):
        left = qty
        held = [r for r in rows if r.sku == sku]
        have = sum(int(r.quantity) for r in held)
        if qty > have:
            errors.add(f"lines[{i}].quantity", "more_than_allocated", allocated=have, sku=sku)
            continue
        for r in held:
            take = min(left, int(r.quantity))
            if take:
                out.append((r, take))
                left -= take
    errors.raise_if_any()
    return out


def move_allocation(db: Database, actor: Actor, number: str, body: AllocationMove) -> OrderView:
    """Move ``lines`` (all of the order's allocation there when left out) from the location
    ``from`` to the location ``to``. Refused (409) once picking began at ``from``, when the
    order is not open, or when ``to`` has not the units available."""
    src, dst, wanted = _check_body(body)

    def work(conn: Connection) -> OrderView:
        order = fetch(conn, number, lock=True)  # the order row first, then stock rows
        if order.status != "open":
            raise InvalidTransition(
                detail=f"Order {number} is {order.status}; its allocation cannot move."
            )
        here, there = _location(conn, src, "from"), _location(conn, dst, "to")
        if picking_began(conn, order.id, here):
            raise InvalidTransition(
                detail=f"Picking of order {number} began at {here.code}; it cannot move."
            )
        shares = _shares(conn, order.id, here.id, wanted)
        if not shares:
            raise ValidationFailed.on("from", "nothing_allocated", location=here.code)
        moves = [
            m
            for r, q in shares
            for m in (
                stock_sql.Move(r.product_id, here.id, MovementKind.RELEASE, 0, -q),
                stock_sql.Move(r.product_id, there.id, MovementKind.RESERVATION, 0, q),
            )
        ]
        if stock_sql.try_apply(conn, moves, actor=actor.name, reason=REASON, reference=number):
            raise InsufficientStock(detail=f"{there.code} has not enough stock for this move.")
        for r, q in shares:
            if q == r.quantity:
                conn.execute(delete(Allocation).where(Allocation.id == r.id))
            else:
                conn.execute(
                    update(Allocation)
                    .where(Allocation.id == r.id)
                    .values(quantity=Allocation.quantity - q)
                )
            add_allocation(conn, order.id, r.line_id, r.product_id, there.id, q)
        lines = _summed(shares)
        text = ", ".join(f"{ln['quantity']} × {ln['sku']}" for ln in lines)
        data = {"from": here.code, "to": there.code, "lines": lines}
        message = f"Allocation moved from {here.code} to {there.code}: {text}"
        event(conn, order.id, "allocation_moved", actor.name, message, data)
        audit_order(conn, actor, "move_allocation", order, **data)
        emit(conn, "order.updated", {"number": number})
        backorders.allocate(conn, actor, {(r.product_id, here.id) for r, _ in shares})
        return view(conn, fetch(conn, number))

    return db.write(work)


def _summed(shares: list[tuple[Any, int]]) -> list[MoveLine]:
    by_sku: dict[str, int] = {}
    for r, q in shares:
        by_sku[r.sku] = by_sku.get(r.sku, 0) + q
    return [{"sku": sku, "quantity": q} for sku, q in by_sku.items()]
