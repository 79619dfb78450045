"""KPIs of a range (shared/CONTRACT.md, "Reports"), from the daily rollups; every figure is
of the orders placed in the range (refunds, shipments, returns and ratings count on their
order's day). Rates are numbers from 0 to 1 (None when nothing to divide by). Each
definition is in ``DEFINITIONS`` (the KPI page shows them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.engine import Database
from dingdan.db.tables import StockLevel
from dingdan.services.reports import rollup_reads as rr
from dingdan.services.reports.dashboard import stage_limits
from dingdan.services.reports.shapes import Figures, KpisView

SHIP_STAGES = ("picking", "packing", "shipping")

# name -> its definition (English; the pages translate them).
DEFINITIONS: dict[str, str] = {
    "orders": "Orders placed in the range, cancelled ones left out.",
    "revenue": "Their totals (lines, shipping and tax) less their refunds.",
    "average_order_value": "Revenue divided by orders.",
    "cancel_rate": "Cancelled orders divided by all orders placed.",
    "return_rate": "Units received back on returns divided by units shipped.",
    "fill_rate": "Units ordered less units backordered when the order was placed, divided "
    "by units ordered.",
    "backorder_rate": "Orders with a unit backordered when placed, divided by all orders.",
    "on_time_ship_rate": "Shipped orders whose first shipment left within the picking, "
    "packing and shipping stage limits added up (from placement), divided by shipped orders.",
    "median_hours_to_ship": "The median of whole hours from placement to the first shipment.",
    "p90_hours_to_ship": "The 90th percentile of the same.",
    "perfect_order_rate": "Shipped orders shipped complete, on time, without a delivery "
    "exception and not returned as damaged, defective or wrong, divided by shipped orders.",
    "inventory_turnover": "Units shipped divided by the units on hand now.",
    "days_of_supply": "Units on hand now divided by the units shipped per day of the range.",
    "csat": "Ratings of 4 or 5 divided by all ratings the customers gave these orders.",
    "average_rating": "The average of those ratings (1 to 5).",
}


def ship_limit_hours(db: Database) -> int:
    limits = stage_limits(db)
    return int(sum(float(limits[s]["hours"]) for s in SHIP_STAGES))


def _on_time(hist: list[tuple[int, int]], limit: int) -> int:
    return sum(c for hours, c in hist if hours < limit)


def _ratings(conn: Connection, rng: rr.Range) -> tuple[int, int, int]:
    """(ratings, ratings of 4 or 5, stars in all) of the range's orders, from the rollups."""
    rows = rr.by_key(conn, rng, "rating")
    count = sum(s.orders for s in rows.values())
    good = sum(s.orders for k, s in rows.items() if int(k) >= 4)
    return count, good, sum(int(k) * s.orders for k, s in rows.items())


def kpis(
    db: Database, date_from: Any = None, date_to: Any = None, currency: Any = None
) -> KpisView:
    """``{"from", "to", "currency", "orders", "revenue", "average_order_value",
    "cancel_rate", "return_rate", "fill_rate", "backorder_rate", "on_time_ship_rate",
    "median_hours_to_ship", "p90_hours_to_ship", "perfect_order_rate",
    "inventory_turnover", "days_of_supply", "csat", "average_rating", "ratings",
    "ship_limit_hours", "previous": {the same figures of the period before}}``."""
    limit = ship_limit_hours(db)

    def work(conn: Connection) -> KpisView:
        rng = rr.period(conn, date_from, date_to, currency)
        on_hand = int(conn.execute(select(func.sum(StockLevel.on_hand))).scalar() or 0)
        now = figures(conn, rng, limit, on_hand)
        return {**rng.as_dict(), **now, "ship_limit_hours": limit,
                "previous": figures(conn, rng.previous(), limit, on_hand)}  # fmt: skip

    return db.read(work)


def figures(conn: Connection, rng: rr.Range, limit: int, on_hand: int) -> Figures:
    """The KPIs of one range."""
    dims = ("total", "placed", "cancelled", "backorder", "shipped", "returned")
    s = {d: rr.total(conn, rng, d) for d in dims}
    ship = rr.histogram(rr.by_key(conn, rng, "ship_hours"))
    perfect = rr.histogram(rr.by_key(conn, rng, "perfect_hours"))
    shipped_orders, shipped_units = s["shipped"].orders, s["shipped"].units
    ratings, good, stars = _ratings(conn, rng)
    per_day = shipped_units / rng.days
    return {
        "orders": s["total"].orders,
        "revenue": rng.money(s["total"].revenue),
        "average_order_value": rr.average(rng, s["total"].revenue, s["total"].orders),
        "cancel_rate": rr.ratio(s["cancelled"].orders, s["placed"].orders),
        "return_rate": rr.ratio(s["returned"].units, shipped_units),
        "fill_rate": rr.ratio(s["placed"].units - s["backorder"].units, s["placed"].units),
        "backorder_rate": rr.ratio(s["backorder"].orders, s["placed"].orders),
        "on_time_ship_rate": rr.ratio(_on_time(ship, limit), shipped_orders),
        "median_hours_to_ship": rr.quantile(ship, 0.5),
        "p90_hours_to_ship": rr.quantile(ship, 0.9),
        "perfect_order_rate": rr.ratio(_on_time(perfect, limit), shipped_orders),
        "inventory_turnover": round(shipped_units / on_hand, 4) if on_hand > 0 else None,
        "days_of_supply": round(on_hand / per_day, 1) if per_day > 0 else None,
        "csat": rr.ratio(good, ratings),
        "average_rating": round(stars / ratings, 2) if ratings else None,
        "ratings": ratings,
    }
