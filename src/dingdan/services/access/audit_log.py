"""The audit trail: who changed or viewed what, when; newest first, with filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.engine import Database
from dingdan.db.tables import AuditEntry
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


def entry_view(e: Any) -> dict[str, Any]:
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
    return page_of(rows, limit, entry_view, lambda e: (int(e.id),))


def choices(db: Database) -> dict[str, list[str]]:
    """The actions and entity types that occur, for the filter menus."""

    def work(conn: Connection) -> dict[str, list[str]]:
        actions = conn.execute(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
        types = conn.execute(
            select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)
        )
        return {"actions": list(actions.scalars()), "entity_types": list(types.scalars())}

    return db.read(work)
