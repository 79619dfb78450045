"""Recommendations: products frequently bought together (association rules over the last
year's orders, domain/crm/baskets.py), computed by the worker into ``product_pairs``; and the
worker's daily customer-value fit, whose customers likely to buy again make a list to
contact (services/reports/clv.py).

Each job runs at most once per ``EVERY`` in the whole deployment: a worker claims the run by
moving ``crm_job_runs.ran_at`` forward with one conditional statement, so two workers never
compute the same thing at once."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from dingdan.db.crm_tables import CrmJobRun, ProductPair
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.tables import Product
from dingdan.db.types import utcnow
from dingdan.domain.crm import baskets
from dingdan.services.reports import clv
from dingdan.services.reports.shapes import BoughtWithView, CrmRun

log = logging.getLogger("dingdan.reports.recommendations")
EVERY = timedelta(hours=24)
WINDOW = timedelta(days=365)
MIN_TOGETHER = 2


def claim(db: Database, name: str, every: timedelta = EVERY) -> bool:
    """Whether this worker may run the job ``name`` now (and records that it does)."""
    now = utcnow()
    last = db.read(
        lambda conn: conn.execute(select(CrmJobRun.ran_at).where(CrmJobRun.name == name)).scalar()
    )
    if last is not None and last > now - every:
        return False  # every round but one a day: a read, no write transaction

    def work(conn: Connection) -> bool:
        moved = conn.execute(
            update(CrmJobRun)
            .where(CrmJobRun.name == name, CrmJobRun.ran_at <= now - every)
            .values(ran_at=now)
        ).rowcount
        if moved:
            return True
        if conn.execute(select(CrmJobRun.name).where(CrmJobRun.name == name)).first():
            return False
        conn.execute(insert(CrmJobRun).values(name=name, ran_at=now))
        return True

    try:
        return db.write(work)
    except Exception:  # noqa: BLE001 - a concurrent first insert: the other worker runs it
        return False


def _baskets(conn: Connection) -> list[list[str]]:
    since = utcnow() - WINDOW
    rows = conn.execute(
        select(OrderLine.order_id, OrderLine.sku)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status != "cancelled", Order.created_at >= since)
    )
    by_order: dict[int, list[str]] = defaultdict(list)
    for order_id, sku in rows:
        by_order[order_id].append(sku)
    return list(by_order.values())


def compute(db: Database) -> int:
    """Mine the rules and replace ``product_pairs`` with them; returns how many."""
    sets = db.read(_baskets)
    found = baskets.rules(sets, min_count=MIN_TOGETHER)
    now = utcnow()
    rows = [
        {
            "sku": r.antecedent,
            "other_sku": r.consequent,
            "together": r.together,
            "sku_baskets": r.antecedent_baskets,
            "other_baskets": r.consequent_baskets,
            "baskets": r.baskets,
            "lift": float(r.lift),
            "computed_at": now,
        }
        for r in found
    ]

    def work(conn: Connection) -> int:
        conn.execute(delete(ProductPair))
        for i in range(0, len(rows), 5000):
            conn.execute(insert(ProductPair), rows[i : i + 5000])
        return len(rows)

    return db.write(work)


def run_if_due(db: Database) -> CrmRun:
    """The worker's daily jobs: product pairs, and the customer-value fit to yesterday (the
    last complete day): ``{"product_pairs": pairs kept, "clv": the calibration end}``, each
    when it ran."""
    done: CrmRun = {}
    if claim(db, "product_pairs"):
        done["product_pairs"] = compute(db)
    if claim(db, "clv"):
        try:
            done["clv"] = clv.fit(db, clv.yesterday()).calibration_end.isoformat()
        except Exception as exc:  # noqa: BLE001 - no purchases yet: nothing to fit
            log.info("customer value not fitted: %s", exc)
    return done


def _rule(row: Any, name: str | None) -> BoughtWithView:
    together, n = int(row.together), int(row.baskets)
    return {
        "sku": row.other_sku,
        "name": name,
        "because_of": row.sku,
        "together": together,
        "support": float(Fraction(together, n)),
        "confidence": float(Fraction(together, int(row.sku_baskets))),
        "lift": float(Fraction(together * n, int(row.sku_baskets) * int(row.other_baskets))),
    }


def bought_with(db: Database, skus: list[str], limit: int = 5) -> list[BoughtWithView]:
    """Products often bought with any of ``skus`` and not among them, by lift (each
    product once, under its best rule)."""
    wanted = sorted({s for s in skus if isinstance(s, str) and s})[:50]
    if not wanted:
        return []
    rows = db.read(
        lambda conn: conn.execute(
            select(ProductPair, Product.name)
            .join(Product, Product.sku == ProductPair.other_sku, isouter=True)
            .where(ProductPair.sku.in_(wanted), ProductPair.other_sku.not_in(wanted))
            .order_by(ProductPair.lift.desc(), ProductPair.together.desc(), ProductPair.other_sku)
        ).all()
    )
    out: dict[str, BoughtWithView] = {}
    for row in rows:
        if row.other_sku not in out:
            out[row.other_sku] = _rule(row, row.name)
        if len(out) >= limit:
            break
    return list(out.values())
