"""The invoice a customer asks for from the tracking page, before it is issued (shared/
CONTRACT.md, "Invoices and Taiwan e-invoices"; issue 22, part 5): a carrier, a donation or
a company invoice, checked as at capture and kept as the order's newest invoice request,
which the invoicing context reads when it issues. Once an invoice of the order is issued
(or waits, numbered, as pending) the choice is closed: a change is then the shop's
(void and reissue), not the customer's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.invoice_tables import Invoice
from dingdan.db.order_tables import Order, OrderEvent
from dingdan.domain.orders import invoice_request
from dingdan.domain.shared.errors import Conflict, FieldError, FieldErrors, NotFound
from dingdan.services.orders import invoice_lookup
from dingdan.services.orders.capture import INVOICE_REQUEST_EVENT
from dingdan.services.orders.events import event
from dingdan.services.orders.shapes import InvoiceChoice, InvoiceRequestState

ACTOR = "customer (tracking page)"


def _order(conn: Connection, token: str, lock: bool = False) -> Any:
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        raise NotFound(detail="No order has this tracking link.")
    stmt = select(Order.id, Order.status, Order.currency, Order.shipping_address).where(
        Order.tracking_token == token
    )
    order = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if order is None:
        raise NotFound(detail="No order has this tracking link.")
    return order


def _invoiced(conn: Connection, order_id: int) -> bool:
    return (
        conn.execute(
            select(Invoice.id).where(Invoice.order_id == order_id, Invoice.status != "void")
        ).first()
        is not None
    )


def current_request(conn: Connection, order_id: int) -> dict[str, str]:
    """The order's newest invoice request as stored (none: a printed B2C invoice); the
    invoicing context reads it here when it issues."""
    data = conn.execute(
        select(OrderEvent.data)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind == INVOICE_REQUEST_EVENT)
        .order_by(OrderEvent.id.desc())
        .limit(1)
    ).scalar()
    return data if isinstance(data, dict) else {"type": "b2c"}


def for_order(db: Database, number: str) -> InvoiceRequestState:
    """The order's invoice request and whether the shop may still change it (no invoice
    of the order yet), for the order's edit page."""

    def work(conn: Connection) -> InvoiceRequestState:
        order_id = conn.execute(select(Order.id).where(Order.number == number)).scalar()
        if order_id is None:
            raise NotFound(detail=f"Order {number} not found.")
        return {
            "request": current_request(conn, int(order_id)),
            "changeable": not _invoiced(conn, int(order_id)),
        }

    return db.read(work)


def choice(db: Database, token: str) -> InvoiceChoice:
    """What the tracking page shows: the request as it stands and whether it may change
    (a Taiwan order in TWD, open, not invoiced yet)."""

    def work(conn: Connection) -> InvoiceChoice:
        order = _order(conn, token)
        country = (order.shipping_address or {}).get("country")
        open_tw = order.status == "open" and order.currency == "TWD" and country == "TW"
        return {
            "request": current_request(conn, int(order.id)),
            "changeable": open_tw and not _invoiced(conn, int(order.id)),
            "taiwan": order.currency == "TWD" and country == "TW",
        }

    return db.read(work)


def ask(db: Database, token: str, body: Mapping[str, object] | None) -> dict[str, str]:
    """Keep the customer's request (``None``: a printed invoice); refused field by field as
    at capture, and 409 once the order is invoiced, closed or not a Taiwan order."""
    errors = FieldErrors()
    asked = invoice_request.check(body, errors)
    errors.raise_if_any()
    asked = invoice_lookup.verify(db, asked)  # the centre asked before the transaction
    data: dict[str, str] = asked.as_dict() if asked is not None else {"type": "b2c"}

    def work(conn: Connection) -> dict[str, str]:
        order = _order(conn, token, lock=conn.dialect.name == "postgresql")
        country = (order.shipping_address or {}).get("country")
        if order.currency != "TWD" or country != "TW":
            raise Conflict(detail="Only an order shipped in Taiwan gets an e-invoice.")
        if order.status != "open" or _invoiced(conn, int(order.id)):
            raise Conflict(detail="The invoice of this order is issued already.")
        if current_request(conn, int(order.id)) != data:
            event(conn, int(order.id), INVOICE_REQUEST_EVENT, ACTOR, "Invoice request", data)
        return data

    return db.write(work)


def set_by_staff(conn: Connection, order_id: int, data: Mapping[str, str], actor: str) -> bool:
    """The shop's change of the order's invoice request (the order edit, joining its
    transaction, which holds the order's lock); whether it changed. Refused (409) once the
    order has an invoice: a change is then a void and reissue, or an allowance."""
    if current_request(conn, order_id) == data:
        return False
    if _invoiced(conn, order_id):
        raise Conflict(
            detail="The invoice of this order is issued already.",
            errors=[FieldError.of("invoice", "invoice_already_issued")],
        )
    event(conn, order_id, INVOICE_REQUEST_EVENT, actor, "Invoice request", data)
    return True
