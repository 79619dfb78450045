"""Real threads against one database: the database decides, nothing is oversold, no deadlock."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from dingdan.db import stock as stock_sql
from dingdan.db.tables import StockLevel
from dingdan.domain.shared.errors import InsufficientStock
from dingdan.services.inventory import stock as inventory
from tests.builders import location, product, receive
from tests.helpers import run_threads

# Many threads (or processes) against one database: one such module at a time, on one
# pytest-xdist worker, beside the ordinary tests of the other.
pytestmark = pytest.mark.xdist_group("threads")


def _run_threads(n, target):
    return run_threads(n, target)


def test_many_reservations_of_one_row_never_take_more_than_is_on_hand(db):
    product(db, "HOT")
    location(db, "TPE")
    receive(db, "TPE", {"HOT": 25})
    taken = []

    def buy(i):
        try:
            db.write(
                lambda c: stock_sql.apply(
                    c, [stock_sql.Move(1, 1, "reservation", 0, 1)], actor=f"t{i}"
                )
            )
            taken.append(i)
        except InsufficientStock:
            pass

    assert _run_threads(60, buy) == []
    assert len(taken) == 25
    level = db.read(lambda c: c.execute(select(StockLevel.on_hand, StockLevel.reserved)).one())
    assert tuple(level) == (25, 25)
    assert inventory.verify(db) == []


def test_multi_line_reservations_in_opposite_orders_never_deadlock_or_error(db):
    for sku in ("A", "B", "C"):
        product(db, sku)
    location(db, "TPE")
    location(db, "KHH")
    receive(db, "TPE", {"A": 1000, "B": 1000, "C": 1000})
    receive(db, "KHH", {"A": 1000, "B": 1000, "C": 1000})
    rows = [(p, loc) for p in (1, 2, 3) for loc in (1, 2)]

    def worker(i):
        rng = random.Random(i)
        for _ in range(15):
            order = rows[:] if i % 2 else rows[::-1]
            rng.shuffle(order) if i % 3 == 0 else None
            moves = [stock_sql.Move(p, loc, "reservation", 0, 1) for p, loc in order]
            db.write(lambda c, m=moves: stock_sql.apply(c, m, actor=f"t{i}"))

    assert _run_threads(12, worker) == []
    levels = db.read(lambda c: c.execute(select(StockLevel.reserved)).scalars().all())
    assert levels == [12 * 15] * 6
    assert inventory.verify(db) == []


def test_concurrent_transfers_and_adjustments_keep_the_ledger_exact(db):
    product(db, "A")
    location(db, "TPE")
    location(db, "KHH")
    receive(db, "TPE", {"A": 50})
    receive(db, "KHH", {"A": 50})
    from dingdan.services.shared.common import SYSTEM

    adjusted = []

    def worker(i):
        for j in range(10):
            src, dst = ("TPE", "KHH") if (i + j) % 2 else ("KHH", "TPE")
            try:
                inventory.transfer(
                    db,
                    SYSTEM,
                    {
                        "from_location": src,
                        "to_location": dst,
                        "lines": [{"sku": "A", "quantity": 7}],
                    },
                )
                inventory.adjust(
                    db, SYSTEM, {"location": src, "sku": "A", "delta": -1, "reason": "damaged"}
                )
                adjusted.append(1)
            except InsufficientStock:
                pass

    assert _run_threads(8, worker) == []
    assert inventory.verify(db) == []
    stock = inventory.stock_of(db, "A")
    assert stock["on_hand"] == 100 - len(adjusted) and stock["reserved"] == 0
