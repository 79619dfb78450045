"""Authorizations: money held with a provider (authorize), then taken (capture) or let go
(void). Each is a payment intent (``services/payments/intents.py``): a first transaction
checks the request and writes the intent (a capture or a void also marks the authorization
``capturing`` or ``voiding``, so a second capture or void of it is refused meanwhile), the
provider is asked with the intent's own key and no transaction open, and a second
transaction records the answer. A crash in between is settled by the worker, asking again
with the same key; a declined capture or void opens the authorization again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Payment
from dingdan.domain.shared.errors import InvalidTransition, NotFound, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch
from dingdan.services.payments import intents, transactions
from dingdan.services.payments.providers import ProviderResult, provider
from dingdan.services.payments.records import (
    insert_payment,
    payment_amount,
    payment_view,
    record_paid,
    take,
)
from dingdan.services.payments.shapes import (
    AuthorizeCommand,
    CaptureCommand,
    PaymentView,
    PaymentWithOrderView,
)
from dingdan.services.shared.common import Actor


def authorize(db: Database, actor: Actor, number: str, body: AuthorizeCommand) -> PaymentView:
    """Hold money with the provider; it counts in ``paid`` only when captured."""
    gateway = provider(body.get("provider"))

    def first(conn: Connection) -> intents.Intent:
        order = fetch(conn, number, lock=True)
        if order.status != "open":
            raise InvalidTransition(detail=f"Order {number} is {order.status}.")
        amount = payment_amount(body.get("amount"), order.currency)
        due = order.total_minor - order.paid_minor
        if amount > due:
            raise ValidationFailed.on(
                "amount", "exceeds_balance", due=format_amount(max(0, due), order.currency)
            )
        check_open_authorizations(conn, order, amount)
        return intents.open_intent(
            conn,
            actor,
            order,
            kind="authorization",
            purpose="authorization",
            amount=amount,
            provider=gateway.code,
            method=order.payment_method,
            reference=body.get("reference"),
        )

    intent = db.write(first)
    answer = intents.ask(db, intent)
    return transactions.settle(
        db, intent, answer, _record_authorization, transactions.settled_meanwhile
    )


def _record_authorization(
    conn: Connection, intent: intents.Intent, answer: ProviderResult, order: Any
) -> tuple[PaymentView, int]:
    if order.status != "open":
        raise InvalidTransition(detail=f"Order {order.number} is {order.status}.")
    pid = insert_payment(
        conn,
        intent.actor,
        order,
        "authorization",
        intent.amount,
        intent.method,
        answer.reference,
        intent.provider,
        status="authorized",
    )
    event(
        conn,
        order.id,
        "authorized",
        intent.actor.name,
        f"{format_amount(intent.amount, order.currency)} {order.currency} authorized",
    )
    row = conn.execute(select(Payment).where(Payment.id == pid)).one()
    return payment_view(row, order.currency), pid


def check_open_authorizations(conn: Connection, order: Any, amount: int) -> None:
    """Authorizations still open hold money towards the same balance: together with
    ``amount`` they may not exceed it (the caller holds the order's row)."""
    held = conn.execute(
        select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
            Payment.order_id == order.id,
            Payment.kind == "authorization",
            Payment.status.in_(("authorized", "capturing", "voiding")),
        )
    ).scalar_one()
    due = order.total_minor - order.paid_minor
    if held and amount + int(held) > due:
        cur = order.currency
        raise ValidationFailed.on(
            "amount",
            "exceeds_open_authorizations",
            held=format_amount(int(held), cur),
            due=format_amount(max(0, due), cur),
        )


def _authorization(conn: Connection, payment_id: str) -> tuple[Any, Any]:
    pid = row_id(payment_id)
    row = conn.execute(
        select(Payment).where(Payment.id == pid, Payment.kind == "authorization")
    ).first()
    if row is None:
        raise NotFound(detail=f"No authorization with id {payment_id!r}.")
    order = conn.execute(select(Order).where(Order.id == row.order_id).with_for_update()).one()
    if row.status != "authorized":
        raise InvalidTransition(detail=f"Authorization {payment_id} is {row.status}.")
    return row, order


def _move_authorization(conn: Connection, auth_id: int, before: str, after: str) -> None:
    done = conn.execute(
        update(Payment).where(Payment.id == auth_id, Payment.status == before).values(status=after)
    ).rowcount
    if not done:  # a concurrent capture or void got there first
        raise InvalidTransition(detail=f"Authorization {auth_id} is no longer {before}.")


def capture(
    db: Database, actor: Actor, payment_id: str, body: CaptureCommand
) -> PaymentWithOrderView:
    def first(conn: Connection) -> intents.Intent:
        auth, order = _authorization(conn, payment_id)
        amount = auth.amount_minor
        if (sent := body.get("amount")) is not None:
            amount = payment_amount(sent, order.currency)
            if amount > auth.amount_minor:
                raise ValidationFailed.on("amount", "exceeds_authorized")
        pending = intents.pending_total(conn, order.id, "payment")
        if order.paid_minor + pending + amount > order.total_minor:
            left = max(0, order.total_minor - order.paid_minor - pending)
            raise ValidationFailed.on(
                "amount", "exceeds_balance", due=format_amount(left, order.currency)
            )
        _move_authorization(conn, auth.id, "authorized", "capturing")
        return intents.open_intent(
            conn,
            actor,
            order,
            kind="capture",
            purpose="capture",
            amount=amount,
            provider=auth.provider or "manual",
            method=auth.method,
            original_reference=auth.reference,
            details={"authorization": auth.id},
        )

    intent = db.write(first)
    answer = intents.ask(db, intent)
    return transactions.settle(db, intent, answer, _record_capture, transactions.settled_meanwhile)


def _record_capture(
    conn: Connection, intent: intents.Intent, answer: ProviderResult, order: Any
) -> tuple[PaymentWithOrderView, int]:
    _move_authorization(conn, intent.details["authorization"], "capturing", "captured")
    take(conn, order, intent.amount)
    pid = insert_payment(
        conn,
        intent.actor,
        order,
        "payment",
        intent.amount,
        intent.method,
        answer.reference,
        intent.provider,
    )
    return record_paid(conn, intent.actor, order, pid, intent.amount, answer.reference), pid


def void(db: Database, actor: Actor, payment_id: str) -> PaymentView:
    def first(conn: Connection) -> intents.Intent:
        auth, order = _authorization(conn, payment_id)
        _move_authorization(conn, auth.id, "authorized", "voiding")
        return intents.open_intent(
            conn,
            actor,
            order,
            kind="void",
            purpose="void",
            amount=auth.amount_minor,
            provider=auth.provider or "manual",
            method=auth.method,
            original_reference=auth.reference,
            details={"authorization": auth.id},
        )

    intent = db.write(first)
    answer = intents.ask(db, intent)
    return transactions.settle(db, intent, answer, _record_void, transactions.settled_meanwhile)


def _record_void(
    conn: Connection, intent: intents.Intent, answer: ProviderResult, order: Any
) -> tuple[PaymentView, int]:
    auth_id = intent.details["authorization"]
    _move_authorization(conn, auth_id, "voiding", "voided")
    event(conn, order.id, "voided", intent.actor.name, f"Authorization {auth_id} voided")
    row = conn.execute(select(Payment).where(Payment.id == auth_id)).one()
    return payment_view(row, order.currency), auth_id


def _reopen(conn: Connection, intent: intents.Intent) -> None:
    """A declined capture or void: the authorization is open again."""
    conn.execute(
        update(Payment)
        .where(
            Payment.id == intent.details["authorization"],
            Payment.status.in_(("capturing", "voiding")),
        )
        .values(status="authorized")
    )


transactions.RECORDERS |= {
    "authorization": _record_authorization,
    "capture": _record_capture,
    "void": _record_void,
}
transactions.ON_DECLINED |= {"capture": _reopen, "void": _reopen}
