"""Payments and refunds. Totals move by one conditional statement each, so two payments
(or two refunds) racing can never together exceed what is due (or what was paid)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Payment
from dingdan.db.tables import OutboxMessage
from dingdan.domain.errors import FieldErrors, InvalidTransition, ValidationFailed
from dingdan.domain.money import format_amount, parse_amount
from dingdan.domain.orders import PaymentMethod
from dingdan.services.allocations import refresh_order
from dingdan.services.common import Actor, iso
from dingdan.services.order_views import event, fetch, view


def _amount(value: Any, currency: str) -> int:
    return parse_amount(value, currency, "amount", allow_zero=False)


def payment_view(p: Any, currency: str) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "kind": p.kind,
        "amount": format_amount(p.amount_minor, currency),
        "currency": currency,
        "method": p.method,
        "reference": p.reference,
        "reason": p.reason,
        "actor": p.actor,
        "created_at": iso(p.created_at),
    }


def _text(value: Any, field: str, max_len: int, required: bool, errors: FieldErrors) -> None:
    if value is None:
        if required:
            errors.add(field, "is required")
    elif not isinstance(value, str) or len(value) > max_len or (required and not value.strip()):
        errors.add(field, f"must be text of at most {max_len} characters")


def record_payment(db: Database, actor: Actor, number: str, body: dict[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    _text(body.get("reference"), "reference", 200, False, errors)
    method = body.get("method")
    if method is not None and method not in {m.value for m in PaymentMethod}:
        errors.add("method", "is not a known payment method")
    errors.raise_if_any()

    def work(conn: Connection) -> dict[str, Any]:
        order = fetch(conn, number)
        if order.status == "cancelled":
            raise InvalidTransition(detail=f"Order {number} is cancelled; it takes no payment.")
        amount = _amount(body.get("amount"), order.currency)
        done = conn.execute(
            update(Order)
            .where(
                Order.id == order.id,
                Order.paid_minor + amount <= Order.total_minor,
            )
            .values(paid_minor=Order.paid_minor + amount)
        ).rowcount
        if not done:
            due = format_amount(max(0, order.total_minor - order.paid_minor), order.currency)
            raise ValidationFailed.on("amount", f"is more than the balance due ({due})")
        pid = conn.execute(
            insert(Payment)
            .values(
                order_id=order.id,
                kind="payment",
                amount_minor=amount,
                method=method or order.payment_method,
                reference=body.get("reference"),
                actor=actor.name,
            )
            .returning(Payment.id)
        ).scalar_one()
        refresh_order(conn, order.id)
        shown = format_amount(amount, order.currency)
        event(
            conn,
            order.id,
            "paid",
            actor.name,
            f"Payment of {shown} {order.currency}",
            {"amount": shown, "reference": body.get("reference")},
        )
        conn.execute(
            insert(OutboxMessage).values(
                topic="order.paid", payload={"number": number, "amount": shown}
            )
        )
        row = conn.execute(select(Payment).where(Payment.id == pid)).one()
        return {**payment_view(row, order.currency), "order": view(conn, fetch(conn, number))}

    return db.write(work)


def record_refund(db: Database, actor: Actor, number: str, body: dict[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    _text(body.get("reason"), "reason", 500, True, errors)
    _text(body.get("reference"), "reference", 200, False, errors)
    errors.raise_if_any()

    def work(conn: Connection) -> dict[str, Any]:
        order = fetch(conn, number)
        amount = _amount(body.get("amount"), order.currency)
        return refund_in(conn, actor, order, amount, body["reason"], body.get("reference"))

    return db.write(work)


def refund_in(
    conn: Connection, actor: Actor, order: Any, amount: int, reason: str, reference: str | None
) -> dict[str, Any]:
    """A refund inside the caller's transaction (returns use it too)."""
    done = conn.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.refunded_minor + amount <= Order.paid_minor,
        )
        .values(refunded_minor=Order.refunded_minor + amount)
    ).rowcount
    if not done:
        left = format_amount(order.paid_minor - order.refunded_minor, order.currency)
        raise ValidationFailed.on("amount", f"is more than paid minus refunded ({left})")
    pid = conn.execute(
        insert(Payment)
        .values(
            order_id=order.id,
            kind="refund",
            amount_minor=amount,
            method=order.payment_method,
            reference=reference,
            reason=reason,
            actor=actor.name,
        )
        .returning(Payment.id)
    ).scalar_one()
    refresh_order(conn, order.id)
    shown = format_amount(amount, order.currency)
    event(
        conn,
        order.id,
        "refunded",
        actor.name,
        f"Refund of {shown} {order.currency}: {reason}",
        {"amount": shown, "reason": reason},
    )
    conn.execute(
        insert(OutboxMessage).values(
            topic="order.refunded", payload={"number": order.number, "amount": shown}
        )
    )
    row = conn.execute(select(Payment).where(Payment.id == pid)).one()
    return {**payment_view(row, order.currency), "order": view(conn, fetch(conn, order.number))}


def payments_of(db: Database, number: str) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        order = fetch(conn, number)
        rows = conn.execute(
            select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)
        ).all()
        return {"items": [payment_view(p, order.currency) for p in rows], "next_cursor": None}

    return db.read(work)
