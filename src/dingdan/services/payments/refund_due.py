"""Money owed back: an order whose paid less refunded is more than it is owed (its total;
nothing once cancelled) owes the difference, its ``refund_due``. Finance sees these orders
in one queue (the dashboard's block, the orders list's ``refund_due`` filter); the screens
that lower a paid order's total offer to refund the difference in the same step, through
the refund service (``transactions.refund``: an intent, the provider, the record)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order
from dingdan.domain.shared.money import format_amount
from dingdan.services.orders.queries import fetch, refund_due_clause, refund_due_minor
from dingdan.services.payments import transactions
from dingdan.services.payments.shapes import PaymentWithOrderView, RefundCommand, RefundDueQueue
from dingdan.services.shared.common import Actor

SHOWN = 10  # orders listed in the dashboard's block


def refund_difference(
    db: Database, actor: Actor, number: str, reason: str
) -> PaymentWithOrderView | None:
    """Refund what the order owes back now (None when it owes nothing). Called after the
    change that lowered what it is owed has committed: the refund asks the provider between
    its own two transactions."""
    order = db.read(lambda conn: fetch(conn, number))
    due, currency = refund_due_minor(order), order.currency
    if due <= 0:
        return None
    body: RefundCommand = {"amount": format_amount(due, currency), "reason": reason}
    return transactions.refund(db, actor, number, body)


def queue(db: Database) -> RefundDueQueue:
    """The orders that owe money back: how many, how much per currency, the oldest first."""

    def work(conn: Connection) -> RefundDueQueue:
        owed = Order.paid_minor - Order.refunded_minor - _owed()
        totals = conn.execute(
            select(Order.currency, func.count(), func.sum(owed))
            .where(refund_due_clause())
            .group_by(Order.currency)
            .order_by(Order.currency)
        ).all()
        oldest = conn.execute(
            select(Order).where(refund_due_clause()).order_by(Order.id).limit(SHOWN)
        ).all()
        return {
            "count": sum(int(n) for _, n, _ in totals),
            "totals": [{"currency": c, "amount": format_amount(int(t), c)} for c, _, t in totals],
            "orders": [
                {
                    "number": o.number,
                    "status": o.status,
                    "currency": o.currency,
                    "refund_due": format_amount(refund_due_minor(o), o.currency),
                }
                for o in oldest
            ],
        }

    return db.read(work)


def _owed() -> Any:
    return case((Order.status == "cancelled", 0), else_=Order.total_minor)
