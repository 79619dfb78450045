"""The background worker: unpaid bank transfers are cancelled, the outbox is drained."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from dingdan.db.order_tables import IdempotencyKey, Order
from dingdan.db.tables import OutboxMessage
from dingdan.db.types import utcnow
from dingdan.services.inventory import stock
from dingdan.services.jobs import worker
from dingdan.services.orders import capture, queries
from dingdan.services.payments import transactions
from tests.helpers import ADMIN, location, product, receive
from tests.integration.test_orders_api import order_body


def _age(db, number, hours):
    db.write(
        lambda c: c.execute(
            update(Order)
            .where(Order.number == number)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )
    )


def test_unpaid_bank_transfers_are_cancelled_after_the_deadline_releasing_stock(db):
    product(db, "TEA-001")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    old, _ = capture.place_order(db, ADMIN, order_body())
    paid, _ = capture.place_order(db, ADMIN, order_body())
    fresh, _ = capture.place_order(db, ADMIN, order_body())
    cod, _ = capture.place_order(db, ADMIN, order_body(payment_method="cod"))
    for o in (old, paid, cod):
        _age(db, o["number"], 80)
    transactions.record_payment(db, ADMIN, paid["number"], {"amount": "100.00"})

    assert worker.cancel_unpaid_bank_transfers(db, 72) == [old["number"]]
    cancelled = queries.get_order(db, old["number"])
    assert cancelled["status"] == "cancelled" and cancelled["allocations"] == []
    assert "Unpaid bank transfer" in cancelled["cancel_reason"]
    last = queries.events(db, old["number"])["items"][-1]
    assert last["kind"] == "cancelled" and last["actor"] == "system:worker"
    for o in (paid, fresh, cod):
        assert queries.get_order(db, o["number"])["status"] == "open"
    assert stock.stock_of(db, "TEA-001")["reserved"] == 6
    assert stock.verify(db) == []
    assert worker.cancel_unpaid_bank_transfers(db, 72) == []


def test_the_outbox_is_drained_once_and_old_idempotency_keys_are_purged(db):
    product(db, "TEA-001")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    capture.place_order(db, ADMIN, order_body(), idempotency_key="old")
    capture.place_order(db, ADMIN, order_body(), idempotency_key="new")
    db.write(
        lambda c: c.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == "old")
            .values(created_at=utcnow() - timedelta(days=8))
        )
    )
    seen = []

    def consume(db, event):
        seen.append(event)

    worker.subscribe("order.created", consume)
    try:
        assert worker.drain_outbox(db) == 2
        assert worker.drain_outbox(db) == 0
    finally:
        worker.unsubscribe("order.created", consume)
    assert len(seen) == 2 and {e.payload["currency"] for e in seen} == {"TWD"}
    left = db.read(lambda c: c.execute(select(OutboxMessage.id)).all())
    assert left == []  # handled messages leave the queue
    assert worker.purge_idempotency_keys(db) == 1
    keys = db.read(lambda c: c.execute(select(IdempotencyKey.key)).scalars().all())
    assert keys == ["new"]


def test_a_failing_handler_keeps_the_message_for_a_later_try(db):
    product(db, "TEA-001")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    capture.place_order(db, ADMIN, order_body())

    def boom(db, event):
        raise RuntimeError("mail server down")

    worker.subscribe("order.created", boom)
    try:
        assert worker.drain_outbox(db) == 0
    finally:
        worker.unsubscribe("order.created", boom)
    row = db.read(lambda c: c.execute(select(OutboxMessage)).one())
    assert row.processed_at is None and row.attempts == 1 and "mail server" in row.last_error


def test_one_round_drains_a_backlog_larger_than_a_batch(db):
    """A flash sale writes outbox rows faster than one batch per round: the round keeps
    taking batches until the outbox is empty."""
    product(db, "TEA-001")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 100})
    for _ in range(7):
        capture.place_order(db, ADMIN, order_body())
    seen = []

    def consume(db, event):
        seen.append(event)

    worker.subscribe("order.created", consume)
    try:
        assert worker.drain_outbox(db, batch=3) == 7
    finally:
        worker.unsubscribe("order.created", consume)
    assert len(seen) == 7
    pending = db.read(
        lambda c: c.execute(
            select(OutboxMessage.id).where(OutboxMessage.processed_at.is_(None))
        ).all()
    )
    assert pending == []


def test_the_worker_thread_drains_the_outbox_between_its_rounds(db):
    """Messages leave within about ``outbox_interval`` seconds, not at the next full round
    (cancellations, purges and documents keep the longer ``interval``)."""
    product(db, "TEA-001")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    thread = worker.WorkerThread(db, 72, interval=600, outbox_interval=0.05)
    thread.start()
    try:
        capture.place_order(db, ADMIN, order_body())
        deadline = time.monotonic() + 10
        left = [1]
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = db.read(lambda c: c.execute(select(OutboxMessage.id)).all())
    finally:
        thread.stop()
    assert left == []
