"""Read side of disputes, and evidence files: checked by their first bytes and size, stored
outside the database under ``DINGDAN_UPLOAD_DIR`` (default ``./uploads``) by SHA-256.

A file is written before its row, atomically (a temporary file renamed into place) and
under its checksum, so a retried or failed transaction at worst leaves an unreferenced
file, never a row without its file."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order
from dingdan.db.return_tables import Dispute, DisputeEvidence, DisputeMessage
from dingdan.db.types import utcnow
from dingdan.domain.after_sales.returns import DisputeStatus, DisputeType
from dingdan.domain.shared.errors import (
    NotFound,
    ValidationFailed,
)
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.services.after_sales.shapes import DisputeMessageView, DisputeView, EvidenceView
from dingdan.services.shared.common import (
    Page,
    check_limit,
    decode_cursor,
    iso,
    like_pattern,
    page_of,
)


def parse_id(value: str) -> int:
    return row_id(value)


def fetch_dispute(conn: Connection, dispute_id: str) -> Any:
    row = conn.execute(select(Dispute).where(Dispute.id == parse_id(dispute_id))).first()
    if row is None:
        raise NotFound(detail=f"No dispute with id {dispute_id!r}.")
    return row


def _number(conn: Connection, order_id: int | None) -> str | None:
    if order_id is None:
        return None
    return conn.execute(select(Order.number).where(Order.id == order_id)).scalar_one()


def _messages(conn: Connection, dispute_id: int) -> list[DisputeMessageView]:
    rows = conn.execute(
        select(DisputeMessage)
        .where(DisputeMessage.dispute_id == dispute_id)
        .order_by(DisputeMessage.id)
    ).all()
    return [
        {
            "id": str(m.id),
            "author": m.author,
            "direction": m.direction,
            "body": m.body,
            "created_at": iso(m.created_at),
        }
        for m in rows
    ]


def evidence_view(e: Any) -> EvidenceView:
    return {
        "id": str(e.id),
        "filename": e.filename,
        "content_type": e.content_type,
        "size": e.size,
        "sha256": e.sha256,
        "note": e.note,
        "uploaded_by": e.uploaded_by,
        "created_at": iso(e.created_at),
    }


def _evidence(conn: Connection, dispute_id: int) -> list[EvidenceView]:
    rows = conn.execute(
        select(DisputeEvidence)
        .where(DisputeEvidence.dispute_id == dispute_id)
        .order_by(DisputeEvidence.id)
    ).all()
    return [evidence_view(e) for e in rows]


def dispute_view(conn: Connection, d: Any, full: bool = False) -> DisputeView:
    currency = conn.execute(select(Order.currency).where(Order.id == d.order_id)).scalar_one()
    open_ = d.status in (DisputeStatus.OPEN, DisputeStatus.INVESTIGATING)
    out: DisputeView = {
        "id": str(d.id),
        "order": conn.execute(select(Order.number).where(Order.id == d.order_id)).scalar_one(),
        "type": d.type,
        "status": d.status,
        "owner": d.owner,
        "due_date": d.due_date.isoformat() if d.due_date else None,
        "overdue": bool(open_ and d.due_date and d.due_date < utcnow().date()),
        "summary": d.summary,
        "opened_by": d.opened_by,
        "resolution": d.resolution,
        "amount": None
        if d.resolution_minor is None
        else format_amount(d.resolution_minor, currency),
        "replacement_order": _number(conn, d.replacement_order_id),
        "created_at": iso(d.created_at),
        "updated_at": iso(d.updated_at),
        "resolved_at": iso(d.resolved_at),
        "closed_at": iso(d.closed_at),
    }
    if full:
        out["messages"] = _messages(conn, d.id)
        out["evidence"] = _evidence(conn, d.id)
    return out


# No due date sorts last: a dispute without one is never overdue.
NO_DUE_DATE = date(9999, 12, 31)
UNSETTLED = (DisputeStatus.OPEN.value, DisputeStatus.INVESTIGATING.value)


def dispute_queue(
    db: Database,
    *,
    status: str | None = None,
    type: str | None = None,
    owner: str | None = None,
    overdue: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """The work queue: the soonest due first (keyset-paged on due date and id); ``owner``
    matches part of the owner, any case; ``overdue`` keeps the open or investigating
    disputes whose due date has passed."""
    check_limit(limit)
    after = decode_cursor(cursor, str, int)
    if status is not None and status not in {s.value for s in DisputeStatus}:
        raise ValidationFailed.on("status", "unknown_value")
    if type is not None and type not in {t.value for t in DisputeType}:
        raise ValidationFailed.on("type", "unknown_value")
    due = func.coalesce(Dispute.due_date, NO_DUE_DATE)
    stmt = select(Dispute).order_by(due, Dispute.id).limit(limit + 1)
    if status is not None:
        stmt = stmt.where(Dispute.status == status)
    if type is not None:
        stmt = stmt.where(Dispute.type == type)
    if owner:
        stmt = stmt.where(func.lower(Dispute.owner).like(like_pattern(owner), escape="\\"))
    if overdue:
        stmt = stmt.where(Dispute.status.in_(UNSETTLED), Dispute.due_date < utcnow().date())
    if after:
        try:
            day = date.fromisoformat(after[0])
        except ValueError:
            raise ValidationFailed.on("cursor", "invalid_cursor") from None
        stmt = stmt.where(or_(due > day, and_(due == day, Dispute.id > after[1])))

    def key(d: Any) -> tuple[str, int]:
        return ((d.due_date or NO_DUE_DATE).isoformat(), int(d.id))

    def work(conn: Connection) -> Page:
        rows = list(conn.execute(stmt))
        return page_of(rows, limit, lambda d: dispute_view(conn, d), key)

    return db.read(work)
