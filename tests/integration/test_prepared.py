"""db/prepared.py: statements run on SQLite's cursor store what SQLAlchemy would store, and
fail the way SQLAlchemy fails (same behaviour on PostgreSQL, where they go through it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text

from dingdan.db.prepared import Prepared
from dingdan.db.tables import OutboxMessage, table_of
from dingdan.domain.shared.errors import Conflict

OUTBOX = table_of(OutboxMessage)
_PUT = Prepared(insert(OUTBOX).returning(OUTBOX.c.id))


def _put_both_ways(db, row):
    """The same outbox row inserted by ``Prepared`` and by SQLAlchemy: (ours, theirs) ids."""
    with db.engine.begin() as conn:
        ours = _PUT.first(conn, row)[0]
        theirs = conn.execute(insert(OUTBOX).returning(OUTBOX.c.id), row).scalar_one()
    return ours, theirs


def test_values_and_defaults_read_back_as_sqlalchemy_wrote_them(db):
    when = datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)
    payload = {"number": "DD000001", "name": "王小明", "lines": [1, 2]}
    ours, theirs = _put_both_ways(db, {"topic": "t", "payload": payload, "available_at": when})
    rows = db.read(lambda c: c.execute(select(OUTBOX).where(OUTBOX.c.id.in_([ours, theirs]))).all())
    a, b = (r._mapping for r in sorted(rows, key=lambda r: r.id != ours))
    assert a["payload"] == b["payload"] == payload
    assert a["available_at"] == b["available_at"] == when
    assert a["attempts"] == b["attempts"] == 0  # the column's default, filled by us
    assert a["created_at"].tzinfo is not None
    assert abs(a["created_at"] - b["created_at"]).seconds < 60


def test_run_many_counts_the_rows_every_statement_changed(db):
    with db.engine.begin() as conn:
        for i in range(3):
            _PUT.first(conn, {"topic": f"t{i}", "payload": {}, "available_at": datetime.now(UTC)})
    bump = Prepared(text("UPDATE outbox SET attempts = attempts + :n WHERE topic = :t"))
    with db.engine.begin() as conn:
        rows = [{"n": 1, "t": "t0"}, {"n": 1, "t": "t1"}, {"n": 1, "t": "x"}]
        changed = bump.run_many(conn, rows)
    assert changed == 2
    assert db.read(lambda c: c.execute(text("SELECT sum(attempts) FROM outbox")).scalar()) == 2


def test_a_driver_error_is_sqlalchemys_and_becomes_the_domain_conflict(db):
    key = Prepared(
        text("INSERT INTO counters (name, value) VALUES (:name, 0)"),
    )

    def twice(conn):
        key.run(conn, {"name": "dup"})
        key.run(conn, {"name": "dup"})

    with pytest.raises(Conflict):
        db.write(twice)
    assert (
        db.read(
            lambda c: c.execute(text("SELECT count(*) FROM counters WHERE name = 'dup'")).scalar()
        )
        == 0
    )


def test_a_connection_lost_under_a_compiled_statement_is_replaced_and_the_work_retried(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: a SQLite connection cannot be lost to the server")
    from dingdan.db.engine import Database

    db = Database(db_url, pool_size=1)
    try:
        pid = db.read(lambda c: c.execute(text("SELECT pg_backend_pid()")).scalar_one())
        other = Database(db_url, pool_size=1)
        try:
            other.read(lambda c: c.execute(text(f"SELECT pg_terminate_backend({int(pid)})")))
        finally:
            other.dispose()
        seen: list[int] = []

        def work(conn):
            # The pool hands out the killed connection first: the statement fails there.
            seen.append(conn.execute(text("SELECT 1")).scalar_one() if seen else 0)
            return _PUT.first(
                conn, {"topic": "after", "payload": {}, "available_at": datetime.now(UTC)}
            )[0]

        new_id = db.write(work)
        assert new_id is not None and len(seen) >= 2  # failed once, ran again on a new one
        after = db.read(lambda c: c.execute(text("SELECT pg_backend_pid()")).scalar_one())
        assert after != pid
    finally:
        db.dispose()


def test_a_none_is_stored_as_sqlalchemy_stores_it(db):
    """A JSON column given None holds JSON 'null' either way (not SQL NULL from one path)."""
    row = {"topic": "n", "payload": None, "available_at": datetime.now(UTC)}
    ours, theirs = _put_both_ways(db, row)
    stored = db.read(
        lambda c: dict(
            c.execute(
                text("SELECT id, payload IS NULL FROM outbox WHERE id IN (:a, :b)"),
                {"a": ours, "b": theirs},
            ).all()
        )
    )
    assert stored[ours] == stored[theirs]
