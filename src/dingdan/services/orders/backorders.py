"""Backorders: units ordered that no location held, allocated when stock becomes available at
a location, inside the transaction that made it available: first to the orders whose address
the location serves (its regions, domain/shared/regions.py), oldest first, then to the
others, oldest first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from dingdan.db import stock as stock_sql
from dingdan.db.order_tables import Order, OrderEvent, OrderLine
from dingdan.db.tables import Location, StockLevel
from dingdan.db.types import utcnow
from dingdan.domain.inventory.stock import MovementKind
from dingdan.domain.shared import regions
from dingdan.services.orders.allocation import add_allocation, refresh_order
from dingdan.services.shared.common import Actor


def backordered_quantity(conn: Connection, product_id: int) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(OrderLine.backordered), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.product_id == product_id, OrderLine.backordered > 0, Order.status == "open"
        )
    ).scalar()
    return int(total or 0)


def _available(conn: Connection, product_id: int, location_id: int) -> int:
    row = conn.execute(
        select(StockLevel.on_hand - StockLevel.reserved).where(
            StockLevel.product_id == product_id, StockLevel.location_id == location_id
        )
    ).first()
    return int(row[0]) if row else 0


def _waiting(conn: Connection, product_id: int, serves: list[str] | None = None) -> list[Any]:
    """Backordered lines of open orders: those whose address a location serving ``serves``
    serves first (empty or None: every address), oldest order first in each. Their order
    rows are locked first and the lines read afresh after, so that a cancel or an edit that
    committed while we waited is seen (a line of a cancelled order is never allocated)."""
    candidates = select(OrderLine.order_id).where(
        OrderLine.product_id == product_id, OrderLine.backordered > 0
    )
    conn.execute(
        select(Order.id)
        .where(Order.id.in_(candidates), Order.status == "open")
        .order_by(Order.id)
        .with_for_update()
    ).all()
    lines = list(
        conn.execute(
            select(
                OrderLine.id,
                OrderLine.order_id,
                OrderLine.product_id,
                OrderLine.backordered,
                OrderLine.sku,
                Order.number,
                Order.shipping_address,
            )
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                OrderLine.product_id == product_id,
                OrderLine.backordered > 0,
                Order.status == "open",
            )
            .order_by(OrderLine.order_id, OrderLine.id)
        )
    )
    if not serves:
        return lines
    here = [regions.serves(serves, regions.address_regions(ln.shipping_address)) for ln in lines]
    return [ln for ln, ok in zip(lines, here, strict=True) if ok] + [
        ln for ln, ok in zip(lines, here, strict=True) if not ok
    ]


def allocate(conn: Connection, actor: Actor, pairs: Iterable[tuple[int, int]]) -> int:
    """Allocate waiting backorders of each (product, location) from what is available there.
    Returns the units allocated. The caller's transaction makes it atomic with the arrival."""
    total = 0
    for product_id, location_id in sorted(set(pairs)):
        loc = conn.execute(
            select(Location.active, Location.regions).where(Location.id == location_id)
        ).first()
        if loc is None or not loc.active:
            continue
        for line in _waiting(conn, product_id, loc.regions):
            free = _available(conn, product_id, location_id)
            if free <= 0:
                break
            qty = min(free, int(line.backordered))
            move = stock_sql.Move(product_id, location_id, MovementKind.RESERVATION, 0, qty)
            if stock_sql.try_apply(
                conn,
                [move],
                actor=actor.name,
                reason="backorder",
                reference=line.number,
            ):
                break
            _record(conn, actor, line, location_id, qty)
            total += qty
    return total


def _record(conn: Connection, actor: Actor, line: Any, location_id: int, qty: int) -> None:
    conn.execute(
        update(OrderLine)
        .where(OrderLine.id == line.id)
        .values(backordered=OrderLine.backordered - qty, allocated=OrderLine.allocated + qty)
    )
    add_allocation(conn, line.order_id, line.id, line.product_id, location_id, qty)
    conn.execute(
        insert(OrderEvent).values(
            order_id=line.order_id,
            kind="allocated",
            actor=actor.name,
            message=f"{qty} × {line.sku} allocated from backorder",
            data={"sku": line.sku, "quantity": qty, "location_id": location_id},
            created_at=utcnow(),
        )
    )
    refresh_order(conn, line.order_id)
