"""Payment intents for staff: the list (``attention`` first of all: money the provider moved
that Dingdan could not record), recording one again once the order is put right, and
closing one settled by hand with a note.

Recording again asks the provider with the intent's own key, so nothing moves twice: the
provider answers as it did, and the second transaction records it as the request would
have. Nothing here reverses money by itself; that is the seller's decision (a refund through
the usual endpoint, or the provider's own dashboard)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import FieldErrors, InvalidTransition, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.text import check_clean
from dingdan.services.orders.audit import audit_order
from dingdan.services.orders.events import event
from dingdan.services.payments import intents, transactions
from dingdan.services.payments.shapes import CloseIntentCommand, IntentView
from dingdan.services.shared.common import Actor, Page, check_limit, decode_cursor, iso, page_of

STATUSES = ("pending", "succeeded", "failed", "attention", "resolved")


def intent_view(row: Any, number: str) -> IntentView:
    return {
        "id": str(row.id),
        "order": number,
        "kind": row.kind,
        "purpose": row.purpose,
        "status": row.status,
        "amount": format_amount(row.amount_minor, row.currency),
        "currency": row.currency,
        "provider": row.provider,
        "provider_reference": row.provider_reference,
        "reference": row.reference,
        "error": row.error,
        "actor": row.actor,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def list_intents(
    db: Database, status: str | None, limit: int = 50, cursor: str | None = None
) -> Page:
    """Newest first, keyset-paged on the id."""
    check_limit(limit)
    if status is not None and status not in STATUSES:
        raise ValidationFailed.on("status", "unknown_value")
    after = decode_cursor(cursor, int)
    stmt = (
        select(PaymentAttempt, Order.number)
        .join(Order, Order.id == PaymentAttempt.order_id)
        .order_by(PaymentAttempt.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        stmt = stmt.where(PaymentAttempt.status == status)
    if after:
        stmt = stmt.where(PaymentAttempt.id < after[0])

    def work(conn: Connection) -> Page:
        rows = list(conn.execute(stmt))
        return page_of(rows, limit, lambda r: intent_view(r, r.number), lambda r: (int(r.id),))

    return db.read(work)


def _get(conn: Connection, intent_id: str) -> IntentView:
    intent, _ = intents.by_id(conn, intent_id)
    row = conn.execute(select(PaymentAttempt).where(PaymentAttempt.id == intent.id)).one()
    return intent_view(row, intent.order_number)


def record_again(db: Database, actor: Actor, intent_id: str) -> IntentView:
    """An ``attention`` intent asked about again (same key) and recorded, now that staff have
    put the order right; refused again, it stays ``attention`` (the error says why)."""

    def first(conn: Connection) -> intents.Intent:
        intent, status = intents.by_id(conn, intent_id, lock=True)
        if status != "attention":
            raise InvalidTransition(detail=f"Payment intent {intent_id} is {status}.")
        conn.execute(
            update(PaymentAttempt)
            .where(PaymentAttempt.id == intent.id)
            .values(status="pending", updated_at=utcnow())
        )
        event(
            conn,
            intent.order_id,
            "payment_retried",
            actor.name,
            f"Payment intent {intent.id} recorded again",
            {"intent_id": str(intent.id)},
        )
        return intent

    intent = db.write(first)
    transactions.settle_intent(db, intent, intents.ask(db, intent))
    return db.read(lambda conn: _get(conn, intent_id))


def close(db: Database, actor: Actor, intent_id: str, body: CloseIntentCommand) -> IntentView:
    """An ``attention`` intent settled by hand (refunded at the provider, written off):
    ``resolved``, with who closed it and the note, in the order's timeline and audit."""
    note = body.get("note")
    errors = FieldErrors()
    if not isinstance(note, str) or not note.strip() or len(note) > 500:
        errors.add("note", "required_text", max=500)
    else:
        check_clean(note, "note", errors, multiline=True)
    errors.raise_if_any()

    def work(conn: Connection) -> IntentView:
        intent, status = intents.by_id(conn, intent_id, lock=True)
        if status != "attention":
            raise InvalidTransition(detail=f"Payment intent {intent_id} is {status}.")
        conn.execute(
            update(PaymentAttempt)
            .where(PaymentAttempt.id == intent.id)
            .values(status="resolved", settled_at=utcnow())
        )
        event(
            conn,
            intent.order_id,
            "payment_resolved",
            actor.name,
            f"Payment intent {intent.id} closed: {note}",
            {"intent_id": str(intent.id), "note": note},
        )
        order = conn.execute(select(Order).where(Order.id == intent.order_id)).one()
        audit_order(conn, actor, "close_intent", order, intent_id=str(intent.id), note=note)
        return _get(conn, intent_id)

    return db.write(work)
