"""The delivery log of an endpoint: its deliveries (newest first), one delivery with each
attempt, and replay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from dingdan.db.engine import Database
from dingdan.db.tables import table_of
from dingdan.db.types import utcnow
from dingdan.db.webhook_tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from dingdan.domain.shared.errors import InvalidTransition, NotFound, ValidationFailed
from dingdan.domain.shared.numbers import row_id
from dingdan.services.integrations.shapes import AttemptView, DeliveryDetail, DeliveryView
from dingdan.services.shared.common import (
    Actor,
    Page,
    audit,
    check_limit,
    decode_cursor,
    iso,
    page_of,
)

STATUSES = ("pending", "delivered", "dead")
_EP = table_of(WebhookEndpoint)
_DL = table_of(WebhookDelivery)
_AT = table_of(WebhookAttempt)


def delivery_view(row: Any) -> DeliveryView:
    return {
        "id": str(row.id),
        "event_type": row.event_type,
        "webhook_id": row.webhook_id,
        "status": row.status,
        "attempts": row.attempts,
        "last_status_code": row.last_status_code,
        "order": row.order_number,
        "last_error": row.last_error,
        "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
        "created_at": iso(row.created_at),
        "delivered_at": iso(row.delivered_at),
    }


def attempt_view(row: Any) -> AttemptView:
    return {
        "at": iso(row.at),
        "status_code": row.status_code,
        "error": row.error,
        "duration_ms": row.duration_ms,
        "response_excerpt": row.response_excerpt,
    }


def _endpoint_id(conn: Connection, endpoint_id: str) -> int:
    eid = conn.execute(select(_EP.c.id).where(_EP.c.id == row_id(endpoint_id))).scalar()
    if eid is None:
        raise NotFound(detail=f"No webhook endpoint with id {endpoint_id!r}.")
    return int(eid)


def list_deliveries(
    db: Database,
    endpoint_id: str,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    check_limit(limit)
    if status is not None and status not in STATUSES:
        raise ValidationFailed.on("status", "not_one_of", choices=", ".join(STATUSES))
    after = decode_cursor(cursor, int)

    def work(conn: Connection) -> list[Any]:
        stmt = (
            select(_DL)
            .where(_DL.c.endpoint_id == _endpoint_id(conn, endpoint_id))
            .order_by(_DL.c.id.desc())
            .limit(limit + 1)
        )
        if status is not None:
            stmt = stmt.where(_DL.c.status == status)
        if after is not None:
            stmt = stmt.where(_DL.c.id < after[0])
        return list(conn.execute(stmt).all())

    return page_of(db.read(work), limit, delivery_view, lambda r: (r.id,))


def _fetch(conn: Connection, endpoint_id: str, delivery_id: str) -> Any:
    row = conn.execute(
        select(_DL).where(
            _DL.c.id == row_id(delivery_id),
            _DL.c.endpoint_id == _endpoint_id(conn, endpoint_id),
        )
    ).first()
    if row is None:
        raise NotFound(detail=f"No delivery {delivery_id!r} of webhook {endpoint_id!r}.")
    return row


def _detail(conn: Connection, row: Any) -> DeliveryDetail:
    attempts = conn.execute(select(_AT).where(_AT.c.delivery_id == row.id).order_by(_AT.c.id)).all()
    return {
        **delivery_view(row),
        "body": row.body,
        "attempt_log": [attempt_view(a) for a in attempts],
    }


def attempts_of(db: Database, delivery_ids: list[int]) -> dict[str, list[AttemptView]]:
    """The attempt log of each delivery of a page, by delivery id, oldest attempt first."""
    if not delivery_ids:
        return {}
    rows = db.read(
        lambda conn: conn.execute(
            select(_AT).where(_AT.c.delivery_id.in_(delivery_ids)).order_by(_AT.c.id)
        ).all()
    )
    out: dict[str, list[AttemptView]] = {}
    for row in rows:
        out.setdefault(str(row.delivery_id), []).append(attempt_view(row))
    return out


def get_delivery(db: Database, endpoint_id: str, delivery_id: str) -> DeliveryDetail:
    return db.read(lambda conn: _detail(conn, _fetch(conn, endpoint_id, delivery_id)))


def replay(db: Database, actor: Actor, endpoint_id: str, delivery_id: str) -> DeliveryDetail:
    """A delivered or dead delivery sent again, now, with the same ``webhook-id`` and body
    (a receiver that has it already drops the copy); its retry schedule starts over. A
    pending one is already on its way: it is only moved to now."""

    def work(conn: Connection) -> DeliveryDetail:
        row = _fetch(conn, endpoint_id, delivery_id)
        status = conn.execute(select(_EP.c.status).where(_EP.c.id == row.endpoint_id)).scalar()
        if status != "active":
            raise InvalidTransition(
                detail="The endpoint is disabled; enable it before replaying its deliveries."
            )
        conn.execute(
            update(_DL)
            .where(_DL.c.id == row.id)
            .values(status="pending", failures=0, next_attempt_at=utcnow())
        )
        audit(conn, actor, "replay", "webhook_delivery", str(row.id))
        return _detail(conn, _fetch(conn, endpoint_id, delivery_id))

    return db.write(work)
