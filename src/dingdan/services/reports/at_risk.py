"""Orders at risk of missing their stage's time limit, flagged before they are late (issue
23, part 6; the rule is domain/purchasing/planning.py ``at_risk``).

The stages and their limits are the dashboard's (services/reports/dashboard.py). How a stage
runs now is measured on the orders that left it in the last ``WINDOW_DAYS`` days:

  payment   from the order's creation to its first "paid" event
  picking   from ready (paid, or created) to its "picked" event
  packing   from picked to its pack record
  shipping  from its pack record to the shipment that took it

``allocation`` waits on stock arriving, not on people: its risk is the stock-out list
(services/purchasing/planning.py), so it gets no pace here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderEvent, PackRecord, Shipment
from dingdan.db.types import utcnow
from dingdan.domain.purchasing import planning as rules
from dingdan.services.reports import dashboard
from dingdan.services.reports.shapes import AtRiskView
from dingdan.services.shared.common import iso

WINDOW_DAYS = 14


def _hours(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> list[float]:
    return [
        (end - start).total_seconds() / 3600
        for start, end in pairs
        if start is not None and end is not None and end >= start
    ]


def _events(conn: Connection, kind: str, since: datetime | None = None) -> dict[int, datetime]:
    """The first event of ``kind`` per order (since ``since``, when given)."""
    stmt = select(OrderEvent.order_id, func.min(OrderEvent.created_at)).where(
        OrderEvent.kind == kind
    )
    if since is not None:
        stmt = stmt.where(OrderEvent.created_at >= since)
    return {int(o): t for o, t in conn.execute(stmt.group_by(OrderEvent.order_id))}


def durations(conn: Connection, since: datetime) -> dict[str, list[float]]:
    """Hours each order that left a stage since ``since`` spent in it."""
    created = dict(
        conn.execute(
            select(Order.id, Order.created_at).where(Order.created_at >= since - timedelta(days=60))
        ).all()
    )
    paid_recent = _events(conn, "paid", since)
    picked_recent = _events(conn, "picked", since)
    paid = _events(conn, "paid", since - timedelta(days=60))
    picked = _events(conn, "picked", since - timedelta(days=60))
    packs = list(
        conn.execute(
            select(PackRecord.order_id, PackRecord.created_at, PackRecord.shipment_id).where(
                PackRecord.created_at >= since - timedelta(days=60)
            )
        )
    )
    shipped = dict(
        conn.execute(
            select(Shipment.id, Shipment.created_at).where(Shipment.created_at >= since)
        ).all()
    )
    return {
        "payment": _hours((created.get(o), t) for o, t in paid_recent.items()),
        "picking": _hours((paid.get(o, created.get(o)), t) for o, t in picked_recent.items()),
        "packing": _hours((picked.get(o), t) for o, t, _ in packs if t >= since),
        "shipping": _hours((t, shipped.get(s)) for _, t, s in packs if s in shipped),
    }


def orders_at_risk(db: Database, now: datetime | None = None) -> AtRiskView:
    now = now or utcnow()
    since = now - timedelta(days=WINDOW_DAYS)
    limits = dashboard.stage_limits(db)

    def work(conn: Connection) -> tuple[list[Any], dict[str, list[float]]]:
        return dashboard.waiting_orders(conn), durations(conn, since)

    waiting, spent = db.read(work)
    window_hours = WINDOW_DAYS * 24.0
    paces = {stage: rules.pace(spent.get(stage, []), window_hours) for stage in dashboard.STAGES}
    # Customers pay when they will: no queue of the seller's.
    paces["payment"] = rules.StagePace(paces["payment"].median_hours, None)
    found = rules.at_risk(
        now,
        [rules.Waiting(o.number, stage, at) for o, stage, at in waiting],
        {stage: float(limits[stage]["hours"]) for stage in dashboard.STAGES},
        paces,
    )
    return {
        "paces": {
            stage: {"median_hours": p.median_hours, "per_hour": p.per_hour}
            for stage, p in paces.items()
        },
        "items": [
            {
                "number": r.number,
                "stage": r.stage,
                "since": iso(r.since),
                "due": iso(r.due),
                "expected": iso(r.expected),
                "ahead": r.ahead,
                "owner": limits[r.stage]["owner"],
            }
            for r in found
        ],
    }
