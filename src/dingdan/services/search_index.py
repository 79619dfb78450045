"""The indexes of the orders' search text that the order list looks terms up in: SQLite's
trigram index (FTS5, migration 0010), and on both databases the CJK grams (migration 0011).

PostgreSQL keeps its pg_trgm index as it writes; this one is kept by the background worker
(``catch_up``, every second), because indexing each order inside order capture cost about a
quarter of SQLite's capture throughput (FTS5 flushes at every commit: the single write lock
was held 0.07-0.14 ms longer per order), while indexing in bulk costs a few microseconds an
order (the migration's rebuild: 4.4 s for 1M).

The counter ``orders_search`` holds the id up to which every order is in the index. SQLite
has one writer and gives ids in commit order, so no order below it can appear later. The
search (``services/order_views.list_orders``) scans the orders above it, a second's worth
when the worker runs, and looks the older ones up in the index; without a worker it is a
scan, as before, and still exact. Triggers keep indexed orders in step when one is deleted
or its text changes.

Trigrams cannot serve a term shorter than three characters, which in Chinese or Japanese is
an ordinary search (a surname, a given name, a whole name: 李娜). Every character from
U+3040 on (kana, ideographs, hangul, full-width forms) and every pair of neighbouring such
characters is indexed too (migration 0011, ``grams``): on SQLite in the table
``orders_search_grams``, written by the same batches under the same counter; on PostgreSQL
in a GIN index on ``dingdan_search_grams(search_text)``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnClause, Connection, Text, column, func, literal_column, table, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from dingdan.db.engine import Database

TABLE = table("orders_search", column("rowid"))
MATCH: ColumnClause[Any] = literal_column("orders_search")  # "orders_search MATCH '...'"
_MAX_TRIGRAMS = 6

_INDEXED = text("SELECT value FROM counters WHERE name = 'orders_search'")
_NEXT_BATCH = text("SELECT id, search_text FROM orders WHERE id > :done ORDER BY id LIMIT :n")
_NEWER = text("SELECT 1 FROM orders WHERE id > :done LIMIT 1")
_INDEX = "INSERT INTO orders_search (rowid, search_text) VALUES (?, ?)"
_MOVE = text("UPDATE counters SET value = :upto WHERE name = 'orders_search'")

GRAMS = table("orders_search_grams", column("gram"), column("order_id"))
FIRST = 0x3040  # grams are made of characters from here on (migration 0011)
_TEXTS = text("SELECT id, search_text FROM orders WHERE id <= :upto")
_GRAMS = "INSERT OR IGNORE INTO orders_search_grams (gram, order_id) VALUES (?, ?)"


def grams(value: str) -> set[str]:
    """The index's grams of ``value``: each character from U+3040 on, and each pair of
    neighbouring such characters."""
    wide = [ord(c) >= FIRST for c in value]
    found = {c for c, w in zip(value, wide, strict=True) if w}
    found.update(value[i : i + 2] for i in range(len(value) - 1) if wide[i] and wide[i + 1])
    return found


def gram_term(term: str) -> str | None:
    """``term`` when it is one gram of the index (the list looks it up there), else None."""
    return term if len(term) <= 2 and term in grams(term) else None


def pg_grams_hold(search_text: Any, gram: str) -> ColumnElement[bool]:
    """PostgreSQL: the condition its GIN index of 0011 answers (the index's expression)."""
    found = func.dingdan_search_grams(search_text, type_=ARRAY(Text))
    return found.contains([gram])


def indexed_up_to(conn: Connection) -> int | None:
    """Every order with an id up to this is in the index; None: there is no index here."""
    if conn.dialect.name != "sqlite":
        return None
    value = conn.execute(_INDEXED).scalar()
    return None if value is None else int(value)


def catch_up(db: Database, batch: int = 2000, budget: float = 1.0) -> int:
    """Index the orders written since the last time, batch after batch (one write
    transaction each, so captures wait at most one batch) until none is left or ``budget``
    seconds have passed. Safe in several processes at once: each batch reads the counter in
    its own write transaction. Returns how many orders it indexed."""
    if not db.is_sqlite or not db.read(_behind):
        return 0  # nothing new: no write transaction, no turn at SQLite's write lock
    done = 0
    deadline = time.monotonic() + budget
    while True:
        indexed = db.write(lambda conn: _index_batch(conn, batch))
        done += indexed
        if indexed < batch or time.monotonic() >= deadline:
            return done


def rebuild(conn: Connection) -> None:
    """Index every order in one go, in the caller's transaction (after a bulk load: about
    10 s for 1M orders, the trigrams and the grams, where the worker's batches take several
    times longer). Nothing to do where there is no index (PostgreSQL; a SQLite without
    FTS5's trigram tokenizer)."""
    if indexed_up_to(conn) is None:
        return
    conn.execute(text("INSERT INTO orders_search (orders_search) VALUES ('rebuild')"))
    upto = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM orders")).scalar_one())
    conn.execute(text("DELETE FROM orders_search_grams"))
    rows = conn.execute(_TEXTS, {"upto": upto})
    while chunk := rows.fetchmany(10_000):
        _index_grams(conn, chunk)
    conn.execute(_MOVE, {"upto": upto})


def _behind(conn: Connection) -> bool:
    done = indexed_up_to(conn)
    return done is not None and conn.execute(_NEWER, {"done": done}).first() is not None


def _index_batch(conn: Connection, batch: int) -> int:
    done = indexed_up_to(conn)
    if done is None:
        return 0
    rows = [tuple(r) for r in conn.execute(_NEXT_BATCH, {"done": done, "n": batch})]
    if not rows:
        return 0
    # The orders are read once for both indexes.
    conn.exec_driver_sql(_INDEX, rows)
    _index_grams(conn, rows)
    conn.execute(_MOVE, {"upto": rows[-1][0]})
    return len(rows)


def _index_grams(conn: Connection, rows: Sequence[Any]) -> None:
    """The grams of these (id, search_text) rows. OR IGNORE: an order that took a deleted
    order's id may find some of its grams there already."""
    found = [(g, oid) for oid, value in rows for g in grams(value or "")]
    if found:
        conn.exec_driver_sql(_GRAMS, found)


def trigram_query(term: str) -> str | None:
    """The FTS5 query for the orders whose ``search_text`` may hold ``term``: every one of a
    few of its trigrams. None when the term is shorter than a trigram (the list scans).

    Only candidates: the caller checks ``LIKE`` on them. So not every trigram is needed, and
    fewer are faster: FTS5 walks one posting list per trigram, and the common ones ("+88"
    of every phone, "com" of every email) hold nearly every order. Up to four distinct
    trigrams are all used; past that the non-overlapping ones, which still cover every
    character (at 1M orders a phone number took 20 ms this way against 60 ms with all
    eleven of its trigrams), and of a long term its first and last three."""
    if len(term) < 3:
        return None
    grams = list(dict.fromkeys(term[i : i + 3] for i in range(len(term) - 2)))
    if len(grams) > 4:
        cover = [term[i : i + 3] for i in range(0, len(term) - 2, 3)]
        if len(term) % 3:
            cover.append(term[-3:])
        grams = list(dict.fromkeys(cover))
    if len(grams) > _MAX_TRIGRAMS:
        half = _MAX_TRIGRAMS // 2
        grams = grams[:half] + grams[-half:]
    # A double-quoted FTS5 string takes every character literally but the quote, doubled.
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)
