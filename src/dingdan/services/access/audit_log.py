"""The audit trail: who changed or viewed what, when; newest first, with filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.engine import Database
from dingdan.db.tables import AuditEntry
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.access.shapes import AuditEntryView, TrailView
from dingdan.services.shared.common import (
    Actor,
    Page,
    audit,
    check_limit,
    decode_cursor,
    iso,
    like_pattern,
    page_of,
)

# Entities whose views are recorded (a person's details, an order's details).
VIEWED = ("order", "customer")


def record_view(db: Database, actor: Actor, entity_type: str, entity_id: str) -> None:
    """Record that ``actor`` looked at a record holding a person's details."""
    if entity_type not in VIEWED:
        raise ValueError(f"views of {entity_type} are not audited")
    db.write(lambda conn: audit(conn, actor, "view", entity_type, entity_id))


def reveal(
    db: Database, actor: Actor, entity_type: str, entity_id: str, reason: str | None
) -> None:
    """Record that ``actor`` asked to see a record's masked details in full, and why; the
    reason is required (it is what an auditor reads)."""
    if entity_type not in VIEWED:
        raise ValueError(f"reveals of {entity_type} are not audited")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.on("reason", "required")
    if len(reason) > 500:
        raise ValidationFailed.on("reason", "too_long", max=500)
    db.write(
        lambda conn: audit(conn, actor, "reveal", entity_type, entity_id, after={"reason": reason})
    )


def entry_view(e: Any) -> AuditEntryView:
    return {
        "id": str(e.id),
        "actor": e.actor,
        "action": e.action,
        "entity_type": e.entity_type,
        "entity_id": e.entity_id,
        "before": e.before,
        "after": e.after,
        "created_at": iso(e.created_at),
    }


def list_entries(
    db: Database,
    *,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    return _entries(
        db,
        entry_view,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        created_from=created_from,
        created_to=created_to,
        limit=limit,
        cursor=cursor,
    )


def _entries(
    db: Database,
    item: Callable[[Any], object],
    *,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    check_limit(limit)
    after = decode_cursor(cursor, int)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if actor:
        stmt = stmt.where(func.lower(AuditEntry.actor).like(like_pattern(actor), escape="\\"))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if created_from:
        stmt = stmt.where(AuditEntry.created_at >= created_from)
    if created_to:
        stmt = stmt.where(AuditEntry.created_at < created_to)
    if after:
        stmt = stmt.where(AuditEntry.id < after[0])
    rows = db.read(lambda conn: list(conn.execute(stmt)))
    return page_of(rows, limit, item, lambda e: (int(e.id),))


def trail_view(v: AuditEntryView) -> TrailView:
    """An entry as the API shows it: the resource as ``type:id`` (``order:DD001001``)."""
    return {
        "id": v["id"],
        "at": v["created_at"],
        "actor": v["actor"],
        "action": v["action"],
        "resource": f"{v['entity_type']}:{v['entity_id']}",
        "before": v["before"],
        "after": v["after"],
    }


def _day(value: str | None, field: str, errors: FieldErrors, plus: int = 0) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors.add(field, "not_a_date")
        return None
    return datetime.combine(day + timedelta(days=plus), time(), tzinfo=SELLER_TIMEZONE)


def trail(
    db: Database,
    *,
    resource: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    day_from: str | None = None,
    day_to: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """The API's audit trail: ``resource`` ``type:id`` (or ``type`` alone), days in the
    seller's time zone from ``day_from`` to ``day_to`` included; newest first."""
    errors = FieldErrors()
    entity_type, entity_id = None, None
    if resource:
        entity_type, _, entity_id = resource.partition(":")
        if not entity_type or ":" in entity_id:
            errors.add("resource", "not_a_resource")
    start = _day(day_from, "from", errors)
    end = _day(day_to, "to", errors, plus=1)
    if start and end and end <= start:
        errors.add("to", "before_start")
    errors.raise_if_any()
    return _entries(
        db,
        lambda e: trail_view(entry_view(e)),
        actor=actor,
        action=action,
        entity_type=entity_type or None,
        entity_id=entity_id or None,
        created_from=start,
        created_to=end,
        limit=limit,
        cursor=cursor,
    )


def choices(db: Database) -> dict[str, list[str]]:
    """The actions and entity types that occur, for the filter menus."""

    def work(conn: Connection) -> dict[str, list[str]]:
        actions = conn.execute(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
        types = conn.execute(
            select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)
        )
        return {"actions": list(actions.scalars()), "entity_types": list(types.scalars())}

    return db.read(work)
