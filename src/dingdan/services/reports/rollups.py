"""The daily rollups the reports read (db/report_tables.py), kept exact by the worker.

Each order's share (services/reports/rollup_facts.py) is recomputed from the order as it is
now whenever an event says it changed (captured, edited, cancelled, refunded, shipped,
delivered, a delivery exception, a return received), and swapped for the share it added
before (kept in ``report_order_facts``): the rollups (by day, month and year) gain the
difference. Recomputing from the current state, rather than applying each event's change,
makes a consumer idempotent by construction (a second run of the same event adds nothing,
whatever its id) and indifferent to the order events arrive in.

Races: on PostgreSQL the order's row is locked (``FOR UPDATE``) before its previous share is
read, so two workers handling two events of one order take turns and the second sees the
first's share; rollup rows are upserted in sorted key order so two orders sharing a day
never deadlock. SQLite has one writer. ``rebuild`` runs the same swap over every order in
batches (after a historical import, whose orders sent no events), so it is exact beside a
running worker too.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from dingdan.db.engine import Database
from dingdan.db.message_tables import OrderRating
from dingdan.db.order_tables import Order, OrderEvent, OrderLine, Shipment
from dingdan.db.report_tables import ReportDaily, ReportMonthly, ReportOrderFacts, ReportYearly
from dingdan.db.return_tables import Return, ReturnLine
from dingdan.services.reports.rollup_facts import (
    Fact,
    Line,
    OrderState,
    Parcel,
    facts,
    local_day,
)

log = logging.getLogger("dingdan.reports")

# The events after which an order's share may have changed.
TOPICS = (
    "order.created",
    "order.updated",
    "order.cancelled",
    "order.shipped",
    "order.delivered",
    "order.delivery_exception",
    "return.received",
    "refund.created",
    "order.rated",
)
BATCH = 500
Key = tuple[str, date, str, str]


# ---- reading orders ----------------------------------------------------------------------


def _states(conn: Connection, ids: Sequence[int]) -> dict[int, OrderState]:
    cols = (
        Order.id, Order.created_at, Order.status, Order.currency, Order.channel,
        Order.customer_id, Order.shipping_address, Order.total_minor, Order.refunded_minor,
    )  # fmt: skip
    states = {
        r.id: OrderState(
            r.id,
            r.created_at,
            r.status,
            r.currency,
            r.channel,
            r.customer_id,
            dict(r.shipping_address or {}),
            r.total_minor,
            r.refunded_minor,
        )  # fmt: skip
        for r in conn.execute(select(*cols).where(Order.id.in_(ids)))
    }
    lines = select(
        OrderLine.order_id, OrderLine.sku, OrderLine.quantity, OrderLine.cancelled,
        OrderLine.unit_price_minor, OrderLine.shipped, OrderLine.returned,
    ).where(OrderLine.order_id.in_(ids))  # fmt: skip
    lines = lines.order_by(OrderLine.order_id, OrderLine.position)
    for r in conn.execute(lines):
        states[r.order_id].lines.append(
            Line(r.sku, r.quantity, r.cancelled, r.unit_price_minor, r.shipped, r.returned)
        )
    backs = select(OrderEvent.order_id, OrderEvent.data).where(
        OrderEvent.kind == "backordered", OrderEvent.order_id.in_(ids)
    )
    for r in conn.execute(backs):
        held = states[r.order_id].backordered
        for item in (r.data or {}).get("lines") or []:
            sku = str(item.get("sku"))
            held[sku] = held.get(sku, 0) + int(item.get("quantity") or 0)
    _parcels_and_returns(conn, ids, states)
    rated = select(OrderRating.order_id, OrderRating.rating).where(OrderRating.order_id.in_(ids))
    for oid, stars in conn.execute(rated):
        states[oid].rating = int(stars)
    return states


def _parcels_and_returns(conn: Connection, ids: Sequence[int], states: dict[int, Any]) -> None:
    ships = select(
        Shipment.order_id, Shipment.carrier, Shipment.created_at, Shipment.delivered_at,
        Shipment.exception, Shipment.lines,
    ).where(Shipment.order_id.in_(ids)).order_by(Shipment.id)  # fmt: skip
    for r in conn.execute(ships):
        skus: dict[str, int] = defaultdict(int)
        for ln in r.lines or []:
            skus[str(ln.get("sku"))] += int(ln.get("quantity") or 0)
        states[r.order_id].parcels.append(
            Parcel(r.carrier, r.created_at, r.delivered_at, r.exception, dict(skus))
        )
    units = ReturnLine.resellable + ReturnLine.damaged
    back = (
        select(Return.order_id, ReturnLine.sku, ReturnLine.reason, units.label("units"))
        .join(Return, Return.id == ReturnLine.return_id)
        .where(Return.order_id.in_(ids), units > 0)
    )
    for r in conn.execute(back):
        states[r.order_id].returned.append((r.sku, r.reason, int(r.units)))


# ---- swapping an order's share -----------------------------------------------------------


def apply(conn: Connection, ids: Sequence[int]) -> int:
    """Swap the shares of the orders ``ids`` for their shares as they are now, in the
    caller's transaction; the number of orders whose share changed."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    if conn.dialect.name == "postgresql":
        conn.execute(select(Order.id).where(Order.id.in_(ids)).order_by(Order.id).with_for_update())
    states = _states(conn, ids)
    old = {
        r.order_id: r
        for r in conn.execute(select(ReportOrderFacts).where(ReportOrderFacts.order_id.in_(ids)))
    }
    delta: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    changed: list[tuple[int, date, str, list[Fact]]] = []
    for oid in ids:
        state = states.get(oid)
        new = facts(state) if state else []
        day = local_day(state.created_at) if state else None
        currency = state.currency if state else ""
        before = old.get(oid)
        same = before is not None and (before.day, before.currency) == (day, currency)
        if same and before is not None and [list(f) for f in new] == list(before.rows):
            continue
        if before is not None:
            _add(delta, before.day, before.currency, before.rows, -1)
        if state is not None and day is not None:
            _add(delta, day, currency, new, 1)
            changed.append((oid, day, currency, new))
    _write_facts(conn, [oid for oid, *_ in changed] + [o for o in old if o not in states], changed)
    _upsert(conn, delta)
    return len(changed)


def _add(delta: dict[Key, list[int]], day: date, cur: str, rows: Iterable[Any], sign: int) -> None:
    for dim, key, orders, units, revenue in rows:
        row = delta[(dim, day, cur, key)]
        row[0] += sign * orders
        row[1] += sign * units
        row[2] += sign * revenue


def _write_facts(
    conn: Connection, gone: list[int], changed: list[tuple[int, date, str, list[Fact]]]
) -> None:
    if gone:
        conn.execute(delete(ReportOrderFacts).where(ReportOrderFacts.order_id.in_(gone)))
    if changed:
        conn.execute(
            insert(ReportOrderFacts),
            [
                {"order_id": oid, "day": day, "currency": cur, "rows": [list(f) for f in rows]}
                for oid, day, cur, rows in changed
            ],
        )


def _upsert(conn: Connection, delta: dict[Key, list[int]]) -> None:
    """Add ``delta`` to the daily rows and to their months' and years' rows."""
    months: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    years: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (dim, day, cur, key), v in delta.items():
        month = months[(dim, day.replace(day=1), cur, key)]
        year = years[(dim, day.replace(month=1, day=1), cur, key)]
        for i in range(3):
            month[i] += v[i]
            year[i] += v[i]
    _upsert_into(conn, ReportDaily, "day", delta)
    _upsert_into(conn, ReportMonthly, "month", months)
    _upsert_into(conn, ReportYearly, "year", years)


_UPSERT = (
    "INSERT INTO {table} (dimension, {when}, currency, key, orders, units, revenue_minor) "
    "VALUES ({marks}) ON CONFLICT (dimension, {when}, currency, key) DO UPDATE SET "
    "orders = {table}.orders + excluded.orders, units = {table}.units + excluded.units, "
    "revenue_minor = {table}.revenue_minor + excluded.revenue_minor"
)
# The rows in key order (as sorted), so two transactions lock shared rows in the same order.
_PG_UPSERT = (
    "INSERT INTO {table} (dimension, {when}, currency, key, orders, units, revenue_minor) "
    "SELECT * FROM unnest(%s::varchar[], %s::date[], %s::varchar[], %s::varchar[], "
    "%s::bigint[], %s::bigint[], %s::bigint[]) "
    "ON CONFLICT (dimension, {when}, currency, key) DO UPDATE SET "
    "orders = {table}.orders + excluded.orders, units = {table}.units + excluded.units, "
    "revenue_minor = {table}.revenue_minor + excluded.revenue_minor"
)
_PG_DELETE_EMPTY = (
    "DELETE FROM {table} t USING unnest(%s::varchar[], %s::date[], %s::varchar[], "
    "%s::varchar[]) AS x(dimension, at, currency, key) WHERE t.dimension = x.dimension "
    "AND t.{when} = x.at AND t.currency = x.currency AND t.key = x.key "
    "AND t.orders = 0 AND t.units = 0 AND t.revenue_minor = 0"
)
_DELETE_EMPTY = (
    "DELETE FROM {table} WHERE dimension = {m} AND {when} = {m} AND currency = {m} "
    "AND key = {m} AND orders = 0 AND units = 0 AND revenue_minor = 0"
)


def _upsert_into(conn: Connection, table: Any, when: str, delta: dict[Key, list[int]]) -> None:
    """One statement for many rows, through the driver (SQLAlchemy's compilation of a
    many-row insert cost more than the database's work)."""
    pg = conn.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    name = table.__tablename__

    def day(d: date) -> Any:
        return d if pg else d.isoformat()  # SQLite keeps dates as ISO text

    rows = [
        (k[0], day(k[1]), k[2], k[3], v[0], v[1], v[2])
        for k, v in sorted(delta.items())
        if v != [0, 0, 0]
    ]
    if not rows:
        return
    # A row an order left empty goes, so a report never lists a key with nothing in it:
    # only a row that lost something can have become empty.
    shrunk = [r[:4] for r in rows if min(r[4], r[5], r[6]) < 0]
    if pg:  # one statement of arrays: PostgreSQL runs an executemany row by row
        conn.exec_driver_sql(_PG_UPSERT.format(table=name, when=when), _columns(rows, 7))
        if shrunk:
            conn.exec_driver_sql(_PG_DELETE_EMPTY.format(table=name, when=when),
                                 _columns(shrunk, 4))  # fmt: skip
        return
    conn.exec_driver_sql(_UPSERT.format(table=name, when=when, marks=", ".join([mark] * 7)), rows)
    if shrunk:
        conn.exec_driver_sql(_DELETE_EMPTY.format(table=name, when=when, m=mark), shrunk)


def _columns(rows: list[tuple[Any, ...]], n: int) -> tuple[list[Any], ...]:
    return tuple([r[i] for r in rows] for i in range(n))


# ---- the worker's consumer and the rebuild -----------------------------------------------


def on_event(db: Database, event: Any) -> None:
    """The worker's consumer of ``TOPICS`` (an outbox event: ``payload["number"]``): the
    order it names, rolled up again."""
    number = (event.payload or {}).get("number")
    if not number:
        return

    def work(conn: Connection) -> None:
        oid = conn.execute(select(Order.id).where(Order.number == str(number))).scalar()
        if oid is not None:
            apply(conn, [oid])

    db.write(work)


def rebuild(
    db: Database,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
    *,
    after: int = 0,
    until: int | None = None,
) -> int:
    """Every order's share recomputed and swapped in, ``batch`` orders per transaction, the
    oldest first; the number of orders whose share changed. ``progress(done, total)``.
    ``after`` and ``until``: only the orders of ids above the one and up to the other (so
    several processes can share a rebuild; each order's swap is as exact in any of them)."""
    bounds = [Order.id > after, *([Order.id <= until] if until is not None else [])]
    counting = select(func.count()).select_from(Order).where(*bounds)
    count = db.read(lambda c: c.execute(counting).scalar()) or 0
    done, changed = 0, 0
    while True:

        def work(conn: Connection, after: int = after) -> tuple[list[int], int]:
            stmt = select(Order.id).where(Order.id > after, *bounds[1:])
            ids = list(conn.execute(stmt.order_by(Order.id).limit(batch)).scalars())
            return ids, apply(conn, ids)

        ids, n = db.write(work)
        if not ids:
            break
        after, done, changed = ids[-1], done + len(ids), changed + n
        if progress is not None:
            progress(done, count)
    return changed


def daily_rows(conn: Connection) -> dict[Key, tuple[int, int, int]]:
    """Every rollup row (tests compare it with a recomputation)."""
    return {
        (r.dimension, r.day, r.currency, r.key): (r.orders, r.units, r.revenue_minor)
        for r in conn.execute(select(ReportDaily))
    }


def monthly_rows(conn: Connection) -> dict[Key, tuple[int, int, int]]:
    """Every monthly row (tests compare it with the daily rows summed by month)."""
    return {
        (r.dimension, r.month, r.currency, r.key): (r.orders, r.units, r.revenue_minor)
        for r in conn.execute(select(ReportMonthly))
    }


def yearly_rows(conn: Connection) -> dict[Key, tuple[int, int, int]]:
    """Every yearly row (tests compare it with the daily rows summed by year)."""
    return {
        (r.dimension, r.year, r.currency, r.key): (r.orders, r.units, r.revenue_minor)
        for r in conn.execute(select(ReportYearly))
    }


def by_month(rows: dict[Key, tuple[int, int, int]]) -> dict[Key, tuple[int, int, int]]:
    """Daily rows summed by month."""
    return _summed(rows, lambda day: day.replace(day=1))


def by_year(rows: dict[Key, tuple[int, int, int]]) -> dict[Key, tuple[int, int, int]]:
    """Daily rows summed by year."""
    return _summed(rows, lambda day: day.replace(month=1, day=1))


def _summed(
    rows: dict[Key, tuple[int, int, int]], period: Callable[[date], date]
) -> dict[Key, tuple[int, int, int]]:
    out: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (dim, day, cur, key), v in rows.items():
        acc = out[(dim, period(day), cur, key)]
        for i in range(3):
            acc[i] += v[i]
    return {k: (v[0], v[1], v[2]) for k, v in out.items() if v != [0, 0, 0]}


def recomputed(conn: Connection) -> dict[Key, tuple[int, int, int]]:
    """The rollups as the orders make them now, from nothing."""
    ids = list(conn.execute(select(Order.id)).scalars())
    delta: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for start in range(0, len(ids), BATCH):
        for state in _states(conn, ids[start : start + BATCH]).values():
            _add(delta, local_day(state.created_at), state.currency, facts(state), 1)
    return {k: (v[0], v[1], v[2]) for k, v in delta.items() if v != [0, 0, 0]}
