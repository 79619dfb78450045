"""The ABC report (shared/CONTRACT.md, "Reports") with XYZ beside it.

Revenue per SKU is its line amounts (units not cancelled times unit price) on orders placed
from ``from`` to ``to`` (days in the seller's time zone, both included; either open),
cancelled orders left out, in one currency: ``currency`` is required when orders in more
than one fall in the range. XYZ is measured on the units ordered per ISO week over the same
days (from the first order's day when ``from`` is open, to yesterday when ``to`` is).
Thresholds live in ``settings`` under ``abc_thresholds``: ``{"a": 0.8, "b": 0.95, "x": 0.5,
"y": 1.0}`` (any of them).
"""

from __future__ import annotations

import threading
import weakref
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.purchasing import abc as rules
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.purchasing import demand
from dingdan.services.purchasing.shapes import AbcClasses, AbcItem, AbcLimits, AbcReport
from dingdan.services.shared import past_sales

SETTING_KEY = "abc_thresholds"
HEADER = ("sku", "revenue", "currency", "share", "cumulative_share", "class", "xyz", "cv")


def _stored(stored: object, key: str) -> Fraction | None:
    """The threshold ``key`` of the stored setting when it is a number in its range."""
    value = stored.get(key) if isinstance(stored, dict) else None
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            number = Fraction(str(value))
        except (ValueError, ZeroDivisionError):
            return None
        if 0 < number <= (1 if key in "ab" else 100):
            return number
    return None


def thresholds(conn: Connection) -> AbcLimits:
    stored = conn.execute(select(Setting.value).where(Setting.key == SETTING_KEY)).scalar()
    a, b, x, y = (_stored(stored, key) for key in ("a", "b", "x", "y"))
    out: AbcLimits = {
        "a": rules.DEFAULT_A if a is None else a,
        "b": rules.DEFAULT_B if b is None else b,
        "x": rules.DEFAULT_X if x is None else float(x),
        "y": rules.DEFAULT_Y if y is None else float(y),
    }
    if out["b"] < out["a"]:
        out["b"] = out["a"]
    return out


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), SELLER_TIMEZONE)


def report(
    db: Database,
    start: date | None = None,
    end: date | None = None,
    currency: str | None = None,
) -> AbcReport:
    if start is not None and end is not None and end < start:
        raise ValidationFailed.on("to", "before_start")
    return db.read(lambda conn: _report(conn, start, end, currency))


def _orders_in(start: date | None, end: date | None) -> list[Any]:
    terms = [Order.status != "cancelled"]
    if start is not None and start > date.min + timedelta(days=1):
        terms.append(Order.created_at >= _start(start))
    if end is not None and end < date.max - timedelta(days=1):
        terms.append(Order.created_at < _start(end + timedelta(days=1)))
    return terms


def _currency(conn: Connection, terms: list[Any], currency: str | None) -> str | None:
    found = sorted(conn.execute(select(Order.currency).where(*terms).distinct()).scalars())
    if currency is not None:
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            raise ValidationFailed.on("currency", "invalid_currency")
        return currency
    if len(found) > 1:
        errors = FieldErrors()
        errors.add("currency", "required")
        errors.raise_if_any("Orders in more than one currency fall in the range: name one.")
    return found[0] if found else None


def _report(
    conn: Connection, start: date | None, end: date | None, currency: str | None
) -> AbcReport:
    terms = _orders_in(start, end)
    money = _currency(conn, terms, currency)
    limits = thresholds(conn)
    rows = conn.execute(
        select(
            OrderLine.sku,
            func.sum((OrderLine.quantity - OrderLine.cancelled) * OrderLine.unit_price_minor),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(*terms, Order.currency == (money or ""))
        .group_by(OrderLine.sku)
    ).all()
    revenues = {sku: int(total or 0) for sku, total in rows}
    weekly = _weekly(conn, terms, money, start, end)
    items: list[AbcItem] = []
    for row in rules.abc(revenues, limits["a"], limits["b"]):
        weeks = weekly.get(row.sku, [])
        cv = rules.coefficient_of_variation(weeks)
        items.append(
            {
                "sku": row.sku,
                "revenue": format_amount(row.revenue_minor, money or "TWD"),
                "share": round(float(row.share), 6),
                "cumulative_share": round(float(row.cumulative_share), 6),
                "class": row.klass,
                "xyz": rules.xyz(weeks, limits["x"], limits["y"]),
                "cv": None if cv is None else round(cv, 4),
            }
        )
    return {"currency": money, "items": items}


def _weekly(
    conn: Connection, terms: list[Any], money: str | None, start: date | None, end: date | None
) -> dict[str, list[float]]:
    """Units ordered per ISO week and SKU over the report's days."""
    found = conn.execute(
        select(OrderLine.sku, Order.created_at, OrderLine.quantity - OrderLine.cancelled)
        .join(Order, Order.id == OrderLine.order_id)
        .where(*terms, Order.currency == (money or ""))
    ).all()
    if not found:
        return {}
    by_sku: dict[str, dict[date, float]] = {}
    for sku, at, units in found:
        day = demand.local_day(at)
        by_sku.setdefault(sku, {})
        by_sku[sku][day] = by_sku[sku].get(day, 0.0) + float(units)
    first = start or min(min(d) for d in by_sku.values())
    last = end or demand.local_day(utcnow())
    return {sku: demand.weekly_units(days, first, last) for sku, days in by_sku.items()}


# The classes below are over whole days to yesterday, so they change with the day, the
# thresholds and changes to past days' orders, not with today's orders: kept per database on
# (end day, thresholds, services/shared/past_sales.mark), so that the inventory list (each
# keystroke of its search), the product and forecast pages read them instead of running the
# report again (about 600 ms at 50,000 orders). An order of a past day cancelled (or a line
# of it cancelled or edited) writes a new mark: every process computes them again at once.
_kept: weakref.WeakKeyDictionary[Database, tuple[Any, dict[str, AbcClasses]]] = (
    weakref.WeakKeyDictionary()
)
_kept_lock = threading.Lock()


def all_classes(db: Database) -> dict[str, AbcClasses]:
    """Every SKU's ABC and XYZ classes (``{"class", "xyz"}``) over the last 365 days to
    yesterday; empty when orders in several currencies make the report ask for one. The
    classes shown on the product, inventory and forecast pages and used by cycle counts
    (kept: see above; callers read the dict, never change it)."""
    end = demand.local_day(utcnow()) - timedelta(days=1)
    limits, changed = db.read(lambda conn: (thresholds(conn), past_sales.mark(conn)))
    key = (end, tuple(sorted((k, str(v)) for k, v in limits.items())), str(changed))
    with _kept_lock:
        kept = _kept.get(db)
    if kept is not None and kept[0] == key:
        return kept[1]
    try:
        found = report(db, end - timedelta(days=364), end)
        classes: dict[str, AbcClasses] = {
            i["sku"]: {"class": i["class"], "xyz": i["xyz"]} for i in found["items"]
        }
    except ValidationFailed:  # several currencies: the report needs one named
        classes = {}
    with _kept_lock:
        _kept[db] = (key, classes)
    return classes


def classes(db: Database, sku: str) -> AbcClasses | None:
    """The SKU's ABC and XYZ classes over the last 365 days (for its pages); None when it
    sold nothing then."""
    return all_classes(db).get(sku)


def rows(found: AbcReport) -> list[list[Any]]:
    """The report as the CSV/XLSX rows under ``HEADER``."""
    money = found["currency"] or ""
    return [
        [
            i["sku"],
            i["revenue"],
            money,
            i["share"],
            i["cumulative_share"],
            i["class"],
            i["xyz"],
            i["cv"],
        ]
        for i in found["items"]
    ]
