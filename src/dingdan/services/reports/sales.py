"""Sales (shared/CONTRACT.md, "Reports"): orders, units and revenue net of refunds by day,
ISO week, month, channel, country, region, product, style (variants rolled up to their
product), category, brand or customer, from the daily rollups; and by weekday and hour.

``revenue`` is the orders' totals (lines, shipping and tax) less their refunds, on the
order's day; for product, style, category and brand, line amounts (units × unit price). A
style, category or brand is the product's as it is now; its ``orders`` count an order once
per product of it. Cancelled orders are left out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.engine import Database
from dingdan.db.style_tables import ProductStyle, ProductVariant
from dingdan.db.tables import Product
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.reports import rollup_reads as rr
from dingdan.services.reports.labels import labels
from dingdan.services.reports.shapes import HeatmapCell, HeatmapView, SalesItem, SalesView, Totals
from dingdan.services.shared.common import decode_cursor, encode_cursor

GROUPS = ("day", "week", "month", "channel", "country", "region", "product", "style",
          "category", "brand", "customer")  # fmt: skip
KEYED = {"channel": "channel", "country": "country", "region": "region", "product": "product"}
TIME = {"day": date.isoformat, "week": rr.week_key, "month": rr.month_key}


def _item(rng: rr.Range, key: str, label: str, s: rr.Sums) -> SalesItem:
    return {
        "key": key,
        "label": label,
        "orders": s.orders,
        "units": s.units,
        "revenue": rng.money(s.revenue),
        "average_order_value": rr.average(rng, s.revenue, s.orders),
    }


def _totals(rng: rr.Range, s: rr.Sums) -> Totals:
    return {"orders": s.orders, "units": s.units, "revenue": rng.money(s.revenue),
            "average_order_value": rr.average(rng, s.revenue, s.orders)}  # fmt: skip


def by_product_field(conn: Connection, rng: rr.Range, field: str) -> dict[str, rr.Sums]:
    """category or brand -> sums of its products' lines ("" for none)."""
    column = Product.category if field == "category" else Product.brand
    src = rr.source(conn, rng, "product")
    sums = (func.sum(src.c.orders), func.sum(src.c.units), func.sum(src.c.revenue_minor))
    stmt = (
        select(column, *sums)
        .select_from(src)
        .outerjoin(Product, Product.sku == src.c.key)
        .group_by(column)
    )
    out: dict[str, rr.Sums] = defaultdict(rr.Sums)
    for k, o, u, r in conn.execute(stmt):
        out[k or ""] += rr.Sums(int(o or 0), int(u or 0), int(r or 0))
    return {k: v for k, v in out.items() if v != rr.Sums()}


def by_style(conn: Connection, rng: rr.Range) -> dict[str, rr.Sums]:
    """The products' lines rolled up to their style (its code), a SKU of no style on its own
    (its SKU): the variants of a T-shirt are one row."""
    src = rr.source(conn, rng, "product")
    key = func.coalesce(ProductStyle.code, src.c.key)
    sums = (func.sum(src.c.orders), func.sum(src.c.units), func.sum(src.c.revenue_minor))
    stmt = (
        select(key, *sums)
        .select_from(src)
        .outerjoin(Product, Product.sku == src.c.key)
        .outerjoin(ProductVariant, ProductVariant.product_id == Product.id)
        .outerjoin(ProductStyle, ProductStyle.id == ProductVariant.style_id)
        .group_by(key)
    )
    out = {
        str(k): rr.Sums(int(o or 0), int(u or 0), int(r or 0)) for k, o, u, r in conn.execute(stmt)
    }
    return {k: v for k, v in out.items() if v != rr.Sums()}


def grouped(conn: Connection, rng: rr.Range, group_by: str) -> dict[str, rr.Sums]:
    """key -> sums for a grouping other than customer."""
    if group_by in TIME:
        days = {d: s for (d, _k), s in rr.by_day(conn, rng, "total").items()}
        return rr.group_days(days, TIME[group_by], rng)
    if group_by in KEYED:
        return rr.by_key(conn, rng, KEYED[group_by])
    if group_by == "style":
        return by_style(conn, rng)
    return by_product_field(conn, rng, group_by)


def _ranked(rows: dict[str, rr.Sums], group_by: str) -> list[str]:
    if group_by in TIME:
        return sorted(rows)
    return sorted(rows, key=lambda k: (-rows[k].revenue, k))


def sales(
    db: Database,
    group_by: str = "day",
    date_from: Any = None,
    date_to: Any = None,
    currency: Any = None,
    *,
    locale: str = "en",
    cursor: str | None = None,
    limit: int = 50,
) -> SalesView:
    """``{"from", "to", "currency", "group_by", "items": [{"key", "label", "orders",
    "units", "revenue", "average_order_value"}], "total", "previous", "next_cursor"}``;
    ``previous`` is the total of the period of as many days just before."""
    if group_by not in GROUPS:
        raise ValidationFailed.on("group_by", "unknown_value")

    def work(conn: Connection) -> SalesView:
        rng = rr.period(conn, date_from, date_to, currency)
        next_cursor = None
        if group_by == "customer":
            rows, next_cursor = _customer_page(conn, rng, cursor, limit)
            keys = list(rows)
        else:
            rows = grouped(conn, rng, group_by)
            keys = _ranked(rows, group_by)
        names = labels(conn, group_by, keys, locale)
        return {
            **rng.as_dict(),
            "group_by": group_by,
            "next_cursor": next_cursor,
            "items": [_item(rng, k, names.get(k, k), rows[k]) for k in keys],
            "total": _totals(rng, rr.total(conn, rng)),
            "previous": _totals(rng, rr.total(conn, rng.previous())),
        }

    return db.read(work)


def _customer_page(
    conn: Connection, rng: rr.Range, cursor: str | None, limit: int
) -> tuple[dict[str, rr.Sums], str | None]:
    """One page of customers by key (their ids as text), keyset-paged."""
    if not 1 <= limit <= 200:
        raise ValidationFailed.on("limit", "out_of_range", min=1, max=200)
    after = decode_cursor(cursor, str)
    src = rr.source(conn, rng, "customer", after[0] if after else None)
    stmt = (
        select(src.c.key, func.sum(src.c.orders), func.sum(src.c.units),
               func.sum(src.c.revenue_minor))
        .group_by(src.c.key)
        .having(rr.nonzero(src))
        .order_by(src.c.key)
        .limit(limit + 1)
    )  # fmt: skip
    rows = {k: rr.Sums(int(o), int(u), int(r)) for k, o, u, r in conn.execute(stmt)}
    keys = list(rows)
    if len(keys) > limit:
        return {k: rows[k] for k in keys[:limit]}, encode_cursor(keys[limit - 1])
    return rows, None


def heatmap(
    db: Database, date_from: Any = None, date_to: Any = None, currency: Any = None
) -> HeatmapView:
    """Orders, units and revenue by weekday (1 Monday) and local hour: ``{"from", "to",
    "currency", "cells": [{"weekday", "hour", "orders", "units", "revenue"}]}`` (every
    weekday and hour, zeros included)."""

    def work(conn: Connection) -> HeatmapView:
        rng = rr.period(conn, date_from, date_to, currency)
        cells: dict[tuple[int, int], rr.Sums] = defaultdict(rr.Sums)
        for key, s in rr.by_key(conn, rng, "weekday_hour").items():
            weekday, hour = key.split("|")
            cells[(int(weekday), int(hour))] += s
        shown: list[HeatmapCell] = [
            {"weekday": w, "hour": h, "orders": cells[(w, h)].orders,
             "units": cells[(w, h)].units, "revenue": rng.money(cells[(w, h)].revenue)}
            for w in range(1, 8)
            for h in range(24)
        ]  # fmt: skip
        return {**rng.as_dict(), "cells": shown}

    return db.read(work)
