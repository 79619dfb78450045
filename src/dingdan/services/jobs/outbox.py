"""The outbox as a queue of jobs with leases: claim, settle, retry, dead, replay.

A worker claims a batch by setting a lease on it (``claimed_by``, ``claimed_until``) in one
short transaction, runs the handlers with no transaction open (a handler may send mail or
call a webhook for seconds, and may write to the database itself), then deletes what was
handled and schedules what failed in another. Several workers at once never run one message
at the same time: on PostgreSQL the claim skips rows another claim holds locked
(``FOR UPDATE SKIP LOCKED``) and leaves out leased rows; SQLite has one writer, and the claim
is one conditional UPDATE (services/shared/leases.py, which the other queues claim with too).
A worker that dies mid-handler lets its lease run out, and the message is claimed again.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, or_, select, update

from dingdan.db.engine import Database
from dingdan.db.tables import OutboxMessage, table_of
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import InvalidTransition, NotFound, ValidationFailed
from dingdan.domain.shared.numbers import row_id
from dingdan.domain.shared.retries import retry_delay
from dingdan.services.jobs.shapes import JobView
from dingdan.services.shared.common import Page, check_limit, decode_cursor, iso, page_of
from dingdan.services.shared.leases import lease

LEASE = timedelta(minutes=5)  # longer than any handler should take; a dead worker's wait
STATUSES = ("pending", "dead")
_OUTBOX = table_of(OutboxMessage)


class Claimed(NamedTuple):
    """A leased message (a tuple: made for every message of every batch). ``id`` is the
    event's identity for its consumers (a message is handled at least once: a consumer
    keys what it writes by it), ``created_at`` when the change that caused it committed."""

    id: int
    topic: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Failure:
    message: Claimed
    error: str


def worker_name() -> str:
    """Who holds a lease: this host, process and thread (several loops per process may run
    in tests)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def claim(
    conn: Connection, batch: int, me: str, lease_for: timedelta = LEASE, after: int = 0
) -> list[Claimed]:
    """Lease up to ``batch`` ready messages, oldest first, in one statement. ``after``: the
    last id the caller claimed in this round, so the scan starts past the batches it has
    just deleted (on PostgreSQL their index entries stay until a vacuum, and every claim
    of a long backlog walked them again)."""
    now = utcnow()
    ready = (
        select(_OUTBOX.c.id)
        .where(
            _OUTBOX.c.id > after,
            _OUTBOX.c.status == "pending",
            _OUTBOX.c.available_at <= now,
            or_(_OUTBOX.c.claimed_until.is_(None), _OUTBOX.c.claimed_until <= now),
        )
        .order_by(_OUTBOX.c.id)
        .limit(batch)
    )
    rows = lease(
        conn,
        _OUTBOX,
        ready,
        {"claimed_by": me, "claimed_until": now + lease_for},
        (
            _OUTBOX.c.id,
            _OUTBOX.c.topic,
            _OUTBOX.c.payload,
            _OUTBOX.c.attempts,
            _OUTBOX.c.created_at,
        ),
    )
    return sorted(map(Claimed._make, rows))


def settle(conn: Connection, handled: Sequence[int], failed: Sequence[Failure]) -> None:
    """Delete the handled messages (one statement); schedule each failed one's next try
    with a growing, jittered delay, or mark it dead after its last attempt."""
    if handled:
        # A handled message is gone: the outbox is a queue (the order's events are its
        # history), and it stays as small as what is pending. Deleting costs the database
        # less than marking, whose index entries every row would need again.
        conn.execute(delete(_OUTBOX).where(_OUTBOX.c.id.in_(handled)))
    now = utcnow()
    for f in failed:
        attempts = f.message.attempts + 1
        delay = retry_delay(attempts, random.random())
        later = {"available_at": now + delay} if delay else {"status": "dead"}
        conn.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == f.message.id)
            .values(
                attempts=attempts,
                last_error=f.error[:1000],
                claimed_by=None,
                claimed_until=None,
                **later,
            )
        )


def job_view(row: Any) -> JobView:
    return {
        "id": str(row.id),
        "topic": row.topic,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "available_at": iso(row.available_at),
        "created_at": iso(row.created_at),
    }


def list_jobs(db: Database, status: str | None, limit: int = 50, cursor: str | None = None) -> Page:
    """Messages of one status (or both), newest first."""
    check_limit(limit)
    if status is not None and status not in STATUSES:
        raise ValidationFailed.on("status", "not_one_of", choices="pending, dead")
    after = decode_cursor(cursor, int)
    stmt = select(_OUTBOX).order_by(_OUTBOX.c.id.desc()).limit(limit + 1)
    if status is not None:
        stmt = stmt.where(_OUTBOX.c.status == status)
    if after is not None:
        stmt = stmt.where(_OUTBOX.c.id < after[0])
    rows = db.read(lambda conn: list(conn.execute(stmt).all()))
    return page_of(rows, limit, job_view, lambda r: (r.id,))


def replay(db: Database, job_id: str) -> JobView:
    """A dead message back in the queue, its attempts counted from zero again."""
    mid = row_id(job_id)

    def work(conn: Connection) -> JobView:
        row = conn.execute(select(_OUTBOX).where(_OUTBOX.c.id == mid)).first()
        if row is None:
            raise NotFound(detail=f"No job with id {job_id!r}.")
        done = conn.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == mid, _OUTBOX.c.status == "dead")
            .values(
                status="pending",
                attempts=0,
                available_at=utcnow(),
                claimed_by=None,
                claimed_until=None,
            )
        ).rowcount
        if not done:
            raise InvalidTransition(
                detail=f"Job {job_id} is {row.status}; only a dead one is replayed."
            )
        return job_view(conn.execute(select(_OUTBOX).where(_OUTBOX.c.id == mid)).one())

    return db.write(work)
