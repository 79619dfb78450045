"""What every report over the daily rollups shares: the range (``from``, ``to``: local days,
both included), the currency (required when orders in several fall in the range), and
reading one dimension's sums over the range.

Reports read ``report_daily`` only (a row per day and key), never the orders: a year of a
dimension is at most 366 rows per key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, func, select, union_all

from dingdan.db.report_tables import ReportDaily, ReportMonthly
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.domain.shared.money import format_amount, is_currency
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE

LONGEST_DAYS = 3660  # ten years: a report answers whole, at most 10,000 items
DEFAULT_DAYS = 30
R = ReportDaily
M = ReportMonthly


@dataclass(frozen=True)
class Sums:
    orders: int = 0
    units: int = 0
    revenue: int = 0  # minor units

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.orders + other.orders, self.units + other.units, self.revenue + other.revenue
        )


@dataclass(frozen=True)
class Range:
    """Days ``start`` to ``end`` (both included) in ``currency`` (None: nothing in range)."""

    start: date
    end: date
    currency: str | None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Range:
        """The period of as many days just before (the comparison)."""
        return Range(self.start - timedelta(days=self.days), self.start - timedelta(days=1),
                     self.currency)  # fmt: skip

    def money(self, minor: int) -> str:
        return format_amount(minor, self.currency or "TWD")

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start, "to": self.end, "currency": self.currency}


def today() -> date:
    return datetime.now(SELLER_TIMEZONE).date()


EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)  # far from the calendar's ends


def _day(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationFailed.on(field, "not_a_date") from None
    if not EARLIEST <= day <= LATEST:
        raise ValidationFailed.on(field, "out_of_range", min=EARLIEST, max=LATEST)
    return day


def period(conn: Connection, date_from: Any, date_to: Any, currency: Any) -> Range:
    """The range asked for: ``to`` today and ``from`` 29 days before it unless given; the
    currency given, else the only one in the range (422 on ``currency`` when several)."""
    given = _day(date_from, "from")
    end = _day(date_to, "to") or today()
    start = given or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise ValidationFailed.on("to", "before_start")
    if (end - start).days >= LONGEST_DAYS:
        raise ValidationFailed.on("from", "range_too_long", days=LONGEST_DAYS)
    if currency:
        code = str(currency).strip().upper()
        if not is_currency(code):
            raise ValidationFailed.on("currency", "invalid_currency")
        return Range(start, end, code)
    found = currencies(conn, start, end)
    if len(found) > 1:
        raise ValidationFailed.on("currency", "currency_required", currencies=", ".join(found))
    return Range(start, end, found[0] if found else None)


def currencies(conn: Connection, start: date, end: date) -> list[str]:
    rows = conn.execute(
        select(R.currency)
        .where(R.dimension == "placed", R.day >= start, R.day <= end)
        .group_by(R.currency)
        .order_by(R.currency)
    )
    return [str(c) for c in rows.scalars()]


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def split(start: date, end: date) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """The range as its ragged ends, read by day, and its whole months (first days of the
    first and last), read by month."""
    first = start if start.day == 1 else _next_month(start)
    after = _next_month(end)
    last_end = end if after - timedelta(days=1) == end else end.replace(day=1) - timedelta(days=1)
    if first > last_end:
        return [(start, end)], None
    days = [(start, first - timedelta(days=1)), (_next_month(last_end), end)]
    return [(a, b) for a, b in days if a <= b], (first, last_end.replace(day=1))


def source(rng: Range, dimension: str, after: str | None = None) -> Any:
    """The rows of one dimension in the range (``key, orders, units, revenue_minor``): whole
    months from ``report_monthly``, the rest from ``report_daily``; keys after ``after``
    only, when given."""
    cur = rng.currency or ""
    days, months = split(rng.start, rng.end)
    parts = [
        select(R.key, R.orders, R.units, R.revenue_minor).where(
            R.dimension == dimension,
            R.currency == cur,
            R.day >= a,
            R.day <= b,
            *([R.key > after] if after is not None else []),
        )  # fmt: skip
        for a, b in days
    ]
    if months is not None:
        parts.append(
            select(M.key, M.orders, M.units, M.revenue_minor).where(
                M.dimension == dimension,
                M.currency == cur,
                M.month >= months[0],
                M.month <= months[1],
                *([M.key > after] if after is not None else []),
            )  # fmt: skip
        )
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()


def by_key(conn: Connection, rng: Range, dimension: str) -> dict[str, Sums]:
    """key -> the range's sums of one dimension."""
    s = source(rng, dimension)
    stmt = select(
        s.c.key, func.sum(s.c.orders), func.sum(s.c.units), func.sum(s.c.revenue_minor)
    ).group_by(s.c.key)
    return {k: Sums(int(o or 0), int(u or 0), int(r or 0)) for k, o, u, r in conn.execute(stmt)}


def by_day(conn: Connection, rng: Range, dimension: str) -> dict[tuple[date, str], Sums]:
    """(day, key) -> sums of one dimension, per day."""
    stmt = select(R.day, R.key, R.orders, R.units, R.revenue_minor).where(
        R.dimension == dimension, R.day >= rng.start, R.day <= rng.end,
        R.currency == (rng.currency or ""),
    )  # fmt: skip
    return {(d, k): Sums(int(o), int(u), int(r)) for d, k, o, u, r in conn.execute(stmt)}


def total(conn: Connection, rng: Range, dimension: str = "total") -> Sums:
    return sum(by_key(conn, rng, dimension).values(), Sums())


def every_day(rng: Range) -> list[date]:
    return [rng.start + timedelta(days=i) for i in range(rng.days)]


def group_days(days: dict[date, Sums], keyer: Any, rng: Range) -> dict[str, Sums]:
    """Days summed under ``keyer(day)``, every key of the range present (zeros included)."""
    out: dict[str, Sums] = defaultdict(Sums)
    for day in every_day(rng):
        out[keyer(day)] += days.get(day, Sums())
    return dict(out)


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def ratio(part: int, whole: int) -> float | None:
    """part / whole as a number from 0 to 1 (4 decimals); None when ``whole`` is 0."""
    if whole <= 0:
        return None
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def average(rng: Range, revenue: int, orders: int) -> str | None:
    """revenue / orders as an amount of the currency, rounded half up to its minor unit."""
    if orders <= 0:
        return None
    if revenue >= 0:  # whole numbers: half up is floor((2r + n) / 2n), and no Decimal
        return format_amount((2 * revenue + orders) // (2 * orders), rng.currency or "TWD")
    value = (Decimal(revenue) / Decimal(orders)).quantize(Decimal(1), ROUND_HALF_UP)
    return format_amount(int(value), rng.currency or "TWD")


def histogram(rows: dict[str, Sums]) -> list[tuple[int, int]]:
    """(value, count) of a histogram dimension (keys are whole numbers), by value."""
    return sorted((int(k), s.orders) for k, s in rows.items() if s.orders)


def quantile(hist: list[tuple[int, int]], q: float) -> int | None:
    """The smallest value with at least ``q`` of the counts at or below it."""
    n = sum(c for _v, c in hist)
    if n == 0:
        return None
    need, seen = q * n, 0
    for value, count in hist:
        seen += count
        if seen >= need:
            return value
    return hist[-1][0]
