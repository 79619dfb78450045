"""The scale generator (bench/generate.py) writes a database Dingdan itself could have
written: the ledger verifies, reserved equals the unshipped allocations, and the worker finds
nothing to do (an open bank-transfer order with nothing paid, older than the timeout, would
be cancelled by it while the benchmark measures)."""

from __future__ import annotations

from sqlalchemy import text

from bench.generate import generate
from bench.seed import check_ledger
from dingdan.db.engine import Database
from dingdan.services.jobs import worker
from dingdan.services.orders import search_index


def test_a_generated_database_is_consistent_and_leaves_the_worker_idle(db_url):
    done = generate(db_url, 1500)
    assert done["orders"] == 1500
    check = check_ledger(db_url)
    assert check.ok, check.problems
    db = Database(db_url)
    try:
        assert worker.cancel_unpaid_bank_transfers(db, 72) == []
        # SQLite's search index holds every generated order: nothing left for the worker.
        newest = db.read(lambda c: c.execute(text("SELECT MAX(id) FROM orders")).scalar())
        assert db.read(search_index.indexed_up_to) == (newest if db.is_sqlite else None)
        assert search_index.catch_up(db) == 0
        if db.is_sqlite:
            db.write(lambda c: c.execute(
                text("INSERT INTO orders_search (orders_search) VALUES ('integrity-check')")
            ))  # fmt: skip
            # ... and its CJK grams, each order's exactly.
            texts = db.read(lambda c: c.execute(text("SELECT id, search_text FROM orders")).all())
            made = db.read(lambda c: {(g, o) for g, o in c.execute(
                text("SELECT gram, order_id FROM orders_search_grams"))})  # fmt: skip
            assert made == {(g, oid) for oid, t in texts for g in search_index.grams(t)}
            assert len(made) > 1500
    finally:
        db.dispose()
