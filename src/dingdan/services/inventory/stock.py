"""Stock use cases: receipts, adjustments, transfers, the stock query, the ledger, verify."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db import stock as stock_sql
from dingdan.db.engine import Database
from dingdan.db.purchasing_tables import on_order
from dingdan.db.tables import Location, Product, StockLevel, StockMovement
from dingdan.domain.inventory.stock import MovementKind, check_lines, reason_code
from dingdan.domain.shared.errors import FieldErrors, InsufficientStock, NotFound, ValidationFailed
from dingdan.services.inventory.locations import fetch as fetch_location
from dingdan.services.inventory.locations import receiving
from dingdan.services.inventory.shapes import (
    AdjustmentCommand,
    AdjustmentView,
    LedgerDifference,
    ReceiptCommand,
    ReceiptView,
    SkuLevelView,
    StockLineIn,
    StockLineOut,
    TransferCommand,
    TransferView,
)
from dingdan.services.orders import backorders
from dingdan.services.shared.common import Actor, Page, check_limit, decode_cursor, iso, page_of
from dingdan.services.shared.view_types import LocationLevelView, StockView


def product_ids(conn: Connection, skus: Sequence[str], field: str = "lines") -> dict[str, int]:
    """Ids of the SKUs a body names; every unknown one is a 422 on its own line's field."""
    found = dict(
        conn.execute(select(Product.sku, Product.id).where(Product.sku.in_(set(skus)))).all()
    )
    errors = FieldErrors()
    for i, sku in enumerate(skus):
        if sku not in found:
            errors.add(f"{field}[{i}].sku", "unknown_sku", sku=sku)
    errors.raise_if_any("The request names products that do not exist.")
    return {str(k): int(v) for k, v in found.items()}


def _level(conn: Connection, product_id: int, location_id: int) -> tuple[int, int]:
    row = conn.execute(
        select(StockLevel.on_hand, StockLevel.reserved).where(
            StockLevel.product_id == product_id, StockLevel.location_id == location_id
        )
    ).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _level_view(conn: Connection, sku: str, pid: int, loc: Any) -> SkuLevelView:
    on_hand, reserved = _level(conn, pid, loc.id)
    return {
        "sku": sku,
        "location": loc.code,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
    }


def _checked_lines(lines: list[StockLineIn] | None) -> list[StockLineOut]:
    """A command's lines once ``check_lines`` accepted them."""
    checked: list[StockLineOut] = []
    for ln in lines or []:
        sku, quantity = ln["sku"], ln["quantity"]
        assert sku is not None and quantity is not None  # check_lines refused a missing one
        checked.append({"sku": sku, "quantity": quantity})
    return checked


def receive(db: Database, actor: Actor, data: ReceiptCommand) -> ReceiptView:
    errors = FieldErrors()
    check_lines(data.get("lines"), errors)
    errors.raise_if_any()
    lines = _checked_lines(data.get("lines"))

    def work(conn: Connection) -> ReceiptView:
        loc = receiving(conn, data.get("location") or "", field="location")
        ids = product_ids(conn, [ln["sku"] for ln in lines])
        moves = [
            stock_sql.Move(ids[ln["sku"]], loc.id, MovementKind.RECEIPT, ln["quantity"])
            for ln in lines
        ]
        stock_sql.apply(
            conn, moves, actor=actor.name, reason="receipt", reference=data.get("reference")
        )
        backorders.allocate(conn, actor, [(m.product_id, loc.id) for m in moves])
        return {
            "location": loc.code,
            "reference": data.get("reference"),
            "lines": [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in lines],
            "levels": [_level_view(conn, ln["sku"], ids[ln["sku"]], loc) for ln in lines],
        }

    return db.write(work)


def adjust(db: Database, actor: Actor, data: AdjustmentCommand) -> AdjustmentView:
    errors = FieldErrors()
    delta, reason = data.get("delta"), data.get("reason")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        errors.add("delta", "zero_delta")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
        errors.add("reason", "required_text", max=200)
    errors.raise_if_any()
    assert isinstance(delta, int) and isinstance(reason, str)

    def work(conn: Connection) -> AdjustmentView:
        loc = fetch_location(conn, data.get("location") or "", field="location")
        sku = data.get("sku")
        pid = _one_product(conn, sku)
        assert sku is not None  # _one_product refused a missing one
        move = stock_sql.Move(pid, loc.id, MovementKind.ADJUSTMENT, delta)
        if stock_sql.try_apply(
            conn, [move], actor=actor.name, reason=reason.strip(), reference=data.get("reference")
        ):
            on_hand, reserved = _level(conn, pid, loc.id)
            raise InsufficientStock(
                detail=f"{sku} at {loc.code} has {on_hand} on hand and {reserved} "
                f"reserved; a change of {delta} would leave less on hand than is reserved."
            )
        if delta > 0:
            backorders.allocate(conn, actor, [(pid, loc.id)])
        view = _level_view(conn, sku, pid, loc)
        return {
            **view,
            "delta": delta,
            "reason": reason.strip(),
            "reason_code": reason_code(reason).value,
        }

    return db.write(work)


def _one_product(conn: Connection, sku: Any) -> int:
    if not isinstance(sku, str) or not sku:
        raise ValidationFailed.on("sku", "required")
    pid = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
    if pid is None:
        raise ValidationFailed.on("sku", "unknown_sku", sku=sku)
    return int(pid)


def transfer(db: Database, actor: Actor, data: TransferCommand) -> TransferView:
    """Move stock between locations in one transaction: both sides or neither."""
    errors = FieldErrors()
    check_lines(data.get("lines"), errors)
    if data.get("from_location") == data.get("to_location"):
        errors.add("to_location", "same_location")
    errors.raise_if_any()
    lines = _checked_lines(data.get("lines"))

    def work(conn: Connection) -> TransferView:
        src = fetch_location(conn, data.get("from_location") or "", field="from_location")
        dst = receiving(conn, data.get("to_location") or "", field="to_location")
        ids = product_ids(conn, [ln["sku"] for ln in lines])
        moves = []
        for ln in lines:
            pid, qty = ids[ln["sku"]], ln["quantity"]
            moves += [
                stock_sql.Move(pid, src.id, MovementKind.TRANSFER_OUT, -qty),
                stock_sql.Move(pid, dst.id, MovementKind.TRANSFER_IN, qty),
            ]
        refused = stock_sql.try_apply(
            conn, moves, actor=actor.name, reason="transfer", reference=data.get("reference")
        )
        if refused:
            sku = next(s for s, p in ids.items() if p == refused.move.product_id)
            raise InsufficientStock(
                detail=f"{src.code} does not have enough {sku} available to transfer."
            )
        backorders.allocate(conn, actor, [(ids[ln["sku"]], dst.id) for ln in lines])
        return {
            "from_location": src.code,
            "to_location": dst.code,
            "reference": data.get("reference"),
            "lines": [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in lines],
        }

    return db.write(work)


def stock_of(db: Database, sku: str) -> StockView:
    """The contract's stock view of one SKU, summed over locations."""

    def work(conn: Connection) -> StockView:
        pid = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
        if pid is None:
            raise NotFound(detail=f"No product with SKU {sku!r}.")
        rows = conn.execute(
            select(Location.code, StockLevel.on_hand, StockLevel.reserved)
            .join(Location, Location.id == StockLevel.location_id)
            .where(StockLevel.product_id == pid)
            .order_by(Location.priority, Location.code)
        ).all()
        locs: list[LocationLevelView] = [
            {"location": c, "on_hand": oh, "reserved": r, "available": oh - r} for c, oh, r in rows
        ]
        on_hand = sum(int(oh) for _, oh, _ in rows)
        reserved = sum(int(r) for _, _, r in rows)
        return {
            "sku": sku,
            "on_hand": on_hand,
            "reserved": reserved,
            "available": on_hand - reserved,
            "backordered": backorders.backordered_quantity(conn, int(pid)),
            "on_order": on_order(conn, [int(pid)]).get(int(pid), 0),
            "locations": locs,
        }

    return db.read(work)


def movements(
    db: Database,
    sku: str,
    *,
    location: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """The ledger of one SKU, newest first."""
    check_limit(limit)
    after = decode_cursor(cursor, int)

    def work(conn: Connection) -> list[Any]:
        pid = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
        if pid is None:
            raise NotFound(detail=f"No product with SKU {sku!r}.")
        stmt = (
            select(StockMovement, Location.code.label("location_code"))
            .join(Location, Location.id == StockMovement.location_id)
            .where(StockMovement.product_id == pid)
            .order_by(StockMovement.id.desc())
            .limit(limit + 1)
        )
        if location:
            stmt = stmt.where(Location.code == location)
        if after:
            stmt = stmt.where(StockMovement.id < after[0])
        return list(conn.execute(stmt))

    def item(m: Any) -> dict[str, Any]:
        return {
            "id": str(m.id),
            "sku": sku,
            "location": m.location_code,
            "kind": m.kind,
            "on_hand_delta": m.on_hand_delta,
            "reserved_delta": m.reserved_delta,
            "reason": m.reason,
            "reference": m.reference,
            "actor": m.actor,
            "created_at": iso(m.created_at),
        }

    return page_of(db.read(work), limit, item, lambda m: (int(m.id),))


def levels(
    db: Database,
    *,
    location: str | None = None,
    low_stock: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Levels per (SKU, location), by SKU; ``low_stock`` keeps those at or under threshold."""
    check_limit(limit)
    after = decode_cursor(cursor, str, str)
    stmt = (
        select(
            Product.sku,
            Product.name,
            Product.low_stock_threshold,
            Location.code,
            StockLevel.on_hand,
            StockLevel.reserved,
        )
        .join(Product, Product.id == StockLevel.product_id)
        .join(Location, Location.id == StockLevel.location_id)
        .order_by(Product.sku, Location.code)
        .limit(limit + 1)
    )
    if location:
        stmt = stmt.where(Location.code == location)
    if low_stock:
        stmt = stmt.where(StockLevel.on_hand - StockLevel.reserved <= Product.low_stock_threshold)
    if after:
        stmt = stmt.where(
            (Product.sku > after[0]) | ((Product.sku == after[0]) & (Location.code > after[1]))
        )
    rows = db.read(lambda conn: list(conn.execute(stmt)))

    def item(r: Any) -> dict[str, Any]:
        return {
            "sku": r.sku,
            "name": r.name,
            "location": r.code,
            "on_hand": r.on_hand,
            "reserved": r.reserved,
            "available": r.on_hand - r.reserved,
            "low_stock_threshold": r.low_stock_threshold,
        }

    return page_of(rows, limit, item, lambda r: (r.sku, r.code))


def verify(db: Database) -> list[LedgerDifference]:
    """Every level that differs from its ledger, named by SKU and location code."""

    def work(conn: Connection) -> list[LedgerDifference]:
        diffs = stock_sql.verify(conn)
        if not diffs:
            return []
        skus = dict(conn.execute(select(Product.id, Product.sku)).all())
        codes = dict(conn.execute(select(Location.id, Location.code)).all())
        return [
            {
                "sku": skus.get(d.product_id, str(d.product_id)),
                "location": codes.get(d.location_id, str(d.location_id)),
                "level": {"on_hand": d.level_on_hand, "reserved": d.level_reserved},
                "ledger": {"on_hand": d.ledger_on_hand, "reserved": d.ledger_reserved},
            }
            for d in diffs
        ]

    return db.read(work)


def total_levels(db: Database) -> dict[str, int]:
    def work(conn: Connection) -> dict[str, int]:
        on_hand, reserved = conn.execute(
            select(
                func.coalesce(func.sum(StockLevel.on_hand), 0),
                func.coalesce(func.sum(StockLevel.reserved), 0),
            )
        ).one()
        return {"on_hand": int(on_hand), "reserved": int(reserved)}

    return db.read(work)
