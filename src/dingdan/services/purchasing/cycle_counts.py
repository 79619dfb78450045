"""Cycle counts driven by ABC classes (issue 23): a count sheet per location lists the SKUs
due for counting (domain/purchasing/cycle_counts.py), each line's counted quantity is entered
with the on-hand of that moment, and posting adds counted minus that on-hand to the level
through the ledger (an ``adjustment``, reason ``cycle_count``, reference ``cycle-count:<id>``,
actor the one who counted the line). Posting never takes on_hand below reserved: such a
count is refused whole (409) and nothing is posted.

Intervals per class live in ``settings`` under ``cycle_count_intervals`` (days:
``{"A": 30, "B": 91, "C": 365}``, any of them)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db import stock as stock_sql
from dingdan.db.cycle_count_tables import CycleCount, CycleCountLine, StockCountDate
from dingdan.db.engine import Database
from dingdan.db.tables import Product, Setting, StockLevel
from dingdan.db.types import utcnow
from dingdan.domain.inventory.stock import MovementKind
from dingdan.domain.purchasing import cycle_counts as rules
from dingdan.domain.shared.errors import (
    Conflict,
    FieldError,
    FieldErrors,
    InsufficientStock,
    ValidationFailed,
)
from dingdan.domain.shared.numbers import row_id
from dingdan.services.inventory.locations import fetch as fetch_location
from dingdan.services.orders import backorders
from dingdan.services.purchasing import abc, demand
from dingdan.services.purchasing import cycle_count_views as views
from dingdan.services.purchasing.cycle_count_views import get, list_counts
from dingdan.services.purchasing.shapes import (
    AbcClasses,
    CountLineCommand,
    CycleCountCommand,
    CycleCountView,
)
from dingdan.services.shared.common import (
    Actor,
    audit,
)

__all__ = ["create", "get", "intervals", "list_counts", "post", "record"]

SETTING_KEY = "cycle_count_intervals"
REASON = "cycle_count"
MAX_SKUS = 1000
MAX_COUNTED = 1_000_000_000


def reference(count_id: int) -> str:
    return f"cycle-count:{count_id}"


def intervals(conn: Connection) -> dict[str, int]:
    stored = conn.execute(select(Setting.value).where(Setting.key == SETTING_KEY)).scalar()
    return rules.intervals(stored)


def _check_create(data: CycleCountCommand) -> tuple[str, list[str] | None]:
    errors = FieldErrors()
    location, skus = data.get("location"), data.get("skus")
    if not isinstance(location, str) or not location or len(location) > 32:
        errors.add("location", "text_length", max=32)
    if skus is not None:
        if not isinstance(skus, list) or not skus:
            errors.add("skus", "not_empty")
        elif len(skus) > MAX_SKUS:
            errors.add("skus", "too_large")
        else:
            seen: set[str] = set()
            for i, sku in enumerate(skus):
                if not isinstance(sku, str) or not sku or len(sku) > 64:
                    errors.add(f"skus[{i}]", "text_length", max=64)
                elif sku in seen:
                    errors.add(f"skus[{i}]", "duplicate_sku")
                else:
                    seen.add(sku)
    errors.raise_if_any()
    return str(location), skus


def _class_of(classes: dict[str, AbcClasses], sku: str) -> str:
    found = classes.get(sku)
    return "C" if found is None else found["class"]


def _xyz_of(classes: dict[str, AbcClasses], sku: str) -> str | None:
    found = classes.get(sku)
    return None if found is None else found["xyz"]


def create(db: Database, actor: Actor, data: CycleCountCommand) -> CycleCountView:
    """A count sheet for ``location``: the SKUs due there, or exactly ``skus``."""
    code, skus = _check_create(data)
    classes = abc.all_classes(db)

    def work(conn: Connection) -> CycleCountView:
        loc = fetch_location(conn, code, field="location")
        chosen = _named(conn, skus) if skus is not None else _stocked(conn, loc.id)
        last = _last_counted(conn, loc.id)
        candidates = [
            rules.Candidate(sku, _class_of(classes, sku), last.get(pid)) for sku, pid in chosen
        ]
        if skus is None:
            today = demand.local_day(utcnow())
            candidates = rules.due(candidates, today, intervals(conn))
        if not candidates:
            raise ValidationFailed.on("location", "no_skus_due", location=loc.code)
        pid_of = dict(chosen)
        at_of = _last_counted_at(conn, loc.id)
        count_id = conn.execute(
            insert(CycleCount)
            .values(location_id=loc.id, status="open", created_by=actor.name, created_at=utcnow())
            .returning(CycleCount.id)
        ).scalar_one()
        conn.execute(
            insert(CycleCountLine),
            [
                {
                    "count_id": count_id,
                    "product_id": pid_of[c.sku],
                    "position": i,
                    "abc_class": c.klass,
                    "xyz_class": _xyz_of(classes, c.sku),
                    "last_counted_at": at_of.get(pid_of[c.sku]),
                }
                for i, c in enumerate(candidates)
            ],
        )
        view = views.view(conn, count_id)
        audit(conn, actor, "create", "cycle_count", str(count_id), after=views.summary(view))
        return view

    return db.write(work)


def _named(conn: Connection, skus: list[str]) -> list[tuple[str, int]]:
    found = dict(conn.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all())
    errors = FieldErrors()
    for i, sku in enumerate(skus):
        if sku not in found:
            errors.add(f"skus[{i}]", "unknown_sku", sku=sku)
    errors.raise_if_any("The request names products that do not exist.")
    return [(sku, int(found[sku])) for sku in skus]


def _stocked(conn: Connection, location_id: int) -> list[tuple[str, int]]:
    """The active products the location holds a level of (stock now or before)."""
    rows = conn.execute(
        select(Product.sku, Product.id)
        .join(StockLevel, StockLevel.product_id == Product.id)
        .where(StockLevel.location_id == location_id, Product.active.is_(True))
        .order_by(Product.sku)
    ).all()
    return [(str(sku), int(pid)) for sku, pid in rows]


def _last_counted_at(conn: Connection, location_id: int) -> dict[int, Any]:
    rows = conn.execute(
        select(StockCountDate.product_id, StockCountDate.last_counted_at).where(
            StockCountDate.location_id == location_id
        )
    ).all()
    return {int(pid): at for pid, at in rows}


def _last_counted(conn: Connection, location_id: int) -> dict[int, Any]:
    return {pid: demand.local_day(at) for pid, at in _last_counted_at(conn, location_id).items()}


def check_counted(value: Any, field: str = "counted") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.on(field, "required")
    if value < 0:
        raise ValidationFailed.on(field, "below_zero")
    if value > MAX_COUNTED:
        raise ValidationFailed.on(field, "too_large")
    return value


def record(
    db: Database,
    actor: Actor,
    count_id: str | int,
    data: CountLineCommand,
    *,
    scan: bool = False,
) -> CycleCountView:
    """Enter one line's counted quantity (by SKU or barcode) and the on-hand of this moment;
    counting a line again replaces its count. ``scan``: one unit more than counted so far
    (a scanner reads each unit), added in the statement so two counters scanning at once
    lose none."""
    cid = row_id(str(count_id))
    code = data.get("sku")
    if not isinstance(code, str) or not code or len(code) > 64:
        raise ValidationFailed.on("sku", "text_length", max=64)
    counted = 1 if scan else check_counted(data.get("counted"))

    def work(conn: Connection) -> CycleCountView:
        head = views.count_row(conn, cid)
        if head.status != "open":
            raise Conflict(detail=f"Cycle count {cid} is already posted.")
        line = conn.execute(
            select(CycleCountLine.id, CycleCountLine.product_id)
            .join(Product, Product.id == CycleCountLine.product_id)
            .where(
                CycleCountLine.count_id == cid,
                (Product.sku == code) | (Product.barcode == code),
            )
            .order_by(Product.sku != code)
        ).first()
        if line is None:
            raise ValidationFailed.on("sku", "not_on_count_sheet", sku=code)
        on_hand = conn.execute(
            select(StockLevel.on_hand).where(
                StockLevel.product_id == line.product_id,
                StockLevel.location_id == head.location_id,
            )
        ).scalar()
        conn.execute(
            update(CycleCountLine)
            .where(CycleCountLine.id == line.id)
            .values(
                counted=(func.coalesce(CycleCountLine.counted, 0) + 1) if scan else counted,
                on_hand_at_count=int(on_hand or 0),
                counted_by=actor.name,
                counted_at=utcnow(),
            )
        )
        return views.view(conn, cid)

    return db.write(work)


def post(db: Database, actor: Actor, count_id: str | int) -> CycleCountView:
    """Post the counted lines' differences through the ledger, all or nothing."""
    cid = row_id(str(count_id))

    def work(conn: Connection) -> CycleCountView:
        head = views.count_row(conn, cid)
        now = utcnow()
        # The conditional update is the lock: a second posting finds the count posted.
        taken = conn.execute(
            update(CycleCount)
            .where(CycleCount.id == cid, CycleCount.status == "open")
            .values(status="posted", posted_by=actor.name, posted_at=now)
        ).rowcount
        if taken != 1:
            raise Conflict(detail=f"Cycle count {cid} is already posted.")
        loc_id = int(head.location_id)
        lines = _counted_lines(conn, cid)
        if not lines:
            raise ValidationFailed.on("lines", "nothing_counted")
        _apply(conn, cid, loc_id, head.location, lines)
        deltas = {ln.id: rules.difference(ln.counted, ln.on_hand_at_count) for ln in lines}
        _record_posted(conn, deltas)
        _mark_counted(conn, lines, loc_id, cid)
        pairs = [(int(ln.product_id), loc_id) for ln in lines if deltas[ln.id] > 0]
        if pairs:
            backorders.allocate(conn, actor, pairs)
        view = views.view(conn, cid)
        audit(conn, actor, "post_count", "cycle_count", str(cid), after=views.summary(view))
        return view

    return db.write(work)


def _counted_lines(conn: Connection, cid: int) -> list[Any]:
    return list(
        conn.execute(
            select(CycleCountLine, Product.sku)
            .join(Product, Product.id == CycleCountLine.product_id)
            .where(CycleCountLine.count_id == cid, CycleCountLine.counted.is_not(None))
            .order_by(CycleCountLine.position)
        ).all()
    )


def _apply(conn: Connection, cid: int, loc_id: int, loc_code: str, lines: list[Any]) -> None:
    """The adjustments, one batch per counter (the ledger's actor is who counted)."""
    by_counter: dict[str, list[stock_sql.Move]] = defaultdict(list)
    for ln in lines:
        delta = rules.difference(ln.counted, ln.on_hand_at_count)
        if delta:
            by_counter[ln.counted_by or ""].append(
                stock_sql.Move(ln.product_id, loc_id, MovementKind.ADJUSTMENT, delta)
            )
    for counter in sorted(by_counter):
        refused = stock_sql.try_apply(
            conn, by_counter[counter], actor=counter, reason=REASON, reference=reference(cid)
        )
        if refused is not None:
            _refuse(conn, loc_id, loc_code, lines, refused.move.product_id)


def _refuse(conn: Connection, loc_id: int, loc_code: str, lines: list[Any], pid: int) -> None:
    i, line = next((i, ln) for i, ln in enumerate(lines) if ln.product_id == pid)
    on_hand, reserved = conn.execute(
        select(StockLevel.on_hand, StockLevel.reserved).where(
            StockLevel.product_id == pid, StockLevel.location_id == loc_id
        )
    ).one()
    delta = rules.difference(line.counted, line.on_hand_at_count)
    error = FieldError.of(
        f"lines[{i}].counted", "below_reserved", count=on_hand + delta, reserved=reserved
    )
    raise InsufficientStock(
        detail=f"{line.sku} at {loc_code} has {reserved} reserved; posting the count would "
        f"leave {on_hand + delta} on hand. Nothing was posted.",
        errors=[error],
    )


def _record_posted(conn: Connection, deltas: dict[int, int]) -> None:
    """Each counted line's posted difference: one statement for the whole count."""
    conn.execute(
        update(CycleCountLine)
        .where(CycleCountLine.id == bindparam("line_id"))
        .values(posted_delta=bindparam("delta")),
        [{"line_id": line_id, "delta": delta} for line_id, delta in deltas.items()],
    )


def _mark_counted(conn: Connection, lines: list[Any], loc_id: int, cid: int) -> None:
    """Each counted product's last count date at the location: one statement."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(StockCountDate)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["product_id", "location_id"],
            set_={
                "last_counted_at": stmt.excluded.last_counted_at,
                "count_id": stmt.excluded.count_id,
            },
        ),
        [
            {
                "product_id": ln.product_id,
                "location_id": loc_id,
                "last_counted_at": ln.counted_at,
                "count_id": cid,
            }
            for ln in lines
        ],
    )
