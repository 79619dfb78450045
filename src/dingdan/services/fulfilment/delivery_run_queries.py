"""Own delivery, read only: a run as staff and its driver see it (stops in address order,
the cash reconciliation), the list of runs, and the shipments waiting for a run grouped by
area with the run each area is suggested for."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, select

from dingdan.db.delivery_tables import DeliveryRun, DeliveryStop
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Shipment
from dingdan.db.tables import User
from dingdan.domain.access import personal_data
from dingdan.domain.access.roles import Role
from dingdan.domain.fulfilment import delivery_runs as rules
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.services.fulfilment.shapes import (
    PlanAreaView,
    PlanningView,
    RecipientView,
    RunSummaryView,
    RunView,
    StopCounts,
    StopView,
)
from dingdan.services.shared.common import (
    Actor,
    Page,
    audit,
    check_limit,
    decode_cursor,
    encode_cursor,
    iso,
    page_of,
)


def is_driver(actor: Actor) -> bool:
    return str(actor.role) == rules.DRIVER_ROLE


def actor_email(actor: Actor) -> str | None:
    """The user an actor is: a signed-in user, or an API token named after one's email."""
    for prefix in ("user:", "token:"):
        if actor.name.startswith(prefix):
            return actor.name[len(prefix) :]
    return None


def own_user_id(conn: Connection, actor: Actor) -> int | None:
    email = actor_email(actor)
    if email is None:
        return None
    return conn.execute(select(User.id).where(User.email == email)).scalar()


def fetch_run(conn: Connection, actor: Actor, run_id: str, *, lock: bool = False) -> Any:
    """The run, if the actor may see it: a driver sees only their own runs (any other is
    not found for them, as if it did not exist)."""
    stmt = select(DeliveryRun).where(DeliveryRun.id == row_id(run_id))
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None or (is_driver(actor) and row.driver_id != own_user_id(conn, actor)):
        raise NotFound(detail=f"No delivery run with id {run_id!r}.")
    return row


def cod_due(order: Any) -> int:
    """What the driver collects at the door: the unpaid rest of a COD order."""
    if order.payment_method != "cod":
        return 0
    return max(0, order.total_minor - order.paid_minor)


def _role(actor: Actor) -> Role:
    try:
        return Role(actor.role)
    except ValueError:
        return Role.VIEWER


def _recipient(address: Any, actor: Actor) -> RecipientView:
    shown = personal_data.masked_order({"shipping_address": address}, _role(actor))
    a = dict(shown["shipping_address"] or {})
    return {
        "name": a.get("name"),
        "phone": a.get("phone"),
        "line1": a.get("line1"),
        "line2": a.get("line2"),
        "city": a.get("city"),
        "region": a.get("region"),
        "postal_code": a.get("postal_code"),
        "country": a.get("country"),
    }


def _stop_rows(conn: Connection, run_id: int) -> list[Any]:
    return list(
        conn.execute(
            select(
                DeliveryStop,
                Order.number,
                Order.shipping_address,
                Order.payment_method,
                Order.total_minor,
                Order.paid_minor,
                Order.currency,
            )
            .join(Order, Order.id == DeliveryStop.order_id)
            .where(DeliveryStop.run_id == run_id)
        )
    )


def stop_view(r: Any, actor: Actor, currency: str, position: int) -> StopView:
    """Stop ``r`` of a run, the ``position``-th on the road (1 for the first)."""
    pending = r.status == rules.StopStatus.PENDING
    due = cod_due(r) if pending else r.cod_due_minor
    return {
        "id": str(r.id),
        "position": position,
        "order": r.number,
        "shipment_id": str(r.shipment_id),
        "status": r.status,
        "area": r.area,
        "recipient": _recipient(r.shipping_address, actor),
        "payment_method": r.payment_method,
        "cod_due": format_amount(due, currency),
        "cod_collected": None if pending else format_amount(r.cod_collected_minor, currency),
        "fail_reason": r.fail_reason,
        "note": r.note,
        "photo": r.photo_sha256 is not None,
        "signature": r.signature_sha256 is not None,
        "done_by": r.done_by,
        "done_at": iso(r.done_at),
    }


def _counts_of(statuses: list[str]) -> StopCounts:
    return {
        "pending": statuses.count(rules.StopStatus.PENDING),
        "delivered": statuses.count(rules.StopStatus.DELIVERED),
        "failed": statuses.count(rules.StopStatus.FAILED),
    }


def run_view(conn: Connection, actor: Actor, run: Any) -> RunView:
    rows = sorted(
        _stop_rows(conn, run.id), key=lambda r: rules.stop_order(r.shipping_address, r.number)
    )
    driver = conn.execute(select(User.id, User.email, User.name).where(User.id == run.driver_id))
    d = driver.one()
    stops = [stop_view(r, actor, run.currency, i) for i, r in enumerate(rows, 1)]
    cash = rules.reconcile(
        [
            {
                "status": r.status,
                "number": r.number,
                "cod_due": r.cod_due_minor,
                "cod_collected": r.cod_collected_minor,
            }
            for r in rows
        ],
        run.cash_handed_in_minor,
    )

    def money(minor: int) -> str:
        return format_amount(minor, run.currency)

    def money_or_none(minor: int | None) -> str | None:
        return None if minor is None else money(minor)

    return {
        "id": str(run.id),
        "driver": {"id": str(d.id), "email": d.email, "name": d.name},
        "date": run.run_date.isoformat(),
        "status": run.status,
        "currency": run.currency,
        "note": run.note,
        "created_by": run.created_by,
        "created_at": iso(run.created_at),
        "counts": _counts_of([x["status"] for x in stops]),
        "stops": stops,
        "cash": {
            "expected": money(cash.expected),
            "collected": money(cash.collected),
            "handed_in": money_or_none(cash.handed_in),
            "difference": money_or_none(cash.difference),
            "recorded_by": run.cash_recorded_by,
            "orders": [
                {
                    "order": str(ln["number"]),
                    "expected": money(int(ln["expected"])),
                    "collected": money(int(ln["collected"])),
                    "difference": money(int(ln["difference"])),
                }
                for ln in cash.lines
            ],
        },
        "closed_by": run.closed_by,
        "closed_at": iso(run.closed_at),
        "close_note": run.close_note,
    }


def get_run(db: Database, actor: Actor, run_id: str) -> RunView:
    """The run; the read is in the audit trail (it shows addresses and phones)."""

    def work(conn: Connection) -> RunView:
        run = fetch_run(conn, actor, run_id)
        audit(conn, actor, "view", "delivery_run", str(run.id))
        return run_view(conn, actor, run)

    return db.write(work)


def parse_date(value: Any, field: str = "date") -> date:
    if isinstance(value, date):
        return value
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValidationFailed.on(field, "not_a_date")


def list_runs(
    db: Database,
    actor: Actor,
    *,
    on: str | None = None,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Newest day first; a driver's own runs only."""
    check_limit(limit)
    day = None if on is None else parse_date(on)
    if status is not None and status not in {s.value for s in rules.RunStatus}:
        raise ValidationFailed.on(
            "status", "not_one_of", choices=", ".join(s.value for s in rules.RunStatus)
        )
    key = decode_cursor(cursor, str, int)

    def work(conn: Connection) -> Page:
        q = select(DeliveryRun, User.email, User.name).join(User, User.id == DeliveryRun.driver_id)
        if is_driver(actor):
            q = q.where(DeliveryRun.driver_id == own_user_id(conn, actor))
        if day is not None:
            q = q.where(DeliveryRun.run_date == day)
        if status is not None:
            q = q.where(DeliveryRun.status == status)
        if key is not None:
            d, i = date.fromisoformat(key[0]), key[1]
            q = q.where(
                (DeliveryRun.run_date < d) | (and_(DeliveryRun.run_date == d, DeliveryRun.id < i))
            )
        rows = conn.execute(
            q.order_by(DeliveryRun.run_date.desc(), DeliveryRun.id.desc()).limit(limit + 1)
        ).all()
        counts = _counts(conn, [r.id for r in rows])
        return page_of(
            list(rows),
            limit,
            lambda r: _summary(r, counts.get(r.id, {})),
            lambda r: encode_cursor(r.run_date.isoformat(), r.id),
        )

    return db.read(work)


def _counts(conn: Connection, ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    if not ids:
        return out
    for run_id, status in conn.execute(
        select(DeliveryStop.run_id, DeliveryStop.status).where(DeliveryStop.run_id.in_(ids))
    ):
        out.setdefault(run_id, {}).setdefault(status, 0)
        out[run_id][status] += 1
    return out


def _summary(r: Any, counts: dict[str, int]) -> RunSummaryView:
    return {
        "id": str(r.id),
        "driver": {"id": str(r.driver_id), "email": r.email, "name": r.name},
        "date": r.run_date.isoformat(),
        "status": r.status,
        "currency": r.currency,
        "counts": {
            "pending": counts.get(rules.StopStatus.PENDING, 0),
            "delivered": counts.get(rules.StopStatus.DELIVERED, 0),
            "failed": counts.get(rules.StopStatus.FAILED, 0),
        },
    }


def waiting(conn: Connection) -> list[Any]:
    """Own-delivery shipments on the road that no run holds (or only as a failed stop)."""
    live = select(DeliveryStop.shipment_id).where(DeliveryStop.status != rules.StopStatus.FAILED)
    return list(
        conn.execute(
            select(Shipment.id, Shipment.order_id, Order.number, Order.shipping_address)
            .join(Order, Order.id == Shipment.order_id)
            .where(
                Shipment.carrier == rules.OWN_DELIVERY,
                Shipment.status == "shipped",
                Shipment.id.not_in(live),
            )
            .order_by(Shipment.id)
        )
    )


def planning(db: Database, on: str) -> PlanningView:
    """The shipments waiting for a run on ``on``, by area (postal code), each area with the
    run suggested for it: the run of that day already going there, else the run that day
    of the driver who last went there."""
    day = parse_date(on)

    def work(conn: Connection) -> PlanningView:
        areas: dict[str, PlanAreaView] = {}
        for s in waiting(conn):
            area = rules.area_of(s.shipping_address or {})
            a = areas.setdefault(
                area.key,
                {"key": area.key, "label": area.label, "orders": [], "suggested_run": None},
            )
            a["orders"].append({"order": s.number, "shipment_id": str(s.id)})
        runs = conn.execute(
            select(DeliveryRun.id, DeliveryRun.driver_id).where(
                DeliveryRun.run_date == day, DeliveryRun.status == rules.RunStatus.OPEN
            )
        ).all()
        by_driver = {r.driver_id: str(r.id) for r in runs}
        today: dict[str, list[str]] = {str(r.id): [] for r in runs}
        history: dict[str, str] = {}
        stops = conn.execute(
            select(DeliveryStop.area, DeliveryRun.id, DeliveryRun.driver_id, DeliveryRun.run_date)
            .join(DeliveryRun, DeliveryRun.id == DeliveryStop.run_id)
            .where(DeliveryRun.run_date <= day)
            .order_by(DeliveryRun.run_date, DeliveryStop.id)
        )
        for area_key, run_id, driver_id, run_date in stops:
            if run_date == day and str(run_id) in today:
                today[str(run_id)].append(area_key)
            elif driver_id in by_driver:
                history[area_key] = by_driver[driver_id]  # the latest wins
        suggested = rules.suggest(areas, today, history)
        items = sorted(areas.values(), key=lambda a: rules.natural(a["label"]))
        for a in items:
            a["suggested_run"] = suggested[a["key"]]
        return {"date": day.isoformat(), "areas": items}

    return db.read(work)
