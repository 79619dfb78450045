"""The worker's periodic scans for staff notifications (services/messaging/notifications.py):
orders late at a stage, low stock, SKUs at their reorder point (at most hourly), backorders
waiting, disputes coming due, webhook endpoints failing. Each finds at most a few hundred
rows, and keys each occurrence ("stuck:DD001001:picking", "low:TEA-001:MAIN:<since>",
"reorder:TEA-001:MAIN:<since>", "backorder:DD001001",
"dispute_due:17:2026-12-08", "webhook_failing:3:<date>") so that every round after the first
adds nothing. ``run`` does them all at most once a minute per process (``every``), but the
reorder scan once an hour in the whole deployment (claimed).

Which SKU is low at which location is the one rule of services/purchasing/positions.py
(also /replenishment's and the dashboard's): available + on order at or below the
location's own reorder point, else the product's (set by hand, or computed from demand),
else the low-stock threshold. A SKU and location governed by a reorder point is alerted as
``reorder_point``, one governed by its threshold as ``low_stock``: one alert path per SKU
and location, never both. A crossing is remembered in ``notification_conditions``
(while it stays low) and emits the ``inventory.low_stock`` outbox event once per crossing,
so that webhooks carry it; a SKU back above its threshold forgets it, and the next crossing
is told again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.notification_tables import NotificationCondition
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.return_tables import Dispute
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.db.webhook_tables import WebhookDelivery, WebhookEndpoint
from dingdan.services.after_sales.dispute_queries import UNSETTLED
from dingdan.services.inventory import stock
from dingdan.services.messaging import notifications
from dingdan.services.purchasing import positions, replenishment
from dingdan.services.reports import dashboard, recommendations
from dingdan.services.shared.outbox_events import emit

log = logging.getLogger("dingdan.notifications")
BATCH = 200
BACKORDER_DAYS_KEY = "backorder_alert_days"  # settings table; default 3
BACKORDER_DAYS = 3
DISPUTE_DAYS = 2
_last_run = 0.0


def backorder_days(db: Database) -> float:
    value = db.read(
        lambda conn: conn.execute(
            select(Setting.value).where(Setting.key == BACKORDER_DAYS_KEY)
        ).scalar()
    )
    try:
        return float(value) if value is not None else BACKORDER_DAYS
    except (TypeError, ValueError):
        return BACKORDER_DAYS


def stuck_orders(db: Database, now: datetime | None = None) -> int:
    limits = dashboard.stage_limits(db)
    late = []
    for stage in dashboard.STAGES:
        found = dashboard.stage_orders(db, stage, now=now, limit=BATCH)
        late += [(stage, item) for item in found["items"] if item["late"]]

    def work(conn: Connection) -> int:
        new = 0
        audiences: dict[str, Any] = {}
        for stage, item in late:
            number = item["number"]
            owner = str(limits[stage]["owner"])
            if owner not in audiences:
                audiences[owner] = notifications.recipients(conn, "stuck_order", [owner])
            new += notifications.notify(
                conn,
                "stuck_order",
                f"stuck:{number}:{stage}",
                {"number": number, "stage": stage, "hours": limits[stage]["hours"]},
                f"/orders/{quote(number, safe='')}",
                audience=audiences[owner],
            )
        return new

    return db.write(work) if late else 0


def _raise_condition(conn: Connection, key: str, at: datetime) -> datetime:
    """Insert-if-absent: ``at`` when this call made the row, else the time already kept
    (a fellow worker's scan saw the same crossing first)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    made = conn.execute(
        dialect.insert(NotificationCondition)
        .values(key=key, since=at)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(NotificationCondition.key)
    ).first()
    if made is not None:
        return at
    kept = conn.execute(
        select(NotificationCondition.since).where(NotificationCondition.key == key)
    ).scalar()
    return kept or at


def _remembered(conn: Connection, prefix: str, now_true: Any, complete: bool) -> dict[str, Any]:
    """The conditions kept under ``prefix`` (key → since). When ``complete`` (the scan saw
    every row for which the condition holds), those no longer in ``now_true`` are
    forgotten, so that their next crossing is told again."""
    known = dict(
        conn.execute(
            select(NotificationCondition.key, NotificationCondition.since).where(
                NotificationCondition.key.like(f"{prefix}%")
            )
        ).all()
    )
    if complete:
        gone = [k for k in known if k not in now_true]
        if gone:
            conn.execute(delete(NotificationCondition).where(NotificationCondition.key.in_(gone)))
    return known


def low_stock(db: Database, now: datetime | None = None) -> int:
    """Available stock at or below the product's low-stock threshold, for the SKUs and
    locations without a reorder point (those with one are ``reorder_points``'s: one alert
    per crossing, never both)."""
    # Available at or under the threshold is the most the rule can find low by a threshold
    # (on order only adds): one cheap query narrows the SKUs the rule reads each minute.
    page = stock.levels(db, low_stock=True, limit=BATCH)
    near = {(i["sku"], i["location"]) for i in page.items}
    found = positions.low(db, skus={sku for sku, _ in near}) if near else []
    low = {
        f"low:{p.sku}:{p.location}": p
        for p in found
        if p.source == "threshold" and (p.sku, p.location) in near
    }

    def work(conn: Connection) -> int:
        # Every low one seen: the others are back above threshold.
        known = _remembered(conn, "low:", low, complete=page.next_cursor is None)
        new = 0
        audience = notifications.recipients(conn, "low_stock")
        at = now or utcnow()
        for key, item in low.items():
            since = known.get(key)
            told = {
                "sku": item.sku,
                "location": item.location,
                "available": item.available,
                "threshold": item.point,
            }
            if since is None:
                since = _raise_condition(conn, key, at)
                if since == at:  # this round saw the crossing (another worker may have too)
                    emit(conn, "inventory.low_stock", told)
            new += notifications.notify(
                conn,
                "low_stock",
                f"{key}:{since:%Y%m%dT%H%M%S}",
                told,
                f"/inventory/{quote(item.sku, safe='')}",
                audience=audience,
            )
        return new

    return db.write(work)


# The replenishment scan reads each SKU's demand: at most once an hour in the deployment
# (claimed, services/reports/recommendations.claim), whatever the number of workers.
REORDER_EVERY = timedelta(hours=1)
REORDER_JOB = "reorder_point_scan"


def reorder_points(db: Database, now: datetime | None = None) -> int:
    """SKUs whose available plus on-order stock fell to their reorder point at a location
    (services/purchasing/replenishment.py, the planning page's suggestions; the location's
    own point, else the product's, else the computed one): told once per crossing, with the
    quantity to order, to the roles that buy; the crossing emits ``inventory.low_stock``
    once, as a threshold's does."""
    items = [replenishment.suggestion(p) for p in positions.low(db) if p.source != "threshold"]
    due = {f"reorder:{i['sku']}:{i['location']}": i for i in items}

    def work(conn: Connection) -> int:
        known = _remembered(conn, "reorder:", due, complete=True)
        new = 0
        audience = notifications.recipients(conn, "reorder_point")
        at = now or utcnow()
        for key, item in due.items():
            since = known.get(key)
            if since is None:
                since = _raise_condition(conn, key, at)
                if since == at:  # this scan saw the crossing
                    emit(
                        conn,
                        "inventory.low_stock",
                        {
                            k: item[k]
                            for k in ("sku", "location", "available", "on_order", "reorder_point")
                        },
                    )
            new += notifications.notify(
                conn,
                "reorder_point",
                f"{key}:{since:%Y%m%dT%H%M%S}",
                {
                    "sku": item["sku"],
                    "location": item["location"],
                    "available": item["available"],
                    "on_order": item["on_order"],
                    "reorder_point": item["reorder_point"],
                    "quantity": item["suggested_quantity"],
                },
                f"/replenishment?location={quote(str(item['location']), safe='')}",
                audience=audience,
            )
        return new

    return db.write(work)


def backorders(db: Database, now: datetime | None = None) -> int:
    days = backorder_days(db)
    cutoff = (now or utcnow()) - timedelta(days=days)

    def work(conn: Connection) -> int:
        numbers = conn.execute(
            select(Order.number)
            .where(
                Order.status == "open",
                Order.created_at < cutoff,
                Order.id.in_(select(OrderLine.order_id).where(OrderLine.backordered > 0)),
            )
            .order_by(Order.id)
            .limit(BATCH)
        ).scalars()
        new = 0
        audience = notifications.recipients(conn, "backorder_waiting")
        for number in list(numbers):
            new += notifications.notify(
                conn,
                "backorder_waiting",
                f"backorder:{number}",
                {"number": number, "days": f"{days:g}"},
                f"/orders/{quote(number, safe='')}",
                audience=audience,
            )
        return new

    return db.write(work)


def disputes_due(db: Database, now: datetime | None = None) -> int:
    until = ((now or utcnow()) + timedelta(days=DISPUTE_DAYS)).date()

    def work(conn: Connection) -> int:
        rows = conn.execute(
            select(Dispute.id, Dispute.due_date, Order.number)
            .join(Order, Order.id == Dispute.order_id)
            .where(
                Dispute.status.in_(UNSETTLED),
                Dispute.due_date.is_not(None),
                Dispute.due_date <= until,
            )
            .order_by(Dispute.due_date, Dispute.id)
            .limit(BATCH)
        ).all()
        new = 0
        audience = notifications.recipients(conn, "dispute_due")
        for did, due, number in rows:
            if due is None:
                continue
            new += notifications.notify(
                conn,
                "dispute_due",
                f"dispute_due:{did}:{due.isoformat()}",
                {"number": number, "due": due.isoformat(), "dispute_id": str(did)},
                f"/disputes/{did}",
                audience=audience,
            )
        return new

    return db.write(work)


def webhooks_failing(db: Database, now: datetime | None = None) -> int:
    """An endpoint disabled (by hand or by a 410), or with deliveries given up in the last
    day: told once a day while it lasts."""
    now = now or utcnow()
    today = now.date().isoformat()

    def work(conn: Connection) -> int:
        dead = select(WebhookDelivery.endpoint_id).where(
            WebhookDelivery.status == "dead", WebhookDelivery.created_at >= now - timedelta(days=1)
        )
        rows = conn.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.status)
            .where((WebhookEndpoint.status == "disabled") | WebhookEndpoint.id.in_(dead))
            .order_by(WebhookEndpoint.id)
            .limit(BATCH)
        ).all()
        new = 0
        audience = notifications.recipients(conn, "webhook_failing")
        for eid, url, status in rows:
            reason = "disabled" if status == "disabled" else "dead_deliveries"
            new += notifications.notify(
                conn,
                "webhook_failing",
                f"webhook_failing:{eid}:{today}",
                {"url": url, "reason": reason, "endpoint_id": str(eid)},
                "/settings/webhooks",
                audience=audience,
            )
        return new

    return db.write(work)


SCANS = {
    "stuck_order": stuck_orders,
    "low_stock": low_stock,
    "reorder_point": reorder_points,
    "backorder_waiting": backorders,
    "dispute_due": disputes_due,
    "webhook_failing": webhooks_failing,
}


def scan(db: Database, now: datetime | None = None) -> dict[str, int]:
    """Every scan now (or as if at ``now``): the new notifications of each."""
    return {name: fn(db, now) for name, fn in SCANS.items()}


def run(db: Database, every: float = 60.0) -> dict[str, int] | None:
    """``scan`` when ``every`` seconds have passed since this process last did (the worker's
    5-second round is cheap most of the time); the reorder scan only in the one process that
    claims its hour."""
    global _last_run
    if time.monotonic() - _last_run < every:
        return None
    _last_run = time.monotonic()
    done = {name: fn(db) for name, fn in SCANS.items() if name != "reorder_point"}
    if recommendations.claim(db, REORDER_JOB, REORDER_EVERY):
        done["reorder_point"] = reorder_points(db)
    return done
