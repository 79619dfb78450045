"""Read-only reports. The return rate: units received back on returns divided by units
shipped, by reason code, by SKU and by the carrier of the shipment that carried them.

A returned unit counts once it is received (resellable or damaged): requested units that
never came back, and rejected returns, are not returns of goods. A returned unit is charged
to the carrier of the order's first shipment that carried its SKU.

A date range picks orders by the day they were placed (in the business time zone): the
units shipped on those orders, and the units received back on their returns, whenever they
came back. So every returned unit counted was shipped in the same count, which a range on
the return's or the shipment's date would not promise; the rate of recent orders can still
grow as their returns arrive.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine, Shipment
from dingdan.db.return_tables import Return, ReturnLine
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.reports.dashboard import BUSINESS_TZ
from dingdan.services.reports.shapes import RateRow, ReturnRatesView


def rate(returned: int, shipped: int) -> str | None:
    """A percentage with one decimal, as text; None when nothing was shipped."""
    if shipped <= 0:
        return None
    pct = Decimal(returned * 100) / Decimal(shipped)
    return str(pct.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _row(key: str, returned: int, shipped: int) -> RateRow:
    return {"key": key, "returned": returned, "shipped": shipped, "rate": rate(returned, shipped)}


class Period:
    """Orders placed from the day ``start`` to the day ``end``, both included; either may be
    open."""

    def __init__(
        self, start: date | None = None, end: date | None = None, tz: tzinfo = BUSINESS_TZ
    ) -> None:
        if start is not None and end is not None and end < start:
            raise ValidationFailed.on("to", "before_start")
        self.start, self.end, self.tz = start, end, tz

    def _instant(self, day: date) -> datetime | None:
        """Midnight of ``day``; None at the ends of the calendar, which no order is near
        (and which would overflow in UTC)."""
        if not date.min + timedelta(days=1) < day < date.max:
            return None
        return datetime.combine(day, time(), tzinfo=self.tz)

    def orders(self) -> Select[Any] | None:
        """The ids of the orders placed in the period; None when it is not limited."""
        after = self._instant(self.start) if self.start else None
        before = None
        if self.end is not None and self.end < date.max - timedelta(days=1):
            before = self._instant(self.end + timedelta(days=1))
        if after is None and before is None:
            return None
        stmt = select(Order.id)
        if after is not None:
            stmt = stmt.where(Order.created_at >= after)
        if before is not None:
            stmt = stmt.where(Order.created_at < before)
        return stmt

    def on(self, order_id: Any) -> list[ColumnElement[bool]]:
        """The conditions that keep rows of the period's orders (none when not limited)."""
        ids = self.orders()
        return [] if ids is None else [order_id.in_(ids)]


def _returned_lines(conn: Connection, period: Period) -> list[Any]:
    units = ReturnLine.resellable + ReturnLine.damaged
    stmt = (
        select(Return.order_id, ReturnLine.sku, ReturnLine.reason, units.label("units"))
        .join(Return, Return.id == ReturnLine.return_id)
        .where(units > 0, *period.on(Return.order_id))
    )
    return list(conn.execute(stmt))


def _shipped_by_sku(conn: Connection, period: Period) -> dict[str, int]:
    rows = conn.execute(
        select(OrderLine.sku, func.sum(OrderLine.shipped))
        .where(*period.on(OrderLine.order_id))
        .group_by(OrderLine.sku)
    ).all()
    return {sku: int(n or 0) for sku, n in rows}


def _by_carrier(conn: Connection, returned: list[Any], period: Period) -> list[RateRow]:
    shipped: dict[str, int] = defaultdict(int)
    first: dict[tuple[int, str], str] = {}
    rows = conn.execute(
        select(Shipment.order_id, Shipment.carrier, Shipment.lines)
        .where(*period.on(Shipment.order_id))
        .order_by(Shipment.id)
    )
    for order_id, carrier, lines in rows:
        for ln in lines or []:
            shipped[carrier] += int(ln.get("quantity") or 0)
            first.setdefault((order_id, str(ln.get("sku"))), carrier)
    back: dict[str, int] = defaultdict(int)
    for r in returned:
        back[first.get((r.order_id, r.sku), "")] += int(r.units)
    keys = sorted(set(shipped) | {k for k in back if k}, key=lambda k: (-back[k], k))
    return [_row(k, back[k], shipped[k]) for k in keys]


def return_rates(
    db: Database, date_from: date | None = None, date_to: date | None = None
) -> ReturnRatesView:
    """``{"from", "to", "shipped", "returned", "rate", "by_reason", "by_sku",
    "by_carrier"}``, each list of ``{"key", "returned", "shipped", "rate"}`` with the most
    returned first; ``from`` and ``to`` (days, included) limit the orders counted by the
    day they were placed."""
    period = Period(date_from, date_to)

    def work(conn: Connection) -> ReturnRatesView:
        returned = _returned_lines(conn, period)
        shipped_sku = _shipped_by_sku(conn, period)
        total_shipped = sum(shipped_sku.values())
        by_reason: dict[str, int] = defaultdict(int)
        by_sku: dict[str, int] = defaultdict(int)
        for r in returned:
            by_reason[r.reason] += int(r.units)
            by_sku[r.sku] += int(r.units)
        total = sum(by_sku.values())
        skus = sorted(
            {s for s, n in shipped_sku.items() if n} | set(by_sku), key=lambda s: (-by_sku[s], s)
        )
        reasons = sorted(by_reason, key=lambda k: (-by_reason[k], k))
        return {
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
            "shipped": total_shipped,
            "returned": total,
            "rate": rate(total, total_shipped),
            "by_reason": [_row(k, by_reason[k], total_shipped) for k in reasons],
            "by_sku": [_row(s, by_sku[s], shipped_sku.get(s, 0)) for s in skus],
            "by_carrier": _by_carrier(conn, returned, period),
        }

    return db.read(work)
