"""SQLite: a trigram full-text index for the order list's substring search

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 16:00:00

PostgreSQL answers ``search_text LIKE '%term%'`` from the pg_trgm GIN index of 0003. SQLite
has no such index, so a term that matches few orders (an order number, a phone, a term that
matches nothing) read every order: 250-310 ms at 1M orders. This adds an FTS5 table with
the ``trigram`` tokenizer (SQLite 3.34 or later) over ``orders.search_text``:

- ``orders_search`` is an *external content* table (``content='orders'``): it holds only the
  index, the text stays in ``orders``.
- New orders are indexed in batches by the background worker, not as they are written:
  indexing one order at a time costs 0.07-0.14 ms inside SQLite's single write lock, which
  order capture would pay for every order (about a quarter of its throughput). The
  counter ``orders_search`` says up to which order id the index is complete; the search
  scans the orders above it (the last second's) and looks the rest up in the index
  (``services/orders/search_index.py``).
- Triggers keep indexed orders in step when one is deleted or its text changes, in the
  writer's own transaction, whoever writes.

Careful: a later migration that rebuilds ``orders`` on SQLite (Alembic's batch mode, "move
and copy") drops these triggers with the old table; it must create them again
(``create_triggers``).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "orders_search"  # autogenerate comparisons skip it and its shadow tables
_INDEXED = "(SELECT value FROM counters WHERE name = 'orders_search')"

_TRIGGERS = {
    # Without AUTOINCREMENT, SQLite gives a new row the largest id + 1: once the newest
    # indexed orders are deleted, a new order could get an id at or below the counter and
    # never be indexed nor scanned. So the counter never stays above the largest id.
    "orders_search_delete": f"""
        CREATE TRIGGER orders_search_delete AFTER DELETE ON orders
        WHEN old.id <= {_INDEXED} BEGIN
            INSERT INTO orders_search (orders_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
            UPDATE counters SET value = (SELECT COALESCE(MAX(id), 0) FROM orders)
            WHERE name = 'orders_search' AND value > (SELECT COALESCE(MAX(id), 0) FROM orders);
        END""",
    "orders_search_update": f"""
        CREATE TRIGGER orders_search_update AFTER UPDATE OF id, search_text ON orders
        WHEN old.id <= {_INDEXED} BEGIN
            INSERT INTO orders_search (orders_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
            INSERT INTO orders_search (rowid, search_text) VALUES (new.id, new.search_text);
        END""",
}


def create_triggers() -> None:
    for sql in _TRIGGERS.values():
        op.execute(sql)


def trigram_available(conn: Connection) -> bool:
    """FTS5 with the trigram tokenizer (SQLite 3.34 or later, built with FTS5)."""
    try:
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE temp.dingdan_fts_probe USING fts5(x, tokenize='trigram')"
        )
    except OperationalError:  # no fts5 module, or no such tokenizer
        return False
    conn.exec_driver_sql("DROP TABLE temp.dingdan_fts_probe")
    return True


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    if not trigram_available(op.get_bind()):
        # An older SQLite: no index and no counter, and the search scans, as before.
        print("SQLite without FTS5's trigram tokenizer: the order search will scan")  # noqa: T201
        return
    # detail='none': no positions, a third of the size (52 MB at 1M orders, against 150),
    # and no phrase queries, which the search does not use (it ANDs trigrams and checks
    # LIKE). columnsize=0: no per-row size table, nothing here ranks by bm25.
    op.execute(
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5("
        "search_text, content='orders', content_rowid='id', "
        "tokenize='trigram', detail='none', columnsize=0)"
    )
    op.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')")
    op.execute(
        "INSERT INTO counters (name, value) "
        "SELECT 'orders_search', COALESCE(MAX(id), 0) FROM orders"
    )
    create_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
    op.execute("DELETE FROM counters WHERE name = 'orders_search'")
