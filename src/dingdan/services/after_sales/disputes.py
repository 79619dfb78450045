"""Disputes: opened on an order with a type, an owner and a due date; a log of messages;
evidence files; open → investigating → resolved (refund, reshipment or reject) → closed.
A reshipment is resolved in one transaction with its replacement order, paid in full by the
seller (reference ``reship:{id}``). A refund moves money through the payment provider, so it
is a payment intent (``services/payments/intents.py``): the first transaction checks the
transition and writes the intent (purpose ``dispute``, reference ``dispute:{id}``), the
provider is asked with no transaction open, and the second transaction records the refund
and resolves the dispute, unless it changed meanwhile (the intent is then left for staff)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order
from dingdan.db.return_tables import Dispute, DisputeMessage
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Action
from dingdan.domain.after_sales import returns as rules
from dingdan.domain.after_sales.returns import DisputeStatus, DisputeType, Resolution
from dingdan.domain.inventory.stock import check_lines
from dingdan.domain.shared.errors import FieldErrors, Forbidden, InvalidTransition, ValidationFailed
from dingdan.domain.shared.money import format_amount, parse_amount
from dingdan.domain.shared.text import check_clean
from dingdan.services.after_sales import replacements, reshipments
from dingdan.services.after_sales.dispute_queries import dispute_view, fetch_dispute
from dingdan.services.after_sales.returns import check_text
from dingdan.services.after_sales.shapes import (
    DisputeAssignment,
    DisputeMessageIn,
    DisputeRequest,
    DisputeTransitionRequest,
    DisputeView,
    SkuQuantity,
)
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch
from dingdan.services.payments import intents, transactions
from dingdan.services.payments.providers import ProviderResult
from dingdan.services.payments.records import refunded
from dingdan.services.shared import live_changes
from dingdan.services.shared.common import Actor, Page, check_limit, decode_cursor, page_of
from dingdan.services.shared.outbox_events import emit

DEFAULT_DUE_DAYS = 7


def _due_date(value: Any, errors: FieldErrors) -> date:
    if value is None:
        return utcnow().date() + timedelta(days=DEFAULT_DUE_DAYS)
    try:
        if not isinstance(value, str):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        errors.add("due_date", "not_a_date")
        return utcnow().date()


def open_dispute(db: Database, actor: Actor, number: str, body: DisputeRequest) -> DisputeView:
    errors = FieldErrors()
    if body.get("type") not in {t.value for t in DisputeType}:
        errors.add("type", "not_one_of", choices=", ".join(DisputeType))
    check_text(body.get("owner"), "owner", 200, errors)
    check_text(body.get("summary"), "summary", 1000, errors)
    due = _due_date(body.get("due_date"), errors)
    errors.raise_if_any()

    def work(conn: Connection) -> DisputeView:
        order = fetch(conn, number)
        did = conn.execute(
            insert(Dispute)
            .values(
                order_id=order.id,
                type=body["type"],
                status=DisputeStatus.OPEN.value,
                owner=body.get("owner") or actor.name,
                due_date=due,
                summary=body.get("summary"),
                opened_by=actor.name,
            )
            .returning(Dispute.id)
        ).scalar_one()
        event(
            conn,
            order.id,
            "dispute_opened",
            actor.name,
            f"Dispute {did} opened: {body['type']}",
            {"dispute_id": str(did), "type": body["type"], "due_date": due.isoformat()},
        )
        emit(conn, "dispute.opened", {"number": order.number, "dispute_id": str(did)})
        return dispute_view(conn, fetch_dispute(conn, str(did)), full=True)

    return db.write(work)


def get_dispute(db: Database, dispute_id: str) -> DisputeView:
    return db.read(lambda conn: dispute_view(conn, fetch_dispute(conn, dispute_id), full=True))


def list_disputes(
    db: Database,
    *,
    status: str | None = None,
    type: str | None = None,
    owner: str | None = None,
    order: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Newest first, keyset-paged on the dispute id."""
    check_limit(limit)
    after = decode_cursor(cursor, int)
    if status is not None and status not in {s.value for s in DisputeStatus}:
        raise ValidationFailed.on("status", "unknown_value")
    if type is not None and type not in {t.value for t in DisputeType}:
        raise ValidationFailed.on("type", "unknown_value")
    stmt = select(Dispute).order_by(Dispute.id.desc()).limit(limit + 1)
    for column, value in ((Dispute.status, status), (Dispute.type, type), (Dispute.owner, owner)):
        if value is not None:
            stmt = stmt.where(column == value)
    if order is not None:
        stmt = stmt.join(Order, Order.id == Dispute.order_id).where(Order.number == order)
    if after:
        stmt = stmt.where(Dispute.id < after[0])

    def work(conn: Connection) -> Page:
        rows = list(conn.execute(stmt))
        return page_of(rows, limit, lambda d: dispute_view(conn, d), lambda d: (int(d.id),))

    return db.read(work)


def reassign(db: Database, actor: Actor, dispute_id: str, body: DisputeAssignment) -> DisputeView:
    """Give a dispute that is not closed another owner and/or due date; the order's timeline
    records who changed what from what."""
    errors = FieldErrors()
    if body.get("owner") is None and body.get("due_date") is None:
        errors.add("owner", "owner_or_due_date")
    check_text(body.get("owner"), "owner", 200, errors)
    due = _due_date(body["due_date"], errors) if body.get("due_date") is not None else None
    errors.raise_if_any()

    def work(conn: Connection) -> DisputeView:
        d = fetch_dispute(conn, dispute_id)
        if d.status == DisputeStatus.CLOSED:
            raise InvalidTransition(detail=f"Dispute {d.id} is closed.")
        values: dict[str, Any] = {}
        if body.get("owner") is not None and body["owner"] != d.owner:
            values["owner"] = body["owner"]
        if due is not None and due != d.due_date:
            values["due_date"] = due
        if not values:
            return dispute_view(conn, d, full=True)
        conn.execute(
            update(Dispute).where(Dispute.id == d.id).values(**values, updated_at=utcnow())
        )
        data: dict[str, Any] = {"dispute_id": str(d.id)}
        if "owner" in values:
            data |= {"owner": values["owner"], "owner_before": d.owner}
        if "due_date" in values:
            before = d.due_date.isoformat() if d.due_date else None
            data |= {"due_date": due.isoformat() if due else None, "due_date_before": before}
        changes = ", ".join(
            f"{k} {data.get(k + '_before')} → {data[k]}" for k in ("owner", "due_date") if k in data
        )
        event(
            conn, d.order_id, "dispute_reassigned", actor.name, f"Dispute {d.id}: {changes}", data
        )
        live_changes.touch(conn, ("disputes",))  # no outbox event: the list's screens
        return dispute_view(conn, fetch_dispute(conn, dispute_id), full=True)

    return db.write(work)


def add_message(db: Database, actor: Actor, dispute_id: str, body: DisputeMessageIn) -> DisputeView:
    errors = FieldErrors()
    if body.get("direction") not in {d.value for d in rules.Direction}:
        errors.add("direction", "not_one_of", choices="inbound, outbound, note")
    text = body.get("body")
    if not isinstance(text, str) or not text.strip() or len(text) > 10000:
        errors.add("body", "required_text", max=10000)
    else:
        check_clean(text, "body", errors, multiline=True)
    errors.raise_if_any()

    def work(conn: Connection) -> DisputeView:
        d = fetch_dispute(conn, dispute_id)
        if d.status == DisputeStatus.CLOSED:
            raise InvalidTransition(detail=f"Dispute {d.id} is closed.")
        conn.execute(
            insert(DisputeMessage).values(
                dispute_id=d.id, author=actor.name, direction=body["direction"], body=text
            )
        )
        event(
            conn,
            d.order_id,
            "dispute_message",
            actor.name,
            f"Dispute {d.id}: {body['direction']} message",
            {"dispute_id": str(d.id), "direction": body["direction"]},
        )
        return dispute_view(conn, fetch_dispute(conn, dispute_id), full=True)

    return db.write(work)


def _check_transition(body: DisputeTransitionRequest) -> DisputeStatus:
    errors = FieldErrors()
    status = body.get("status")
    if status not in {s.value for s in DisputeStatus}:
        errors.add("status", "not_one_of", choices="open, investigating, resolved, closed")
    resolution = body.get("resolution")
    if status == DisputeStatus.RESOLVED and resolution not in {r.value for r in Resolution}:
        errors.add("resolution", "resolution_required")
    elif status != DisputeStatus.RESOLVED and resolution is not None:
        errors.add("resolution", "resolution_not_resolving")
    if resolution == Resolution.REFUND and body.get("amount") is None:
        errors.add("amount", "amount_required")
    if body.get("lines") is not None:
        check_lines(body["lines"], errors)
    check_text(body.get("note"), "note", 1000, errors)
    errors.raise_if_any()
    return DisputeStatus(str(status))


def transition(
    db: Database, actor: Actor, dispute_id: str, body: DisputeTransitionRequest, prefix: str = "DD"
) -> DisputeView:
    target = _check_transition(body)
    if target == DisputeStatus.RESOLVED and body.get("resolution") == Resolution.REFUND:
        intent = db.write(lambda conn: _open_refund(conn, actor, dispute_id, body))
        transactions.settle_intent(db, intent, intents.ask(db, intent))
        return get_dispute(db, dispute_id)

    def work(conn: Connection) -> DisputeView:
        d = fetch_dispute(conn, dispute_id)
        rules.check_dispute_transition(d.status, target, dispute_id)
        if intents.pending_for(conn, d.order_id, "dispute", f"dispute:{d.id}"):
            raise InvalidTransition(detail=f"Dispute {d.id} is being refunded; wait for it.")
        values: dict[str, Any] = {"status": target.value, "updated_at": utcnow()}
        if target == DisputeStatus.RESOLVED:
            values |= _resolve(conn, actor, d, body, prefix)
        if target == DisputeStatus.CLOSED:
            values["closed_at"] = utcnow()
        done = conn.execute(
            update(Dispute).where(Dispute.id == d.id, Dispute.status == d.status).values(**values)
        ).rowcount
        if not done:
            raise InvalidTransition(detail=f"Dispute {d.id} changed meanwhile; reload it.")
        _transition_event(conn, actor, d, target, body)
        return dispute_view(conn, fetch_dispute(conn, dispute_id), full=True)

    return db.write(work)


def _transition_event(
    conn: Connection, actor: Actor, d: Any, target: DisputeStatus, body: DisputeTransitionRequest
) -> None:
    what = target.value + (f" ({body['resolution']})" if body.get("resolution") else "")
    note = f": {body['note']}" if body.get("note") else ""
    event(
        conn,
        d.order_id,
        f"dispute_{target.value}",
        actor.name,
        f"Dispute {d.id} {what}{note}",
        {
            "dispute_id": str(d.id),
            "status": target.value,
            "resolution": body.get("resolution"),
            "note": body.get("note"),
        },
    )
    live_changes.touch(conn, ("disputes",))  # no outbox event: the list's screens


def _resolve(
    conn: Connection, actor: Actor, d: Any, body: DisputeTransitionRequest, prefix: str
) -> dict[str, Any]:
    chosen = body.get("resolution")
    assert chosen is not None  # _check_transition refused resolving without one
    resolution = Resolution(chosen)
    order = replacements.order_by_id(conn, d.order_id)
    values: dict[str, Any] = {"resolution": resolution.value, "resolved_at": utcnow()}
    if resolution == Resolution.RESHIPMENT:
        new = replacements.create_replacement(
            conn,
            actor,
            order,
            _reship_lines(conn, order, body),
            prefix,
            f"reship for dispute {d.id}",
        )
        if new.total_minor > 0:
            replacements.pay_in(conn, actor, new, new.total_minor, f"reship:{d.id}")
        values |= {"replacement_order_id": new.id, "resolution_minor": new.total_minor}
        event(
            conn,
            order.id,
            "reshipment",
            actor.name,
            f"Dispute {d.id}: reshipped as order {new.number} "
            f"({format_amount(new.total_minor, order.currency)} {order.currency})",
            {"dispute_id": str(d.id), "replacement": new.number},
        )
    return values


def _open_refund(
    conn: Connection, actor: Actor, dispute_id: str, body: DisputeTransitionRequest
) -> intents.Intent:
    """The first transaction of a refund resolution: the dispute may be resolved, the
    actor may refund, no refund of it is pending, the amount fits what was paid."""
    d = fetch_dispute(conn, dispute_id)
    rules.check_dispute_transition(d.status, DisputeStatus.RESOLVED, dispute_id)
    if not actor.may(Action.MANAGE_PAYMENTS):
        raise Forbidden(detail="Resolving with a refund needs a role that may refund.")
    order = conn.execute(select(Order).where(Order.id == d.order_id).with_for_update()).one()
    ref = f"dispute:{d.id}"
    if intents.pending_for(conn, order.id, "dispute", ref):
        raise InvalidTransition(detail=f"Dispute {d.id} is being refunded already.")
    sent = body.get("amount")
    assert sent is not None  # _check_transition refused a refund without an amount
    amount = parse_amount(sent, order.currency, "amount", allow_zero=False)
    reason = f"Dispute {d.id} ({d.type})"
    details = {"from": d.status, "note": body.get("note")}
    return transactions.open_refund(
        conn, actor, order, amount, reason, ref, purpose="dispute", details=details
    )


def _record_refund(
    conn: Connection, intent: intents.Intent, answer: ProviderResult, order: Any
) -> tuple[dict[str, Any], int]:
    """The second transaction (the request's, or the worker's): the refund recorded and the
    dispute resolved, if it is still where the first transaction found it."""
    d = fetch_dispute(conn, (intent.reference or "").removeprefix("dispute:"))
    if d.status != intent.details.get("from"):
        raise InvalidTransition(detail=f"Dispute {d.id} changed meanwhile; reload it.")
    actor = intent.actor
    paid = refunded(
        conn, actor, order, intent.amount, intent.reason or "", intent.reference, answer=answer
    )
    now = utcnow()
    conn.execute(
        update(Dispute)
        .where(Dispute.id == d.id, Dispute.status == d.status)
        .values(
            status=DisputeStatus.RESOLVED.value,
            resolution=Resolution.REFUND.value,
            resolution_minor=intent.amount,
            resolved_at=now,
            updated_at=now,
        )
    )
    body: DisputeTransitionRequest = {
        "resolution": Resolution.REFUND.value,
        "note": intent.details.get("note"),
    }
    _transition_event(conn, actor, d, DisputeStatus.RESOLVED, body)
    # The payments context takes any view (``transactions.RECORDERS``); ``transition``
    # answers the dispute read again.
    view = dispute_view(conn, fetch_dispute(conn, str(d.id)), full=True)
    return dict(view), int(paid["id"])


transactions.RECORDERS["dispute"] = _record_refund


def _reship_lines(
    conn: Connection, order: Any, body: DisputeTransitionRequest
) -> list[SkuQuantity]:
    """The lines named, or else every unit that may still be reshipped (``reshipments``)."""
    return reshipments.reship_lines(conn, order, body.get("lines"))
