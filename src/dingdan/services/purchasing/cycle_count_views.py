"""The cycle counts as read: one count with its lines, the list, the audit summary."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.cycle_count_tables import CycleCount, CycleCountLine
from dingdan.db.engine import Database
from dingdan.db.tables import Location, Product
from dingdan.domain.purchasing import cycle_counts as rules
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.domain.shared.numbers import row_id
from dingdan.services.purchasing.shapes import (
    CycleCountItem,
    CycleCountLineView,
    CycleCountSummary,
    CycleCountView,
)
from dingdan.services.shared.common import Page, check_limit, decode_cursor, iso, page_of


def summary(view: CycleCountView) -> CycleCountSummary:
    return {
        "location": view["location"],
        "status": view["status"],
        "lines": [
            {
                "sku": ln["sku"],
                "class": ln["class"],
                "counted": ln["counted"],
                "on_hand_at_count": ln["on_hand_at_count"],
                "difference": ln["difference"],
            }
            for ln in view["lines"]
        ],
    }


def count_row(conn: Connection, count_id: int) -> Any:
    row = conn.execute(
        select(CycleCount, Location.code.label("location"))
        .join(Location, Location.id == CycleCount.location_id)
        .where(CycleCount.id == count_id)
    ).first()
    if row is None:
        raise NotFound(
            detail=f"No cycle count {count_id}." if count_id >= 0 else "No such cycle count."
        )
    return row


def view(conn: Connection, count_id: int) -> CycleCountView:
    head = count_row(conn, count_id)
    rows = conn.execute(
        select(CycleCountLine, Product.sku, Product.name, Product.barcode)
        .join(Product, Product.id == CycleCountLine.product_id)
        .where(CycleCountLine.count_id == count_id)
        .order_by(CycleCountLine.position)
    ).all()
    lines: list[CycleCountLineView] = []
    for r in rows:
        counted, snap = r.counted, r.on_hand_at_count
        lines.append(
            {
                "sku": r.sku,
                "name": r.name,
                "barcode": r.barcode,
                "class": r.abc_class,
                "xyz": r.xyz_class,
                "last_counted_at": iso(r.last_counted_at),
                "counted": counted,
                "on_hand_at_count": snap,
                "difference": None if counted is None else rules.difference(counted, snap),
                "counted_by": r.counted_by,
                "counted_at": iso(r.counted_at),
                "posted_delta": r.posted_delta,
            }
        )
    return {
        "id": str(head.id),
        "location": head.location,
        "status": head.status,
        "created_by": head.created_by,
        "created_at": iso(head.created_at),
        "posted_by": head.posted_by,
        "posted_at": iso(head.posted_at),
        "lines": lines,
    }


def get(db: Database, count_id: str | int) -> CycleCountView:
    cid = row_id(str(count_id))
    return db.read(lambda conn: view(conn, cid))


def list_counts(
    db: Database,
    *,
    location: str | None = None,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    check_limit(limit)
    if status is not None and status not in ("open", "posted"):
        raise ValidationFailed.on("status", "invalid", reason="open or posted")
    after = decode_cursor(cursor, int)

    def work(conn: Connection) -> Page:
        stmt = (
            select(CycleCount, Location.code.label("location"))
            .join(Location, Location.id == CycleCount.location_id)
            .order_by(CycleCount.id.desc())
            .limit(limit + 1)
        )
        if location:
            stmt = stmt.where(Location.code == location)
        if status:
            stmt = stmt.where(CycleCount.status == status)
        if after:
            stmt = stmt.where(CycleCount.id < after[0])
        rows = list(conn.execute(stmt).all())
        totals = _line_totals(conn, [int(r.id) for r in rows])

        def item(r: Any) -> CycleCountItem:
            return {
                "id": str(r.id),
                "location": r.location,
                "status": r.status,
                "created_by": r.created_by,
                "created_at": iso(r.created_at),
                "posted_at": iso(r.posted_at),
                "lines": totals.get(int(r.id), (0, 0))[0],
                "counted": totals.get(int(r.id), (0, 0))[1],
            }

        return page_of(rows, limit, item, lambda r: (int(r.id),))

    return db.read(work)


def _line_totals(conn: Connection, ids: list[int]) -> dict[int, tuple[int, int]]:
    if not ids:
        return {}
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rows = conn.execute(
        select(CycleCountLine.count_id, CycleCountLine.counted).where(
            CycleCountLine.count_id.in_(ids)
        )
    ).all()
    for cid, counted in rows:
        out[int(cid)][0] += 1
        out[int(cid)][1] += counted is not None
    return {k: (v[0], v[1]) for k, v in out.items()}
