"""The manager's view of the day: orders and revenue today, how many open orders wait at
each stage, backorders, low stock (the SKUs and locations /replenishment lists), and orders
over their stage's time limit with its owner.

Stages of an open order, first match wins:
  payment     not paid in full and not cash on delivery
  allocation  some units backordered (no location holds them yet)
  shipping    packed, waiting for the carrier
  packing     picked (its pick list is done), not yet packed
  picking     may ship and holds allocations, not yet on a pick list
Time limits and owners per stage live in the ``settings`` table under ``stage_limits``.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from typing_extensions import TypedDict

from dingdan.db.engine import Database
from dingdan.db.order_tables import (
    Allocation,
    Order,
    OrderEvent,
    OrderLine,
    PackRecord,
    Payment,
)
from dingdan.db.return_tables import Return
from dingdan.db.tables import Product, Setting
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import FieldErrors, NotFound
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.purchasing import positions, replenishment
from dingdan.services.reports.shapes import (
    BackorderedSku,
    DashboardView,
    LateOrder,
    LowStockItem,
    ReturnsWaiting,
    StageLimit,
    StageOrder,
    StageOrdersView,
    TodayView,
)
from dingdan.services.shared.common import Actor, audit, iso

STAGES = ("payment", "allocation", "picking", "packing", "shipping")
DEFAULT_LIMITS: dict[str, StageLimit] = {
    "payment": {"hours": 72, "owner": "finance"},
    "allocation": {"hours": 48, "owner": "manager"},
    "picking": {"hours": 24, "owner": "warehouse"},
    "packing": {"hours": 8, "owner": "warehouse"},
    "shipping": {"hours": 24, "owner": "warehouse"},
}
# The sellers are in Taiwan, Hong Kong and China: "today" starts at midnight UTC+8.
BUSINESS_TZ = SELLER_TIMEZONE
SETTING_KEY = "stage_limits"


def stage_limits(db: Database) -> dict[str, StageLimit]:
    stored = db.read(
        lambda conn: conn.execute(select(Setting.value).where(Setting.key == SETTING_KEY)).scalar()
    )
    limits = {k: v.copy() for k, v in DEFAULT_LIMITS.items()}
    for stage, value in (stored or {}).items():
        if stage in limits and isinstance(value, dict):
            # The setting set_stage_limits wrote, after its checks.
            limits[stage].update(value)  # type: ignore[typeddict-item]
    return limits


def set_stage_limits(
    db: Database, actor: Actor, data: Mapping[str, Mapping[str, object]]
) -> dict[str, StageLimit]:
    """``data`` maps each stage to ``{"hours": 1 to 8760, "owner": role}`` (a form's or a
    stored setting's: each checked here)."""
    errors = FieldErrors()
    clean: dict[str, StageLimit] = {}
    for stage in STAGES:
        item = data.get(stage) or {}
        hours, owner = item.get("hours"), item.get("owner")
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 1 <= hours <= 8760:
            errors.add(f"{stage}.hours", "invalid_hours")
            hours = None
        if not isinstance(owner, str) or owner not in {r.value for r in Role}:
            errors.add(f"{stage}.owner", "unknown_role")
            owner = None
        if hours is not None and owner is not None:
            clean[stage] = {"hours": hours, "owner": owner}
    errors.raise_if_any()

    def work(conn: Connection) -> dict[str, StageLimit]:
        before = conn.execute(select(Setting.value).where(Setting.key == SETTING_KEY)).scalar()
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Setting).values(key=SETTING_KEY, value=clean, updated_at=utcnow())
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": clean, "updated_at": utcnow()}
            )
        )
        audit(conn, actor, "update", "setting", SETTING_KEY, before=before, after=clean)
        return clean

    return db.write(work)


class _PerStage(TypedDict):
    counts: dict[str, int]
    late: list[LateOrder]
    late_total: int


class _Summed(_PerStage):
    """The dashboard's figures read in one transaction (the low stock is read after)."""

    today: TodayView
    backorders: list[BackorderedSku]
    returns: ReturnsWaiting


def _today(conn: Connection, start: datetime) -> TodayView:
    """Orders placed today and, per currency, two sums that are not the same thing:
    ``sales`` as the sales report counts them (orders placed today, cancelled ones left
    out, their totals less what was refunded on them) and ``received``, the money that
    came in today (payments taken today less refunds paid out today, whatever the order's
    date). The old "revenue" counted unpaid and refunded orders as money."""
    rows = conn.execute(
        select(
            Order.currency,
            func.count(),
            func.coalesce(func.sum(Order.total_minor - Order.refunded_minor), 0),
        )
        .where(Order.created_at >= start, Order.status != "cancelled")
        .group_by(Order.currency)
        .order_by(Order.currency)
    ).all()
    signed = case((Payment.kind == "refund", -Payment.amount_minor), else_=Payment.amount_minor)
    moved = conn.execute(
        select(Order.currency, func.coalesce(func.sum(signed), 0))
        .join(Order, Order.id == Payment.order_id)
        .where(
            Payment.created_at >= start,
            Payment.kind.in_(("payment", "refund")),
            Payment.status == "succeeded",
        )
        .group_by(Order.currency)
        .order_by(Order.currency)
    ).all()
    return {
        "orders": sum(int(n) for _, n, _ in rows),
        "sales": [{"currency": c, "amount": format_amount(int(t), c)} for c, _, t in rows],
        "received": [{"currency": c, "amount": format_amount(int(t), c)} for c, t in moved],
    }


def _last_event(conn: Connection, kind: str) -> dict[int, datetime]:
    rows = conn.execute(
        select(OrderEvent.order_id, func.max(OrderEvent.created_at))
        .join(Order, Order.id == OrderEvent.order_id)
        .where(OrderEvent.kind == kind, Order.status == "open")
        .group_by(OrderEvent.order_id)
    )
    return {int(o): t for o, t in rows}


def _open_sets(conn: Connection) -> dict[str, Any]:
    open_ids = select(Order.id).where(Order.status == "open")
    backordered = set(
        conn.execute(
            select(OrderLine.order_id)
            .where(OrderLine.backordered > 0, OrderLine.order_id.in_(open_ids))
            .distinct()
        ).scalars()
    )
    allocated = set(
        conn.execute(
            select(Allocation.order_id).where(Allocation.order_id.in_(open_ids)).distinct()
        ).scalars()
    )
    packed = dict(
        conn.execute(
            select(PackRecord.order_id, func.max(PackRecord.created_at))
            .where(PackRecord.shipment_id.is_(None), PackRecord.order_id.in_(open_ids))
            .group_by(PackRecord.order_id)
        ).all()
    )
    return {"backordered": backordered, "allocated": allocated, "packed": packed}


def _stage(o: Any, sets: dict[str, Any], paid: dict[int, datetime], picking: dict) -> Any:
    """(stage, since when) of an open order, or None when nothing waits on the seller."""
    if o.payment_method != "cod" and o.paid_minor < o.total_minor:
        return "payment", o.created_at
    if o.id in sets["backordered"]:
        return "allocation", o.created_at
    if o.id in sets["packed"]:
        return "shipping", sets["packed"][o.id]
    if o.id not in sets["allocated"]:
        return None
    ready_since = paid.get(o.id, o.created_at)
    if o.id in picking and picking[o.id] >= ready_since:
        return "packing", picking[o.id]
    return "picking", ready_since


def _waiting(conn: Connection) -> list[tuple[Any, str, datetime]]:
    """Every open order that waits on the seller: (order row, stage, since when)."""
    sets = _open_sets(conn)
    paid, picking = _last_event(conn, "paid"), _last_event(conn, "picked")
    orders = conn.execute(
        select(
            Order.id,
            Order.number,
            Order.created_at,
            Order.payment_method,
            Order.paid_minor,
            Order.total_minor,
        ).where(Order.status == "open")
    )
    out = []
    for o in orders:
        found = _stage(o, sets, paid, picking)
        if found is not None:
            out.append((o, found[0], found[1]))
    return out


# For the orders-at-risk list (services/reports/at_risk.py): the same stages as here.
waiting_orders = _waiting


def _stages(conn: Connection, now: datetime, limits: dict[str, StageLimit]) -> _PerStage:
    counts = dict.fromkeys(STAGES, 0)
    allowed = {stage: timedelta(hours=float(limits[stage]["hours"])) for stage in STAGES}
    late: list[tuple[timedelta, str, str, datetime]] = []
    for o, stage, since in _waiting(conn):
        counts[stage] += 1
        waited = now - since
        if waited > allowed[stage]:
            late.append((waited, o.number, stage, since))
    # Only the 50 shown are formatted (at a million orders thousands can be late).
    shown = heapq.nlargest(50, late, key=lambda r: r[0])
    late_shown: list[LateOrder] = [
        {
            "number": number,
            "stage": stage,
            "since": iso(since),
            "hours": round(waited.total_seconds() / 3600, 1),
            "owner": limits[stage]["owner"],
        }
        for waited, number, stage, since in shown
    ]
    return {"counts": counts, "late": late_shown, "late_total": len(late)}


def stage_orders(
    db: Database, stage: str, now: datetime | None = None, limit: int = 200
) -> StageOrdersView:
    """The open orders waiting at ``stage`` (the list behind its count on the dashboard),
    the longest waiting first: number, since when, hours waited, over the limit or not."""
    if stage not in STAGES:
        raise NotFound(detail=f"No stage {stage!r}.")
    now = now or utcnow()
    limits = stage_limits(db)
    allowed = timedelta(hours=float(limits[stage]["hours"]))
    found = sorted(
        ((since, o.number) for o, s, since in db.read(_waiting) if s == stage),
        key=lambda r: (r[0], r[1]),
    )
    items: list[StageOrder] = [
        {
            "number": number,
            "since": iso(since),
            "hours": round((now - since).total_seconds() / 3600, 1),
            "late": now - since > allowed,
        }
        for since, number in found[:limit]
    ]
    return {"stage": stage, "total": len(found), "limit": limits[stage], "items": items}


def _backorders(conn: Connection) -> list[BackorderedSku]:
    rows = conn.execute(
        select(
            OrderLine.sku,
            Product.name,
            func.sum(OrderLine.backordered),
            func.count(func.distinct(OrderLine.order_id)),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.backordered > 0, Order.status == "open")
        .group_by(OrderLine.sku, Product.name)
        .order_by(func.sum(OrderLine.backordered).desc(), OrderLine.sku)
        .limit(20)
    )
    return [{"sku": s, "name": n, "units": int(u), "orders": int(c)} for s, n, u, c in rows]


def summary(db: Database, now: datetime | None = None, tz: tzinfo = BUSINESS_TZ) -> DashboardView:
    now = now or utcnow()
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    limits = stage_limits(db)

    def work(conn: Connection) -> _Summed:
        per_stage = _stages(conn, now, limits)
        returns = dict(
            conn.execute(
                select(Return.status, func.count())
                .where(Return.status.in_(("requested", "approved")))
                .group_by(Return.status)
            ).all()
        )
        return {
            "today": _today(conn, start),
            **per_stage,
            "backorders": _backorders(conn),
            # Returns waiting on a person: to review (requested), to receive (approved).
            "returns": {
                "requested": int(returns.get("requested", 0)),
                "approved": int(returns.get("approved", 0)),
            },
        }

    out = db.read(work)
    low = low_stock(db, now)
    return {**out, "low_stock": low[:30], "low_stock_total": len(low), "limits": limits}


def low_stock(db: Database, now: datetime | None = None) -> list[LowStockItem]:
    """Every SKU and location low by the one rule of services/purchasing/positions.py (the
    alerts' and /replenishment's: available + on order at or below the location's reorder
    point, the product's, the computed one, else the threshold), soonest to run out first."""
    items: list[LowStockItem] = [
        {
            "sku": p.sku,
            "name": p.name,
            "location": p.location,
            "available": p.available,
            "on_order": p.on_order,
            "level": p.point,
            "source": p.source,
            "stockout_date": p.stockout_date.isoformat() if p.stockout_date else None,
        }
        for p in positions.low(db, now=now)
    ]
    return replenishment.soonest_first(items)
