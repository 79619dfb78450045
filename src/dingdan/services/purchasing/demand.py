"""Demand per SKU, location and day (shared/CONTRACT.md, "Forecasts"): units ordered,
cancelled units left out, backordered units included, on the day the order was placed in
the seller's time zone.

A line's location is where it is allocated (the allocations table), else where its order
shipped from (shipped lines have no allocation left); a line that has neither (backordered,
nothing reserved yet) counts at the location that would be tried first (the lowest
priority, then the first made), where its stock will most likely come from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, func, select

from dingdan.db.order_tables import Allocation, Order, OrderLine, Shipment
from dingdan.db.tables import Location
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE

ALL = ""  # the location key of a SKU's demand at every location together


@dataclass
class Series:
    """Units per day from ``first_day`` to ``last_day`` (both included)."""

    first_day: date
    values: list[float]

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=len(self.values) - 1)


def local_day(at: datetime) -> date:
    return at.astimezone(SELLER_TIMEZONE).date()


def default_location(conn: Connection) -> str | None:
    return conn.execute(
        select(Location.code)
        .where(Location.active.is_(True))
        .order_by(Location.priority, Location.id)
        .limit(1)
    ).scalar()


def daily_units(
    conn: Connection, product_ids: Sequence[int], until: date, since: date | None = None
) -> dict[tuple[int, str], dict[date, float]]:
    """{(product id, location code or ALL): {day: units}} for days up to ``until`` included."""
    if not product_ids:
        return {}
    alloc = (
        select(Allocation.line_id, func.min(Allocation.location_id).label("loc"))
        .group_by(Allocation.line_id)
        .subquery()
    )
    shipped = (
        select(Shipment.order_id, func.min(Shipment.location_id).label("loc"))
        .group_by(Shipment.order_id)
        .subquery()
    )
    stmt = (
        select(
            OrderLine.product_id,
            Order.created_at,
            OrderLine.quantity - OrderLine.cancelled,
            func.coalesce(alloc.c.loc, shipped.c.loc),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .outerjoin(alloc, alloc.c.line_id == OrderLine.id)
        .outerjoin(shipped, shipped.c.order_id == Order.id)
        .where(
            OrderLine.product_id.in_(list(product_ids)),
            Order.status != "cancelled",
            OrderLine.quantity > OrderLine.cancelled,
        )
    )
    if since is not None:
        start = datetime.combine(since, datetime.min.time(), SELLER_TIMEZONE)
        stmt = stmt.where(Order.created_at >= start)
    codes = dict(conn.execute(select(Location.id, Location.code)).all())
    fallback = default_location(conn)
    out: dict[tuple[int, str], dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for product_id, created_at, units, location_id in conn.execute(stmt):
        day = local_day(created_at)
        if day > until:
            continue
        code = codes.get(location_id) if location_id is not None else fallback
        out[(int(product_id), ALL)][day] += units
        if code is not None:
            out[(int(product_id), code)][day] += units
    return out


def as_series(by_day: dict[date, float], until: date, max_days: int) -> Series | None:
    """The days from the first with demand (at most ``max_days`` back) to ``until``."""
    if not by_day:
        return None
    first = max(min(by_day), until - timedelta(days=max_days - 1))
    days = (until - first).days + 1
    if days <= 0:
        return None
    return Series(first, [by_day.get(first + timedelta(days=i), 0.0) for i in range(days)])


def weekly_units(by_day: dict[date, float], start: date, end: date) -> list[float]:
    """Units per ISO week touching ``start`` .. ``end`` (empty weeks included)."""
    weeks: dict[tuple[int, int], float] = {}
    day = start - timedelta(days=start.weekday())
    while day <= end:
        weeks[day.isocalendar()[:2]] = 0.0
        day += timedelta(days=7)
    for day, units in by_day.items():
        if start <= day <= end:
            weeks[day.isocalendar()[:2]] = weeks.get(day.isocalendar()[:2], 0.0) + units
    return list(weeks.values())


def sold_since(conn: Connection, since: datetime) -> Iterable[int]:
    """Products with lines on orders placed since ``since`` (cancelled or not)."""
    return conn.execute(
        select(OrderLine.product_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.created_at >= since)
        .distinct()
    ).scalars()
