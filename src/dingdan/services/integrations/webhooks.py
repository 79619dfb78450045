"""Outgoing webhooks: the endpoints a seller registers, and the fan-out of each outbox event
to the endpoints that hear it (services/integrations/delivery.py sends them).

The fan-out runs as a consumer of every event (services/jobs/worker.py), after the commit
that recorded it. For each active endpoint hearing the event's type it writes one delivery,
keyed by (endpoint, event): a second hand-over of the same event adds nothing. The body is
built then, once (the resource as the API shows it at that moment), and every attempt sends
those same bytes with the same ``webhook-id``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.tables import table_of
from dingdan.db.types import utcnow
from dingdan.db.webhook_tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from dingdan.domain.shared import standard_webhooks as signing
from dingdan.domain.shared.errors import FieldErrors, NotFound
from dingdan.domain.shared.numbers import row_id
from dingdan.services.after_sales import return_queries
from dingdan.services.integrations import addresses
from dingdan.services.integrations.shapes import (
    EndpointChanges,
    EndpointList,
    EndpointView,
    NewEndpoint,
)
from dingdan.services.orders import queries as order_queries
from dingdan.services.shared.common import Actor, audit, iso
from dingdan.services.shared.outbox_events import EVENT_TYPES

ROTATION_OVERLAP = timedelta(hours=24)  # the previous secret still signs this long
ALL = "*"
STATUSES = ("active", "disabled")
_EP = table_of(WebhookEndpoint)
_DL = table_of(WebhookDelivery)


# Endpoints -------------------------------------------------------------------------------


def endpoint_view(row: Any, *, secret: bool = False) -> EndpointView:
    view: EndpointView = {
        "id": str(row.id),
        "url": row.url,
        "events": list(row.events),
        "description": row.description,
        "status": row.status,
        "disabled_reason": row.disabled_reason,
        "previous_secret_until": iso(row.previous_until) if _overlapping(row) else None,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }
    if secret:
        view["secret"] = row.secret
    return view


def _overlapping(row: Any, now: datetime | None = None) -> bool:
    return bool(
        row.previous_secret and row.previous_until and row.previous_until > (now or utcnow())
    )


def signing_secrets(row: Any, now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery to this endpoint now: its own, and for 24 hours
    after a rotation the one it replaced."""
    return [row.secret, row.previous_secret] if _overlapping(row, now) else [row.secret]


def _check(data: Mapping[str, object], errors: FieldErrors, *, creating: bool) -> None:
    if creating or "url" in data:
        addresses.check_url(data.get("url"), errors)
    if creating or "events" in data:
        _check_events(data.get("events"), errors)
    description = data.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 500):
        errors.add("description", "too_long", max=500)
    if "status" in data and data["status"] not in STATUSES:
        errors.add("status", "not_one_of", choices=", ".join(STATUSES))


def _check_events(events: Any, errors: FieldErrors) -> None:
    if not isinstance(events, list) or not events:
        errors.add("events", "too_few_items", min=1)
        return
    choices = ", ".join([ALL, *EVENT_TYPES])
    for i, name in enumerate(events):
        if name != ALL and name not in EVENT_TYPES:
            errors.add(f"events[{i}]", "not_one_of", choices=choices)
    if ALL in events and len(events) > 1:
        errors.add("events", "invalid", reason='"*" stands alone: it means every event')


def _fetch(conn: Connection, endpoint_id: str) -> Any:
    row = conn.execute(select(_EP).where(_EP.c.id == row_id(endpoint_id))).first()
    if row is None:
        raise NotFound(detail=f"No webhook endpoint with id {endpoint_id!r}.")
    return row


def create_endpoint(db: Database, actor: Actor, data: NewEndpoint) -> EndpointView:
    """A new endpoint, active, with a new secret (shown in this answer only)."""
    errors = FieldErrors()
    _check(data, errors, creating=True)
    errors.raise_if_any()
    values = {  # url and events are checked text and a list of event types
        "url": str(data.get("url")).strip(),
        "events": list(dict.fromkeys(data.get("events") or [])),
        "description": (data.get("description") or "").strip(),
        "status": "active",
        "secret": signing.new_secret(),
    }

    def work(conn: Connection) -> EndpointView:
        eid = conn.execute(insert(_EP).values(**values).returning(_EP.c.id)).scalar_one()
        row = _fetch(conn, str(eid))
        audit(conn, actor, "create", "webhook_endpoint", str(eid), after=endpoint_view(row))
        return endpoint_view(row, secret=True)

    return db.write(work)


def list_endpoints(db: Database) -> EndpointList:
    rows = db.read(lambda conn: list(conn.execute(select(_EP).order_by(_EP.c.id))))
    return {"items": [endpoint_view(r) for r in rows], "next_cursor": None}


def get_endpoint(db: Database, endpoint_id: str) -> EndpointView:
    return db.read(lambda conn: endpoint_view(_fetch(conn, endpoint_id)))


def update_endpoint(
    db: Database, actor: Actor, endpoint_id: str, data: EndpointChanges
) -> EndpointView:
    """Changes the given fields; ``status`` "active" enables an endpoint again (a 410 or a
    person disabled it), "disabled" stops its deliveries (they wait, pending)."""
    errors = FieldErrors()
    _check(data, errors, creating=False)
    errors.raise_if_any()
    changes: dict[str, Any] = {}  # checked: url text, events a list, status one of STATUSES
    if "url" in data:
        changes["url"] = str(data["url"]).strip()
    if "events" in data:
        changes["events"] = list(dict.fromkeys(data["events"] or []))
    if "status" in data:
        changes["status"] = data["status"]
    description = data.get("description")
    if description is not None:
        changes["description"] = description.strip()
    if "status" in changes:
        changes["disabled_reason"] = None if changes["status"] == "active" else "by " + actor.name

    def work(conn: Connection) -> EndpointView:
        before = endpoint_view(_fetch(conn, endpoint_id))
        if changes:
            conn.execute(
                update(_EP)
                .where(_EP.c.id == int(before["id"]))
                .values(**changes, updated_at=utcnow())
            )
        after = endpoint_view(_fetch(conn, endpoint_id))
        audit(conn, actor, "update", "webhook_endpoint", after["id"], before=before, after=after)
        return after

    return db.write(work)


def delete_endpoint(db: Database, actor: Actor, endpoint_id: str) -> None:
    """The endpoint, its deliveries and their log."""

    def work(conn: Connection) -> None:
        row = _fetch(conn, endpoint_id)
        attempts = table_of(WebhookAttempt)
        ids = select(_DL.c.id).where(_DL.c.endpoint_id == row.id)
        conn.execute(delete(attempts).where(attempts.c.delivery_id.in_(ids.scalar_subquery())))
        conn.execute(delete(_DL).where(_DL.c.endpoint_id == row.id))
        conn.execute(delete(_EP).where(_EP.c.id == row.id))
        audit(conn, actor, "delete", "webhook_endpoint", str(row.id), before=endpoint_view(row))

    db.write(work)


def rotate_secret(db: Database, actor: Actor, endpoint_id: str) -> EndpointView:
    """A new secret (in this answer only); the one it replaces signs too for 24 hours, so a
    receiver has a day to switch."""

    def work(conn: Connection) -> EndpointView:
        row = _fetch(conn, endpoint_id)
        now = utcnow()
        conn.execute(
            update(_EP)
            .where(_EP.c.id == row.id)
            .values(
                secret=signing.new_secret(),
                previous_secret=row.secret,
                previous_until=now + ROTATION_OVERLAP,
                updated_at=now,
            )
        )
        audit(conn, actor, "rotate_secret", "webhook_endpoint", str(row.id))
        return endpoint_view(_fetch(conn, endpoint_id), secret=True)

    return db.write(work)


# Fan-out ---------------------------------------------------------------------------------


def _hears(row: Any, topic: str) -> bool:
    return ALL in row.events or topic in row.events


def _resource(conn: Connection, topic: str, payload: Mapping[str, object]) -> dict[str, object]:
    """What ``data`` holds: the order as GET /api/v1/orders/{number} shows it for order
    events, the return for return events, else the event's own payload."""
    try:
        number = payload.get("number")
        if topic.startswith("order.") and number:
            order = order_queries.fetch(conn, str(number))  # an order event's number: text
            return dict(order_queries.view(conn, order))
        if topic.startswith("return.") and payload.get("return_id"):
            ret = return_queries.fetch_return(conn, str(payload["return_id"]))
            return dict(return_queries.return_view(conn, ret))
    except NotFound:
        pass  # gone since: the event's own words are what is left to say
    return dict(payload)


def body_of(topic: str, created_at: datetime, data: Mapping[str, object]) -> str:
    return json.dumps(
        {"type": topic, "timestamp": iso(created_at), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def fan_out(
    db: Database, event_id: int, topic: str, payload: Mapping[str, object], created_at: datetime
) -> int:
    """One delivery per active endpoint hearing ``topic`` (none twice for one event);
    returns how many were new. Reads first (most events have no endpoint), then writes
    only when some endpoint hears it."""
    endpoints = db.read(
        lambda conn: [
            r.id
            for r in conn.execute(select(_EP.c.id, _EP.c.events).where(_EP.c.status == "active"))
            if _hears(r, topic)
        ]
    )
    if not endpoints:
        return 0
    number = payload.get("number") if isinstance(payload.get("number"), str) else None

    def work(conn: Connection) -> int:
        have = set(
            conn.execute(
                select(_DL.c.endpoint_id).where(
                    _DL.c.event_id == event_id,
                    _DL.c.event_at == created_at,
                    _DL.c.endpoint_id.in_(endpoints),
                )
            ).scalars()
        )
        missing = [e for e in endpoints if e not in have]
        if not missing:
            return 0
        body = body_of(topic, created_at, _resource(conn, topic, payload))
        conn.execute(
            insert(_DL),
            [
                {
                    "endpoint_id": e,
                    "event_id": event_id,
                    "event_at": created_at,
                    "event_type": topic,
                    "order_number": number,
                    "webhook_id": "msg_" + secrets.token_urlsafe(18),
                    "body": body,
                    "status": "pending",
                    "next_attempt_at": utcnow(),
                }
                for e in missing
            ],
        )
        return len(missing)

    # Two workers handing over the same event at once: one insert wins, the other's unique
    # violation (a conflict) makes its event retry, and that retry finds the rows there.
    return db.write(work)
