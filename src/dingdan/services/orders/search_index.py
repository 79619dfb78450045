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

import math
import random
import re
import time
import unicodedata
from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ColumnClause,
    Connection,
    Engine,
    Text,
    bindparam,
    column,
    func,
    literal_column,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from dingdan.db.engine import Database

TABLE = table("orders_search", column("rowid"))
MATCH: ColumnClause[Any] = literal_column("orders_search")  # "orders_search MATCH '...'"
_FEW = 2  # a term with at most this many trigrams is looked up by all of them
PROBES = 4  # at most, the trigrams a term is looked up by in a trigram index (``rarest``)
_WORD_TRIGRAM = re.compile(r"[a-z0-9]{3}")
_SAMPLE_RUNS, _SAMPLE_RUN = 50, 20  # 1,000 orders
_SAMPLE_SECONDS = 900.0
_SHARES_KEPT = 10_000  # at most, the terms and trigrams a sample keeps its count of
# ``newest_span``: a term is searched in the newest ids first when the sample expects this
# many pages of matches in all, and those ids are to hold about this many pages of them.
WINDOW_FROM, WINDOW_PAGES = 40.0, 4.0
_ID_RANGE = text("SELECT MIN(id), MAX(id) FROM orders")
_TEXTS_OF = text("SELECT search_text FROM orders WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)

_INDEXED = text("SELECT value FROM counters WHERE name = 'orders_search'")
_NEXT_BATCH = text("SELECT id, search_text FROM orders WHERE id > :done ORDER BY id LIMIT :n")
_NEWER = text("SELECT 1 FROM orders WHERE id > :done LIMIT 1")
_INDEX = "INSERT INTO orders_search (rowid, search_text) VALUES (?, ?)"
_MOVE = text("UPDATE counters SET value = :upto WHERE name = 'orders_search'")

GRAMS = table("orders_search_grams", column("gram"), column("order_id"))
FIRST = 0x3040  # grams are made of characters from here on (migration 0011)
_TEXTS = text("SELECT id, search_text FROM orders WHERE id <= :upto")
_GRAMS = "INSERT OR IGNORE INTO orders_search_grams (gram, order_id) VALUES (?, ?)"


def search_fold(value: str) -> str:
    """Text as the orders' search compares it, the stored ``search_text`` (order capture)
    and the term alike: NFKC, then case folding, so that a full-width term finds half-width
    text and the other way round (``ｑ`` finds ``quinn``, ``Ｑ`` finds ``ｑｕｉｎｎ``). Not
    remembered as ``domain.shared.text.folded`` is: each order's text is its own."""
    return unicodedata.normalize("NFKC", value).casefold()


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


def trigrams(term: str, words_only: bool = False) -> list[str]:
    """The distinct trigrams of ``term``, in order. ``words_only``: only those of three
    ASCII letters or digits, the ones pg_trgm's index holds as they are (it keeps letters
    and digits only, and pads words with blanks)."""
    found = (term[i : i + 3] for i in range(len(term) - 2))
    if words_only:
        found = (g for g in found if _WORD_TRIGRAM.fullmatch(g))
    return list(dict.fromkeys(found))


def rarest(conn: Connection, grams: list[str]) -> list[str]:
    """The trigrams of ``grams`` to look a term up by, in order: the rarest first, then the
    next rarest while some order of the sample (``_Sample``, 1,000 orders drawn from all)
    holds every trigram chosen so far, up to ``PROBES``; never one that most orders hold.
    All of them when there are at most ``_FEW``.

    Only candidates come out of the index: the caller checks the whole term with ``LIKE``.
    So not every trigram is needed, and the rare ones are what make a lookup fast: the
    index reads one posting list per trigram, and the common ones hold nearly every order
    ("886" of every phone in Taiwan, "dd0" of every number, "com" of every email). At 1M
    orders a whole phone number took 30 ms in pg_trgm's index with its eleven trigrams and
    2-5 ms with two rare ones; the others only filter the candidates. A term of only common
    trigrams keeps them all: intersecting them is what narrows it."""
    if len(grams) <= _FEW:
        return grams
    sample = _sample(conn)
    # Rarest first; of equally rare ones the later in the term (the end of a phone or a
    # number is what tells it apart).
    by_share = [g for _, g in sorted(enumerate(grams), key=lambda x: (sample.share(x[1]), -x[0]))]
    chosen = [by_share[0]]
    for gram in by_share[1:PROBES]:
        if not sample.holding(chosen) or sample.share(gram) * 2 > len(sample.texts):
            break
        chosen.append(gram)
    if len(chosen) == 1 and sample.share(chosen[0]) * 2 > len(sample.texts):
        return grams  # nothing rare to look up: every list narrows the candidates
    return [g for g in grams if g in chosen]


def newest_span(conn: Connection, term: str, wanted: int) -> int | None:
    """PostgreSQL: how many of the newest order ids to search first for the newest
    ``wanted`` orders whose text holds ``term``, when the sample says it is a common term:
    about ``WINDOW_PAGES`` times ``wanted`` of them. None when it is rarer than
    ``WINDOW_FROM`` times ``wanted`` in the whole table: its matches are then few enough to
    read and sort.

    A term held by many orders, but not by most of them, is the costly one: pg_trgm's or
    the grams' index gives every match, in no order, and each is read from the table to be
    sorted. At 1M orders 林佳 (0.6% of them) read 5,900 pages to return 51 rows, 6-7 ms
    warm and 68 ms at p95 under load; limited to the newest 34,000 ids, the index lookup is
    ANDed with the primary key's range and reads 310 pages (2 ms). A term in a large share
    of orders (王, one in sixteen) fills its page from the newest few hundred ids: the
    planner walks the primary key newest first either way."""
    sample = _sample(conn)
    held = sample.share(term)
    if not held or held * sample.spread < WINDOW_FROM * wanted * len(sample.texts):
        return None
    return math.ceil(WINDOW_PAGES * wanted * len(sample.texts) / held)


def fts_query(grams: list[str]) -> str | None:
    """SQLite: the FTS5 query for the orders holding every one of ``grams`` (None: no
    trigram, the list scans)."""
    # A double-quoted FTS5 string takes every character literally but the quote, doubled.
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams) or None


class _Sample:
    """The search text of orders drawn at random from all (not the newest: numbers are
    given in sequence, so the newest orders' trigrams are not those of older ones), to
    tell a term's rare trigrams from its common ones by how many texts hold each (counted
    once per trigram, then kept)."""

    def __init__(self, texts: list[str], spread: int = 0) -> None:
        self.texts = texts
        self.spread = spread  # how many ids the table's orders spread over when taken
        self.taken = time.monotonic()
        self._shares: dict[str, int] = {}

    def share(self, gram: str) -> int:
        n = self._shares.get(gram)
        if n is None:
            if len(self._shares) >= _SHARES_KEPT:
                self._shares.clear()
            n = self._shares[gram] = sum(1 for t in self.texts if gram in t)
        return n

    def holding(self, grams: list[str]) -> int:
        """How many texts of the sample hold every one of ``grams``."""
        return sum(1 for t in self.texts if all(g in t for g in grams))


# Per engine (one per database in a process), taken again after _SAMPLE_SECONDS.
_SAMPLES: WeakKeyDictionary[Engine, _Sample] = WeakKeyDictionary()


def _sample(conn: Connection) -> _Sample:
    kept = _SAMPLES.get(conn.engine)
    if kept is not None and time.monotonic() - kept.taken < _SAMPLE_SECONDS:
        return kept
    low, high = conn.execute(_ID_RANGE).one()
    texts: list[str] = []
    if low is not None:
        # Runs of neighbouring ids from all over the table: a few pages each (1,000 ids
        # one by one were 1,000 pages, 0.5-15 s with the table out of memory).
        span = range(int(low), int(high) + 1, _SAMPLE_RUN)
        starts = span if len(span) <= _SAMPLE_RUNS else random.sample(span, _SAMPLE_RUNS)
        ids = [i for start in starts for i in range(start, start + _SAMPLE_RUN)]
        for start in range(0, len(ids), 500):  # within SQLite's older limit of 999 values
            chunk = ids[start : start + 500]
            texts += [t or "" for t in conn.execute(_TEXTS_OF, {"ids": chunk}).scalars()]
    spread = 0 if low is None else int(high) - int(low) + 1
    sample = _SAMPLES[conn.engine] = _Sample(texts, spread)
    return sample
