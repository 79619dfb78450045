"""Cancellation, shipments, delivery and delivery exceptions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from dingdan.db import stock as stock_sql
from dingdan.db.engine import Database
from dingdan.db.order_tables import Allocation, Order, OrderLine, Shipment
from dingdan.db.tables import Location
from dingdan.db.types import utcnow
from dingdan.domain.fulfilment.tracking import EXCEPTION_KINDS, FINAL_EXCEPTIONS
from dingdan.domain.inventory.stock import MovementKind, check_lines
from dingdan.domain.shared.errors import (
    FieldErrors,
    InvalidTransition,
    NotFound,
    PaymentRequired,
    ValidationFailed,
)
from dingdan.domain.shared.numbers import row_id
from dingdan.domain.shared.text import check_clean
from dingdan.services.fulfilment import logistics, tracking_events
from dingdan.services.fulfilment.carriers import shipment_carrier
from dingdan.services.fulfilment.delivery import deliver
from dingdan.services.fulfilment.packing import link_latest_pack
from dingdan.services.fulfilment.shapes import ExceptionCommand, ShipmentCommand
from dingdan.services.orders import backorders
from dingdan.services.orders.allocation import refresh_order
from dingdan.services.orders.audit import audit_order
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch, shipment_view, view
from dingdan.services.orders.risk import refuse_if_held
from dingdan.services.shared import past_sales
from dingdan.services.shared.common import Actor, audit
from dingdan.services.shared.outbox_events import emit
from dingdan.services.shared.view_types import OrderView, ShipmentView

# What staff may record by hand: the kinds carriers report too (domain.fulfilment.tracking).
EXCEPTIONS = tuple(k for k in EXCEPTION_KINDS if k != "other")


def _allocations(conn: Connection, order_id: int) -> list[Any]:
    return list(
        conn.execute(
            select(
                Allocation.id,
                Allocation.line_id,
                Allocation.product_id,
                Allocation.location_id,
                Allocation.quantity,
                OrderLine.sku,
                Location.code,
            )
            .join(OrderLine, OrderLine.id == Allocation.line_id)
            .join(Location, Location.id == Allocation.location_id)
            .where(Allocation.order_id == order_id)
            .order_by(Allocation.product_id, Allocation.location_id)
        )
    )


def cancel_order(db: Database, actor: Actor, number: str, reason: Any) -> OrderView:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise ValidationFailed.on("reason", "required_text", max=500)

    def work(conn: Connection) -> OrderView:
        order = fetch(conn, number, lock=True)
        if order.status != "open":
            raise InvalidTransition(
                detail=f"Order {number} is {order.status}; it cannot be cancelled."
            )
        shipped = conn.execute(
            select(OrderLine.id).where(OrderLine.order_id == order.id, OrderLine.shipped > 0)
        ).first()
        if shipped:
            raise InvalidTransition(
                detail=f"Order {number} has shipped lines; cancel the "
                "unshipped lines instead, or take a return."
            )
        freed = _release_all(conn, actor, order)
        conn.execute(
            update(OrderLine)
            .where(OrderLine.order_id == order.id)
            .values(cancelled=OrderLine.quantity, allocated=0, backordered=0)
        )
        conn.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(status="cancelled", cancel_reason=reason.strip())
        )
        past_sales.changed(conn, order.created_at)
        refresh_order(conn, order.id)
        event(conn, order.id, "cancelled", actor.name, reason.strip())
        emit(conn, "order.cancelled", {"number": number, "reason": reason.strip()})
        backorders.allocate(conn, actor, freed)
        audit_order(conn, actor, "cancel", order, reason=reason.strip())
        return view(conn, fetch(conn, number))

    return db.write(work)


def _release_all(conn: Connection, actor: Actor, order: Any) -> list[tuple[int, int]]:
    allocs = _allocations(conn, order.id)
    moves = [
        stock_sql.Move(a.product_id, a.location_id, MovementKind.RELEASE, 0, -a.quantity)
        for a in allocs
    ]
    stock_sql.apply(conn, moves, actor=actor.name, reason="cancel", reference=order.number)
    conn.execute(delete(Allocation).where(Allocation.order_id == order.id))
    return [(a.product_id, a.location_id) for a in allocs]


def _pick_location(allocs: list[Any], location: Any, number: str) -> str:
    codes = sorted({a.code for a in allocs})
    if location is not None:
        if location not in codes:
            raise InvalidTransition(
                detail=f"Order {number} has nothing left to ship at {location}."
            )
        return str(location)
    if not codes:
        raise InvalidTransition(detail=f"Order {number} has nothing allocated left to ship.")
    if len(codes) > 1:
        raise ValidationFailed.on("location", "held_elsewhere", locations=", ".join(codes))
    return codes[0]


def _shipment_lines(here: list[Any], lines: Any) -> dict[int, int]:
    """Allocation id → quantity to ship, checked against what is allocated here. A SKU held
    by several lines of the order is taken from them in line order."""
    if lines is None:
        return {a.id: a.quantity for a in here}
    errors = FieldErrors()
    check_lines(lines, errors)
    errors.raise_if_any()
    by_sku: dict[str, list[Any]] = {}
    for a in here:
        by_sku.setdefault(a.sku, []).append(a)
    out: dict[int, int] = {}
    for i, ln in enumerate(lines):
        held = by_sku.get(ln["sku"], [])
        total = sum(a.quantity for a in held)
        if not held:
            errors.add(f"lines[{i}].sku", "not_allocated_here", sku=ln["sku"])
        elif ln["quantity"] > total:
            errors.add(f"lines[{i}].quantity", "only_allocated", allocated=total)
        else:
            need = ln["quantity"]
            for a in sorted(held, key=lambda a: a.line_id):
                take = min(need, a.quantity)
                if take:
                    out[a.id] = take
                    need -= take
    errors.raise_if_any()
    return out


def check_shippable(
    conn: Connection, number: str, body: Mapping[str, object]
) -> tuple[Any, str, list[Any], dict[int, int]]:
    """What may ship now, refused otherwise (the order locked): an open order, paid in full
    unless cash on delivery, not held, the location (``body["location"]``, or the only one
    holding its allocations) and the quantities per allocation (``body["lines"]``, or all
    that is allocated there). Every way of shipping (a shipment recorded by staff, a parcel
    asked of a carrier's service) checks through this before anything leaves."""
    order = fetch(conn, number, lock=True)
    if order.status != "open":
        raise InvalidTransition(detail=f"Order {number} is {order.status}; nothing ships.")
    if order.payment_method != "cod" and order.paid_minor < order.total_minor:
        raise PaymentRequired(
            detail=f"Order {number} is not paid in full; record the payment before shipping."
        )
    refuse_if_held(conn, order.id)
    allocs = _allocations(conn, order.id)
    code = _pick_location(allocs, body.get("location"), number)
    here = [a for a in allocs if a.code == code]
    return order, code, here, _shipment_lines(here, body.get("lines"))


def create_shipment(
    db: Database,
    actor: Actor,
    number: str,
    body: ShipmentCommand,
    *,
    own_carrier: str | None = None,
    within: Callable[[Connection, int], None] | None = None,
) -> ShipmentView:
    """Every field of ``body`` is checked here. ``own_carrier``: a carrier
    code of the system's own (a store pickup's hand-over), not looked up in the settings.
    ``within(conn, shipment_id)`` runs in the same transaction once the shipment is written;
    what it raises refuses the whole shipment."""

    def work(conn: Connection) -> ShipmentView:
        carrier, tracking = (
            (own_carrier, None)
            if own_carrier
            else shipment_carrier(conn, body.get("carrier"), body.get("tracking_number"))
        )
        order, code, here, qty = check_shippable(conn, number, body)
        moves = []
        for a in here:
            q = qty.get(a.id, 0)
            if not q:
                continue
            moves.append(stock_sql.Move(a.product_id, a.location_id, MovementKind.SHIPMENT, -q, -q))
            _ship_allocation(conn, a, q)
        stock_sql.apply(conn, moves, actor=actor.name, reason="shipment", reference=number)
        shipped = [{"sku": a.sku, "quantity": qty[a.id]} for a in here if qty.get(a.id)]
        sid = conn.execute(
            insert(Shipment)
            .values(
                order_id=order.id,
                location_id=here[0].location_id,
                carrier=carrier,
                tracking_number=tracking,
                status="shipped",
                lines=shipped,
            )
            .returning(Shipment.id)
        ).scalar_one()
        if tracking is None:
            tracking = _assigned_number(conn, sid, carrier, order, here[0].location_id, shipped)
        pack_id = link_latest_pack(conn, order.id, here[0].location_id, sid)
        refresh_order(conn, order.id)
        event(
            conn,
            order.id,
            "shipped",
            actor.name,
            f"Shipped from {code} with {carrier}" + (f" ({tracking})" if tracking else ""),
            {"shipment_id": str(sid), "lines": shipped, "pack_id": pack_id and str(pack_id)},
        )
        emit(conn, "order.shipped", {"number": number, "shipment_id": str(sid)})
        if tracking:
            # The carrier may have scanned the parcel before it was recorded here.
            tracking_events.adopt_unmatched(conn, sid, f"carrier:{carrier}")
        audit_order(conn, actor, "ship", order, shipment_id=str(sid))
        if within is not None:
            within(conn, int(sid))
        return shipment_view(conn, conn.execute(select(Shipment).where(Shipment.id == sid)).one())

    return db.write(work)


def _assigned_number(
    conn: Connection, sid: int, carrier: str, order: Any, location_id: int, lines: Any
) -> str | None:
    """The number the carrier's logistics provider gives (pre-assigned ranges: T-cat, HCT),
    written on the shipment; None when it has none to give."""
    location = conn.execute(select(Location).where(Location.id == location_id)).one()
    request = logistics.ShipmentRequest(sid, carrier, order, location, lines)
    assigned = logistics.assign(conn, request)
    if assigned is None:
        return None
    conn.execute(update(Shipment).where(Shipment.id == sid).values(tracking_number=assigned.number))
    return assigned.number


def _ship_allocation(conn: Connection, a: Any, q: int) -> None:
    if q == a.quantity:
        conn.execute(delete(Allocation).where(Allocation.id == a.id))
    else:
        conn.execute(
            update(Allocation).where(Allocation.id == a.id).values(quantity=Allocation.quantity - q)
        )
    conn.execute(
        update(OrderLine)
        .where(OrderLine.id == a.line_id)
        .values(allocated=OrderLine.allocated - q, shipped=OrderLine.shipped + q)
    )


def _fetch_shipment(conn: Connection, shipment_id: str, *, lock: bool = False) -> Any:
    sid = row_id(shipment_id)
    stmt = select(Shipment).where(Shipment.id == sid)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFound(detail=f"No shipment with id {shipment_id!r}.")
    return row


def mark_delivered(db: Database, actor: Actor, shipment_id: str) -> ShipmentView:
    def work(conn: Connection) -> ShipmentView:
        s = _fetch_shipment(conn, shipment_id, lock=True)
        if s.status == "delivered":
            raise InvalidTransition(detail=f"Shipment {shipment_id} is already delivered.")
        if s.exception in FINAL_EXCEPTIONS:
            raise InvalidTransition(detail=f"Shipment {shipment_id} was {s.exception}.")
        deliver(conn, s, actor.name, utcnow())
        audit(
            conn,
            actor,
            "deliver",
            "shipment",
            shipment_id,
            before={"status": s.status, "exception": s.exception},
            after=dict(shipment_view(conn, _fetch_shipment(conn, shipment_id))),
        )
        return shipment_view(conn, _fetch_shipment(conn, shipment_id))

    return db.write(work)


def record_exception(
    db: Database, actor: Actor, shipment_id: str, body: ExceptionCommand
) -> ShipmentView:
    """Both fields of ``body`` are checked here."""
    kind, note = body.get("kind"), body.get("note")
    errors = FieldErrors()
    if kind not in EXCEPTIONS:
        errors.add("kind", "not_one_of", choices=", ".join(EXCEPTIONS))
    if note is not None and (not isinstance(note, str) or len(note) > 1000):
        errors.add("note", "too_long", max=1000)
    else:
        check_clean(note, "note", errors, multiline=True)
    errors.raise_if_any()

    def work(conn: Connection) -> ShipmentView:
        s = _fetch_shipment(conn, shipment_id, lock=True)
        if s.status == "delivered":
            raise InvalidTransition(detail=f"Shipment {shipment_id} is already delivered.")
        conn.execute(
            update(Shipment).where(Shipment.id == s.id).values(status="exception", exception=kind)
        )
        event(
            conn,
            s.order_id,
            "exception",
            actor.name,
            f"Shipment {shipment_id}: {kind}" + (f" ({note})" if note else ""),
            {"shipment_id": shipment_id, "kind": kind, "note": note},
        )
        number = conn.execute(select(Order.number).where(Order.id == s.order_id)).scalar_one()
        # The staff's note stays inside: it may say what the customer is not to read.
        payload = {"number": number, "shipment_id": shipment_id, "exception": kind}
        emit(conn, "order.delivery_exception", payload | {"status": "exception"})
        audit(
            conn,
            actor,
            "delivery_exception",
            "shipment",
            shipment_id,
            before={"status": s.status, "exception": s.exception},
            after=dict(shipment_view(conn, _fetch_shipment(conn, shipment_id))),
        )
        return shipment_view(conn, _fetch_shipment(conn, shipment_id))

    return db.write(work)


def add_note(db: Database, actor: Actor, number: str, note: Any) -> OrderView:
    if not isinstance(note, str) or not note.strip() or len(note) > 1000:
        raise ValidationFailed.on("note", "required_text", max=1000)
    errors = FieldErrors()
    check_clean(note, "note", errors, multiline=True)
    errors.raise_if_any()

    def work(conn: Connection) -> OrderView:
        order = fetch(conn, number)
        event(conn, order.id, "note", actor.name, note.strip())
        return view(conn, order)

    return db.write(work)
