"""What the back office and the API do with messages and templates: the message log and a
retry, each template's wording per language (read, save after a check, reset to the
default), a preview with a real order, and a test send."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.message_tables import Message, MessageTemplate
from dingdan.db.order_tables import Order
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import InvalidTransition, NotFound, ValidationFailed
from dingdan.domain.shared.numbers import row_id
from dingdan.services.messaging import outbound, templating
from dingdan.services.messaging.shapes import (
    MessageView,
    PreviewCommand,
    PreviewView,
    TemplateFields,
    TemplateList,
    TemplateSummary,
    TemplateView,
    TestSendCommand,
)
from dingdan.services.shared.common import (
    Actor,
    Page,
    audit,
    check_limit,
    decode_cursor,
    iso,
    page_of,
)

STATUSES = ("pending", "sent", "dead", "not_configured")


def message_view(row: Any) -> MessageView:
    return {
        "id": str(row.id),
        "order": row.order_number,
        "kind": row.kind,
        "channel": row.channel,
        "locale": row.locale,
        "recipient": row.recipient,
        "subject": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
        "created_at": iso(row.created_at),
        "sent_at": iso(row.sent_at),
    }


def list_messages(
    db: Database,
    order: str | None = None,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Newest first; by order number and/or status."""
    check_limit(limit)
    if status is not None and status not in STATUSES:
        raise ValidationFailed.on("status", "not_one_of", choices=", ".join(STATUSES))
    after = decode_cursor(cursor, int)
    stmt = select(Message).order_by(Message.id.desc()).limit(limit + 1)
    if order:
        stmt = stmt.where(Message.order_number == order)
    if status:
        stmt = stmt.where(Message.status == status)
    if after is not None:
        stmt = stmt.where(Message.id < after[0])
    rows = db.read(lambda conn: list(conn.execute(stmt).all()))
    return page_of(rows, limit, message_view, lambda r: (r.id,))


def retry(db: Database, actor: Actor, message: str) -> MessageView:
    """A dead (or not yet configured) message due again now, its attempts from zero."""
    mid = row_id(message)

    def work(conn: Connection) -> MessageView:
        row = conn.execute(select(Message).where(Message.id == mid)).first()
        if row is None:
            raise NotFound(detail=f"No message with id {message!r}.")
        done = conn.execute(
            update(Message)
            .where(Message.id == mid, Message.status.in_(("dead", "not_configured")))
            .values(
                status="pending",
                attempts=0,
                next_attempt_at=utcnow(),
                claimed_by=None,
                claimed_until=None,
            )
        ).rowcount
        if not done:
            raise InvalidTransition(
                detail=f"Message {message} is {row.status}; only a dead one is retried."
            )
        if row.order_number:
            audit(
                conn,
                actor,
                "update",
                "order",
                row.order_number,
                None,
                {"message_retried": str(mid)},
            )
        return message_view(conn.execute(select(Message).where(Message.id == mid)).one())

    return db.write(work)


def _check_kind(kind: str, locale: str) -> None:
    if kind not in templating.KINDS:
        raise NotFound(detail=f"No message kind {kind!r}.")
    if locale not in templating.LOCALES:
        raise NotFound(detail=f"No language {locale!r} (zh-Hant, zh-Hans, en).")


def _template_view(kind: str, locale: str, row: Any | None) -> TemplateView:
    fields: TemplateFields = (
        {"subject": row.subject, "text": row.text, "html": row.html}
        if row is not None
        else templating.default(kind, locale)
    )
    return {
        "kind": kind,
        "locale": locale,
        "subject": fields["subject"],
        "text": fields["text"],
        "html": fields["html"],
        "is_default": row is None,
        "updated_by": row.updated_by if row is not None else None,
        "updated_at": iso(row.updated_at) if row is not None else None,
        "variables": sorted(templating.VARIABLES),
    }


def _row(conn: Connection, kind: str, locale: str) -> Any | None:
    return conn.execute(
        select(MessageTemplate).where(
            MessageTemplate.kind == kind, MessageTemplate.locale == locale
        )
    ).first()


def list_templates(db: Database) -> TemplateList:
    def work(conn: Connection) -> TemplateList:
        saved = {(r.kind, r.locale): r for r in conn.execute(select(MessageTemplate))}
        items: list[TemplateSummary] = [
            {"kind": k, "locale": loc, "is_default": (k, loc) not in saved}
            for k in templating.KINDS
            for loc in templating.LOCALES
        ]
        return {"items": items, "next_cursor": None}

    return db.read(work)


def get_template(db: Database, kind: str, locale: str) -> TemplateView:
    _check_kind(kind, locale)
    return db.read(lambda conn: _template_view(kind, locale, _row(conn, kind, locale)))


def _fields(body: TemplateFields | PreviewCommand) -> TemplateFields:
    templating.check(body)
    subject, text, html = body.get("subject"), body.get("text"), body.get("html")
    assert subject is not None and text is not None and html is not None  # checked
    return {"subject": subject, "text": text, "html": html}


def put_template(
    db: Database, actor: Actor, kind: str, locale: str, body: TemplateFields
) -> TemplateView:
    """Save the seller's wording, after the check (templating.check): a template that is
    saved renders."""
    _check_kind(kind, locale)
    fields = _fields(body)

    def work(conn: Connection) -> TemplateView:
        values = {**fields, "updated_by": actor.name, "updated_at": utcnow()}
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(MessageTemplate).values(kind=kind, locale=locale, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["kind", "locale"], set_=values))
        audit(conn, actor, "update", "setting", f"message_template/{kind}/{locale}", None, fields)
        return _template_view(kind, locale, _row(conn, kind, locale))

    return db.write(work)


def reset_template(db: Database, actor: Actor, kind: str, locale: str) -> TemplateView:
    _check_kind(kind, locale)

    def work(conn: Connection) -> TemplateView:
        conn.execute(
            delete(MessageTemplate).where(
                MessageTemplate.kind == kind, MessageTemplate.locale == locale
            )
        )
        audit(conn, actor, "delete", "setting", f"message_template/{kind}/{locale}")
        return _template_view(kind, locale, None)

    return db.write(work)


def _order(conn: Connection, number: Any) -> Any:
    if not isinstance(number, str) or not number:
        raise ValidationFailed.on("order", "required")
    order = conn.execute(select(Order).where(Order.number == number)).first()
    if order is None:
        raise ValidationFailed.on("order", "invalid", reason="no order has this number")
    return order


def preview(db: Database, kind: str, locale: str, body: PreviewCommand) -> PreviewView:
    """The message as ``order`` would get it: with the template in the body (not saved; it
    is checked first) or the one in force."""
    _check_kind(kind, locale)
    draft = _fields(body) if any(body.get(f) for f in templating.FIELDS) else None

    def work(conn: Connection) -> PreviewView:
        order = _order(conn, body.get("order"))
        ctx = outbound.context(conn, order, {})
        if draft is not None:
            out = templating.render(draft, ctx)
            shop = ctx["shop"]
            full = outbound.compose_with(out, locale, shop)
        else:
            full = outbound.compose(conn, kind, locale, ctx)
        return {"kind": kind, "locale": locale, "order": order.number, **full}

    return db.read(work)


def test_send(
    db: Database, actor: Actor, kind: str, locale: str, body: TestSendCommand
) -> MessageView:
    """Queue the template in force, filled with the newest order (or ``order``), to ``to``;
    the sender sends it like any other message."""
    _check_kind(kind, locale)
    to = body.get("to")
    if not isinstance(to, str) or "@" not in to or len(to) > 254 or any(c in to for c in "\r\n <>"):
        raise ValidationFailed.on("to", "invalid", reason="an email address")

    def work(conn: Connection) -> MessageView:
        if body.get("order"):
            order = _order(conn, body["order"])
        else:
            order = conn.execute(select(Order).order_by(Order.id.desc()).limit(1)).first()
            if order is None:
                raise ValidationFailed.on("order", "invalid", reason="there is no order yet")
        ctx = outbound.context(conn, order, {})
        full = outbound.compose(conn, kind, locale, ctx)
        values = outbound.message_values(f"test:{uuid.uuid4().hex}", kind, locale, to, None, full)
        outbound.insert_message(conn, values)
        audit(conn, actor, "create", "setting", f"message_test/{kind}/{locale}", None, {"to": to})
        row = conn.execute(select(Message).where(Message.source == values["source"])).one()
        return message_view(row)

    return db.write(work)
