"""Stock-outs: the SKUs that most often could not be served from stock, of the orders placed
in a range. A stock-out day of a SKU is a local day on which an order of it was placed with
units backordered; ``backordered`` are those units and their amount (revenue delayed);
``lost`` the backordered units later cancelled, and their amount (revenue lost). From the
daily rollups."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection

from dingdan.db.engine import Database
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.reports import rollup_reads as rr
from dingdan.services.reports.labels import labels
from dingdan.services.reports.shapes import StockoutRow, StockoutsView


def stockouts(
    db: Database,
    date_from: Any = None,
    date_to: Any = None,
    currency: Any = None,
    limit: int = 100,
) -> StockoutsView:
    """``{"from", "to", "currency", "items": [{"sku", "name", "stockout_days",
    "backordered_units", "backordered_revenue", "lost_units", "lost_revenue"}]}``, the most
    stock-out days first (then the most revenue lost)."""
    if not 1 <= limit <= 10_000:
        raise ValidationFailed.on("limit", "out_of_range", min=1, max=10_000)

    def work(conn: Connection) -> StockoutsView:
        rng = rr.period(conn, date_from, date_to, currency)
        days: dict[str, int] = defaultdict(int)
        back: dict[str, rr.Sums] = defaultdict(rr.Sums)
        for (_day, sku), s in rr.by_day(conn, rng, "stockout").items():
            days[sku] += 1
            back[sku] += s
        lost = rr.by_key(conn, rng, "stockout_lost")
        skus = sorted(back, key=lambda k: (-days[k], -lost.get(k, rr.Sums()).revenue, k))
        skus = skus[:limit]
        names = labels(conn, "product", skus, "en")
        items: list[StockoutRow] = [
            {"sku": k, "name": names.get(k, k), "stockout_days": days[k],
             "backordered_units": back[k].units, "backordered_revenue": rng.money(back[k].revenue),
             "lost_units": lost.get(k, rr.Sums()).units,
             "lost_revenue": rng.money(lost.get(k, rr.Sums()).revenue)}
            for k in skus
        ]  # fmt: skip
        return {**rng.as_dict(), "items": items}

    return db.read(work)
