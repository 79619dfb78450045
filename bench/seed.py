"""Catalog, locations and stock for a benchmark, created through Dingdan's services (the same
use cases the API runs), plus the checks that run after the load: nothing oversold, the
ledger exact, every acknowledged unit reserved exactly once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from bench.server import cli
from dingdan import bootstrap
from dingdan.db.engine import Database
from dingdan.domain.access.roles import Role
from dingdan.services.catalog import products
from dingdan.services.inventory import locations, stock
from dingdan.services.shared.common import Actor

ACTOR = Actor("bench", Role.ADMIN)
LOCATIONS = [("TPE", "台北倉", 0), ("TXG", "台中倉", 1), ("HKG", "香港倉", 2)]


def uniform_skus(n: int) -> list[str]:
    return [f"U{i:05d}" for i in range(n)]


def hot_skus(n: int = 10) -> list[str]:
    return [f"HOT{i:02d}" for i in range(n)]


def load_catalog(url: str, skus: list[str], units: int) -> None:
    """Migrate, 3 locations, the products, and ``units`` of each SKU at the first location."""
    bootstrap.migrate(url)
    db = Database(url)
    try:
        for code, name, priority in LOCATIONS:
            locations.create_location(
                db, ACTOR, {"code": code, "name": name, "country": "TW", "priority": priority}
            )
    finally:
        db.dispose()
    load_catalog_more(url, skus, units)


def load_catalog_more(url: str, skus: list[str], units: int, chunk: int = 500) -> None:
    """Products ``skus`` with ``units`` each at the first location."""
    db = Database(url)
    try:
        for sku in skus:
            products.create_product(
                db, ACTOR, {"sku": sku, "name": f"商品 {sku}", "price": "100.00", "currency": "TWD"}
            )
        for i in range(0, len(skus), chunk):
            stock.receive(
                db,
                ACTOR,
                {
                    "location": LOCATIONS[0][0],
                    "reference": "BENCH-PO",
                    "lines": [{"sku": s, "quantity": units} for s in skus[i : i + chunk]],
                },
            )
    finally:
        db.dispose()


def analyze(url: str) -> None:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            if db.is_sqlite:
                conn.exec_driver_sql("ANALYZE")
            else:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            conn.commit()
    finally:
        db.dispose()


@dataclass
class LedgerCheck:
    verify_exit: int
    levels: int
    oversold: int  # levels with reserved > on_hand or a negative number
    reserved_vs_allocations: int  # levels whose reserved differs from its allocations' sum
    acknowledged_units: int
    reserved_units: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.verify_exit == 0
            and self.oversold == 0
            and self.reserved_vs_allocations == 0
            and self.acknowledged_units == self.reserved_units
        )

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["ok"] = self.ok
        return d


RESERVED_VS_ALLOCATIONS = """
SELECT l.product_id, l.location_id, l.on_hand, l.reserved, COALESCE(a.q, 0)
FROM stock_levels l
LEFT JOIN (SELECT product_id, location_id, SUM(quantity) AS q FROM allocations
           GROUP BY product_id, location_id) a
  ON a.product_id = l.product_id AND a.location_id = l.location_id
"""


def check_ledger(url: str, acknowledged: Counter | None = None) -> LedgerCheck:
    """``dingdan inventory verify`` and the SQL invariants; ``acknowledged`` (sku -> units in
    201 answers) must equal what is reserved when nothing has shipped."""
    done = cli(url, "inventory", "verify", check=False, timeout=600)
    db = Database(url)
    try:
        with db.read_engine.connect() as conn:
            rows = conn.execute(text(RESERVED_VS_ALLOCATIONS)).all()
    finally:
        db.dispose()
    problems = [done.stderr.strip()[-500:]] if done.returncode else []
    oversold = [r for r in rows if r[3] < 0 or r[3] > r[2]]
    differ = [r for r in rows if r[3] != r[4]]
    problems += [f"oversold level {r}" for r in oversold[:5]]
    problems += [f"reserved != allocations {r}" for r in differ[:5]]
    reserved = sum(int(r[3]) for r in rows)
    acked = sum(acknowledged.values()) if acknowledged is not None else reserved
    if acked != reserved:
        problems.append(f"201 answers allocated {acked} units, levels reserve {reserved}")
    return LedgerCheck(
        verify_exit=done.returncode,
        levels=len(rows),
        oversold=len(oversold),
        reserved_vs_allocations=len(differ),
        acknowledged_units=acked,
        reserved_units=reserved,
        problems=problems,
    )
