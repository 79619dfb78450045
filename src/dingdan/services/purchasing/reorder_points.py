"""Reorder points a location sets for itself (issue 23: "per location where a location sets
its own"). At a location the reorder point is, first found: the location's own for the
product, the product's own (``products.reorder_point``, the contract's PATCH), else the one
replenishment computes from the forecast and the supplier's lead time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.purchasing_tables import LocationReorderPoint
from dingdan.db.tables import Location, Product
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.domain.shared.numbers import MAX_INT
from dingdan.services.purchasing.shapes import ReorderPointCommand, ReorderPointsView
from dingdan.services.shared.common import Actor, audit


def by_pair(conn: Connection) -> dict[tuple[int, int], int]:
    """Every location's own point: (product id, location id) → units."""
    rows = conn.execute(
        select(
            LocationReorderPoint.product_id,
            LocationReorderPoint.location_id,
            LocationReorderPoint.reorder_point,
        )
    )
    return {(int(p), int(loc)): int(q) for p, loc, q in rows}


def _product(conn: Connection, sku: str) -> Any:
    row = conn.execute(
        select(Product.id, Product.sku, Product.reorder_point).where(Product.sku == sku)
    ).first()
    if row is None:
        raise NotFound(detail=f"No product with SKU {sku!r}.")
    return row


def _view(conn: Connection, product: Any) -> ReorderPointsView:
    rows = conn.execute(
        select(Location.code, LocationReorderPoint.reorder_point)
        .join(Location, Location.id == LocationReorderPoint.location_id)
        .where(LocationReorderPoint.product_id == product.id)
        .order_by(Location.code)
    ).all()
    return {
        "sku": product.sku,
        "reorder_point": product.reorder_point,
        "locations": [{"location": code, "reorder_point": int(q)} for code, q in rows],
    }


def get(db: Database, sku: str) -> ReorderPointsView:
    return db.read(lambda conn: _view(conn, _product(conn, sku)))


def check_point(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.on("reorder_point", "below_zero")
    if value < 0:
        raise ValidationFailed.on("reorder_point", "below_zero")
    if value > MAX_INT:
        raise ValidationFailed.on("reorder_point", "too_large")
    return value


def put(
    db: Database, actor: Actor, sku: str, location: str, data: ReorderPointCommand
) -> ReorderPointsView:
    """Set the location's own point (``{"reorder_point": units}``), or drop it (``null``:
    the product's point applies there again); checked here."""
    point = check_point(data.get("reorder_point"))

    def work(conn: Connection) -> ReorderPointsView:
        product = _product(conn, sku)
        loc = conn.execute(select(Location.id).where(Location.code == location)).scalar()
        if loc is None:
            raise NotFound(detail=f"No location {location!r}.")
        before = _view(conn, product)
        key = (LocationReorderPoint.product_id == product.id) & (
            LocationReorderPoint.location_id == loc
        )
        if point is None:
            conn.execute(delete(LocationReorderPoint).where(key))
        else:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            values = {"reorder_point": point, "updated_by": actor.name, "updated_at": utcnow()}
            stmt = dialect.insert(LocationReorderPoint).values(
                product_id=product.id, location_id=loc, **values
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["product_id", "location_id"], set_=values
                )
            )
        after = _view(conn, product)
        audit(conn, actor, "update", "reorder_points", product.sku, before=before, after=after)
        return after

    return db.write(work)
