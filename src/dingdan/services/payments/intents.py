"""Payment intents: a provider is asked with no transaction open, between two short ones.

1. A transaction checks the request and writes the intent (``pending``) with an
   idempotency key of its own; the pending intents of an order count against its balance
   (or against what can still be refunded), so two intents cannot together ask for more.
2. The provider is called with that key and no transaction open: the engine retries a
   transaction whole (up to 8 times, and SQLite's group commit runs a failed batch again),
   and a provider call inside one could move the money as many times.
3. Another transaction records the answer (the payment, the order's totals, its events)
   and settles the intent; a declined answer settles it as ``failed``.

A provider that does not answer leaves the intent pending (``503 provider_unavailable``); a
crash between 2 and 3 does too. The worker asks again, with the same key, about intents
pending for more than a minute, and records the answer as the request would have; it claims
them first (``claim_stale``), so two workers never ask about one intent at once.

Kinds: ``payment`` (authorize and capture at once), ``refund``, ``authorization`` (money
held), ``capture`` and ``void`` (of an authorization, ``details["authorization"]``). What the
answer is recorded as is the intent's ``purpose`` (``transactions.RECORDERS``: an order's
payment or refund, a return's, a dispute's, an exchange's difference, an authorization's).

When the provider moved the money and the second transaction refuses to record it (the
order was cancelled or its total lowered meanwhile, the dispute was resolved otherwise),
the intent becomes ``attention`` with the provider's reference and the reason, and the
order's timeline says so. Nothing reverses it by itself: whether the customer gets the money
back, or the order is put right so the payment fits, is the seller's call. Staff see these
intents (``GET /api/v1/payment-intents?status=attention``, the jobs page), record them again
once the order is put right (the provider asked with the same key, so nothing moves twice)
or close them with a note.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.db.tables import table_of
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import NotFound, ProviderUnavailable
from dingdan.domain.shared.numbers import row_id
from dingdan.services.payments.providers import ProviderResult, provider_of_record
from dingdan.services.shared.common import Actor
from dingdan.services.shared.leases import lease

log = logging.getLogger("dingdan.payments")
STALE_AFTER = timedelta(minutes=1)  # a provider call times out well before this


@dataclass(frozen=True)
class Intent:
    id: int
    key: str
    kind: str  # payment, refund
    purpose: str  # order, return
    order_id: int
    order_number: str
    amount: int
    currency: str
    provider: str
    method: str
    reference: str | None
    reason: str | None
    original_reference: str | None
    actor: Actor
    details: dict[str, Any]


def pending_total(conn: Connection, order_id: int, kind: str) -> int:
    return int(conn.execute(_pending(order_id, kind)).scalar_one())


def pending_sum(order_id: int, kind: str) -> Any:
    """What the order's pending intents of ``kind`` ask for, as a scalar subquery: a
    conditional update of the order's totals leaves room for them."""
    return _pending(order_id, kind).scalar_subquery()


# A capture's intent holds its part of the balance as a payment's does.
_COUNTED = {"payment": ("payment", "capture"), "refund": ("refund",)}


def _pending(order_id: int, kind: str) -> Any:
    return select(func.coalesce(func.sum(PaymentAttempt.amount_minor), 0)).where(
        PaymentAttempt.order_id == order_id,
        PaymentAttempt.kind.in_(_COUNTED[kind]),
        PaymentAttempt.status == "pending",
    )


def open_intent(conn: Connection, actor: Actor, order: Any, **fields: Any) -> Intent:
    """Write a pending intent for ``order`` (fields: kind, amount, provider, method, and
    optionally purpose, reference, reason, original_reference, details)."""
    key = f"{fields['kind'][:3]}_{secrets.token_hex(16)}"
    iid = conn.execute(
        insert(PaymentAttempt)
        .values(
            order_id=order.id,
            kind=fields["kind"],
            purpose=fields.get("purpose", "order"),
            amount_minor=fields["amount"],
            currency=order.currency,
            provider=fields["provider"],
            method=fields["method"],
            idempotency_key=key,
            reference=fields.get("reference"),
            reason=fields.get("reason"),
            original_reference=fields.get("original_reference"),
            details=fields.get("details"),
            actor=actor.name,
            actor_role=actor.role.value,
        )
        .returning(PaymentAttempt.id)
    ).scalar_one()
    row = conn.execute(select(PaymentAttempt).where(PaymentAttempt.id == iid)).one()
    return _intent(row, order.number)


def _intent(row: Any, number: str) -> Intent:
    return Intent(
        id=row.id,
        key=row.idempotency_key,
        kind=row.kind,
        purpose=row.purpose,
        order_id=row.order_id,
        order_number=number,
        amount=row.amount_minor,
        currency=row.currency,
        provider=row.provider,
        method=row.method,
        reference=row.reference,
        reason=row.reason,
        original_reference=row.original_reference,
        actor=Actor(row.actor, Role(row.actor_role)),
        details=dict(row.details or {}),
    )


def ask(db: Database, intent: Intent) -> ProviderResult:
    """The provider's answer for the intent, asked with its key (call with no transaction
    open; ``db`` is the intent's, which the provider keeps its exchanges in). A provider that
    raises or times out is ``ProviderUnavailable``."""
    gateway = provider_of_record(intent.provider)
    key = intent.key
    amount, currency = intent.amount, intent.currency
    try:
        if intent.kind == "refund":
            return gateway.refund(
                intent.original_reference, amount, currency, idempotency_key=key, db=db
            )
        if intent.kind == "capture":
            held_ref = intent.original_reference or ""
            return gateway.capture(held_ref, amount, currency, idempotency_key=key, db=db)
        if intent.kind == "void":
            return gateway.void(intent.original_reference or "", idempotency_key=key, db=db)
        held = gateway.authorize(
            intent.order_number, amount, currency, intent.reference, idempotency_key=key, db=db
        )
        if not held.ok or intent.kind == "authorization":
            return held
        return gateway.capture(held.reference, amount, currency, idempotency_key=key, db=db)
    except Exception as exc:  # noqa: BLE001 - any failure of the call leaves the intent pending
        log.warning("payment provider %s failed for intent %s: %s", gateway.code, intent.id, exc)
        raise ProviderUnavailable(
            detail=f"The payment provider {gateway.code} did not answer; the {intent.kind} is "
            "kept and will be asked again."
        ) from exc


def mark_succeeded(conn: Connection, intent: Intent, answer: ProviderResult) -> bool:
    """Settle a pending intent as succeeded; False when it was settled already (the worker
    and the request, or two workers, recorded the same answer: only one records it)."""
    return bool(
        conn.execute(
            update(PaymentAttempt)
            .where(PaymentAttempt.id == intent.id, PaymentAttempt.status == "pending")
            .values(status="succeeded", provider_reference=answer.reference, settled_at=utcnow())
        ).rowcount
    )


def link_payment(conn: Connection, intent: Intent, payment_id: int) -> None:
    conn.execute(
        update(PaymentAttempt).where(PaymentAttempt.id == intent.id).values(payment_id=payment_id)
    )


def mark_failed(conn: Connection, intent: Intent, error: str, reference: str | None) -> None:
    conn.execute(
        update(PaymentAttempt)
        .where(PaymentAttempt.id == intent.id, PaymentAttempt.status == "pending")
        .values(
            status="failed", error=error[:1000], provider_reference=reference, settled_at=utcnow()
        )
    )


def mark_attention(conn: Connection, intent: Intent, error: str, reference: str | None) -> bool:
    """The provider moved the money and the record was refused: kept for staff to decide."""
    return bool(
        conn.execute(
            update(PaymentAttempt)
            .where(PaymentAttempt.id == intent.id, PaymentAttempt.status == "pending")
            .values(status="attention", error=error[:1000], provider_reference=reference)
        ).rowcount
    )


def by_id(conn: Connection, intent_id: str, lock: bool = False) -> tuple[Intent, str]:
    """The intent and its status; NotFound for an id that is none."""
    iid = row_id(intent_id)
    stmt = (
        select(PaymentAttempt, Order.number)
        .join(Order, Order.id == PaymentAttempt.order_id)
        .where(PaymentAttempt.id == iid)
    )
    row = conn.execute(stmt.with_for_update(of=PaymentAttempt) if lock else stmt).first()
    if row is None:
        raise NotFound(detail=f"No payment intent with id {intent_id!r}.")
    return _intent(row, row.number), str(row.status)


def pending_for(conn: Connection, order_id: int, purpose: str, reference: str) -> bool:
    """Whether an intent of ``purpose`` for ``reference`` (a return) is still pending."""
    found = conn.execute(
        select(PaymentAttempt.id).where(
            PaymentAttempt.order_id == order_id,
            PaymentAttempt.status == "pending",
            PaymentAttempt.purpose == purpose,
            PaymentAttempt.reference == reference,
        )
    ).first()
    return found is not None


def recorded_payment_id(conn: Connection, intent: Intent) -> int | None:
    return conn.execute(
        select(PaymentAttempt.payment_id).where(PaymentAttempt.id == intent.id)
    ).scalar_one()


def claim_stale(conn: Connection, limit: int = 100) -> list[Intent]:
    """Pending intents nobody has asked about for a minute, oldest first, claimed for the
    caller: the claim stamps their ``updated_at``, so they are not stale again for a minute
    (a provider call times out well before) and another worker's claim passes them over
    (services/shared/leases.py: two workers never ask the provider about one intent at once,
    which for a refund LINE Pay never answered would send it twice)."""
    now = utcnow()
    ready = (
        select(PaymentAttempt.id)
        .where(
            PaymentAttempt.status == "pending",
            PaymentAttempt.updated_at < now - STALE_AFTER,
        )
        .order_by(PaymentAttempt.id)
        .limit(limit)
    )
    attempts = table_of(PaymentAttempt)
    taken = lease(conn, attempts, ready, {"updated_at": now}, [attempts.c.id])
    if not taken:
        return []
    rows = conn.execute(
        select(PaymentAttempt, Order.number)
        .join(Order, Order.id == PaymentAttempt.order_id)
        .where(PaymentAttempt.id.in_([r.id for r in taken]))
        .order_by(PaymentAttempt.id)
    ).all()
    return [_intent(r, r.number) for r in rows]


def touch(conn: Connection, intent: Intent) -> None:
    """Asked again without an answer: next time in a minute, not at every worker round."""
    conn.execute(
        update(PaymentAttempt)
        .where(PaymentAttempt.id == intent.id, PaymentAttempt.status == "pending")
        .values(updated_at=utcnow())
    )
