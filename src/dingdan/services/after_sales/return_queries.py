"""Read side of returns: the return as the API shows it and the returns queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.return_tables import Return, ReturnLine
from dingdan.db.tables import Location
from dingdan.domain.after_sales.returns import ReturnStatus
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.services.after_sales.shapes import (
    ReturnLineView,
    ReturnOverride,
    ReturnRefund,
    ReturnView,
)
from dingdan.services.shared.common import Page, check_limit, decode_cursor, iso, page_of


def parse_id(value: str) -> int:
    return row_id(value)


def fetch_return(conn: Connection, return_id: str) -> Any:
    row = conn.execute(select(Return).where(Return.id == parse_id(return_id))).first()
    if row is None:
        raise NotFound(detail=f"No return with id {return_id!r}.")
    return row


def _number(conn: Connection, order_id: int | None) -> str | None:
    if order_id is None:
        return None
    return conn.execute(select(Order.number).where(Order.id == order_id)).scalar_one()


def _lines(conn: Connection, return_id: int, currency: str) -> list[ReturnLineView]:
    rows = conn.execute(
        select(ReturnLine, OrderLine.unit_price_minor)
        .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(ReturnLine.return_id == return_id)
        .order_by(ReturnLine.id)
    ).all()
    return [
        {
            "sku": r.sku,
            "quantity": r.quantity,
            "reason": r.reason,
            "unit_price": format_amount(r.unit_price_minor, currency),
            "received": r.resellable + r.damaged,
            "resellable": r.resellable,
            "damaged": r.damaged,
        }
        for r in rows
    ]


def return_view(conn: Connection, ret: Any) -> ReturnView:
    order = conn.execute(select(Order.number, Order.currency).where(Order.id == ret.order_id)).one()
    cur = order.currency
    location = None
    if ret.location_id is not None:
        location = conn.execute(
            select(Location.code).where(Location.id == ret.location_id)
        ).scalar_one()
    override: ReturnOverride | None = None
    if ret.override_rules:
        override = {
            "rules": ret.override_rules.split(","),
            "reason": ret.override_reason,
            "by": ret.overridden_by,
        }
    refund: ReturnRefund | None = None
    if ret.refund_minor is not None:
        refund = {"amount": format_amount(ret.refund_minor, cur), "to": ret.refund_to}
    return {
        "id": str(ret.id),
        "order": order.number,
        "status": ret.status,
        "lines": _lines(conn, ret.id, cur),
        "currency": cur,
        "note": ret.note,
        "requested_by": ret.requested_by,
        "override": override,
        "reject_reason": ret.reject_reason,
        "location": location,
        "refund": refund,
        "replacement_order": _number(conn, ret.replacement_order_id),
        "received_at": iso(ret.received_at),
        "refunded_at": iso(ret.refunded_at),
        "created_at": iso(ret.created_at),
        "updated_at": iso(ret.updated_at),
    }


def get_return(db: Database, return_id: str) -> ReturnView:
    return db.read(lambda conn: return_view(conn, fetch_return(conn, return_id)))


def list_returns(
    db: Database,
    *,
    status: str | None = None,
    order: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Newest first, keyset-paged on the return id."""
    check_limit(limit)
    after = decode_cursor(cursor, int)
    if status is not None and status not in {s.value for s in ReturnStatus}:
        raise ValidationFailed.on("status", "unknown_value")
    stmt = select(Return).order_by(Return.id.desc()).limit(limit + 1)
    if status is not None:
        stmt = stmt.where(Return.status == status)
    if order is not None:
        stmt = stmt.join(Order, Order.id == Return.order_id).where(Order.number == order)
    if after:
        stmt = stmt.where(Return.id < after[0])

    def work(conn: Connection) -> Page:
        rows = list(conn.execute(stmt))
        return page_of(rows, limit, lambda r: return_view(conn, r), lambda r: (int(r.id),))

    return db.read(work)


def returns_of_order(conn: Connection, order_id: int) -> list[ReturnView]:
    rows = conn.execute(select(Return).where(Return.order_id == order_id).order_by(Return.id)).all()
    return [return_view(conn, r) for r in rows]
