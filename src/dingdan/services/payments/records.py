"""How a payment or a refund is written: the conditional updates of an order's ``paid`` and
``refunded``, the payment row, the events, the audit entry and the outbox message. Shared
by the use cases of payments, authorizations, returns and disputes, inside their own
transactions; none of it calls a payment provider (the provider's answer is given to it,
asked between two transactions: ``services/payments/intents.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from dingdan.db.order_tables import Order, Payment
from dingdan.domain.payments.cards import Card
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.domain.shared.money import format_amount, parse_amount
from dingdan.services.orders import risk as order_risk
from dingdan.services.orders.allocation import refresh_order
from dingdan.services.orders.audit import audit_order
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch, view
from dingdan.services.payments import intents
from dingdan.services.payments.providers import ProviderResult, provider_of_record
from dingdan.services.payments.shapes import PaymentCardView, PaymentView, PaymentWithOrderView
from dingdan.services.shared.common import Actor, iso
from dingdan.services.shared.outbox_events import emit


def order_by_token(conn: Connection, token: str, lock: bool = False) -> Any:
    """The order whose tracking token (the customer's pay link) is ``token``: NotFound for
    any other, and a token that cannot be one (16 to 64 characters) is not looked up."""
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        raise NotFound(detail="No order has this link.")
    stmt = select(Order).where(Order.tracking_token == token)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFound(detail="No order has this link.")
    return row


def payment_amount(value: Any, currency: str) -> int:
    return parse_amount(value, currency, "amount", allow_zero=False)


def payment_view(p: Any, currency: str) -> PaymentView:
    return {
        "id": str(p.id),
        "kind": p.kind,
        "status": p.status,
        "provider": p.provider,
        "amount": format_amount(p.amount_minor, currency),
        "currency": currency,
        "method": p.method,
        "reference": p.reference,
        "reason": p.reason,
        "actor": p.actor,
        "created_at": iso(p.created_at),
        "card": _card_view(p),
    }


def _card_view(p: Any) -> PaymentCardView | None:
    last4, country = getattr(p, "card_last4", None), getattr(p, "card_country", None)
    fingerprint = getattr(p, "card_fingerprint", None)
    if not (last4 or country or fingerprint):
        return None
    return {"last4": last4, "country": country, "fingerprint": fingerprint}


def record_card(conn: Connection, actor: Actor, order: Any, pid: int, card: Card) -> None:
    """The card payment ``pid`` was made with, kept on it; the order's risk scored again
    with it (services/orders/risk.py: on_card_payment), which may hold the order. Call
    before ``record_paid`` so that the answer shows the hold."""
    if not card.known:
        return
    conn.execute(update(Payment).where(Payment.id == pid).values(**card.columns()))
    order_risk.on_card_payment(conn, actor, order.id, card.fingerprint, card.country)


def take(conn: Connection, order: Any, amount: int) -> None:
    """Add to ``paid`` unless that would pass the total less what pending intents ask for:
    one conditional statement, so two payments at once cannot both squeeze under it."""
    done = conn.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.paid_minor + amount + intents.pending_sum(order.id, "payment")
            <= Order.total_minor,
        )
        .values(paid_minor=Order.paid_minor + amount)
    ).rowcount
    if not done:
        pending = intents.pending_total(conn, order.id, "payment")
        left = max(0, order.total_minor - order.paid_minor - pending)
        due = format_amount(left, order.currency)
        raise ValidationFailed.on("amount", "exceeds_balance", due=due)


def insert_payment(
    conn: Connection,
    actor: Actor,
    order: Any,
    kind: str,
    amount: int,
    method: str,
    reference: str | None,
    provider_code: str,
    status: str = "succeeded",
    reason: str | None = None,
) -> int:
    return int(
        conn.execute(
            insert(Payment)
            .values(
                order_id=order.id,
                kind=kind,
                status=status,
                provider=provider_code,
                amount_minor=amount,
                method=method,
                reference=reference,
                reason=reason,
                actor=actor.name,
            )
            .returning(Payment.id)
        ).scalar_one()
    )


def record_paid(
    conn: Connection, actor: Actor, order: Any, pid: int, amount: int, reference: str | None
) -> PaymentWithOrderView:
    refresh_order(conn, order.id)
    shown = format_amount(amount, order.currency)
    event(
        conn,
        order.id,
        "paid",
        actor.name,
        f"Payment of {shown} {order.currency}",
        {"amount": shown, "reference": reference},
    )
    emit(conn, "order.paid", {"number": order.number, "amount": shown, "payment_id": str(pid)})
    audit_order(conn, actor, "payment", order, amount=shown, payment_id=str(pid))
    row = conn.execute(select(Payment).where(Payment.id == pid)).one()
    return with_order(conn, row, order)


def with_order(conn: Connection, row: Any, order: Any) -> PaymentWithOrderView:
    """The payment ``row`` of ``order``, with the order as it is now."""
    return {**payment_view(row, order.currency), "order": view(conn, fetch(conn, order.number))}


def over_refunded(order: Any, pending: int) -> None:
    left = format_amount(order.paid_minor - order.refunded_minor - pending, order.currency)
    raise ValidationFailed.on("amount", "exceeds_refundable", left=left)


def original_payment(conn: Connection, order: Any) -> Any:
    return conn.execute(
        select(Payment.reference, Payment.provider)
        .where(Payment.order_id == order.id, Payment.kind == "payment")
        .order_by(Payment.id)
    ).first()


def refunded(
    conn: Connection,
    actor: Actor,
    order: Any,
    amount: int,
    reason: str,
    reference: str | None,
    *,
    method: str | None = None,
    answer: ProviderResult | None = None,
) -> PaymentWithOrderView:
    """A refund inside the caller's transaction (returns, disputes and exchanges use it too).
    ``method`` other than the order's (store credit) moves no money through the payment
    provider; otherwise ``answer`` is the provider's, asked before this transaction."""
    pending = intents.pending_sum(order.id, "refund")
    done = conn.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.refunded_minor + amount + pending <= Order.paid_minor,
        )
        .values(refunded_minor=Order.refunded_minor + amount)
    ).rowcount
    if not done:
        over_refunded(order, intents.pending_total(conn, order.id, "refund"))
    original = original_payment(conn, order)
    gateway = provider_of_record(original.provider if original else None)
    if answer is None and (method is None or method == order.payment_method):
        # Money back to the original method is an intent: the provider is asked between two
        # transactions, never inside one (services/payments/intents.py).
        raise RuntimeError("a refund to the original method is recorded with its answer")
    if answer is not None:
        reference = reference or answer.reference
    pid = insert_payment(
        conn,
        actor,
        order,
        "refund",
        amount,
        method or order.payment_method,
        reference,
        gateway.code if method is None else "internal",
        reason=reason,
    )
    refresh_order(conn, order.id)
    shown = format_amount(amount, order.currency)
    event(
        conn,
        order.id,
        "refunded",
        actor.name,
        f"Refund of {shown} {order.currency}: {reason}",
        {"amount": shown, "reason": reason},
    )
    emit(
        conn,
        "refund.created",
        {"number": order.number, "amount": shown, "reason": reason, "payment_id": str(pid)},
    )
    audit_order(conn, actor, "refund", order, amount=shown, reason=reason)
    row = conn.execute(select(Payment).where(Payment.id == pid)).one()
    return with_order(conn, row, order)
