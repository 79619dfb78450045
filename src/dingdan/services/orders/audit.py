"""The audit trail of order writes: who, when, what, and the order's state before and after.

The order's own timeline (order_events) tells the story to staff; the audit log is the
tamper-evident record across all records (catalog, stock, users, orders) that admins and
managers search."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.order_tables import Order
from dingdan.domain.shared.money import format_amount
from dingdan.services.orders.shapes import OrderState
from dingdan.services.shared.common import Actor, audit


def order_state(conn: Connection, order_id: int) -> OrderState:
    return row_state(conn.execute(select(Order).where(Order.id == order_id)).one())


def row_state(o: Any) -> OrderState:
    """The audited fields of an order row (as read before a change, or after it)."""
    return {
        "status": o.status,
        "financial_status": o.financial_status,
        "fulfillment_status": o.fulfillment_status,
        "total": format_amount(o.total_minor, o.currency),
        "paid": format_amount(o.paid_minor, o.currency),
        "refunded": format_amount(o.refunded_minor, o.currency),
        "shipping_address": o.shipping_address,
    }


def audit_order(conn: Connection, actor: Actor, action: str, before: Any, **detail: Any) -> None:
    """Record ``action`` on an order: ``before`` is its row as read before the change."""
    after = {**order_state(conn, before.id), **detail}
    audit(conn, actor, action, "order", before.number, before=row_state(before), after=after)
