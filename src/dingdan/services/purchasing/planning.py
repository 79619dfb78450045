"""Seeing stock-outs coming (issue 23, part 6): per SKU and location, the day stock is
expected to run out, from what is available now, what is on order (with its expected day)
and the stored forecast of that location's demand.

Purchase orders are not on this branch: ``on_order`` is a parameter, ``{(sku, location):
[(expected day, units)]}``, empty by default (replenishment passes what its sent POs
expect). The lead time (how soon a delivery ordered today could arrive) is the setting
``planning_lead_time_days`` (default 14) until suppliers give one per SKU (``lead_times``).
SKUs whose forecast was never computed are left out (the worker computes every SKU nightly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.forecast_tables import Forecast
from dingdan.db.tables import Location, Product, Setting, StockLevel
from dingdan.domain.purchasing import planning as rules
from dingdan.services.purchasing.demand import ALL
from dingdan.services.purchasing.forecasts import seller_today

LEAD_TIME_KEY = "planning_lead_time_days"
LEAD_TIME_DAYS = 14
OnOrder = Mapping[tuple[str, str], Sequence[tuple[date, int]]]


def lead_time_days(conn: Connection) -> int:
    value = conn.execute(select(Setting.value).where(Setting.key == LEAD_TIME_KEY)).scalar()
    try:
        days = int(value) if value is not None else LEAD_TIME_DAYS
    except (TypeError, ValueError):
        return LEAD_TIME_DAYS
    return days if 0 <= days <= 365 else LEAD_TIME_DAYS


def _levels(conn: Connection, sku: str | None, location: str | None) -> list[Any]:
    stmt = (
        select(
            Product.id,
            Product.sku,
            Product.name,
            Location.code,
            (StockLevel.on_hand - StockLevel.reserved).label("available"),
        )
        .join(StockLevel, StockLevel.product_id == Product.id)
        .join(Location, Location.id == StockLevel.location_id)
        .where(Product.active.is_(True), Location.active.is_(True))
        .order_by(Product.sku, Location.code)
    )
    if sku is not None:
        stmt = stmt.where(Product.sku == sku)
    if location is not None:
        stmt = stmt.where(Location.code == location)
    return list(conn.execute(stmt))


def _forecasts(conn: Connection, product_ids: list[int]) -> dict[tuple[int, str], Any]:
    if not product_ids:
        return {}
    rows = conn.execute(
        select(Forecast.product_id, Forecast.location, Forecast.first_day, Forecast.daily).where(
            Forecast.product_id.in_(product_ids)
        )
    )
    return {(r.product_id, r.location): r for r in rows}


def stockouts(
    db: Database,
    *,
    sku: str | None = None,
    location: str | None = None,
    on_order: OnOrder | None = None,
    lead_times: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every SKU and location with a forecast: its expected stock-out day (None: not within
    the forecast's year), soonest first; ``before_delivery`` when that is before a delivery
    ordered today could arrive."""
    today = seller_today(now)

    def work(conn: Connection) -> tuple[list[Any], dict[tuple[int, str], Any], int]:
        levels = _levels(conn, sku, location)
        return levels, _forecasts(conn, sorted({r.id for r in levels})), lead_time_days(conn)

    levels, forecasts, default_lead = db.read(work)
    out = []
    for level in levels:
        row = forecasts.get((level.id, level.code))
        if row is None:
            continue
        offset = max(0, (today + timedelta(days=1) - row.first_day).days)
        daily = [float(Decimal(v)) for v in row.daily[offset:]]
        arriving = list((on_order or {}).get((level.sku, level.code), ()))
        day = rules.stockout_date(today, level.available, daily, arriving)
        lead = (lead_times or {}).get(level.sku, default_lead)
        out.append(
            {
                "sku": level.sku,
                "name": level.name,
                "location": level.code,
                "available": int(level.available),
                "on_order": sum(q for _, q in arriving),
                "stockout_date": day.isoformat() if day else None,
                "days_left": (day - today).days if day else None,
                "lead_time_days": lead,
                "before_delivery": day is not None and day < today + timedelta(days=lead),
            }
        )
    return sorted(out, key=lambda i: (i["stockout_date"] or "9999", i["sku"], i["location"]))


def running_out(db: Database, now: datetime | None = None, **kw: Any) -> list[dict[str, Any]]:
    """The SKUs that will run out before the next delivery could arrive."""
    return [i for i in stockouts(db, now=now, **kw) if i["before_delivery"]]


__all__ = ["ALL", "lead_time_days", "running_out", "stockouts"]
