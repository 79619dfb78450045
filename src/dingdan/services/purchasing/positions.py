"""The one rule for "this SKU is low at this location" (issue 23). The staff alerts
(services/jobs/staff_alerts.py), /replenishment (its suggestions and stock-out dates), the
dashboard's low-stock tile and the stock page's reorder points all read ``positions``:

- position: available (on hand - reserved) + on order, on order being the open purchase
  orders' outstanding lines at the PO's location (``planning.open_purchase_lines``: the
  lines planning's stock-out dates count, each arriving on its expected day);
- level (``domain/purchasing/reorder.governing_point``), first found: the location's own
  reorder point (reorder_points.py), the product's own, the one computed from demand
  (demand over the lead time + safety stock at the service level; only with demand), the
  product's low-stock threshold where the location holds the SKU (has a stock level row);
- low: position <= level;
- stock-out date: planning's (``planning.expected_stockout``) on the location's kept
  forecast, else on a flat forecast of the recent mean, with the on-order lines arriving.

Demand (``daily_demand`` for one SKU, ``_demand`` for many): the mean and deviation per day
over the next ``HISTORY_DAYS`` from the worker's kept forecast where one covers them (the
deviation its backtest's daily error), else over the last ``HISTORY_DAYS`` whole days of
orders (units ordered per day in the seller's time zone, cancelled orders left out,
backorders included). A location's share of recent demand is its share of the SKU's
reservations in those days (from the ledger; all to the first location by priority when
nothing was reserved), so that the locations' demands add up to the whole. The lead time is
the preferred supplier's, else planning's ``planning_lead_time_days``.

Everything is read in a handful of queries for all SKUs at once (no query per SKU).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.purchasing_tables import Supplier
from dingdan.db.tables import Location, Product, StockLevel, StockMovement
from dingdan.db.types import utcnow
from dingdan.domain.inventory.stock import MovementKind
from dingdan.domain.purchasing import reorder
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.inventory.locations import fetch as fetch_location
from dingdan.services.purchasing import forecasts, planning, reorder_points
from dingdan.services.purchasing.demand import ALL
from dingdan.services.purchasing.shapes import PositionView

HISTORY_DAYS = 56
SERVICE_LEVEL = reorder.DEFAULT_SERVICE_LEVEL


@dataclass(frozen=True)
class StockPosition:
    product_id: int
    sku: str
    name: str
    location: str
    available: int
    on_order: int
    location_point: int | None  # the location's own reorder point
    product_point: int | None  # the product's own, set by hand
    computed_point: int | None  # from demand and the lead time (None without demand)
    threshold: int | None  # the low-stock threshold, where the location holds the SKU
    point: int | None  # the one that governs: the first of the four above
    source: str | None  # location | product | computed | threshold
    mean: float
    sigma: float
    supplier: Any  # the preferred supplier's row, or None
    lead_time_days: int
    stockout_date: date | None

    @property
    def low(self) -> bool:
        if self.point is None:
            return False
        return reorder.needs_order(reorder.Position(self.available, self.on_order), self.point)


# ---- demand --------------------------------------------------------------------------------


def today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(SELLER_TIMEZONE).date()


def _window(now: datetime | None) -> tuple[date, datetime, datetime]:
    """The first of the ``HISTORY_DAYS`` whole days before today, and the window as UTC."""
    first = today(now) - timedelta(days=HISTORY_DAYS)
    start = datetime.combine(first, datetime.min.time(), SELLER_TIMEZONE)
    end = datetime.combine(today(now), datetime.min.time(), SELLER_TIMEZONE)
    return first, start, end


def _history(conn: Connection, pids: list[int], now: datetime | None) -> dict[int, list[float]]:
    """Units ordered per whole day of the window, per product."""
    if not pids:
        return {}
    first, start, end = _window(now)
    rows = conn.execute(
        select(OrderLine.product_id, Order.created_at, OrderLine.quantity - OrderLine.cancelled)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.product_id.in_(pids),
            Order.status != "cancelled",
            Order.created_at >= start,
            Order.created_at < end,
        )
    )
    out: dict[int, list[float]] = {}
    for pid, created_at, units in rows:
        i = (created_at.astimezone(SELLER_TIMEZONE).date() - first).days
        if 0 <= i < HISTORY_DAYS:
            out.setdefault(int(pid), [0.0] * HISTORY_DAYS)[i] += max(0, int(units))
    return out


def _shares(
    conn: Connection, pids: list[int], now: datetime | None
) -> tuple[dict[int, dict[int, float]], int | None]:
    """Each product's share of reservations per location id in the window, and the first
    active location (which takes it all where nothing was reserved)."""
    _, start, _ = _window(now)
    sums: dict[int, dict[int, int]] = defaultdict(dict)
    if pids:
        rows = conn.execute(
            select(
                StockMovement.product_id,
                StockMovement.location_id,
                func.sum(StockMovement.reserved_delta),
            )
            .where(
                StockMovement.product_id.in_(pids),
                StockMovement.kind == MovementKind.RESERVATION.value,
                StockMovement.created_at >= start,
            )
            .group_by(StockMovement.product_id, StockMovement.location_id)
        )
        for pid, loc, total in rows:
            sums[int(pid)][int(loc)] = int(total or 0)
    shares: dict[int, dict[int, float]] = {}
    for pid, by_loc in sums.items():
        whole = sum(by_loc.values())
        if whole > 0:
            shares[pid] = {loc: n / whole for loc, n in by_loc.items()}
    first = conn.execute(
        select(Location.id)
        .where(Location.active.is_(True))
        .order_by(Location.priority, Location.code)
        .limit(1)
    ).scalar()
    return shares, first


@dataclass
class _DemandInputs:
    kept: dict[tuple[int, str], Any]
    history: dict[int, list[float]]
    shares: dict[int, dict[int, float]]
    first_location: int | None
    tomorrow: date

    def share(self, pid: int, location_id: int) -> float:
        by_loc = self.shares.get(pid)
        if by_loc is None:
            return 1.0 if location_id == self.first_location else 0.0
        return by_loc.get(location_id, 0.0)

    def covered(self, pid: int, key: str) -> tuple[float, float] | None:
        return forecasts.kept_window(self.kept.get((pid, key)), self.tomorrow, HISTORY_DAYS)

    def of(self, pid: int, location: tuple[int, str] | None) -> tuple[float, float]:
        """(mean, deviation) per day of a product at a location (id, code), or everywhere."""
        found = self.covered(pid, ALL if location is None else location[1])
        if found is not None:
            return found
        share = 1.0 if location is None else self.share(pid, location[0])
        if share == 0.0:
            return 0.0, 0.0
        days = [d * share for d in self.history.get(pid, [0.0] * HISTORY_DAYS)]
        return statistics.fmean(days), statistics.pstdev(days)


def _demand_inputs(
    conn: Connection,
    pids: list[int],
    places: list[tuple[int, str]] | None,
    now: datetime | None,
) -> _DemandInputs:
    """What ``of`` needs for these products at these places (None: everywhere): order
    history only for the products some place of which no kept forecast covers."""
    shares, first = _shares(conn, pids, now)
    inputs = _DemandInputs(
        planning.kept_forecasts(conn, pids), {}, shares, first, today(now) + timedelta(days=1)
    )
    if places is None:
        wanted = [p for p in pids if inputs.covered(p, ALL) is None]
    else:
        wanted = [
            p
            for p in pids
            if any(
                inputs.covered(p, code) is None and inputs.share(p, loc) > 0 for loc, code in places
            )
        ]
    inputs.history = _history(conn, wanted, now)
    return inputs


def daily_demand(
    db: Database, sku: str, location: str | None, now: datetime | None = None
) -> tuple[float, float]:
    """(mean, standard deviation) of units ordered per day of ``sku`` at ``location`` (all
    locations when None), as ``positions`` reads them."""

    def work(conn: Connection) -> tuple[float, float]:
        pid = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
        if pid is None:
            return 0.0, 0.0
        if location is None:
            return _demand_inputs(conn, [int(pid)], None, now).of(int(pid), None)
        loc = conn.execute(select(Location.id).where(Location.code == location)).scalar()
        if loc is None:
            return 0.0, 0.0
        place = (int(loc), location)
        return _demand_inputs(conn, [int(pid)], [place], now).of(int(pid), place)

    return db.read(work)


# ---- positions -----------------------------------------------------------------------------


def _read(
    conn: Connection, location: str | None, skus: Collection[str] | None, now: datetime | None
) -> dict[str, Any]:
    if location is not None:
        loc = fetch_location(conn, location, field="location")
        locs = [(int(loc.id), loc.code)]
    else:
        locs = [
            (int(i), c)
            for i, c in conn.execute(
                select(Location.id, Location.code)
                .where(Location.active.is_(True))
                .order_by(Location.priority, Location.code)
            )
        ]
    stmt = select(
        Product.id,
        Product.sku,
        Product.name,
        Product.reorder_point,
        Product.low_stock_threshold,
        Product.preferred_supplier_id,
    ).where(Product.active.is_(True))
    if skus is not None:
        stmt = stmt.where(Product.sku.in_(sorted(set(skus))))
    products = conn.execute(stmt.order_by(Product.sku)).all()
    pids = [int(p.id) for p in products]
    levels = {
        (int(r.product_id), int(r.location_id)): int(r.on_hand) - int(r.reserved)
        for r in conn.execute(
            select(
                StockLevel.product_id,
                StockLevel.location_id,
                StockLevel.on_hand,
                StockLevel.reserved,
            ).where(StockLevel.product_id.in_(pids))
        )
    }
    supplier_ids = {p.preferred_supplier_id for p in products if p.preferred_supplier_id}
    suppliers = {
        s.id: s for s in conn.execute(select(Supplier).where(Supplier.id.in_(supplier_ids)))
    }
    return {
        "locations": locs,
        "products": products,
        "levels": levels,
        "suppliers": suppliers,
        "own": reorder_points.by_pair(conn),
        "arriving": planning.open_purchase_lines(conn, pids),
        "default_lead": planning.lead_time_days(conn),
        "demand": _demand_inputs(conn, pids, locs, now),
    }


def _position(r: dict[str, Any], p: Any, loc: tuple[int, str], day: date) -> StockPosition:
    pid, (loc_id, code) = int(p.id), loc
    supplier = r["suppliers"].get(p.preferred_supplier_id)
    lead = int(supplier.lead_time_days) if supplier is not None else r["default_lead"]
    mean, sigma = r["demand"].of(pid, loc)
    computed = reorder.reorder_point(mean, sigma, lead, SERVICE_LEVEL) if mean > 0 else None
    held = (pid, loc_id) in r["levels"]
    location_point = r["own"].get((pid, loc_id))
    threshold = int(p.low_stock_threshold or 0) if held else None
    found = reorder.governing_point(location_point, p.reorder_point, computed, threshold)
    arriving = list(r["arriving"].get((p.sku, code), ()))
    available = r["levels"].get((pid, loc_id), 0)
    kept = r["demand"].kept.get((pid, code))
    return StockPosition(
        product_id=pid,
        sku=p.sku,
        name=p.name,
        location=code,
        available=available,
        on_order=sum(q for _, q in arriving),
        location_point=location_point,
        product_point=p.reorder_point,
        computed_point=computed,
        threshold=threshold,
        point=found[0] if found else None,
        source=found[1] if found else None,
        mean=mean,
        sigma=sigma,
        supplier=supplier,
        lead_time_days=lead,
        stockout_date=planning.expected_stockout(day, available, kept, arriving, mean),
    )


def positions(
    db: Database,
    *,
    location: str | None = None,
    skus: Collection[str] | None = None,
    every: bool = False,
    now: datetime | None = None,
) -> list[StockPosition]:
    """Every active SKU at every active location (one location, or only ``skus``) that a
    level applies to (all pairs with ``every``), by location priority then SKU."""
    read = db.read(lambda conn: _read(conn, location, skus, now))
    day = today(now)
    out = []
    for loc in read["locations"]:
        for p in read["products"]:
            found = _position(read, p, loc, day)
            if every or found.point is not None:
                out.append(found)
    return out


def low(db: Database, **kw: Any) -> list[StockPosition]:
    """The positions at or below their level: what the alerts, /replenishment and the
    dashboard show."""
    return [p for p in positions(db, **kw) if p.low]


def of_sku(db: Database, sku: str, now: datetime | None = None) -> list[PositionView]:
    """The stock page's reorder points: at every active location, what is available and on
    order, the computed point, the location's own, the one that applies (and from where),
    whether it is low and when it runs out."""
    return [
        {
            "location": p.location,
            "available": p.available,
            "on_order": p.on_order,
            "computed_point": p.computed_point,
            "location_point": p.location_point,
            "point": p.point,
            "source": p.source,
            "low": p.low,
            "stockout_date": p.stockout_date.isoformat() if p.stockout_date else None,
        }
        for p in positions(db, skus=[sku], every=True, now=now)
    ]
