"""Seeing stock-outs coming (issue 23, part 6): per SKU and location, the day stock is
expected to run out, from what is available now, what is on order (with its expected day)
and the stored forecast of that location's demand.

Stock on order is the open purchase orders' lines (sent or partially received: ordered
minus received), each arriving at its PO's location on the PO's expected day, or, without
one, the day it was sent plus the supplier's lead time (``on_order`` may be passed instead,
``{(sku, location): [(expected day, units)]}``). The lead time (how soon a delivery ordered
today could arrive) is the SKU's preferred supplier's, else the setting
``planning_lead_time_days`` (default 14); ``lead_times`` may override it per SKU. SKUs whose
forecast was never computed are left out (the worker computes every SKU nightly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.forecast_tables import Forecast
from dingdan.db.purchasing_tables import (
    ON_ORDER_STATUSES,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)
from dingdan.db.tables import Location, Product, Setting, StockLevel
from dingdan.domain.purchasing import planning as rules
from dingdan.services.purchasing.demand import ALL, local_day
from dingdan.services.purchasing.forecasts import seller_today
from dingdan.services.purchasing.shapes import StockoutView

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


def open_purchase_lines(conn: Connection, product_ids: list[int]) -> dict[tuple[str, str], list]:
    """The open POs' outstanding units per (SKU, location code): [(expected day, units)]."""
    if not product_ids:
        return {}
    rows = conn.execute(
        select(
            PurchaseOrderLine.sku,
            Location.code,
            PurchaseOrder.expected_date,
            PurchaseOrder.sent_at,
            Supplier.lead_time_days,
            PurchaseOrderLine.quantity - PurchaseOrderLine.received,
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(Location, Location.id == PurchaseOrder.location_id)
        .where(
            PurchaseOrderLine.product_id.in_(product_ids),
            PurchaseOrder.status.in_(ON_ORDER_STATUSES),
            PurchaseOrderLine.received < PurchaseOrderLine.quantity,
        )
    )
    out: dict[tuple[str, str], list[tuple[date, int]]] = {}
    for sku, code, expected, sent_at, lead, units in rows:
        if expected is None:
            sent = local_day(sent_at) if sent_at is not None else seller_today()
            expected = sent + timedelta(days=int(lead))
        out.setdefault((sku, code), []).append((expected, int(units)))
    return out


def supplier_lead_times(conn: Connection, product_ids: list[int]) -> dict[str, int]:
    """Each SKU's preferred supplier's lead time (days), where it has one."""
    if not product_ids:
        return {}
    rows = conn.execute(
        select(Product.sku, Supplier.lead_time_days)
        .join(Supplier, Supplier.id == Product.preferred_supplier_id)
        .where(Product.id.in_(product_ids))
    )
    return {sku: int(days) for sku, days in rows}


def _forecasts(conn: Connection, product_ids: list[int]) -> dict[tuple[int, str], Any]:
    if not product_ids:
        return {}
    rows = conn.execute(
        select(
            Forecast.product_id,
            Forecast.location,
            Forecast.first_day,
            Forecast.daily,
            Forecast.error_stdev,
        ).where(Forecast.product_id.in_(product_ids))
    )
    return {(r.product_id, r.location): r for r in rows}


def expected_stockout(
    today: date,
    available: int,
    forecast: Any,
    arriving: Sequence[tuple[date, int]],
    flat_mean: float = 0.0,
    flat_days: int = 365,
) -> date | None:
    """The stock-out day (domain/purchasing/planning.stockout_date) from a kept forecast row
    (its days from tomorrow) or, without one, ``flat_mean`` a day for ``flat_days`` days;
    the on-order lines ``arriving`` each on its day. Also replenishment's rule
    (services/purchasing/positions.py)."""
    if forecast is not None:
        offset = max(0, (today + timedelta(days=1) - forecast.first_day).days)
        daily = [float(Decimal(v)) for v in forecast.daily[offset:]]
    else:
        daily = [flat_mean] * flat_days if flat_mean > 0 else []
    return rules.stockout_date(today, available, daily, arriving)


def kept_forecasts(conn: Connection, product_ids: list[int]) -> dict[tuple[int, str], Any]:
    """The kept forecast rows of these products: (product id, location key) → row."""
    return _forecasts(conn, product_ids)


def stockouts(
    db: Database,
    *,
    sku: str | None = None,
    location: str | None = None,
    on_order: OnOrder | None = None,
    lead_times: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> list[StockoutView]:
    """Every SKU and location with a forecast: its expected stock-out day (None: not within
    the forecast's year), soonest first; ``before_delivery`` when that is before a delivery
    ordered today could arrive."""
    today = seller_today(now)

    def work(conn: Connection) -> tuple[list[Any], Any, int, Any, Any]:
        levels = _levels(conn, sku, location)
        ids = sorted({r.id for r in levels})
        coming = open_purchase_lines(conn, ids) if on_order is None else on_order
        leads = {**supplier_lead_times(conn, ids), **(lead_times or {})}
        return levels, _forecasts(conn, ids), lead_time_days(conn), coming, leads

    levels, forecasts, default_lead, on_order, lead_times = db.read(work)
    out: list[StockoutView] = []
    for level in levels:
        row = forecasts.get((level.id, level.code))
        if row is None:
            continue
        arriving = list((on_order or {}).get((level.sku, level.code), ()))
        day = expected_stockout(today, level.available, row, arriving)
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


def running_out(db: Database, now: datetime | None = None, **kw: Any) -> list[StockoutView]:
    """The SKUs that will run out before the next delivery could arrive."""
    return [i for i in stockouts(db, now=now, **kw) if i["before_delivery"]]


__all__ = ["ALL", "lead_time_days", "running_out", "stockouts"]
