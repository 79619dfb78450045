"""What every report over the daily rollups shares: the range (``from``, ``to``: local days,
both included), the currency (required when orders in several fall in the range), and
reading one dimension's sums over the range.

Reports read the rollups only (``report_daily``, ``report_monthly``, ``report_yearly``), never
the orders: a range is read as signed whole years, months and days (``pieces``), so a
dimension costs about a row per key per whole period plus half a month of days at each end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, func, literal, or_, select, union_all

from dingdan.db.report_tables import ReportDaily, ReportMonthly, ReportYearly
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.domain.shared.money import format_amount, is_currency
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.reports.shapes import RangeView

LONGEST_DAYS = 3660  # ten years: a report answers whole, at most 10,000 items
DEFAULT_DAYS = 30
R = ReportDaily
M = ReportMonthly
Y = ReportYearly


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

    def as_dict(self) -> RangeView:
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


# ---- a range as signed whole periods -----------------------------------------------------
#
# A range's sums are read from whole years (``report_yearly``), whole months
# (``report_monthly``) and days (``report_daily``), each with a sign: 8 December 2025 to 7
# December 2026 is December 2025 less its first 7 days, plus the year 2026 (its days after
# the 7th hold nothing yet). Every day of the range is counted once and no other day at all,
# whatever is chosen, so the choice only decides how many rows are read: at each ragged end
# the days (or months) themselves, or their whole month (or year) less the others, whichever
# holds fewer orders by the ``placed`` rows of the boundary periods (a row per day or month).
# A dimension of many keys (customers, SKUs) then reads a row per key per whole period plus
# at most the days of half a month at each end, not a row per key per month of the range.

Piece = tuple[str, date, date, int]  # level ("day", "month", "year"), first, last, sign


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _prev_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class _Grain:
    """Fine items (days or months, a month named by its first day) within coarse units
    (months or years, named by their first fine item)."""

    unit: Any  # the unit holding an item
    last: Any  # a unit's last item
    next: Any  # the item after
    prev: Any  # the item before


DAYS = _Grain(
    unit=lambda d: d.replace(day=1),
    last=lambda m: _next_month(m) - timedelta(days=1),
    next=lambda d: d + timedelta(days=1),
    prev=lambda d: d - timedelta(days=1),
)
MONTHS = _Grain(
    unit=lambda m: m.replace(month=1, day=1),
    last=lambda y: y.replace(month=12, day=1),
    next=_next_month,
    prev=_prev_month,
)


def _coarsen(
    a: date, b: date, g: _Grain, weight: Any
) -> tuple[tuple[date, date] | None, list[tuple[date, date, int]]]:
    """Items ``a`` to ``b`` as whole units (first and last, or None) and signed runs of
    items; ``weight(x, y)``: what items x to y hold (orders), to choose the cheaper form."""
    ua, ub = g.unit(a), g.unit(b)
    runs: list[tuple[date, date, int]] = []
    if ua == ub:
        if a == ua and b == g.last(ub):
            return (ua, ua), []
        rest = [(x, y) for x, y in ((ua, g.prev(a)), (g.next(b), g.last(ub))) if x <= y]
        if sum(weight(x, y) for x, y in rest) < weight(a, b):
            return (ua, ua), [(x, y, -1) for x, y in rest]
        return None, [(a, b, 1)]
    first, last = ua, ub
    if a != ua:
        if weight(ua, g.prev(a)) < weight(a, g.last(ua)):
            runs.append((ua, g.prev(a), -1))
        else:
            runs.append((a, g.last(ua), 1))
            first = g.next(g.last(ua))
    if b != g.last(ub):
        if weight(g.next(b), g.last(ub)) < weight(ub, b):
            runs.append((g.next(b), g.last(ub), -1))
        else:
            runs.append((ub, b, 1))
            last = g.unit(g.prev(ub))
    return ((first, last) if first <= last else None), runs


def pieces(start: date, end: date, day_weight: Any = None, month_weight: Any = None) -> list[Piece]:
    """Days ``start`` to ``end`` as signed whole years, months and days. The weights
    (``f(first, last)``: orders on those days or in those months; none: every day or
    month weighs 1) choose among the exact forms the one that reads the fewest rows."""

    def count(f: Any, g: _Grain) -> Any:
        if f is not None:
            return f

        def n(x: date, y: date) -> int:
            k = 0
            while x <= y:
                k, x = k + 1, g.next(x)
            return k

        return n

    months, days = _coarsen(start, end, DAYS, count(day_weight, DAYS))
    out: list[Piece] = [("day", x, y, sign) for x, y, sign in days]
    if months is not None:
        years, runs = _coarsen(months[0], months[1], MONTHS, count(month_weight, MONTHS))
        out += [("month", x, y, sign) for x, y, sign in runs]
        if years is not None:
            out.append(("year", years[0], years[1], 1))
    return out


def _weights(conn: Connection, rng: Range) -> tuple[Any, Any]:
    """Orders per day of the range's boundary months and per month of the years its whole
    months can start or end in (the ``placed`` rows, one query), as ``pieces``' weights."""
    cur = rng.currency or ""
    months = {rng.start.replace(day=1), rng.end.replace(day=1)}
    a, b = rng.start.year, rng.end.year
    years = {date(y, 1, 1) for y in (a, a + 1, b - 1, b) if a <= y <= b}
    parts = [
        select(literal("d").label("level"), R.day.label("at"), R.orders).where(
            R.dimension == "placed", R.currency == cur, R.day >= m, R.day <= DAYS.last(m)
        )
        for m in sorted(months)
    ] + [
        select(literal("m").label("level"), M.month.label("at"), M.orders).where(
            M.dimension == "placed",
            M.currency == cur,
            M.month >= y,
            M.month <= MONTHS.last(y),
        )  # fmt: skip
        for y in sorted(years)
    ]
    found: dict[str, dict[date, int]] = {"d": defaultdict(int), "m": defaultdict(int)}
    for level, at, orders in conn.execute(union_all(*parts)):
        found[level][at] += int(orders)

    def weight(level: str) -> Any:
        return lambda x, y: sum(v for at, v in found[level].items() if x <= at <= y)

    return weight("d"), weight("m")


def plan(conn: Connection, rng: Range) -> list[Piece]:
    """The range's pieces, chosen by its boundary periods' orders; kept on the connection
    for the next dimension of the same range (a stale choice is as exact, only slower)."""
    key = (rng.start, rng.end, rng.currency)
    if key not in _plans(conn):
        remember(conn, rng, pieces(rng.start, rng.end, *_weights(conn, rng)))
    return list(_plans(conn)[key])


def _plans(conn: Connection) -> dict[Any, list[Piece]]:
    return conn.info.setdefault("dingdan.report_plans", {})  # type: ignore[no-any-return]


def remember(conn: Connection, rng: Range, parts: list[Piece]) -> None:
    """Read ``rng`` as ``parts`` on this connection from now on (``plan``'s cache; tests
    give a form of their choosing)."""
    cache = _plans(conn)
    if len(cache) > 64:
        cache.clear()
    cache[(rng.start, rng.end, rng.currency)] = list(parts)


_LEVELS: dict[str, tuple[Any, Any]] = {
    "day": (R, R.day), "month": (M, M.month), "year": (Y, Y.year)
}  # fmt: skip


def source(conn: Connection, rng: Range, dimension: str, after: str | None = None) -> Any:
    """The signed rows of one dimension in the range (``key, orders, units,
    revenue_minor``): summed by key they give the range's sums (a key summing to nothing
    had nothing in the range); keys after ``after`` only, when given."""
    cur = rng.currency or ""
    if conn.dialect.name == "postgresql":
        # A plan per range: psycopg prepares a statement run five times on a connection, and
        # PostgreSQL's generic plan of these unions (one for every dimension and range of
        # the same form) read a small dimension 20-30 times slower than its own plan did.
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    parts: list[Any] = []
    for level, first, last, sign in plan(conn, rng):
        table, when = _LEVELS[level]
        cols = (table.orders, table.units, table.revenue_minor)
        signed = [(c if sign > 0 else -c).label(c.name) for c in cols]
        parts.append(
            select(table.key, *signed).where(
                table.dimension == dimension,
                table.currency == cur,
                when >= first,
                when <= last,
                *([table.key > after] if after is not None else []),
            )  # fmt: skip
        )
    stmt: Any = parts[0] if len(parts) == 1 else union_all(*parts)  # a range has a day
    return stmt.subquery()


def nonzero(src: Any) -> Any:
    """The HAVING that leaves out keys whose signed rows sum to nothing."""
    return or_(func.sum(src.c.orders) != 0, func.sum(src.c.units) != 0,
               func.sum(src.c.revenue_minor) != 0)  # fmt: skip


def by_key(conn: Connection, rng: Range, dimension: str) -> dict[str, Sums]:
    """key -> the range's sums of one dimension (keys with something in the range)."""
    s = source(conn, rng, dimension)
    stmt = select(
        s.c.key, func.sum(s.c.orders), func.sum(s.c.units), func.sum(s.c.revenue_minor)
    ).group_by(s.c.key)
    out = {k: Sums(int(o or 0), int(u or 0), int(r or 0)) for k, o, u, r in conn.execute(stmt)}
    return {k: v for k, v in out.items() if v != Sums()}


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
