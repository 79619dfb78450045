"""The CRM's customer page and the staff's words on customers: tags, notes, and replies to
customers' ratings (the ratings of delivered orders, services/messaging/ratings.py, read
here from their table: messaging is a sibling context this one does not import).

A tag is 1 to 50 characters (kept as typed, compared case-insensitively: "VIP" and "vip" are
one tag); a note or a reply 1 to 2,000. Each is written with who wrote it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.crm_tables import CustomerNote, CustomerTag, RatingReply
from dingdan.db.engine import Database
from dingdan.db.message_tables import Message, OrderRating
from dingdan.db.order_tables import Customer, Order
from dingdan.db.return_tables import Dispute, Return
from dingdan.domain.shared.errors import FieldErrors, NotFound
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.domain.shared.text import check_clean
from dingdan.services.reports.shapes import (
    CustomerDisputeRow,
    CustomerMessageRow,
    CustomerPageExtras,
    CustomerReturnRow,
    NoteView,
    RatingSummary,
    RatingView,
    ReplyView,
)
from dingdan.services.shared.common import Actor, iso

TAG_MAX, TEXT_MAX = 50, 2000


def _customer_id(conn: Connection, customer_id: str | int) -> int:
    cid = row_id(str(customer_id))
    if cid < 0 or conn.execute(select(Customer.id).where(Customer.id == cid)).first() is None:
        raise NotFound(detail=f"No customer with id {customer_id!r}.")
    return cid


def _text(value: object, field: str, limit: int, multiline: bool) -> str:
    errors = FieldErrors()
    if not isinstance(value, str) or not value.strip():
        errors.add(field, "required_text", max=limit)
    elif len(value.strip()) > limit:
        errors.add(field, "too_long", max=limit)
    else:
        check_clean(value, field, errors, multiline=multiline)
    errors.raise_if_any()
    return str(value).strip()


def add_tag(db: Database, actor: Actor, customer_id: str, tag: object) -> list[str]:
    """Tag the customer (a tag already there, in any case, is kept as it was)."""
    text = _text(tag, "tag", TAG_MAX, multiline=False)

    def work(conn: Connection) -> list[str]:
        cid = _customer_id(conn, customer_id)
        if text.casefold() not in {t.casefold() for t in _tags(conn, cid)}:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(
                dialect.insert(CustomerTag)
                .values(customer_id=cid, tag=text, actor=actor.name)
                .on_conflict_do_nothing()
            )
        return _tags(conn, cid)

    return db.write(work)


def remove_tag(db: Database, actor: Actor, customer_id: str, tag: object) -> list[str]:
    def work(conn: Connection) -> list[str]:
        cid = _customer_id(conn, customer_id)
        if isinstance(tag, str):
            conn.execute(
                delete(CustomerTag).where(CustomerTag.customer_id == cid, CustomerTag.tag == tag)
            )
        return _tags(conn, cid)

    return db.write(work)


def _tags(conn: Connection, cid: int) -> list[str]:
    rows = conn.execute(select(CustomerTag.tag).where(CustomerTag.customer_id == cid))
    return sorted((r[0] for r in rows), key=str.casefold)


def add_note(db: Database, actor: Actor, customer_id: str, body: object) -> NoteView:
    text = _text(body, "note", TEXT_MAX, multiline=True)

    def work(conn: Connection) -> NoteView:
        cid = _customer_id(conn, customer_id)
        new = conn.execute(
            insert(CustomerNote)
            .values(customer_id=cid, body=text, actor=actor.name)
            .returning(CustomerNote.id)
        ).scalar_one()
        row = conn.execute(select(CustomerNote).where(CustomerNote.id == new)).one()
        return _note(row)

    return db.write(work)


def _note(row: Any) -> NoteView:
    return {
        "id": str(row.id),
        "text": row.body,
        "actor": row.actor,
        "created_at": iso(row.created_at),
    }


def _notes(conn: Connection, cid: int) -> list[NoteView]:
    rows = conn.execute(
        select(CustomerNote)
        .where(CustomerNote.customer_id == cid)
        .order_by(CustomerNote.id.desc())
        .limit(200)
    )
    return [_note(r) for r in rows]


def tag_counts(db: Database) -> list[tuple[str, int]]:
    rows = db.read(
        lambda conn: conn.execute(
            select(CustomerTag.tag, func.count())
            .group_by(CustomerTag.tag)
            .order_by(CustomerTag.tag)
        ).all()
    )
    return [(r[0], int(r[1])) for r in rows]


# Ratings and replies --------------------------------------------------------------------


def _rating_rows(conn: Connection, where: list[Any], limit: int) -> list[RatingView]:
    rows = conn.execute(
        select(
            OrderRating.id,
            OrderRating.rating,
            OrderRating.comment,
            OrderRating.created_at,
            Order.number,
            Order.customer_id,
            Customer.name,
        )
        .join(Order, Order.id == OrderRating.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .where(*where)
        .order_by(OrderRating.id.desc())
        .limit(limit)
    ).all()
    ids = [r.id for r in rows]
    replies: dict[int, list[ReplyView]] = {i: [] for i in ids}
    if ids:
        for rep in conn.execute(
            select(RatingReply).where(RatingReply.rating_id.in_(ids)).order_by(RatingReply.id)
        ):
            replies[rep.rating_id].append(
                {"text": rep.body, "actor": rep.actor, "created_at": iso(rep.created_at)}
            )
    return [
        {
            "id": str(r.id),
            "rating": r.rating,
            "comment": r.comment,
            "created_at": iso(r.created_at),
            "number": r.number,
            "customer_id": str(r.customer_id),
            "customer_name": r.name,
            "replies": replies[r.id],
        }
        for r in rows
    ]


def ratings(db: Database, *, unanswered: bool = False, limit: int = 100) -> list[RatingView]:
    """The newest ratings with their replies (``unanswered``: those without a reply)."""
    where = []
    if unanswered:
        where.append(OrderRating.id.not_in(select(RatingReply.rating_id)))
    return db.read(lambda conn: _rating_rows(conn, where, limit))


def rating_summary(db: Database) -> RatingSummary:
    def work(conn: Connection) -> RatingSummary:
        rows = conn.execute(
            select(OrderRating.rating, func.count()).group_by(OrderRating.rating)
        ).all()
        counts = {int(r[0]): int(r[1]) for r in rows}
        n = sum(counts.values())
        mean = sum(k * v for k, v in counts.items()) / n if n else None
        return {"count": n, "average": mean, "by_rating": [counts.get(i, 0) for i in range(1, 6)]}

    return db.read(work)


def reply_to_rating(db: Database, actor: Actor, rating_id: str, body: object) -> RatingView:
    text = _text(body, "reply", TEXT_MAX, multiline=True)

    def work(conn: Connection) -> RatingView:
        rid = row_id(rating_id)
        found = conn.execute(select(OrderRating.id).where(OrderRating.id == rid)).first()
        if rid < 0 or found is None:
            raise NotFound(detail=f"No rating with id {rating_id!r}.")
        conn.execute(insert(RatingReply).values(rating_id=rid, body=text, actor=actor.name))
        return _rating_rows(conn, [OrderRating.id == rid], 1)[0]

    return db.write(work)


# The customer page ---------------------------------------------------------------------


def _returns(conn: Connection, cid: int) -> list[CustomerReturnRow]:
    rows = conn.execute(
        select(
            Return.id,
            Return.status,
            Return.refund_minor,
            Return.created_at,
            Order.number,
            Order.currency,
        )
        .join(Order, Order.id == Return.order_id)
        .where(Order.customer_id == cid)
        .order_by(Return.id.desc())
        .limit(200)
    ).all()
    return [
        {
            "id": str(r.id),
            "number": r.number,
            "status": r.status,
            "refund": (
                format_amount(r.refund_minor, r.currency) if r.refund_minor is not None else None
            ),
            "currency": r.currency,
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]


def _disputes(conn: Connection, cid: int) -> list[CustomerDisputeRow]:
    rows = conn.execute(
        select(
            Dispute.id,
            Dispute.type,
            Dispute.status,
            Dispute.summary,
            Dispute.created_at,
            Order.number,
        )
        .join(Order, Order.id == Dispute.order_id)
        .where(Order.customer_id == cid)
        .order_by(Dispute.id.desc())
        .limit(200)
    ).all()
    return [
        {
            "id": str(r.id),
            "number": r.number,
            "type": r.type,
            "status": r.status,
            "summary": r.summary,
            "created_at": iso(r.created_at),
        }
        for r in rows
    ]


def _messages(conn: Connection, cid: int) -> list[CustomerMessageRow]:
    numbers = select(Order.number).where(Order.customer_id == cid)
    rows = conn.execute(
        select(Message)
        .where(Message.order_number.in_(numbers))
        .order_by(Message.id.desc())
        .limit(200)
    )
    return [
        {
            "number": m.order_number,
            "kind": m.kind,
            "channel": m.channel,
            "subject": m.subject,
            "status": m.status,
            "created_at": iso(m.created_at),
            "sent_at": iso(m.sent_at),
        }
        for m in rows
    ]


def page_extras(db: Database, customer_id: str) -> CustomerPageExtras:
    """What the CRM page adds to a customer's details: returns, disputes, messages sent,
    ratings with replies, tags and notes."""

    def work(conn: Connection) -> CustomerPageExtras:
        cid = _customer_id(conn, customer_id)
        return {
            "returns": _returns(conn, cid),
            "disputes": _disputes(conn, cid),
            "messages": _messages(conn, cid),
            "ratings": _rating_rows(conn, [Order.customer_id == cid], 100),
            "tags": _tags(conn, cid),
            "notes": _notes(conn, cid),
        }

    return db.read(work)
