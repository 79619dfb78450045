"""A customer's rights over their personal data: a copy of all of it, and erasure.

Export (``GET /api/v1/customers/{id}/export``): the customer, every order with its lines,
addresses (shipping, billing), client IP and payments (with the card's digits kept), the
returns, the messages sent to them and their ratings, as one JSON document; each export is
in the audit trail (``export`` of ``customer:<id>``).

Erase (``POST /api/v1/customers/{id}/erase``, admin): the customer's name, email, phone and
addresses (shipping and billing) are replaced by placeholders on the customer and on every
order, the orders' client IP and their payments' card digits and fingerprint removed, and
wherever a copy of them was kept: the order's search text, its timeline, the messages sent
(recipient and bodies), ratings' comments, return notes, dispute messages from the
customer, the raw bodies of the channel deliveries that made the orders, outgoing webhook
bodies, stored answers of repeated requests, and rendered documents (packing slips).
Amounts, lines, dates, the country, region, city and postal code are kept: they are the
money and tax records the law requires and what the reports count. Refused (409) while an
order, a return or a dispute of the customer is open. The audit trail keeps ids only for
reads, but an order's address change is recorded with the address before and after: that
record, kept for accountability and append-only, is not rewritten (docs/architecture.md,
"Audit").
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Text, cast, delete, or_, select, update

from dingdan.db.crm_tables import CustomerNote, RatingReply
from dingdan.db.document_tables import Document
from dingdan.db.engine import Database
from dingdan.db.inbound_tables import InboundDelivery
from dingdan.db.message_tables import CustomerMessageChannel, Message, OrderRating
from dingdan.db.order_tables import Customer, Order, OrderEvent, OrderLine, Payment
from dingdan.db.return_tables import Dispute, DisputeMessage, Return
from dingdan.db.tables import OutboxMessage, RequestReplay
from dingdan.db.types import utcnow
from dingdan.db.webhook_tables import WebhookDelivery
from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import Conflict, NotFound
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.services.orders import consent
from dingdan.services.orders.capture import search_text
from dingdan.services.orders.shapes import (
    CustomerExportView,
    ErasedView,
    ExportedChannelView,
    ExportedOrderView,
)
from dingdan.services.shared.common import Actor, audit, iso

ERASED = "(erased)"
RETENTION = Actor("system:retention", Role.ADMIN)
# Keys whose values are a person's: replaced wherever they appear in stored JSON.
PERSONAL_KEYS = frozenset(
    {
        "name", "first_name", "last_name", "email", "phone", "company", "recipient",
        "line1", "line2", "address1", "address2", "street", "line_user_id", "contact_email",
        "customer_email", "customer_phone", "customer_name", "note",
    }
)  # fmt: skip
OPEN_RETURNS = ("requested", "approved", "in_transit")


def _customer(conn: Connection, customer_id: str) -> Any:
    row = None
    if (cid := row_id(customer_id)) >= 0:
        row = conn.execute(select(Customer).where(Customer.id == cid)).first()
    if row is None:
        raise NotFound(detail=f"No customer with id {customer_id!r}.")
    return row


# --- export ----------------------------------------------------------------------------------


def export_customer(db: Database, actor: Actor, customer_id: str) -> CustomerExportView:
    """Everything Dingdan holds about the customer, as JSON; recorded in the audit trail."""

    def work(conn: Connection) -> CustomerExportView:
        c = _customer(conn, customer_id)
        orders = list(
            conn.execute(select(Order).where(Order.customer_id == c.id).order_by(Order.id))
        )
        ids = [int(o.id) for o in orders]
        numbers = [o.number for o in orders]
        lines = _by_order(conn.execute(select(OrderLine).where(OrderLine.order_id.in_(ids))))
        payments = _by_order(conn.execute(select(Payment).where(Payment.order_id.in_(ids))))
        audit(conn, actor, "export", "customer", str(c.id))
        return {
            "customer": {
                "id": str(c.id),
                "name": c.name,
                "email": c.email,
                "phone": c.phone,
                "addresses": c.addresses or [],
                "created_at": iso(c.created_at),
            },
            "message_channel": _message_channel(conn, int(c.id)),
            "orders": [
                _order(o, lines.get(int(o.id), []), payments.get(int(o.id), [])) for o in orders
            ],
            "returns": [
                {
                    "id": str(r.id),
                    "order": next(o.number for o in orders if o.id == r.order_id),
                    "status": r.status,
                    "note": r.note,
                    "created_at": iso(r.created_at),
                }
                for r in conn.execute(
                    select(Return).where(Return.order_id.in_(ids)).order_by(Return.id)
                )
            ],
            "messages": [
                {
                    "order": m.order_number,
                    "kind": m.kind,
                    "channel": m.channel,
                    "recipient": m.recipient,
                    "subject": m.subject,
                    "status": m.status,
                    "created_at": iso(m.created_at),
                }
                for m in conn.execute(
                    select(Message).where(Message.order_number.in_(numbers)).order_by(Message.id)
                )
            ],
            "ratings": [
                {
                    "order": next(o.number for o in orders if o.id == r.order_id),
                    "rating": r.rating,
                    "comment": r.comment,
                    "created_at": iso(r.created_at),
                }
                for r in conn.execute(select(OrderRating).where(OrderRating.order_id.in_(ids)))
            ],
            "consents": list(reversed(consent.consent_view(conn, int(c.id))["history"])),
            "exported_at": iso(utcnow()),
        }

    return db.write(work)


def _by_order(rows: Iterable[Any]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for r in rows:
        out.setdefault(int(r.order_id), []).append(r)
    return out


def _message_channel(conn: Connection, customer_id: int) -> ExportedChannelView:
    row = conn.execute(
        select(CustomerMessageChannel).where(CustomerMessageChannel.customer_id == customer_id)
    ).first()
    if row is None:
        return {"channel": "email", "line_user_id": None}
    return {"channel": row.channel, "line_user_id": row.line_user_id}


def _order(o: Any, lines: list[Any], payments: list[Any]) -> ExportedOrderView:
    money = lambda minor: format_amount(int(minor), o.currency)  # noqa: E731
    return {
        "number": o.number,
        "channel": o.channel,
        "created_at": iso(o.created_at),
        "status": o.status,
        "financial_status": o.financial_status,
        "fulfillment_status": o.fulfillment_status,
        "currency": o.currency,
        "customer": o.customer,
        "shipping_address": o.shipping_address,
        "billing_address": o.billing_address,
        "client_ip": o.client_ip,
        "payment_method": o.payment_method,
        "total": money(o.total_minor),
        "paid": money(o.paid_minor),
        "refunded": money(o.refunded_minor),
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price_minor),
            }
            for line in sorted(lines, key=lambda x: x.position)
        ],
        "payments": [
            {
                "kind": p.kind,
                "method": p.method,
                "status": p.status,
                "amount": money(p.amount_minor),
                "created_at": iso(p.created_at),
                "card": (
                    {"first6": p.card_bin, "last4": p.card_last4, "country": p.card_country}
                    if p.card_bin or p.card_last4 or p.card_country
                    else None
                ),
            }
            for p in payments
        ],
    }


# --- erase -----------------------------------------------------------------------------------


def scrub(value: Any, words: Iterable[str] = ()) -> Any:
    """``value`` (parsed JSON) with every personal key's text replaced, and every other
    text with the customer's own ``words`` (their name, email, phone) replaced."""
    words = [w for w in words if w and len(w) >= 2]
    if isinstance(value, dict):
        return {
            k: (ERASED if k in PERSONAL_KEYS and isinstance(v, str) and v else scrub(v, words))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub(v, words) for v in value]
    if isinstance(value, str):
        for w in words:
            if w in value:
                value = value.replace(w, ERASED)
        return value
    return value


def erase_customer(db: Database, actor: Actor, customer_id: str) -> ErasedView:
    """Replace the customer's personal data everywhere; refused while anything is open."""
    files: list[str] = []

    def work(conn: Connection) -> ErasedView:
        files.clear()
        c = _customer(conn, customer_id)
        orders = list(conn.execute(select(Order).where(Order.customer_id == c.id)))
        ids = [int(o.id) for o in orders]
        numbers = [o.number for o in orders]
        _refuse_while_open(conn, orders, ids)
        words = _personal_words(c, orders)
        counts = {"orders": len(orders)}
        conn.execute(
            update(Customer)
            .where(Customer.id == c.id)
            .values(name=ERASED, email=None, phone=None, addresses=[], updated_at=utcnow())
        )
        conn.execute(
            delete(CustomerMessageChannel).where(CustomerMessageChannel.customer_id == c.id)
        )
        for o in orders:
            conn.execute(
                update(Order)
                .where(Order.id == o.id)
                .values(
                    customer={**scrub(o.customer or {}), "email": None, "phone": None},
                    shipping_address=scrub(o.shipping_address or {}),
                    billing_address=scrub(o.billing_address) if o.billing_address else None,
                    client_ip=None,
                    search_text=search_text(o.number, ""),
                )
            )
        # The card's digits and fingerprint go; the payments' amounts and methods stay.
        conn.execute(
            update(Payment)
            .where(Payment.order_id.in_(ids))
            .values(card_bin=None, card_last4=None, card_fingerprint=None, card_country=None)
        )
        counts["events"] = _scrub_rows(
            conn, OrderEvent, OrderEvent.order_id.in_(ids), words, json_cols=("data",),
            text_cols=("message",),
        )  # fmt: skip
        counts["messages"] = conn.execute(
            update(Message)
            .where(Message.order_number.in_(numbers))
            .values(recipient=ERASED, subject=ERASED, text_body=ERASED, html_body=ERASED)
        ).rowcount
        conn.execute(
            update(OrderRating)
            .where(OrderRating.order_id.in_(ids), OrderRating.comment.is_not(None))
            .values(comment=ERASED)
        )
        # Staff's words about the customer: notes go (tags, a shop's own labels, stay);
        # replies to their ratings lose the person's name, email and phone.
        conn.execute(
            update(CustomerNote).where(CustomerNote.customer_id == c.id).values(body=ERASED)
        )
        ratings = select(OrderRating.id).where(OrderRating.order_id.in_(ids))
        _scrub_rows(
            conn, RatingReply, RatingReply.rating_id.in_(ratings), words, text_cols=("body",)
        )
        conn.execute(
            update(Return)
            .where(Return.order_id.in_(ids), Return.note.is_not(None))
            .values(note=ERASED)
        )
        disputes = select(Dispute.id).where(Dispute.order_id.in_(ids))
        _scrub_rows(
            conn, DisputeMessage, DisputeMessage.dispute_id.in_(disputes), words,
            text_cols=("body",),
        )  # fmt: skip
        conn.execute(
            update(InboundDelivery)
            .where(InboundDelivery.order_number.in_(numbers))
            .values(raw_body=None, address_override=None)
        )
        counts["webhook_deliveries"] = _scrub_rows(
            conn, WebhookDelivery, WebhookDelivery.order_number.in_(numbers), words,
            json_text_cols=("body",),
        )  # fmt: skip
        _scrub_rows(
            conn, OutboxMessage, OutboxMessage.processed_at.is_(None), words,
            json_cols=("payload",), only_holding=numbers,
        )  # fmt: skip
        _scrub_replays(conn, numbers, words)
        files.extend(_erase_documents(conn, numbers))
        audit(conn, actor, "erase", "customer", str(c.id), after=counts)
        return {
            "id": str(c.id),
            "erased": True,
            "orders": counts["orders"],
            "events": counts["events"],
            "messages": counts["messages"],
            "webhook_deliveries": counts["webhook_deliveries"],
        }

    done = db.write(work)
    for path in files:  # after the commit: a retried transaction must still find them
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    return done


def _refuse_while_open(conn: Connection, orders: list[Any], ids: list[int]) -> None:
    open_orders = [o.number for o in orders if o.status == "open"]
    if open_orders:
        raise Conflict(
            detail="The customer has open orders: "
            f"{', '.join(sorted(open_orders)[:5])}; complete or cancel them first."
        )
    if conn.execute(
        select(Return.id).where(Return.order_id.in_(ids), Return.status.in_(OPEN_RETURNS))
    ).first():
        raise Conflict(detail="The customer has a return in progress; settle it first.")
    if conn.execute(
        select(Dispute.id).where(Dispute.order_id.in_(ids), Dispute.status == "open")
    ).first():
        raise Conflict(detail="The customer has an open dispute; close it first.")


def _personal_words(c: Any, orders: list[Any]) -> list[str]:
    words = {c.name, c.email, c.phone}
    for o in orders:
        for source in (o.customer or {}, o.shipping_address or {}, o.billing_address or {}):
            words.update(v for k, v in source.items() if k in PERSONAL_KEYS and isinstance(v, str))
    # Longest first: a full name before a part of it.
    return sorted((w for w in words if w and w != ERASED), key=len, reverse=True)


def _scrub_rows(
    conn: Connection,
    table: Any,
    where: Any,
    words: list[str],
    json_cols: tuple[str, ...] = (),
    text_cols: tuple[str, ...] = (),
    json_text_cols: tuple[str, ...] = (),
    only_holding: list[str] | None = None,
) -> int:
    key = table.__table__.primary_key.columns.values()[0]
    cols = [getattr(table, c) for c in (*json_cols, *text_cols, *json_text_cols)]
    changed = 0
    for row in conn.execute(select(key, *cols).where(where)):
        values: dict[str, Any] = {}
        for c in json_cols:
            v = getattr(row, c)
            if only_holding is not None and not any(n in json.dumps(v) for n in only_holding):
                continue
            if v is not None and (new := scrub(v, words)) != v:
                values[c] = new
        for c in text_cols:
            v = getattr(row, c)
            if v is not None and (new := scrub(v, words)) != v:
                values[c] = new
        for c in json_text_cols:
            v = getattr(row, c)
            if v is not None:
                new_text = json.dumps(scrub(json.loads(v), words), ensure_ascii=False)
                if new_text != v:
                    values[c] = new_text
        if values:
            conn.execute(update(table).where(key == row[0]).values(**values))
            changed += 1
    return changed


def _scrub_replays(conn: Connection, numbers: list[str], words: list[str]) -> None:
    """Stored answers of repeated POSTs that show one of the orders (they expire anyway)."""
    if not numbers:
        return
    holding = or_(*(RequestReplay.body.contains(n.encode()) for n in numbers))
    for r in conn.execute(select(RequestReplay).where(holding)):
        try:
            body = json.dumps(scrub(json.loads(r.body), words), ensure_ascii=False).encode()
        except ValueError:
            body = b"{}"
        conn.execute(
            update(RequestReplay)
            .where(RequestReplay.scope == r.scope, RequestReplay.key == r.key)
            .values(body=body)
        )


def _erase_documents(conn: Connection, numbers: list[str]) -> list[str]:
    """Rendered documents showing one of the orders: their HTML dropped, their files listed
    for removal after the commit."""
    files: list[str] = []
    if not numbers:
        return files
    wanted = set(numbers)
    as_text = cast(Document.order_numbers, Text)
    holding = or_(*(as_text.contains(f'"{n}"') for n in numbers))
    rows = conn.execute(
        select(Document.id, Document.order_numbers, Document.storage_path).where(holding)
    )
    for d in rows:
        if wanted.intersection(d.order_numbers or []):
            if d.storage_path:
                files.append(d.storage_path)
            conn.execute(
                update(Document)
                .where(Document.id == d.id)
                .values(html=None, status="erased", storage_path=None)
            )
    return files


# --- retention -------------------------------------------------------------------------------


def anonymise_inactive(
    db: Database, years: int, now: datetime | None = None, batch: int = 200
) -> list[str]:
    """The retention setting: erase every customer with no order (and no account of them)
    for ``years`` years, a ``batch`` at a time; one with anything open is left for a later
    day. Answers the ids erased."""
    if years <= 0:
        return []
    cutoff = (now or utcnow()) - timedelta(days=round(365.25 * years))
    recent = (
        select(Order.id)
        .where(Order.customer_id == Customer.id, Order.created_at >= cutoff)
        .exists()
    )
    not_yet = or_(Customer.name != ERASED, Customer.email.is_not(None), Customer.phone.is_not(None))
    ids = db.read(
        lambda conn: (
            conn.execute(
                select(Customer.id)
                .where(Customer.created_at < cutoff, ~recent, not_yet)
                .order_by(Customer.id)
                .limit(batch)
            )
            .scalars()
            .all()
        )
    )
    erased = []
    for cid in ids:
        try:
            erase_customer(db, RETENTION, str(cid))
        except Conflict:  # an order, a return or a dispute still open
            continue
        erased.append(str(cid))
    return erased
