"""SQLite: a trigram full-text index for the order list's substring search

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 16:00:00

PostgreSQL answers ``search_text LIKE '%term%'`` from the pg_trgm GIN index of 0003. SQLite
has no such index, so a term that matches few orders (an order number, a phone, a term that
matches nothing) read every order: 250-310 ms at 1M orders. This adds an FTS5 table with
the ``trigram`` tokenizer (SQLite 3.34 or later) over ``orders.search_text``:

- ``orders_search`` is an *external content* table (``content='orders'``): it holds only the
  index, the text stays in ``orders``;
- triggers keep it in step with every insert, delete and change of ``search_text``, in the
  writer's own transaction, whoever writes;
- ``services/order_views.list_orders`` finds the candidates there (a term of three characters
  or more) and still checks ``search_text LIKE`` on them, so the answer is exactly the
  one the scan gave.

Careful: a later migration that rebuilds ``orders`` on SQLite (Alembic's batch mode, "move
and copy") drops these triggers with the old table; it must create them again
(``create_triggers``) and rebuild the index.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "orders_search"  # autogenerate comparisons skip it and its shadow tables

_TRIGGERS = {
    "orders_search_insert": """
        CREATE TRIGGER orders_search_insert AFTER INSERT ON orders BEGIN
            INSERT INTO orders_search (rowid, search_text) VALUES (new.id, new.search_text);
        END""",
    "orders_search_delete": """
        CREATE TRIGGER orders_search_delete AFTER DELETE ON orders BEGIN
            INSERT INTO orders_search (orders_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
        END""",
    "orders_search_update": """
        CREATE TRIGGER orders_search_update AFTER UPDATE OF id, search_text ON orders BEGIN
            INSERT INTO orders_search (orders_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
            INSERT INTO orders_search (rowid, search_text) VALUES (new.id, new.search_text);
        END""",
}


def create_triggers() -> None:
    for sql in _TRIGGERS.values():
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # detail='none': no positions, a third of the size (52 MB at 1M orders, against 150),
    # and no phrase queries, which the search does not use (it ANDs trigrams and checks
    # LIKE). columnsize=0: no per-row size table, nothing here ranks by bm25.
    op.execute(
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5("
        "search_text, content='orders', content_rowid='id', "
        "tokenize='trigram', detail='none', columnsize=0)"
    )
    create_triggers()
    op.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
