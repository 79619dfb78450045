"""An index of the one- and two-character CJK fragments of the orders' search text

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 18:45:00

Trigram indexes (pg_trgm on PostgreSQL, FTS5 on SQLite) cannot serve a term shorter than
three characters, so such a term read every order: 180-300 ms at 1M orders on both
databases for one that matches few orders or none. In Chinese and Japanese one or two
characters are an ordinary search: a surname (諸), a given name (佳穎), a whole name (李娜,
王芳). This indexes every character from U+3040 on (kana, CJK ideographs, hangul, full-width
forms) in an order's ``search_text``, and every pair of neighbouring such characters: a name
of three characters gives five grams.

- PostgreSQL: a GIN index on ``dingdan_search_grams(search_text)``, kept by PostgreSQL as it
  writes, like the pg_trgm index of 0003.
- SQLite: the table ``orders_search_grams`` (gram, order id), kept beside the FTS5 index of
  0010 by the same worker batches and under the same counter (every order up to it is in
  both). A trigger adds the grams of an indexed order whose text changes; a deleted order's
  grams stay (the search checks ``LIKE`` on every candidate, so a stale gram finds nothing).
  Where 0010 left FTS5 out (SQLite < 3.34), this leaves the table out too.

The grams are computed here as ``services/search_index.grams`` computes them: this file is a
snapshot of its revision and imports nothing of the application.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FIRST = 0x3040  # grams are made of characters from here on (hiragana onwards)
TABLE = "orders_search_grams"

# The runs of such characters by one regular expression, then each run's characters and
# pairs (a pair taken at a run's last character is that character: DISTINCT drops it): 8 us
# an order, against 26 us with substr() at every position of the whole text. PL/pgSQL, not
# SQL: a SQL function is planned again for every statement that calls it (each INSERT into
# orders), which cost 0.12-0.15 ms of PostgreSQL's CPU per order captured; PL/pgSQL keeps
# its plan for the session (0-0.02 ms, within the noise).
_RUN = rf"[\u{FIRST:04X}-\U0010FFFF]+"
PG_FUNCTION = f"""
CREATE FUNCTION dingdan_search_grams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(DISTINCT v.g), '{{}}')
        FROM regexp_matches(t, '{_RUN}', 'g') AS m(run),
             generate_series(1, length(m.run[1])) AS i,
             LATERAL (VALUES (substr(m.run[1], i, 1)), (substr(m.run[1], i, 2))) AS v(g)
    );
END
$$
"""

_INDEXED = "(SELECT value FROM counters WHERE name = 'orders_search')"
# The grams of the new text, in SQL: positions 1 .. length by a recursive CTE.
SQLITE_TRIGGER = f"""
CREATE TRIGGER orders_search_grams_update AFTER UPDATE OF id, search_text ON orders
WHEN new.id <= {_INDEXED} BEGIN
    INSERT OR IGNORE INTO {TABLE} (gram, order_id)
    WITH RECURSIVE at(i) AS (
        SELECT 1 UNION ALL SELECT i + 1 FROM at WHERE i < length(new.search_text)
    )
    SELECT substr(new.search_text, i, 1), new.id FROM at
    WHERE unicode(substr(new.search_text, i, 1)) >= {FIRST}
    UNION ALL
    SELECT substr(new.search_text, i, 2), new.id FROM at
    WHERE i < length(new.search_text)
      AND unicode(substr(new.search_text, i, 1)) >= {FIRST}
      AND unicode(substr(new.search_text, i + 1, 1)) >= {FIRST};
END"""


def grams(value: str) -> set[str]:
    wide = [ord(c) >= FIRST for c in value]
    found = {c for c, w in zip(value, wide, strict=True) if w}
    found.update(value[i : i + 2] for i in range(len(value) - 1) if wide[i] and wide[i + 1])
    return found


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(
            "CREATE INDEX ix_orders_search_grams ON orders "
            "USING gin (dingdan_search_grams(search_text))"
        )
        return
    indexed = conn.execute(text(f"SELECT {_INDEXED}")).scalar()
    if indexed is None:  # no FTS5 trigram index here (0010): the search scans
        return
    op.execute(
        f"CREATE TABLE {TABLE} (gram TEXT NOT NULL, order_id INTEGER NOT NULL, "
        "PRIMARY KEY (gram, order_id)) WITHOUT ROWID"
    )
    rows = conn.execute(
        text("SELECT id, search_text FROM orders WHERE id <= :upto"), {"upto": indexed}
    )
    insert = f"INSERT OR IGNORE INTO {TABLE} (gram, order_id) VALUES (?, ?)"
    while chunk := rows.fetchmany(10_000):
        found = [(g, oid) for oid, value in chunk for g in grams(value or "")]
        if found:
            conn.exec_driver_sql(insert, found)
    op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_orders_search_grams")
        op.execute("DROP FUNCTION IF EXISTS dingdan_search_grams(text)")
        return
    op.execute("DROP TRIGGER IF EXISTS orders_search_grams_update")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
