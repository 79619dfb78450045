"""The inventory page's list: every active product, with or without a stock record (a new or
imported product must be found to receive stock into it), its stock summed over the
locations (or at one), and where it is; searched by SKU, name or barcode."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, or_, select

from dingdan.db.engine import Database
from dingdan.db.tables import Location, Product, StockLevel
from dingdan.services.shared.common import Page, check_limit, decode_cursor, like_pattern, page_of


def stock_by_product(
    db: Database,
    *,
    q: str | None = None,
    location: str | None = None,
    low_stock: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Active products by SKU, each with ``on_hand``, ``reserved``, ``available`` (0 without
    a stock record) and ``locations`` [(code, on_hand, reserved, available)]; ``q`` a
    case-insensitive substring of the SKU, name or barcode; ``low_stock`` keeps those whose
    available stock is at or under their threshold."""
    check_limit(limit)
    after = decode_cursor(cursor, str)
    levels = select(
        StockLevel.product_id,
        func.sum(StockLevel.on_hand).label("on_hand"),
        func.sum(StockLevel.reserved).label("reserved"),
    ).group_by(StockLevel.product_id)
    if location:
        levels = levels.join(Location, Location.id == StockLevel.location_id).where(
            Location.code == location
        )
    sums = levels.subquery()
    on_hand = func.coalesce(sums.c.on_hand, 0)
    reserved = func.coalesce(sums.c.reserved, 0)
    stmt = (
        select(
            Product.id,
            Product.sku,
            Product.name,
            Product.barcode,
            Product.low_stock_threshold,
            on_hand.label("on_hand"),
            reserved.label("reserved"),
        )
        .outerjoin(sums, sums.c.product_id == Product.id)
        .where(Product.active.is_(True))
        .order_by(Product.sku)
        .limit(limit + 1)
    )
    if q and q.strip() and "\x00" not in q:
        pattern = like_pattern(q.strip())
        stmt = stmt.where(
            or_(
                func.lower(Product.sku).like(pattern, escape="\\"),
                func.lower(Product.name).like(pattern, escape="\\"),
                func.lower(func.coalesce(Product.barcode, "")).like(pattern, escape="\\"),
            )
        )
    if low_stock:
        stmt = stmt.where(on_hand - reserved <= Product.low_stock_threshold)
    if after:
        stmt = stmt.where(Product.sku > after[0])

    def work(conn: Connection) -> tuple[list[Any], dict[int, list[dict[str, Any]]]]:
        rows = list(conn.execute(stmt))
        return rows, _where(conn, [r.id for r in rows[:limit]], location)

    rows, where = db.read(work)

    def item(r: Any) -> dict[str, Any]:
        return {
            "sku": r.sku,
            "name": r.name,
            "barcode": r.barcode,
            "on_hand": int(r.on_hand),
            "reserved": int(r.reserved),
            "available": int(r.on_hand) - int(r.reserved),
            "low_stock_threshold": r.low_stock_threshold,
            "locations": where.get(r.id, []),
        }

    return page_of(rows, limit, item, lambda r: (r.sku,))


def _where(
    conn: Connection, product_ids: list[int], location: str | None
) -> dict[int, list[dict[str, Any]]]:
    if not product_ids:
        return {}
    stmt = (
        select(StockLevel.product_id, Location.code, StockLevel.on_hand, StockLevel.reserved)
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.product_id.in_(product_ids))
        .order_by(StockLevel.product_id, Location.priority, Location.code)
    )
    if location:
        stmt = stmt.where(Location.code == location)
    out: dict[int, list[dict[str, Any]]] = {}
    for r in conn.execute(stmt):
        out.setdefault(r.product_id, []).append(
            {
                "location": r.code,
                "on_hand": r.on_hand,
                "reserved": r.reserved,
                "available": r.on_hand - r.reserved,
            }
        )
    return out
