"""Replenishment: which SKUs to reorder at which location, how many, from whom, and when
each would run out.

Demand comes through ONE function, ``daily_demand(db, sku, location) -> (mean, stdev)``:
for now the last 56 days of orders (units ordered per day in the seller's time zone,
cancelled orders left out, backorders included); it is the one place to switch to the
forecasts' output. A location's demand is the SKU's demand times that location's share of
the SKU's reservations in the same days (from the ledger; all to the first location by
priority when nothing was reserved), so the locations' demands add up to the whole.

The reorder point is the location's own (services/purchasing/reorder_points.py), else the
product's own (``products.reorder_point``) or, when it has none,
demand over the preferred supplier's lead time plus safety stock at the service level
(domain/purchasing/reorder.py). A SKU is suggested when available + on order <= its reorder
point (and it has demand or a reorder point set by hand).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.purchasing_tables import Supplier, SupplierProduct, on_order
from dingdan.db.tables import Location, Product, StockLevel, StockMovement
from dingdan.db.types import utcnow
from dingdan.domain.inventory.stock import MovementKind
from dingdan.domain.purchasing import reorder
from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.inventory.locations import fetch as fetch_location
from dingdan.services.inventory.locations import receiving
from dingdan.services.purchasing import forecasts, reorder_points
from dingdan.services.purchasing.purchase_orders import fetch as fetch_po
from dingdan.services.purchasing.purchase_orders import insert_purchase_order, po_view
from dingdan.services.shared.common import Actor, audit

HISTORY_DAYS = 56
SERVICE_LEVEL = reorder.DEFAULT_SERVICE_LEVEL


# ---- demand --------------------------------------------------------------------------------


def _today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(SELLER_TIMEZONE).date()


def _window(now: datetime | None) -> tuple[date, datetime]:
    """The first of the ``HISTORY_DAYS`` whole days before today, and its start as UTC."""
    first = _today(now) - timedelta(days=HISTORY_DAYS)
    start = datetime.combine(first, datetime.min.time(), SELLER_TIMEZONE)
    return first, start


def _daily_units(conn: Connection, product_id: int, now: datetime | None) -> list[int]:
    first, start = _window(now)
    end = datetime.combine(_today(now), datetime.min.time(), SELLER_TIMEZONE)
    rows = conn.execute(
        select(Order.created_at, OrderLine.quantity - OrderLine.cancelled)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.product_id == product_id,
            Order.status != "cancelled",
            Order.created_at >= start,
            Order.created_at < end,
        )
    )
    days = [0] * HISTORY_DAYS
    for created_at, units in rows:
        i = (created_at.astimezone(SELLER_TIMEZONE).date() - first).days
        if 0 <= i < HISTORY_DAYS:
            days[i] += max(0, int(units))
    return days


def _location_share(
    conn: Connection, product_id: int, location_id: int, now: datetime | None
) -> float:
    _, start = _window(now)
    rows = dict(
        conn.execute(
            select(StockMovement.location_id, func.sum(StockMovement.reserved_delta))
            .where(
                StockMovement.product_id == product_id,
                StockMovement.kind == MovementKind.RESERVATION.value,
                StockMovement.created_at >= start,
            )
            .group_by(StockMovement.location_id)
        ).all()
    )
    total = sum(int(v or 0) for v in rows.values())
    if total > 0:
        return int(rows.get(location_id) or 0) / total
    first = conn.execute(
        select(Location.id)
        .where(Location.active.is_(True))
        .order_by(Location.priority, Location.code)
        .limit(1)
    ).scalar()
    return 1.0 if first == location_id else 0.0


def daily_demand(
    db: Database, sku: str, location: str | None, now: datetime | None = None
) -> tuple[float, float]:
    """(mean, standard deviation) of units ordered per day of ``sku`` at ``location`` (all
    locations when None): from the worker's kept demand forecast over the next
    ``HISTORY_DAYS`` days where there is one (the deviation its backtest's daily error),
    else over the last ``HISTORY_DAYS`` whole days."""
    kept = forecasts.kept_demand(db, sku, location, HISTORY_DAYS, now)
    if kept is not None:
        return kept

    def work(conn: Connection) -> tuple[float, float]:
        pid = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
        if pid is None:
            return 0.0, 0.0
        days: list[float] = [float(d) for d in _daily_units(conn, int(pid), now)]
        if location is not None:
            loc = conn.execute(select(Location.id).where(Location.code == location)).scalar()
            share = _location_share(conn, int(pid), int(loc), now) if loc else 0.0
            days = [d * share for d in days]
        return statistics.fmean(days), statistics.pstdev(days)

    return db.read(work)


# ---- suggestions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    product_id: int
    sku: str
    location_id: int
    location: str
    available: int
    on_order: int
    manual_point: int | None
    supplier: Any  # the preferred supplier's row, or None


def _candidates(conn: Connection, location: str | None) -> list[_Candidate]:
    locs: list[Any] = list(
        conn.execute(
            select(Location.id, Location.code)
            .where(Location.active.is_(True))
            .order_by(Location.priority, Location.code)
        )
    )
    if location is not None:
        loc = fetch_location(conn, location, field="location")
        locs = [(loc.id, loc.code)]
    products = conn.execute(
        select(Product.id, Product.sku, Product.reorder_point, Product.preferred_supplier_id)
        .where(Product.active.is_(True))
        .order_by(Product.sku)
    ).all()
    levels = {
        (r.product_id, r.location_id): int(r.on_hand) - int(r.reserved)
        for r in conn.execute(
            select(
                StockLevel.product_id,
                StockLevel.location_id,
                StockLevel.on_hand,
                StockLevel.reserved,
            )
        )
    }
    supplier_ids = {p.preferred_supplier_id for p in products if p.preferred_supplier_id}
    supplier_rows = {
        s.id: s for s in conn.execute(select(Supplier).where(Supplier.id.in_(supplier_ids)))
    }
    pids = [int(p.id) for p in products]
    own = reorder_points.by_pair(conn)
    out = []
    for loc_id, code in locs:
        coming = on_order(conn, pids, int(loc_id))
        for p in products:
            out.append(
                _Candidate(
                    int(p.id),
                    p.sku,
                    int(loc_id),
                    code,
                    levels.get((p.id, loc_id), 0),
                    coming.get(int(p.id), 0),
                    own.get((int(p.id), int(loc_id)), p.reorder_point),
                    supplier_rows.get(p.preferred_supplier_id),
                )
            )
    return out


def _stockout(available: int, mean: float, today: date) -> str | None:
    if mean <= 0:
        return None
    return (today + timedelta(days=max(0, math.floor(available / mean)))).isoformat()


def _suggest(db: Database, c: _Candidate, today: date) -> dict[str, Any] | None:
    # Looked up by name at call time, so that the demand source can be replaced.
    mean, sigma = daily_demand(db, c.sku, c.location)
    supplier = c.supplier
    if c.manual_point is not None:
        point = int(c.manual_point)
    elif mean > 0:
        lead = int(supplier.lead_time_days) if supplier is not None else 0
        point = reorder.reorder_point(mean, sigma, lead, SERVICE_LEVEL)
    else:
        return None  # no demand and no point set by hand: nothing to reorder
    position = reorder.Position(c.available, c.on_order)
    if not reorder.needs_order(position, point):
        return None
    quantity = reorder.suggested_quantity(
        position,
        point,
        mean,
        pack_size=int(supplier.pack_size) if supplier is not None else 1,
        minimum_quantity=int(supplier.minimum_order_quantity) if supplier is not None else 0,
    )
    return {
        "sku": c.sku,
        "location": c.location,
        "available": c.available,
        "on_order": c.on_order,
        "reorder_point": point,
        "suggested_quantity": quantity,
        "supplier": supplier.code if supplier is not None else None,
        "stockout_date": _stockout(c.available, mean, today),
    }


def suggestions(db: Database, *, location: str | None = None) -> dict[str, Any]:
    """The contract's list: SKUs (per location) whose available plus on-order stock is at
    or below their reorder point, by location then SKU."""
    candidates = db.read(lambda conn: _candidates(conn, location))
    today = _today()
    items = [s for c in candidates if (s := _suggest(db, c, today)) is not None]
    return {"items": items}


def with_reorder_point(db: Database, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Of these (SKU, location code) pairs, those that have a reorder point: set by hand
    (the location's own, or the product's) or computed from demand (any demand at all),
    as ``_suggest`` decides. Their staff alerts come from the reorder point (available + on
    order at or below it), the others' from the product's low-stock threshold."""
    if not pairs:
        return set()

    def work(conn: Connection) -> tuple[dict[str, Any], dict[str, int], dict]:
        skus = sorted({sku for sku, _ in pairs})
        codes = sorted({code for _, code in pairs})
        products = {
            r.sku: r
            for r in conn.execute(
                select(Product.id, Product.sku, Product.reorder_point).where(Product.sku.in_(skus))
            )
        }
        locs = dict(
            conn.execute(select(Location.code, Location.id).where(Location.code.in_(codes))).all()
        )
        return products, locs, reorder_points.by_pair(conn)

    products, locs, own = db.read(work)
    found = set()
    for sku, code in pairs:
        p = products.get(sku)
        if p is None:
            continue
        by_hand = p.reorder_point is not None or (int(p.id), locs.get(code)) in own
        if by_hand or daily_demand(db, sku, code)[0] > 0:
            found.add((sku, code))
    return found


def low_stock(
    db: Database, *, location: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """For the dashboard: the suggestions that run out first; those without demand (no
    stock-out date) after them, least available first."""
    items = suggestions(db, location=location)["items"]
    items.sort(
        key=lambda s: (
            s["stockout_date"] is None,
            s["stockout_date"] or "",
            s["available"],
            s["sku"],
        )
    )
    return items[:limit]


# ---- draft purchase orders from the suggestions ----------------------------------------------


def _unit_cost(conn: Connection, supplier: Any, product_id: int) -> int:
    """The supplier's last cost of the product, else the product's average cost when it is
    in the supplier's currency, else 0 (to fill in on the draft)."""
    cost = conn.execute(
        select(SupplierProduct.cost_minor).where(
            SupplierProduct.supplier_id == supplier.id, SupplierProduct.product_id == product_id
        )
    ).scalar()
    if cost is not None:
        return int(cost)
    row = conn.execute(
        select(Product.cost_micros, Product.cost_currency).where(Product.id == product_id)
    ).one()
    if row.cost_micros is None or row.cost_currency != supplier.currency:
        return 0
    from dingdan.domain.shared.money import exponent

    return round(row.cost_micros * 10 ** exponent(supplier.currency) / 1_000_000)


def create_drafts(db: Database, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """One draft PO per (preferred supplier, location) of the current suggestions (only the
    ``skus`` named, when given), topped up by whole packs to the supplier's minimum amount;
    SKUs without a preferred supplier are listed as skipped."""
    wanted = data.get("skus")
    items = suggestions(db, location=data.get("location"))["items"]
    if wanted is not None:
        errors = FieldErrors()
        if not isinstance(wanted, list) or not all(isinstance(s, str) for s in wanted):
            errors.add("skus", "not_a_list")
        errors.raise_if_any()
        items = [s for s in items if s["sku"] in set(wanted)]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    skipped = []
    for s in items:
        if s["supplier"] is None:
            skipped.append(s["sku"])
        else:
            groups[(s["supplier"], s["location"])].append(s)

    def work(conn: Connection) -> list[dict[str, Any]]:
        made = []
        for (code, loc_code), lines in sorted(groups.items()):
            supplier = conn.execute(select(Supplier).where(Supplier.code == code)).one()
            location = receiving(conn, loc_code, field="location")
            pids = dict(
                conn.execute(
                    select(Product.sku, Product.id).where(
                        Product.sku.in_([s["sku"] for s in lines])
                    )
                ).all()
            )
            checked = [
                {
                    "product_id": int(pids[s["sku"]]),
                    "sku": s["sku"],
                    "quantity": s["suggested_quantity"],
                    "unit_cost_minor": _unit_cost(conn, supplier, int(pids[s["sku"]])),
                }
                for s in lines
            ]
            topped = reorder.top_up_to_amount(
                [ln["quantity"] for ln in checked],
                [ln["unit_cost_minor"] for ln in checked],
                int(supplier.pack_size),
                int(supplier.minimum_order_minor),
            )
            for ln, quantity in zip(checked, topped, strict=True):
                ln["quantity"] = quantity
            po_id = insert_purchase_order(conn, actor, supplier, location, checked, {})
            view = po_view(conn, fetch_po(conn, str(po_id)))
            audit(conn, actor, "create", "purchase_order", view["number"], after=view)
            made.append(view)
        return made

    return {"items": db.write(work) if groups else [], "skipped": sorted(set(skipped))}
