"""The order list's search answers exactly what a substring scan of every order would, on
both databases, whatever the term, however much of SQLite's index the worker has built
(SQLite looks terms of three characters or more up in an FTS5 trigram index, PostgreSQL in a
pg_trgm index; both look terms of one or two CJK characters up in an index of such grams)."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

import dingdan.db.all_tables  # noqa: F401 - every table on Base.metadata
from dingdan.db.tables import Base
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.jobs import worker
from dingdan.services.orders import capture, queries, search_index
from dingdan.services.orders.search_index import fts_query, gram_term, grams, trigrams
from tests.builders import ADMIN, OMIT, Buyer, location, order_body, product, receive
from tests.helpers import run_threads

PEOPLE = [
    ("wang@example.com", "王小明", "+886912345678"),
    ("lin.meiling@example.com.tw", "林美玲", "+886933222111"),
    ("chan@mail.hk", "陳大文", "+85291234567"),
    ("obrien.q@example.com", 'Tom "Quote" O\'Brien', None),
    ("percent_under@example.com", "50% OFF_sale \\ back", "+886900000000"),
    (None, "張家豪", "+886922333444"),
    ("zhang.jiahao@example.cn", "张家豪", "+8613800138000"),
    ("wang2@example.com", "王小明", "+886912345679"),
    ("full.width@example.jp", "ｑｕｉｎｎ　山田", None),
]

TERMS = [
    # ordinary fragments: order number, email, name, phone
    "dd0",
    "DD00000",
    "example",
    "EXAMPLE.COM",
    "@mail.hk",
    "美玲",
    "林美玲",
    "家豪",
    "张家豪",
    "912345",
    "+886912345678",
    "+8869",
    "138001380",
    "wang",
    "a",
    "王",
    "ng@",
    # one or two CJK characters: the grams index (a surname, a given name, a whole name)
    "陳",
    "小明",
    "明王",
    "张家",
    "張家",
    "家豪",
    "豪",
    "沒有",
    "ｑ",
    "Ｑ",
    "山田",
    "　山",
    # what FTS5 would read as syntax, and LIKE's wildcards, all plain text here
    '"',
    '""',
    'm "q',
    "o'brien",
    '"quote"',
    "AND",
    "x OR y",
    "NEAR(a b)",
    "*",
    "ang*",
    "^wa",
    "search_text:wang",
    "%",
    "50%",
    "_",
    "f_s",
    "\\",
    "\\ b",
    "(",
    ")",
    "-",
    "a-b",
    "   ",
    " 王",
    "no such order anywhere",
    "x" * 900,
    # a NUL, which no stored text holds and FTS5 would take for the end of its query
    "\x00wang",
    "wa\x00ng",
    "\x00",
]


@pytest.fixture
def placed(db):
    product(db, "TEA-001", price="100.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 100})
    return [_place(db, email, name, phone) for email, name, phone in PEOPLE]


def _place(db, email, name, phone=None):
    """A one-line order of this customer; its number."""
    body = order_body(
        [{"sku": "TEA-001", "quantity": 1}],
        buyer=Buyer(email, name, phone),
        shipping_price=OMIT,
        payment_method="card",
    )
    return capture.place_order(db, ADMIN, body)[0]["number"]


def _check_index(db):
    """FTS5's own check that the index holds exactly the orders' text (SQLite)."""
    if db.is_sqlite:
        db.write(lambda c: c.execute(
            text("INSERT INTO orders_search (orders_search) VALUES ('integrity-check')")
        ))  # fmt: skip


def _scan(db, term):
    """What a scan answers: the numbers of the orders whose text holds the term (both after
    NFKC and case folding), newest first."""
    rows = db.read(lambda c: c.execute(text("SELECT id, number, search_text FROM orders")).all())
    folded = search_index.search_fold(term)  # the text is stored folded, the term read so
    return [r.number for r in sorted(rows, key=lambda r: -r.id) if folded in r.search_text]


@contextmanager
def _statements(db):
    """The (statement, parameters) the database's readers run meanwhile."""
    statements = []

    def record(conn, cursor, statement, parameters, *_):
        statements.append((statement, parameters))

    event.listen(db.read_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.read_engine, "before_cursor_execute", record)


def _found(db, term, **filters):
    numbers, cursor = [], None
    while True:
        page = queries.list_orders(db, q=term, limit=3, cursor=cursor, **filters)
        numbers += [o["number"] for o in page.items]
        if page.next_cursor is None:
            return numbers
        cursor = page.next_cursor


def _indexed(db):
    return db.read(search_index.indexed_up_to)


@pytest.mark.parametrize("indexing", ["none", "some", "all"])
def test_every_term_finds_what_a_scan_finds_page_after_page(db, placed, indexing):
    if indexing == "some":
        assert search_index.catch_up(db, batch=3, budget=0) == (3 if db.is_sqlite else 0)
    elif indexing == "all":
        assert worker.run_frequent(db)["search_indexed"] == (len(PEOPLE) if db.is_sqlite else 0)
    if db.is_sqlite:
        ids = db.read(
            lambda c: c.execute(text("SELECT id FROM orders ORDER BY id")).scalars().all()
        )
        assert _indexed(db) == {"none": 0, "some": ids[2], "all": ids[-1]}[indexing]
    assert _found(db, "example") == _scan(db, "example") and len(_scan(db, "example")) == 7
    for term in TERMS:
        assert _found(db, term) == _scan(db, term), term
    # A whole email address is "that customer's orders"; other filters still apply.
    assert _found(db, "wang@example.com") == [placed[0]]
    assert _found(db, "example", channel="web") == _scan(db, "example")
    assert _found(db, "example", channel="phone") == []


def test_the_index_follows_changes_of_the_text_and_deleted_orders(db, placed):
    search_index.catch_up(db, batch=4, budget=0)  # the first four orders are indexed
    for number in (placed[2], placed[6]):  # one indexed, one not yet
        db.write(lambda c, number=number: c.execute(
            text("UPDATE orders SET search_text = :t WHERE number = :n"),
            {"t": f"{number.lower()} renamed-customer 改名客", "n": number},
        ))  # fmt: skip
    assert _found(db, "renamed-cust") == [placed[6], placed[2]]
    assert _found(db, "名客") == [placed[6], placed[2]] and _found(db, "改") == _found(db, "名客")
    assert _found(db, "chan@mail") == []
    assert _found(db, "zhang.jia") == []
    for number in (placed[0], placed[7]):
        db.write(lambda c, number=number: _delete(c, number))
    assert _found(db, "wang2@") == [] and _found(db, "wang@") == []
    search_index.catch_up(db)
    assert _found(db, "renamed-cust") == [placed[6], placed[2]]
    assert _found(db, "名客") == [placed[6], placed[2]]
    for term in TERMS:
        assert _found(db, term) == _scan(db, term), term
    _check_index(db)


def _delete(c, number):
    oid = c.execute(text("SELECT id FROM orders WHERE number = :n"), {"n": number}).scalar()
    # The order's rows in every table that points at it, dependents first.
    for table in reversed(Base.metadata.sorted_tables):
        if "order_id" in table.c and table.name != "orders":
            c.execute(table.delete().where(table.c.order_id == oid))
    c.execute(text("DELETE FROM orders WHERE id = :o"), {"o": oid})


def test_an_up_to_date_index_costs_the_worker_no_write_transaction(db, placed):
    writes = []

    def record(conn):
        writes.append(conn)

    event.listen(db.engine, "begin", record)
    try:
        assert search_index.catch_up(db) == (len(PEOPLE) if db.is_sqlite else 0)
        assert bool(writes) == db.is_sqlite
        writes.clear()
        assert search_index.catch_up(db) == 0
        assert writes == []
    finally:
        event.remove(db.engine, "begin", record)


def test_an_order_that_takes_a_deleted_orders_id_is_found(db, placed):
    """SQLite gives a new order the largest id + 1: after the newest indexed order is
    deleted, the next one gets its id, and must still be found."""
    search_index.catch_up(db)
    newest = placed[-1]
    db.write(lambda c: _delete(c, newest))
    number = _place(db, "reused.id@example.com", "新客人")
    assert _found(db, "reused.id") == [number]
    search_index.catch_up(db)
    assert _found(db, "reused.id") == [number]
    for term in TERMS:
        assert _found(db, term) == _scan(db, term), term
    _check_index(db)


def test_every_order_is_found_while_orders_are_placed_and_indexed_concurrently(db, placed):
    """Real threads: three place orders, one indexes in small batches, two search for the
    orders already acknowledged. Each must be found at once, exactly, whichever side of the
    indexed id it is on at that moment."""
    acknowledged: list[tuple[str, str]] = []
    done = threading.Event()
    misses: list[tuple[str, list[str]]] = []

    def role(i):
        if i < 3:  # placing
            for n in range(12):
                tag = f"cc{i}x{n:02d}q"
                acknowledged.append((tag, _place(db, f"{tag}@example.org", "並行")))
        elif i == 3:  # indexing, a few orders at a time
            while not done.is_set():
                search_index.catch_up(db, batch=3, budget=0)
        else:  # searching what was acknowledged
            while not done.is_set():
                for tag, number in list(acknowledged):
                    found = _found(db, tag)
                    if found != [number]:
                        misses.append((tag, found))

    placing = [3]
    lock = threading.Lock()

    def run(i):
        try:
            role(i)
        finally:
            if i < 3:
                with lock:
                    placing[0] -= 1
                    if placing[0] == 0:
                        done.set()

    errors = run_threads(6, run)
    assert errors == [] and misses == []
    assert len(acknowledged) == 36
    search_index.catch_up(db)
    for tag, number in acknowledged:
        assert _found(db, tag) == [number]


def test_without_the_index_an_older_sqlite_scans_and_the_worker_has_nothing_to_do(db, placed):
    """What migrations 0010 and 0011 leave on a SQLite without FTS5's trigram tokenizer: no
    tables, no triggers, no counter."""
    if not db.is_sqlite:
        pytest.skip("the FTS5 table is SQLite's")

    def drop(c):
        for trigger in (
            "orders_search_delete",
            "orders_search_update",
            "orders_search_grams_update",
        ):
            c.execute(text(f"DROP TRIGGER {trigger}"))
        c.execute(text("DROP TABLE orders_search"))
        c.execute(text("DROP TABLE orders_search_grams"))
        c.execute(text("DELETE FROM counters WHERE name = 'orders_search'"))

    db.write(drop)
    assert _indexed(db) is None
    assert worker.run_frequent(db)["search_indexed"] == 0
    for term in TERMS:
        assert _found(db, term) == _scan(db, term), term
    db.write(lambda c: _delete(c, placed[0]))  # no trigger left to fail
    assert _found(db, "wang@") == []


def test_sqlite_looks_terms_up_in_the_trigram_index(db, placed):
    if not db.is_sqlite:
        pytest.skip("the FTS5 table is SQLite's; PostgreSQL's index is pg_trgm (0003)")
    worker.run_frequent(db)
    with _statements(db) as statements:
        assert _found(db, "林美玲") == [placed[1]]
        looked_up = [s for s, _ in statements if "MATCH" in s]
        assert looked_up and "orders_search" in looked_up[0]
        statements.clear()
        assert _found(db, "王") == _scan(db, "王")  # shorter than a trigram: the scan
        assert not [s for s, _ in statements if "MATCH" in s]


def test_a_phone_number_as_people_type_it_finds_the_orders_of_that_number(db, placed):
    """The orders keep phones in E.164 (+886912345678); a person searches 0912-345-678."""
    worker.run_frequent(db)
    for typed in ("0912-345-678", "0912 345 678", "+886 912-345-678", "00886912345678"):
        assert _found(db, typed) == [placed[0]], typed
    # No country is assumed: Hong Kong's +85291234567, and every number holding its digits.
    assert placed[2] in _found(db, "9123 4567") == _scan(db, "91234567")
    assert _found(db, "138-0013-8000") == [placed[6]]
    assert _found(db, "0911-111-111") == []


@pytest.mark.parametrize("indexing", ["none", "all"])
def test_full_width_and_half_width_find_each_other(db, placed, indexing):
    """Text is searched after NFKC and case folding: a full-width term finds half-width
    text, a half-width term full-width text."""
    if indexing == "all":
        worker.run_frequent(db)
    assert _found(db, "ＷＡＮＧ＠ＥＸＡＭＰＬＥ") == [placed[0]]
    assert _found(db, "ＷＡＮＧ") == [placed[7], placed[0]]
    assert _found(db, "ｗａｎｇ") == _found(db, "wang") != []
    assert _found(db, "quinn") == _found(db, "ＱＵＩＮＮ") == [placed[8]]
    assert _found(db, "quinn 山") == [placed[8]]  # the ideographic space is a space
    assert _found(db, "ｗａｎｇ@example.com") == [placed[0]]  # a whole email
    assert _found(db, "ｄｄ") == _found(db, "dd") and len(_found(db, "ｄｄ")) == len(PEOPLE)


def test_a_term_with_a_nul_still_has_its_other_filters_checked(db, placed):
    with pytest.raises(ValidationFailed):
        queries.list_orders(db, q="wa\x00ng", status="nope")
    assert queries.list_orders(db, q="wa\x00ng", status="open").items == []


def test_trigrams_and_the_fts5_query_quote_every_character():
    assert trigrams("ab") == [] and fts_query([]) is None
    assert trigrams("abcabc") == ["abc", "bca", "cab"]
    assert fts_query(trigrams("abc")) == '"abc"'
    assert fts_query(trigrams('a"b')) == '"a""b"'
    # pg_trgm's index holds trigrams of letters and digits as they are; "+88" is not one.
    assert trigrams("+886912", words_only=True) == ["886", "869", "691", "912"]
    assert trigrams("a-b.c", words_only=True) == []


def test_a_term_is_looked_up_by_its_rarest_trigrams(db, placed):
    """Of a phone number's eleven trigrams, the rarest in the stored orders (every phone
    here but two starts "+886"): which orders hold which trigram is counted here from the
    stored text (nine orders: the sample is all of them)."""
    term = "+886912345678"
    texts = db.read(lambda c: c.execute(text("SELECT search_text FROM orders")).scalars().all())
    share = {g: sum(g in t for t in texts) for g in trigrams(term)}
    chosen = db.read(lambda c: search_index.rarest(c, trigrams(term)))
    assert 1 <= len(chosen) <= search_index.PROBES and set(chosen) <= set(share)
    assert max(share[g] for g in chosen) <= min(share[g] for g in share if g not in chosen)
    assert "+88" not in chosen and "886" not in chosen
    assert db.read(lambda c: search_index.rarest(c, ["abc", "bcd"])) == ["abc", "bcd"]


def test_the_rarest_trigrams_are_added_until_no_order_of_the_sample_holds_them_all(
    monkeypatch,
):
    # Every number holds "dd0"; "033" and "333" are each rare, and no order holds both.
    texts = [f"dd0 {chr(0x4E00 + i)} ok" for i in range(887)] + ["dd1333"] * 3 + ["dd0330"] * 10
    texts += ["d03 " + chr(0x4E00 + i) for i in range(100)]
    sample = search_index._Sample(texts)
    monkeypatch.setattr(search_index, "_sample", lambda conn: sample)
    term = trigrams("dd0333333")
    assert term == ["dd0", "d03", "033", "333"]
    assert search_index.rarest(None, term) == ["033", "333"]  # in the term's order
    # A trigram most orders hold is never looked up alone, nor added to rare ones...
    assert search_index.rarest(None, ["dd0", "d03", "333"]) == ["d03", "333"]
    # ...and a term of nothing but common trigrams keeps them all: together they narrow.
    assert search_index.rarest(None, ["dd0", "d0 ", " ok"]) == ["dd0", "d0 ", " ok"]


def test_postgresql_looks_up_only_the_rarest_trigrams_in_its_index(db, placed):
    """The statement gives pg_trgm's index the two rare trigrams, and the whole term in a
    form it cannot take (with it, the index would read the posting lists of "886" and
    "869" too, which hold nearly every order)."""
    if db.is_sqlite:
        pytest.skip("SQLite's FTS5 query is built from the same trigrams (test above)")
    with _statements(db) as statements:
        assert _found(db, "+886912345678") == [placed[0]]
    statement, parameters = next((s, p) for s, p in statements if "LIKE" in s)

    def plan(c):
        c.execute(text("SET LOCAL enable_seqscan = off"))
        c.execute(text("SET LOCAL enable_indexscan = off"))
        return c.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()

    looked_up = [line for line in db.read(plan) if "Index Cond" in line]
    assert len(looked_up) == 1 and "+886912345678" not in looked_up[0]
    assert looked_up[0].count("~~") == search_index.PROBES


def test_a_common_term_is_searched_in_the_newest_ids_first_by_the_sample(monkeypatch):
    # 林佳 in 6 of 1,000 sampled orders, over 1M ids: about 6,000 matches, searched first in
    # the newest 34,000 ids, which should hold four pages of 51.
    texts = ["dd0 林佳"] * 6 + ["dd0 王"] * 600 + ["dd0 陳"] + ["dd0"] * 393
    sample = search_index._Sample(texts, spread=1_000_000)
    monkeypatch.setattr(search_index, "_sample", lambda conn: sample)
    assert search_index.newest_span(None, "林佳", 51) == 34_000
    assert search_index.newest_span(None, "王", 51) == 340
    # Rarer than 40 pages in all (about 1,000 here), or in no sampled order: all its matches.
    assert search_index.newest_span(None, "陳", 51) is None
    assert search_index.newest_span(None, "美志", 51) is None
    assert search_index.newest_span(None, "林佳", 200) is None  # 6,000 < 40 pages of 201


@pytest.mark.parametrize("pages", [0.3, 4.0])
def test_postgresql_searches_the_newest_ids_first_with_the_same_answer(
    db, placed, monkeypatch, pages
):
    """Every term, taken as common: page after page the answer is still the scan's, whether
    the newest ids searched first fill the page (four pages' worth) or the older ones are
    searched after them (a third of a page)."""
    if db.is_sqlite:
        pytest.skip("SQLite's indexes give their matches newest first")
    with _statements(db) as statements:
        assert _found(db, "example") == _scan(db, "example")
    assert not [s for s, _ in statements if "max(" in s]  # nine orders: none is common
    monkeypatch.setattr(search_index, "WINDOW_FROM", 0.0)
    monkeypatch.setattr(search_index, "WINDOW_PAGES", pages)
    with _statements(db) as statements:
        for term in TERMS:
            assert _found(db, term) == _scan(db, term), term
    windows = [s for s, _ in statements if "orders.id >=" in s]
    assert len(windows) > len(TERMS) / 2
    # Older than the window: the rest of a page that was not full (a last page, or with a
    # third of a page's worth any page); never more than one per page.
    older = [s for s, _ in statements if "orders.id <" in s and "orders.id >=" not in s]
    assert len(windows) >= len(older) > (len(windows) / 2 if pages < 1 else 0)


SAMPLES = [
    "dd000001 wang@example.com 王小明 +886912345678",
    "ｑｕｉｎｎ　山田 かな カナ 한글",
    "a王b小c",
    "王王王",
    "emoji 😀😀 ok",
    "",
    "x",
]


def test_the_grams_are_each_cjk_character_and_each_pair_of_them():
    assert grams("dd01 王小明 ab") == {"王", "小", "明", "王小", "小明"}
    assert grams("ａ　山") == {"ａ", "山"}  # U+3000, the ideographic space, is no gram
    assert grams("plain ascii") == set()
    assert gram_term("美玲") == "美玲" and gram_term("王") == "王"
    assert gram_term("王 ") is None and gram_term("zq") is None and gram_term("王小明") is None
    assert gram_term("　") is None and gram_term("") is None


def test_the_database_makes_the_same_grams(db, placed):
    """PostgreSQL's index function and SQLite's trigger for changed text agree with Python."""
    if not db.is_sqlite:
        for sample in SAMPLES:
            made = db.read(lambda c, s=sample: c.execute(
                text("SELECT dingdan_search_grams(:t)"), {"t": s}).scalar())  # fmt: skip
            assert set(made) == grams(sample), sample
        return
    search_index.catch_up(db)
    oid = db.read(lambda c: c.execute(text("SELECT MIN(id) FROM orders")).scalar())
    change = text("UPDATE orders SET search_text = :t WHERE id = :o")
    made_for = text("SELECT gram FROM orders_search_grams WHERE order_id = :o")
    for sample in SAMPLES:
        db.write(lambda c, s=sample: c.execute(change, {"t": s, "o": oid}))
        made = db.read(lambda c: c.execute(made_for, {"o": oid}).scalars().all())
        assert grams(sample) <= set(made), sample  # an earlier text's grams stay


def test_short_cjk_terms_are_looked_up_in_the_grams_index(db, placed):
    """SQLite joins its grams table; PostgreSQL's statement holds the expression of its GIN
    index, so that the index can answer it (asked with sequential scans off, as a large
    table would be)."""
    worker.run_frequent(db)
    with _statements(db) as statements:
        assert _found(db, "美玲") == [placed[1]]
        assert _found(db, "zq") == []
    lookups = [(s, p) for s, p in statements if "search_grams" in s]
    assert len(lookups) == 1  # 美玲's; "zq" is no gram: the scan
    if db.is_sqlite:
        assert "orders_search_grams" in lookups[0][0]
        return
    statement, parameters = lookups[0]

    def plan(c):
        c.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(c.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())

    assert "ix_orders_search_grams" in db.read(plan)
