"""Sending webhook deliveries: lease what is due, post with no transaction open, record.

- A delivery is leased (``claimed_by``, ``claimed_until``) in one short transaction, as the
  outbox's messages are; on PostgreSQL the claim skips rows another claim holds
  (``FOR UPDATE SKIP LOCKED``). A worker killed mid-post lets the lease run out and the
  delivery is sent again, with the same ``webhook-id`` and body: at least once, and a
  receiver drops the copy by its id. What was answered 2xx and recorded is never sent again.
- First attempts go out in event order for one order and endpoint: a delivery is not
  claimed while an earlier one of the same endpoint and order is still waiting for its
  first attempt's answer, nor while an earlier event is still in the outbox untried (its
  delivery may not be written yet: workers fan out side by side). A retry holds nothing
  back.
- 2xx delivers. ``410`` disables the endpoint (its pending deliveries wait until it is
  enabled again). Anything else, or no answer within 15 s, is retried on the schedule of
  domain/shared/retries.py, then the delivery is dead (replayable).
- The address is checked again before each post, after DNS (addresses.py).

``pump`` is what the worker calls every second: it hands due deliveries to a small pool of
threads and returns at once, so a slow endpoint holds up neither the worker's other jobs
nor order capture. ``send_due`` does the same work in the caller's thread (tests, tools).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, exists, func, insert, or_, select, update

from dingdan.db.engine import Database
from dingdan.db.tables import OutboxMessage, table_of
from dingdan.db.types import utcnow
from dingdan.db.webhook_tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from dingdan.domain.shared import standard_webhooks as signing
from dingdan.domain.shared.retries import retry_delay
from dingdan.services.integrations import addresses
from dingdan.services.shared.leases import lease

log = logging.getLogger("dingdan.webhooks")

TIMEOUT = 15.0  # seconds without an answer: a failed attempt
LEASE = timedelta(seconds=60)  # longer than any post may take (TIMEOUT per phase)
EXCERPT = 1000  # characters of an answer kept in the attempt log
THREADS = 8
CHAIN_SECONDS = 5.0  # senders go on to the next due delivery this long after a pump call
USER_AGENT = "Dingdan-Webhooks/1"
_EP = table_of(WebhookEndpoint)
_DL = table_of(WebhookDelivery)
_AT = table_of(WebhookAttempt)
_OUTBOX = table_of(OutboxMessage)


@dataclass(frozen=True)
class Due:
    """A leased delivery with what its post needs."""

    id: int
    endpoint_id: int
    url: str
    webhook_id: str
    body: str
    failures: int
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int
    excerpt: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def claim(conn: Connection, batch: int, me: str, lease_for: timedelta = LEASE) -> list[Due]:
    """Lease up to ``batch`` due deliveries of active endpoints, oldest due first."""
    now = utcnow()
    earlier = _DL.alias("earlier")
    # An earlier event of the same order to the same endpoint still waiting for its first
    # answer holds this one's first attempt back.
    held = (
        exists()
        .where(
            earlier.c.endpoint_id == _DL.c.endpoint_id,
            earlier.c.order_number == _DL.c.order_number,
            or_(
                earlier.c.event_at < _DL.c.event_at,
                (earlier.c.event_at == _DL.c.event_at) & (earlier.c.event_id < _DL.c.event_id),
            ),
            earlier.c.status == "pending",
            earlier.c.first_attempt_at.is_(None),
        )
        .correlate(_DL)
    )
    # An event recorded before this one and not yet handed to the consumers at all (its
    # outbox row untried; another worker may be fanning it out this moment) may be an
    # earlier event of the same order whose delivery does not exist yet: wait for it.
    untried = (
        select(func.min(_OUTBOX.c.created_at))
        .where(_OUTBOX.c.status == "pending", _OUTBOX.c.attempts == 0)
        .scalar_subquery()
    )
    ready = (
        select(_DL.c.id)
        .join(_EP, _EP.c.id == _DL.c.endpoint_id)
        .where(
            _DL.c.status == "pending",
            _DL.c.next_attempt_at <= now,
            or_(_DL.c.claimed_until.is_(None), _DL.c.claimed_until <= now),
            _EP.c.status == "active",
            or_(
                _DL.c.first_attempt_at.is_not(None),
                _DL.c.order_number.is_(None),
                ~held & or_(untried.is_(None), _DL.c.event_at <= untried),
            ),
        )
        .order_by(_DL.c.next_attempt_at, _DL.c.id)
        .limit(batch)
    )
    claimed = {"claimed_by": me, "claimed_until": now + lease_for}
    taken = lease(conn, _DL, ready, claimed, [_DL.c.id])
    ids = [r.id for r in taken]
    if not ids:
        return []
    rows = conn.execute(
        select(
            _DL.c.id,
            _DL.c.endpoint_id,
            _DL.c.webhook_id,
            _DL.c.body,
            _DL.c.failures,
            _EP.c.url,
            _EP.c.secret,
            _EP.c.previous_secret,
            _EP.c.previous_until,
        )
        .join(_EP, _EP.c.id == _DL.c.endpoint_id)
        .where(_DL.c.id.in_(ids))
        .order_by(_DL.c.id)
    ).all()
    return [
        Due(
            r.id,
            r.endpoint_id,
            r.url,
            r.webhook_id,
            r.body,
            r.failures,
            tuple(
                [r.secret, r.previous_secret]
                if r.previous_secret and r.previous_until and r.previous_until > now
                else [r.secret]
            ),
        )
        for r in rows
    ]


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def client() -> httpx.Client:
    """One pooled client per process (thread-safe); no redirects followed: a 3xx is not a
    delivery."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                timeout=TIMEOUT,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=THREADS * 4),
            )
        return _client


def post(due: Due, http: httpx.Client | None = None) -> Outcome:
    """One attempt: signed now (receivers refuse old timestamps), the stored body's bytes."""
    refused = addresses.refused_address(due.url)
    if refused is not None:
        return Outcome(None, f"{refused} is not a public address: not sent", 0, None)
    timestamp = int(time.time())
    headers = {
        **signing.headers(list(due.secrets), due.webhook_id, timestamp, due.body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    started = time.monotonic()
    try:
        with (http or client()).stream(
            "POST", due.url, content=due.body.encode(), headers=headers
        ) as answer:
            chunk = b""
            for part in answer.iter_bytes():
                chunk += part
                if len(chunk) >= EXCERPT * 4:
                    break
            excerpt = chunk.decode("utf-8", "replace")[:EXCERPT]
            return Outcome(answer.status_code, None, _ms(started), excerpt)
    except httpx.TimeoutException:
        return Outcome(None, f"no answer within {TIMEOUT:g} s", _ms(started), None)
    except httpx.HTTPError as exc:
        return Outcome(None, (str(exc) or type(exc).__name__)[:500], _ms(started), None)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def record(conn: Connection, due: Due, outcome: Outcome, me: str) -> str:
    """The attempt in the log and its consequence; returns the delivery's status ("gone"
    when its endpoint was deleted meanwhile: nothing to record)."""
    now = utcnow()
    # Locked (PostgreSQL) so that a deletion of the endpoint waits for this record or
    # comes first; SQLite's single writer does the same.
    row = select(_DL.c.id).where(_DL.c.id == due.id)
    if conn.dialect.name == "postgresql":
        row = row.with_for_update()
    if conn.execute(row).first() is None:
        return "gone"
    conn.execute(
        insert(_AT).values(
            delivery_id=due.id,
            at=now,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
            response_excerpt=outcome.excerpt,
        )
    )
    values: dict[str, Any] = {
        "attempts": _DL.c.attempts + 1,
        "first_attempt_at": func.coalesce(_DL.c.first_attempt_at, now),
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "claimed_by": None,
        "claimed_until": None,
    }
    status = "pending"
    if outcome.delivered:
        status = "delivered"
        values |= {"status": status, "delivered_at": now}
    elif outcome.status_code == 410:
        # Gone: the receiver says to stop. The endpoint is disabled; this delivery and the
        # others wait, pending, in case a person enables it again.
        values |= {"failures": _DL.c.failures + 1, "next_attempt_at": now}
        conn.execute(
            update(_EP)
            .where(_EP.c.id == due.endpoint_id, _EP.c.status == "active")
            .values(
                status="disabled",
                disabled_reason=f"410 Gone answered at {now:%Y-%m-%d %H:%M} UTC",
                updated_at=now,
            )
        )
    else:
        delay = retry_delay(due.failures + 1, random.random())
        values["failures"] = _DL.c.failures + 1
        if delay is None:
            status = "dead"
            values["status"] = status
        else:
            values["next_attempt_at"] = now + delay
    # Only while the lease is still this worker's: one that outlived it leaves the row to
    # the worker that took it over (the attempt is logged all the same).
    conn.execute(update(_DL).where(_DL.c.id == due.id, _DL.c.claimed_by == me).values(**values))
    return status


def deliver(db: Database, due: Due, me: str, http: httpx.Client | None = None) -> str:
    outcome = post(due, http)
    if not outcome.delivered:
        log.info(
            "webhook %s to %s: %s", due.webhook_id, due.url, outcome.status_code or outcome.error
        )
    return db.write(lambda conn: record(conn, due, outcome, me))


def send_due(db: Database, batch: int = 50, budget: float = 5.0) -> dict[str, int]:
    """Send what is due in the caller's thread, batch after batch (a batch's posts run side
    by side) until nothing is due or ``budget`` seconds have passed; counts by outcome."""
    counts = {"delivered": 0, "pending": 0, "dead": 0, "gone": 0}
    deadline = time.monotonic() + budget
    me = holder()
    while time.monotonic() < deadline:
        due = db.write(lambda conn: claim(conn, batch, me))
        if not due:
            break
        with ThreadPoolExecutor(min(len(due), THREADS)) as pool:
            for status in pool.map(lambda d: deliver(db, d, me), due):
                counts[status] += 1
    return counts


class _Pump:
    """The worker's background senders: at most THREADS posts at once in this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.busy = 0
        self.pool: ThreadPoolExecutor | None = None
        self.called = 0.0  # when the worker last called ``pump``

    def run(self, db: Database) -> int:
        with self.lock:
            free = THREADS - self.busy
            if free <= 0:
                return 0
            if self.pool is None:
                self.pool = ThreadPoolExecutor(THREADS, thread_name_prefix="dingdan-webhooks")
            # The pool's threads lease under their own names: one name per holder.
            me = f"{socket.gethostname()}:{os.getpid()}:webhooks"[:100]
            due = db.write(lambda conn: claim(conn, free, me))
            self.busy += len(due)
            for d in due:
                self.pool.submit(self._one, db, d, me)
            return len(due)

    def _one(self, db: Database, due: Due, me: str) -> None:
        try:
            deliver(db, due, me)
        except Exception:  # noqa: BLE001 - the lease runs out and the delivery is sent again
            log.exception("webhook delivery %s failed to record", due.id)
        finally:
            with self.lock:
                self.busy -= 1
        # The next due (an order's next event) without waiting for the worker's next round,
        # while the worker still calls: once it stops (a shutdown), so does the chain.
        if time.monotonic() - self.called > CHAIN_SECONDS:
            return
        try:
            self.run(db)
        except Exception:  # noqa: BLE001 - the worker's next round claims it
            log.exception("webhook pump failed")


_PUMP = _Pump()


def pump(db: Database) -> int:
    """Hand due deliveries to the background senders; returns how many were handed."""
    _PUMP.called = time.monotonic()
    return _PUMP.run(db)
