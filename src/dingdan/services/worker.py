"""Background work: drain the outbox, index new orders for search (SQLite), cancel unpaid
bank transfers, purge old idempotency keys, render the PDFs people asked for (packing slips).

Every job is idempotent and safe to run in several processes at once (`dingdan serve
--workers N` runs one loop per process): outbox rows are claimed with FOR UPDATE SKIP LOCKED
on PostgreSQL (SQLite has one writer), and a cancellation that lost a race is skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import IdempotencyKey, Order
from dingdan.db.tables import OutboxMessage
from dingdan.db.types import utcnow
from dingdan.domain.errors import DomainError
from dingdan.domain.roles import Role
from dingdan.services import documents, fulfilment, search_index
from dingdan.services.common import Actor

log = logging.getLogger("dingdan.worker")
WORKER = Actor("system:worker", Role.ADMIN)
Handler = Callable[[dict[str, Any]], None]
IDEMPOTENCY_DAYS = 7


def _log_only(payload: dict[str, Any]) -> None:
    log.info("event %s", payload)


HANDLERS: dict[str, Handler] = {}


def drain_outbox(db: Database, batch: int = 500, budget: float = 2.0) -> int:
    """Hand each pending message to its topic's handler; a failing one is retried later.

    Batch after batch until the outbox is empty or ``budget`` seconds have passed, so the
    worker keeps up with a flash sale (one batch per round let the outbox fall behind at
    any rate above batch/interval); the handled messages of a batch are deleted in one
    statement."""
    done = 0
    deadline = time.monotonic() + budget
    while True:
        handled, taken = db.write(lambda conn: _drain_batch(conn, batch))
        done += handled
        if taken < batch or time.monotonic() >= deadline:
            return done


def _drain_batch(conn: Connection, batch: int) -> tuple[int, int]:
    """(messages handled, messages taken) of one batch, in one transaction."""
    stmt = (
        select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.payload)
        .where(OutboxMessage.processed_at.is_(None), OutboxMessage.available_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(batch)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = conn.execute(stmt).all()
    handled = []
    for mid, topic, payload in rows:
        try:
            HANDLERS.get(topic, _log_only)(payload)
            handled.append(mid)
        except Exception as exc:  # noqa: BLE001 - a handler's failure must not stop the rest
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == mid)
                .values(
                    attempts=OutboxMessage.attempts + 1,
                    last_error=str(exc)[:1000],
                    available_at=utcnow() + timedelta(minutes=1),
                )
            )
    if handled:
        # A handled message is gone: the outbox is a queue (the order's events are its
        # history), and it stays as small as what is pending. Deleting costs the database
        # less than marking, whose index entries every row would need again.
        conn.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(handled)))
    return len(handled), len(rows)


def cancel_unpaid_bank_transfers(db: Database, hours: float) -> list[str]:
    """Cancel open bank-transfer orders with nothing paid after ``hours``; returns numbers."""
    cutoff = utcnow() - timedelta(hours=hours)
    numbers = db.read(
        lambda conn: list(
            conn.execute(
                select(Order.number)
                .where(
                    Order.status == "open",
                    Order.payment_method == "bank_transfer",
                    Order.paid_minor == 0,
                    Order.fulfillment_status == "unfulfilled",
                    Order.created_at < cutoff,
                )
                .order_by(Order.id)
                .limit(500)
            ).scalars()
        )
    )
    cancelled = []
    for number in numbers:
        try:
            fulfilment.cancel_order(
                db, WORKER, number, f"Unpaid bank transfer: no payment within {hours:g} hours"
            )
            cancelled.append(number)
        except DomainError as exc:  # paid or cancelled meanwhile
            log.info("skipped %s: %s", number, exc.detail)
    return cancelled


def purge_idempotency_keys(db: Database, days: int = IDEMPOTENCY_DAYS) -> int:
    cutoff = utcnow() - timedelta(days=days)
    return db.write(
        lambda conn: (
            conn.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)).rowcount
        )
    )


def run_frequent(db: Database) -> dict[str, int]:
    """What runs every second: the outbox, and the search index of the new orders."""
    return {"outbox": drain_outbox(db), "search_indexed": search_index.catch_up(db)}


def run_once(db: Database, bank_transfer_hours: float) -> dict[str, Any]:
    return {
        **run_frequent(db),
        "cancelled": cancel_unpaid_bank_transfers(db, bank_transfer_hours),
        "purged_keys": purge_idempotency_keys(db),
        # Last: rendering takes the longest, and runs outside any transaction.
        "documents": documents.render_pending(db),
    }


class WorkerThread:
    """Runs ``run_once`` every ``interval`` seconds until stopped, and ``run_frequent`` (the
    outbox, the search index) every ``outbox_interval`` seconds in between (small, frequent
    batches instead of one burst of a flash sale's orders every round); errors are
    logged."""

    def __init__(
        self,
        db: Database,
        bank_transfer_hours: float,
        interval: float = 5.0,
        outbox_interval: float = 1.0,
    ) -> None:
        self.db, self.hours, self.interval = db, bank_transfer_hours, interval
        self.outbox_interval = min(outbox_interval, interval)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dingdan-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        next_round = time.monotonic() + self.interval
        while not self._stop.wait(self.outbox_interval):
            try:
                if time.monotonic() >= next_round:
                    next_round = time.monotonic() + self.interval
                    run_once(self.db, self.hours)
                else:
                    run_frequent(self.db)
            except DomainError as exc:  # e.g. the database is down: try again next round
                log.warning("worker round failed: %s", exc.detail)
            except Exception:  # noqa: BLE001 - keep the loop alive, but say what happened
                log.exception("worker round failed")
