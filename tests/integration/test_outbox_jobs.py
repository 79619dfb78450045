"""The outbox as leased jobs: handlers run with no transaction open, failures come back
with growing delays and die after the last attempt, dead jobs are listed and replayed,
several workers never run one message at once, and a dead worker's lease runs out."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from dingdan.db.tables import OutboxMessage, Setting
from dingdan.db.types import utcnow
from dingdan.domain.shared.retries import MAX_ATTEMPTS, RETRY_DELAYS
from dingdan.services.jobs import outbox, worker
from tests.helpers import run_threads


@pytest.fixture
def handlers():
    """Handlers installed for one test only."""
    installed: dict = {}
    yield installed
    for topic, fn in installed.items():
        worker.unsubscribe(topic, fn)


def _install(handlers, topic, fn):
    """``fn`` (taking the payload) becomes the topic's one consumer for this test."""
    if topic in handlers:
        worker.unsubscribe(topic, handlers[topic])

    def consume(db, event):
        return fn(event.payload)

    handlers[topic] = consume
    worker.subscribe(topic, consume)


def _put(db, topic, n=1):
    db.write(
        lambda c: c.execute(
            insert(OutboxMessage), [{"topic": topic, "payload": {"n": i}} for i in range(n)]
        )
    )


def _rows(db):
    return db.read(lambda c: c.execute(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def _due_now(db):
    db.write(
        lambda c: c.execute(
            update(OutboxMessage).values(available_at=utcnow() - timedelta(seconds=1))
        )
    )


def test_a_handler_runs_with_no_transaction_open_and_may_write_itself(db, handlers):
    """On SQLite a handler run inside the worker's write transaction waited forever for the
    write lock its own worker held."""

    def remember(payload):
        db.write(
            lambda c: c.execute(
                insert(Setting).values(key=f"seen-{payload['n']}", value={"ok": True})
            )
        )

    _install(handlers, "test.writes", remember)
    _put(db, "test.writes", 3)
    done = []
    assert run_threads(1, lambda _i: done.append(worker.drain_outbox(db)), timeout=30) == []
    assert done == [3]
    keys = db.read(
        lambda c: c.execute(select(Setting.key).where(Setting.key.like("seen-%"))).scalars().all()
    )
    assert sorted(keys) == ["seen-0", "seen-1", "seen-2"]
    assert _rows(db) == []


def test_a_failing_job_comes_back_later_each_time_then_dies_and_replay_runs_it(api, db, handlers):
    calls = []

    def boom(payload):
        calls.append(payload)
        raise RuntimeError("smtp down")

    _install(handlers, "test.fails", boom)
    _put(db, "test.fails")
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        before = utcnow()
        assert worker.drain_outbox(db) == 0
        (row,) = _rows(db)
        assert row.attempts == attempt and "smtp down" in row.last_error
        assert row.claimed_by is None and row.claimed_until is None
        if attempt < MAX_ATTEMPTS:
            assert row.status == "pending"
            wait = row.available_at - before
            base = RETRY_DELAYS[attempt - 1]
            assert base * 0.85 - timedelta(seconds=1) <= wait <= base + timedelta(seconds=1)
            waits.append(wait)
            assert worker.drain_outbox(db) == 0  # not due yet: not run again
            _due_now(db)
    assert len(calls) == MAX_ATTEMPTS
    assert waits == sorted(waits) and waits[0] <= timedelta(seconds=30)
    (row,) = _rows(db)
    assert row.status == "dead"
    _due_now(db)
    assert worker.drain_outbox(db) == 0 and len(calls) == MAX_ATTEMPTS  # the dead stay dead

    listed = api.get("/api/v1/jobs?status=dead", role="viewer")
    assert listed.status_code == 200, listed.text
    (job,) = listed.json()["items"]
    assert job["id"] == str(row.id) and job["topic"] == "test.fails"
    assert job["status"] == "dead" and job["attempts"] == MAX_ATTEMPTS
    assert "smtp down" in job["last_error"] and job["created_at"].endswith("Z")
    assert api.get("/api/v1/jobs?status=pending").json()["items"] == []
    assert api.get("/api/v1/jobs?status=done").status_code == 422
    assert api.get("/api/v1/jobs?limit=0").status_code == 422

    assert api.post(f"/api/v1/jobs/{row.id}/replay", role="finance").status_code == 403
    replayed = api.post(f"/api/v1/jobs/{row.id}/replay", role="manager")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "pending" and replayed.json()["attempts"] == 0
    assert api.post(f"/api/v1/jobs/{row.id}/replay").status_code == 409
    assert api.post("/api/v1/jobs/999999/replay").status_code == 404

    _install(handlers, "test.fails", calls.append)
    assert worker.drain_outbox(db) == 1
    assert _rows(db) == []


def test_the_jobs_list_pages_with_a_cursor(api, db):
    _put(db, "test.page", 5)
    db.write(lambda c: c.execute(update(OutboxMessage).values(status="dead")))
    first = api.get("/api/v1/jobs?status=dead&limit=3").json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = api.get(f"/api/v1/jobs?status=dead&limit=3&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    ids = [int(j["id"]) for j in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first


def test_workers_draining_at_once_never_run_one_message_twice(db, handlers):
    """Real threads, each its own worker loop, small batches so their claims interleave."""
    seen: Counter = Counter()
    lock = threading.Lock()

    def count(payload):
        with lock:
            seen[payload["n"]] += 1

    _install(handlers, "test.count", count)
    db.write(
        lambda c: c.execute(
            insert(OutboxMessage),
            [{"topic": "test.count", "payload": {"n": i}} for i in range(400)],
        )
    )

    def drain(_i):
        while worker.drain_outbox(db, batch=7, budget=0.05):
            pass

    assert run_threads(4, drain, timeout=60) == []
    while worker.drain_outbox(db):
        pass
    assert len(seen) == 400 and set(seen.values()) == {1}
    assert _rows(db) == []


def test_a_message_leased_by_a_worker_that_died_is_taken_again_when_the_lease_runs_out(
    db, handlers
):
    seen = []
    _install(handlers, "test.lease", seen.append)
    _put(db, "test.lease", 2)
    taken = db.write(lambda c: outbox.claim(c, 1, "crashed-worker"))
    assert len(taken) == 1
    assert worker.drain_outbox(db) == 1  # the other one; the leased one is left alone
    assert len(seen) == 1 and len(_rows(db)) == 1
    db.write(
        lambda c: c.execute(
            update(OutboxMessage).values(claimed_until=utcnow() - timedelta(seconds=1))
        )
    )
    assert worker.drain_outbox(db) == 1
    assert sorted(p["n"] for p in seen) == [0, 1]
    assert _rows(db) == []


def test_an_event_id_is_never_given_again_once_the_queue_is_empty(db, handlers):
    """Consumers key what they write by the event's id: an emptied outbox (SQLite's plain
    rowid restarted at 1) must not give a later event an earlier one's id."""
    _install(handlers, "test.seen", lambda payload: None)
    _put(db, "test.seen", 3)
    first = [r.id for r in _rows(db)]
    assert worker.drain_outbox(db) == 3 and _rows(db) == []
    _put(db, "test.seen")
    (later,) = [r.id for r in _rows(db)]
    assert later > max(first)
