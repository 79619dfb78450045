"""Background work: drain the outbox, index new orders for search (SQLite), cancel unpaid
bank transfers, purge old idempotency keys, render the PDFs people asked for (packing slips).

Every job is idempotent and safe to run in several processes at once (`dingdan serve
--workers N` runs one loop per process): outbox rows are leased before their handlers run
(services/jobs/outbox.py), and a cancellation that lost a race is skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import IdempotencyKey, Order
from dingdan.db.tables import RequestReplay
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import DomainError, ProviderUnavailable, ServiceUnavailable
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE

# Imported for transactions.RECORDERS: how the intents of returns, exchanges, disputes and
# authorizations are recorded when the worker settles them (the `dingdan worker` process
# imports no API module).
from dingdan.services.access import audit_chain
from dingdan.services.after_sales import disputes, return_settlement  # noqa: F401
from dingdan.services.fulfilment import shipments
from dingdan.services.integrations import delivery as webhook_delivery
from dingdan.services.integrations import inbound, webhooks
from dingdan.services.inventory import channel_feed
from dingdan.services.invoicing import consumers as invoicing
from dingdan.services.invoicing import uploads as invoice_uploads
from dingdan.services.jobs import outbox, staff_alerts
from dingdan.services.jobs.shapes import FrequentRound, Round, RoundJobs
from dingdan.services.messaging import notifications, outbound, sending, supplier_orders
from dingdan.services.orders import customer_rights, search_index
from dingdan.services.payments import (
    authorizations,  # noqa: F401
    ecpay,
    intents,
    transactions,
)
from dingdan.services.purchasing import forecasts
from dingdan.services.reports import recommendations, rollups
from dingdan.services.shared import documents, live_changes
from dingdan.services.shared.common import Actor

log = logging.getLogger("dingdan.worker")
WORKER = Actor("system:worker", Role.ADMIN)
IDEMPOTENCY_DAYS = 7

# What hears the outbox's events: webhooks, customer messages, staff notifications, each
# subscribed to a topic (or "*", every topic). A consumer gets the database and the event
# (id, topic, payload, created_at) after the commit that wrote it, at least once: it keys what it
# records by the event's id, so a second run (a worker that died before settling, or a
# fellow consumer that failed and made the event retry) adds nothing.
Consumer = Callable[[Database, outbox.Claimed], None]
CONSUMERS: dict[str, list[Consumer]] = {}


def subscribe(topic: str, consumer: Consumer) -> None:
    if consumer not in CONSUMERS.setdefault(topic, []):
        CONSUMERS[topic].append(consumer)


def unsubscribe(topic: str, consumer: Consumer) -> None:
    if consumer in CONSUMERS.get(topic, []):
        CONSUMERS[topic].remove(consumer)


def consumers_of(topic: str) -> list[Consumer]:
    return CONSUMERS.get(topic, []) + CONSUMERS.get("*", [])


def _queue_customer_message(db: Database, event: outbox.Claimed) -> None:
    outbound.on_event(db, event)


for _topic in outbound.TOPICS:
    subscribe(_topic, _queue_customer_message)


@dataclass
class Drained:
    """What one drain did: messages a handler took, messages no handler exists for (logged
    and marked done: nothing was sent), and failures left for a later try."""

    handled: int = 0
    unhandled: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.handled + self.unhandled


def drain_outbox(db: Database, batch: int = 500, budget: float = 2.0) -> int:
    """The messages done (handled, or marked done for want of a handler); see ``drain``."""
    return drain(db, batch, budget).done


def drain(db: Database, batch: int = 500, budget: float = 2.0) -> Drained:
    """Hand each ready message to its topic's consumers; a failing one makes the message
    retry later (every consumer runs again: each is idempotent by the event's id). A topic
    nobody consumes is logged and marked done, and counted apart (nothing left).

    Batch after batch until the outbox is empty or ``budget`` seconds have passed, so the
    worker keeps up with a flash sale (one batch per round let the outbox fall behind at
    any rate above batch/interval). Handlers run with no transaction open (they may be
    slow, and may write themselves); settling one batch and claiming the next share one
    short transaction, so a busy outbox costs one write transaction per batch as before."""
    tally = Drained()
    deadline = time.monotonic() + budget
    me = outbox.worker_name()
    claimed = db.write(lambda conn: outbox.claim(conn, batch, me))
    while claimed:
        handled, failed = _run_handlers(db, claimed, tally)
        more = len(claimed) == batch and time.monotonic() < deadline

        def settle_and_claim(
            conn: Connection,
            handled: list[int] = handled,
            failed: list[outbox.Failure] = failed,
            more: bool = more,
            after: int = claimed[-1].id,
        ) -> list[outbox.Claimed]:
            outbox.settle(conn, handled, failed)
            return outbox.claim(conn, batch, me, after=after) if more else []

        claimed = db.write(settle_and_claim)
    return tally


def _run_handlers(
    db: Database, claimed: list[outbox.Claimed], tally: Drained
) -> tuple[list[int], list[outbox.Failure]]:
    handled, failed = [], []
    for message in claimed:
        consumers = consumers_of(message.topic)
        if not consumers:
            # The id, not the payload: an event may carry a customer's email or phone.
            log.info("no consumer of %s: marked done message %s", message.topic, message.id)
            handled.append(message.id)
            tally.unhandled += 1
            continue
        try:
            for consume in consumers:
                consume(db, message)
            handled.append(message.id)
            tally.handled += 1
        except Exception as exc:  # noqa: BLE001 - a handler's failure must not stop the rest
            log.warning("outbox message %s (%s) failed: %s", message.id, message.topic, exc)
            failed.append(outbox.Failure(message, str(exc) or type(exc).__name__))
            tally.failed += 1
    return handled, failed


def recover_payment_intents(db: Database) -> int:
    """The worker's job: intents left pending for a minute (the provider did not answer, or
    the process died between its answer and the record) are asked about again with their
    own key, and the answer is recorded once. Returns how many were settled."""
    settled = 0
    for intent in db.write(intents.claim_stale):
        try:
            answer = intents.ask(db, intent)
        except ProviderUnavailable:
            _touch(db, intent)
            continue
        try:
            transactions.settle_intent(db, intent, answer)
        except ServiceUnavailable:
            raise  # the database: the intent stays pending for a later round
        except DomainError as exc:  # declined (failed), or refused on record (attention)
            log.info("intent %s not recorded: %s", intent.id, exc.detail)
        settled += 1
    return settled


def _touch(db: Database, intent: intents.Intent) -> None:
    db.write(lambda conn: intents.touch(conn, intent))


def cancel_unpaid_bank_transfers(db: Database, hours: float) -> list[str]:
    """Cancel open orders with nothing paid past their payment deadline; returns numbers.
    The deadline of an order given an ECPay virtual account or payment code is that
    account's or code's (ExpireDate, services/payments/ecpay.py), whatever its method;
    other bank-transfer orders have ``hours`` from their creation."""
    now = utcnow()
    cutoff = now - timedelta(hours=hours)

    def due(conn: Connection) -> list[tuple[str, str]]:
        by_hours = conn.execute(
            select(Order.number)
            .where(
                Order.status == "open",
                Order.payment_method == "bank_transfer",
                Order.paid_minor == 0,
                Order.fulfillment_status == "unfulfilled",
                Order.created_at < cutoff,
                Order.id.not_in(ecpay.orders_with_deadline()),
            )
            .order_by(Order.id)
            .limit(500)
        ).scalars()
        why = f"Unpaid bank transfer: no payment within {hours:g} hours"
        expired = "Unpaid: the payment account or code expired"
        return [(n, why) for n in by_hours] + [
            (n, expired) for n in ecpay.deadlines_passed(conn, now)
        ]

    cancelled = []
    for number, reason in db.read(due):
        try:
            shipments.cancel_order(db, WORKER, number, reason)
            cancelled.append(number)
        except DomainError as exc:  # paid or cancelled meanwhile
            log.info("skipped %s: %s", number, exc.detail)
    return cancelled


def purge_idempotency_keys(db: Database, days: int = IDEMPOTENCY_DAYS) -> int:
    """Order capture's keys and the kept answers of other keyed POSTs, after ``days``."""
    cutoff = utcnow() - timedelta(days=days)
    return db.write(
        lambda conn: (
            conn.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)).rowcount
            + conn.execute(delete(RequestReplay).where(RequestReplay.created_at < cutoff)).rowcount
        )
    )


# Outgoing webhooks (services/integrations) -------------------------------------------------
# Every event is fanned out to the webhook endpoints that hear it: one delivery row per
# endpoint, keyed by the event's id. run_frequent then hands due deliveries to the webhook
# senders' threads, which post outside any transaction and record the answers.
def _fan_out_webhooks(db: Database, message: outbox.Claimed) -> None:
    webhooks.fan_out(db, message.id, message.topic, message.payload, message.created_at)


subscribe("*", _fan_out_webhooks)

for _topic in rollups.TOPICS:  # the reports' daily rollups (services/reports/rollups.py)
    subscribe(_topic, rollups.on_event)

# The live pages (services/shared/live_changes.py): the names of what each event changed,
# published once per drain by run_frequent.
subscribe("*", live_changes.on_event)
# ---------------------------------------------------------------------------------------------


# Staff notifications (services/messaging/notifications.py) ---------------------------------
# New orders and return requests from the outbox (one per user and event); the periodic
# scans (late orders, low stock, backorders waiting, disputes coming due, failing webhook
# endpoints) in run_once, at most once a minute (services/jobs/staff_alerts.py).
def _notify_staff(db: Database, message: outbox.Claimed) -> None:
    notifications.on_event(db, message)


for _topic in notifications.TOPICS:
    subscribe(_topic, _notify_staff)


# A sent purchase order: its PDF and the e-mail to the supplier (services/messaging).
def _send_to_supplier(db: Database, message: outbox.Claimed) -> None:
    supplier_orders.on_sent(db, message)


subscribe("purchase_order.sent", _send_to_supplier)
# ---------------------------------------------------------------------------------------------


# Invoices (services/invoicing): issued when an order is paid in full or shipped (setting),
# voided or given an allowance when it changes or is refunded, numbered when a range comes.
def _invoice(db: Database, message: outbox.Claimed) -> None:
    invoicing.on_event(db, message)


for _topic in invoicing.TOPICS:
    subscribe(_topic, _invoice)
# ---------------------------------------------------------------------------------------------


_retention_ran: dict[str, str] = {}


def apply_retention(db: Database, now: datetime | None = None) -> int:
    """Once a seller day per process: anonymise the customers inactive for
    ``DINGDAN_RETENTION_YEARS`` (services/orders/customer_rights.py); 0 turns it off."""
    from dingdan.config import get_settings

    years = get_settings().retention_years
    day = (now or datetime.now(UTC)).astimezone(SELLER_TIMEZONE).date().isoformat()
    if years <= 0 or _retention_ran.get("day") == day:
        return 0
    _retention_ran["day"] = day
    return len(customer_rights.anonymise_inactive(db, years, now))


def run_frequent(db: Database) -> FrequentRound:
    """What runs every second: the stock changes channels hear of (``inventory.changed``),
    the outbox and the live pages' names of what it changed, the search index of the new
    orders, and the webhook deliveries that are due (handed to their own threads), and the
    customer messages due (after the outbox, which writes them)."""
    return {
        # Before the drain, so that this round's webhooks carry the stock it saw change.
        "inventory_changed": channel_feed.emit_changes(db),
        "outbox": drain(db),
        # What the drain's events changed, told to the open back-office screens.
        "live": live_changes.publish(db),
        "search_indexed": search_index.catch_up(db),
        "webhooks": webhook_delivery.pump(db),
        "messages": sending.send_due(db, outbox.worker_name()),
    }


def run_once(db: Database, bank_transfer_hours: float, background: bool = False) -> Round:
    """One round. ``background``: also start the work that runs in threads of its own (the
    demand forecasts), as the long-running worker does; one round alone (tests, ``worker
    --once``) leaves it out, so that no thread outlives the round."""
    # First the jobs that may write events or messages (a cancellation, a settled payment,
    # a low-stock crossing, a reminder), so that this round's outbox drain and senders take
    # them; last the documents (rendering takes the longest, outside any transaction).
    done: RoundJobs = {
        "cancelled": cancel_unpaid_bank_transfers(db, bank_transfer_hours),
        "payment_intents": recover_payment_intents(db),
        "staff_alerts": staff_alerts.run(db),
        "payment_reminders": outbound.queue_payment_reminders(db, bank_transfer_hours),
        "purged_keys": purge_idempotency_keys(db),
        "inbound_bodies_purged": inbound.purge_raw_bodies(db),
        "audit_sealed": audit_chain.seal(db),
        "customers_anonymised": apply_retention(db),
        # Once a day in the deployment: products bought together, the customer-value fit.
        "crm": recommendations.run_if_due(db),
        # Demand forecasts: nightly every SKU, hourly the SKUs with new sales (own thread).
        "forecasts_started": background and forecasts.start_scheduled(db),
        "einvoice_uploads": invoice_uploads.upload_pending(db),
    }
    return {**done, **run_frequent(db), "documents": documents.render_pending(db)}


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
                    run_once(self.db, self.hours, background=True)
                else:
                    run_frequent(self.db)
            except DomainError as exc:  # e.g. the database is down: try again next round
                log.warning("worker round failed: %s", exc.detail)
            except Exception:  # noqa: BLE001 - keep the loop alive, but say what happened
                log.exception("worker round failed")
