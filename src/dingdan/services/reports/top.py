"""Top-N (shared/CONTRACT.md, "Reports"): the largest products, customers, countries,
regions, categories, brands, channels, days, weekdays or hours of a range by revenue, units
or orders, from the daily rollups; ties by key."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.engine import Database
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.reports import rollup_reads as rr
from dingdan.services.reports.labels import labels
from dingdan.services.reports.sales import by_product_field
from dingdan.services.reports.shapes import TopItem, TopView

DIMENSIONS = {
    "products": "product", "customers": "customer", "countries": "country",
    "regions": "region", "channels": "channel",
}  # fmt: skip
ALL = (*DIMENSIONS, "categories", "brands", "days", "weekdays", "hours")
METRICS = {"revenue": "revenue_minor", "units": "units", "orders": "orders"}


def _largest(
    conn: Connection, rng: rr.Range, dimension: str, metric: str, limit: int
) -> dict[str, rr.Sums]:
    """The ``limit`` largest keys of a stored dimension, summed in the database."""
    src = rr.source(conn, rng, dimension)
    value = func.sum(getattr(src.c, METRICS[metric]))
    stmt = (
        select(src.c.key, func.sum(src.c.orders), func.sum(src.c.units),
               func.sum(src.c.revenue_minor))
        .group_by(src.c.key)
        .having(rr.nonzero(src))
        .order_by(value.desc(), src.c.key)
        .limit(limit)
    )  # fmt: skip
    return {k: rr.Sums(int(o), int(u), int(r)) for k, o, u, r in conn.execute(stmt)}


def _rows(conn: Connection, rng: rr.Range, dimension: str, metric: str, limit: int) -> Any:
    if dimension in DIMENSIONS:
        return _largest(conn, rng, DIMENSIONS[dimension], metric, limit)
    if dimension in ("categories", "brands"):
        return by_product_field(conn, rng, "brand" if dimension == "brands" else "category")
    out: dict[str, rr.Sums] = defaultdict(rr.Sums)
    if dimension == "hours":
        for key, s in rr.by_key(conn, rng, "weekday_hour").items():
            out[key.split("|")[1]] += s
        return out
    days = rr.by_day(conn, rng, "total")
    for (day, _k), s in days.items():
        out[day.isoformat() if dimension == "days" else str(day.isoweekday())] += s
    return out


def top(
    db: Database,
    dimension: str = "products",
    metric: str = "revenue",
    limit: int = 10,
    date_from: Any = None,
    date_to: Any = None,
    currency: Any = None,
    *,
    locale: str = "en",
) -> TopView:
    """``{"from", "to", "currency", "dimension", "metric", "items": [{"key", "label",
    "value"}]}``, largest first; ``value`` is a decimal string for revenue, else a count."""
    if dimension not in ALL:
        raise ValidationFailed.on("dimension", "unknown_value")
    if metric not in METRICS:
        raise ValidationFailed.on("metric", "unknown_value")
    if not 1 <= limit <= 1000:
        raise ValidationFailed.on("limit", "out_of_range", min=1, max=1000)

    def work(conn: Connection) -> TopView:
        rng = rr.period(conn, date_from, date_to, currency)
        rows = _rows(conn, rng, dimension, metric, limit)

        def measure(s: rr.Sums) -> int:
            return s.revenue if metric == "revenue" else getattr(s, metric)

        keys = sorted(rows, key=lambda k: (-measure(rows[k]), k))[:limit]
        keys = [k for k in keys if measure(rows[k]) != 0]
        names = labels(conn, dimension, keys, locale)
        items: list[TopItem] = [
            {"key": k, "label": names.get(k, k),
             "value": rng.money(rows[k].revenue) if metric == "revenue" else measure(rows[k])}
            for k in keys
        ]  # fmt: skip
        return {**rng.as_dict(), "dimension": dimension, "metric": metric, "items": items}

    return db.read(work)
