"""Authorizations: money held with a provider (authorize), then taken (capture) or let go
(void). These still ask the provider inside their transaction; each call's idempotency key
is the same for every run of it (made before the transaction, or from the authorization's
id), so a transaction the engine runs again asks the provider again with the same key."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Payment
from dingdan.domain.shared.errors import InvalidTransition, NotFound, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch
from dingdan.services.payments.providers import provider, provider_of_record
from dingdan.services.payments.records import (
    insert_payment,
    payment_amount,
    payment_view,
    record_paid,
    succeeded,
    take,
)
from dingdan.services.shared.common import Actor


def authorize(db: Database, actor: Actor, number: str, body: dict[str, Any]) -> dict[str, Any]:
    """Hold money with the provider; it counts in ``paid`` only when captured. The key is
    made before the transaction, so a transaction run again asks with the same one."""
    gateway = provider(body.get("provider"))
    key = f"aut_{secrets.token_hex(16)}"

    def work(conn: Connection) -> dict[str, Any]:
        order = fetch(conn, number, lock=True)
        if order.status != "open":
            raise InvalidTransition(detail=f"Order {number} is {order.status}.")
        amount = payment_amount(body.get("amount"), order.currency)
        due = order.total_minor - order.paid_minor
        if amount > due:
            raise ValidationFailed.on(
                "amount", "exceeds_balance", due=format_amount(max(0, due), order.currency)
            )
        result = succeeded(
            gateway.authorize(
                number, amount, order.currency, body.get("reference"), idempotency_key=key
            )
        )
        pid = insert_payment(
            conn,
            actor,
            order,
            "authorization",
            amount,
            order.payment_method,
            result.reference,
            gateway.code,
            status="authorized",
        )
        event(
            conn,
            order.id,
            "authorized",
            actor.name,
            f"{format_amount(amount, order.currency)} {order.currency} authorized",
        )
        row = conn.execute(select(Payment).where(Payment.id == pid)).one()
        return payment_view(row, order.currency)

    return db.write(work)


def _authorization(conn: Connection, payment_id: str) -> tuple[Any, Any]:
    pid = row_id(payment_id)
    row = conn.execute(
        select(Payment).where(Payment.id == pid, Payment.kind == "authorization")
    ).first()
    if row is None:
        raise NotFound(detail=f"No authorization with id {payment_id!r}.")
    order = conn.execute(select(Order).where(Order.id == row.order_id)).one()
    if row.status != "authorized":
        raise InvalidTransition(detail=f"Authorization {payment_id} is {row.status}.")
    return row, order


def _close_authorization(conn: Connection, auth: Any, status: str) -> None:
    done = conn.execute(
        update(Payment)
        .where(Payment.id == auth.id, Payment.status == "authorized")
        .values(status=status)
    ).rowcount
    if not done:  # a concurrent capture or void got there first
        raise InvalidTransition(detail=f"Authorization {auth.id} is no longer open.")


def capture(db: Database, actor: Actor, payment_id: str, body: dict[str, Any]) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        auth, order = _authorization(conn, payment_id)
        amount = auth.amount_minor
        if body.get("amount") is not None:
            amount = payment_amount(body["amount"], order.currency)
            if amount > auth.amount_minor:
                raise ValidationFailed.on("amount", "exceeds_authorized")
        _close_authorization(conn, auth, "captured")
        take(conn, order, amount)
        gateway = provider_of_record(auth.provider)
        key = f"capture:{auth.id}"  # the same for every run of this transaction
        result = succeeded(
            gateway.capture(auth.reference, amount, order.currency, idempotency_key=key)
        )
        pid = insert_payment(
            conn, actor, order, "payment", amount, auth.method, result.reference, gateway.code
        )
        return record_paid(conn, actor, order, pid, amount, result.reference)

    return db.write(work)


def void(db: Database, actor: Actor, payment_id: str) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        auth, order = _authorization(conn, payment_id)
        _close_authorization(conn, auth, "voided")
        gateway = provider_of_record(auth.provider)
        succeeded(gateway.void(auth.reference, idempotency_key=f"void:{auth.id}"))
        event(conn, order.id, "voided", actor.name, f"Authorization {payment_id} voided")
        row = conn.execute(select(Payment).where(Payment.id == auth.id)).one()
        return payment_view(row, order.currency)

    return db.write(work)
