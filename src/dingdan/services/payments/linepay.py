"""LINE Pay for the customer: start a payment from the order's pay page, and take the customer
back from LINE Pay (confirm, cancel).

1. ``start_linepay``: a transaction checks the order (by its tracking token) and writes the
   payment intent for what is due (provider ``linepay``, method ``e_wallet``; its key is the
   ``orderId`` LINE Pay is sent); after the commit ``POST /v3/payments/request``; another
   transaction keeps LINE Pay's transaction id as the intent's ``reference`` and its payment
   page as ``details["payment_url"]``. The customer is sent there. Asked again while that
   intent is pending, it sends the customer to the same page (no second request).
2. ``confirm_linepay`` (the customer back at ``/pay/{token}/linepay/confirm?transactionId=
   &orderId=``): the transaction must be one of this order's intents, with its ``orderId``;
   an intent settled already answers as it was settled (no call: a replayed confirm or a
   second return never pays twice). Otherwise the intent's provider is asked
   (``intents.ask``: LINE Pay's status, then ``confirm`` with the intent's amount) and the
   answer recorded as any provider's (``transactions.settle_intent``: the payment with
   provider ``linepay``, the order's totals and events). An amount that no longer fits the
   order (its total lowered meanwhile) is refused before anything is confirmed: the intent
   fails, the refusal is kept, the order is unchanged.
3. ``cancel_linepay``: LINE Pay says the customer cancelled (or the request expired): the
   intent fails and the balance is free for another try.

Refunds go through the usual refund flow (``transactions.refund``): the original
payment's provider is ``linepay`` and its reference the transaction id.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection, select, update

from dingdan.config import get_settings
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.domain.access.roles import Role
from dingdan.domain.payments import linepay as lp
from dingdan.domain.shared.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    PaymentRequired,
    ProviderUnavailable,
    ValidationFailed,
)
from dingdan.domain.shared.money import exponent, format_amount
from dingdan.services.payments import intents, linepay_gateway, transactions
from dingdan.services.payments.linepay_gateway import For
from dingdan.services.payments.records import order_by_token
from dingdan.services.shared.common import Actor

CUSTOMER = Actor("customer:linepay", Role.VIEWER)
PROVIDER = "linepay"


@dataclass(frozen=True)
class Started:
    intent: intents.Intent | None
    body: str
    url: str | None  # the payment page of an intent already started


@dataclass(frozen=True)
class Outcome:
    """Where a customer's return left the payment: ``paid``, ``failed`` (declined or
    cancelled), ``amount_changed`` (refused: the order no longer owes it), ``waiting``
    (LINE Pay did not answer or the customer has not approved: asked again by the worker),
    ``attention`` (paid at LINE Pay, not recorded: staff decide)."""

    state: str
    order_number: str
    amount: str
    currency: str


def _linepay_intents(conn: Connection, order_id: int, status: str = "pending") -> list[Any]:
    return list(
        conn.execute(
            select(PaymentAttempt)
            .where(
                PaymentAttempt.order_id == order_id,
                PaymentAttempt.provider == PROVIDER,
                PaymentAttempt.kind == "payment",
                PaymentAttempt.status == status,
            )
            .order_by(PaymentAttempt.id.desc())
        ).all()
    )


def _units(order: Any, amount: int) -> int | Any:
    try:
        return lp.to_units(amount, order.currency, exponent(order.currency))
    except lp.AmountNotPayable as exc:
        raise ValidationFailed.on("currency", "invalid", reason=str(exc)) from None


def _open(conn: Connection, token: str) -> Started:
    order = order_by_token(conn, token, lock=True)
    if order.status == "cancelled":
        raise InvalidTransition(detail=f"Order {order.number} is cancelled; it takes no payment.")
    for pending in _linepay_intents(conn, order.id):
        url = (pending.details or {}).get("payment_url")
        if url:
            return Started(None, "", str(url))
        raise InvalidTransition(detail="A LINE Pay payment is being started; try again shortly.")
    due = order.total_minor - order.paid_minor - intents.pending_total(conn, order.id, "payment")
    if due <= 0:
        raise InvalidTransition(detail=f"Nothing is due on order {order.number}.")
    units = _units(order, due)
    intent = intents.open_intent(
        conn, CUSTOMER, order, kind="payment", amount=due, provider=PROVIDER, method="e_wallet"
    )
    base = f"{get_settings().public_base_url()}/pay/{token}/linepay"
    body = lp.request_body(
        order_id=intent.key,
        order_number=order.number,
        amount=units,
        currency=order.currency,
        confirm_url=f"{base}/confirm",
        cancel_url=f"{base}/cancel",
        product_name=f"Order {order.number}",
    )
    return Started(intent, lp.dumps(body), None)


def start_linepay(db: Database, tracking_token: str) -> str:
    """The LINE Pay page to send the customer to, for what the order still owes."""
    started = db.write(lambda conn: _open(conn, tracking_token))
    if started.url is not None:
        return started.url
    intent = started.intent
    assert intent is not None
    about = For(intent.id, intent.key, intent.order_id, None)
    reply = linepay_gateway.call(db, "request", "POST", lp.REQUEST_PATH, started.body, about)
    answer = reply.answer
    if answer is not None and answer.ok:
        tid = lp.transaction_id(answer.info.get("transactionId"))
        url = (answer.info.get("paymentUrl") or {}).get("web")
        if tid and isinstance(url, str) and url.startswith(("https://", "http://")):
            db.write(lambda conn: _started(conn, intent, tid, url))
            return url
    why = linepay_gateway.said(reply) or "LINE Pay's answer could not be read"
    db.write(lambda conn: intents.mark_failed(conn, intent, why, None))
    if reply.transient:
        raise ProviderUnavailable(detail="LINE Pay did not answer; try again in a moment.")
    raise PaymentRequired(detail=f"LINE Pay refused the payment: {why}")


def _started(conn: Connection, intent: intents.Intent, tid: str, url: str) -> None:
    conn.execute(
        update(PaymentAttempt)
        .where(PaymentAttempt.id == intent.id, PaymentAttempt.status == "pending")
        .values(reference=tid, details={"payment_url": url})
    )


# ---- the customer back from LINE Pay -----------------------------------------------------


def _find(conn: Connection, token: str, tid: str) -> tuple[intents.Intent, str, Any] | None:
    if lp.transaction_id(tid) is None:
        return None  # not a transaction id at all (not even looked up)
    order = conn.execute(select(Order).where(Order.tracking_token == token)).first()
    if order is None:
        return None
    row = conn.execute(
        select(PaymentAttempt).where(
            PaymentAttempt.order_id == order.id,
            PaymentAttempt.provider == PROVIDER,
            PaymentAttempt.kind == "payment",
            PaymentAttempt.reference == tid,
        )
    ).first()
    if row is None:
        return None
    return intents._intent(row, order.number), str(row.status), order


_STATES = {"succeeded": "paid", "failed": "failed", "pending": "waiting"}


def _outcome(intent: intents.Intent, status: str) -> Outcome:
    state = _STATES.get(status, "attention")
    shown = format_amount(intent.amount, intent.currency)
    return Outcome(state, intent.order_number, shown, intent.currency)


def _status(db: Database, intent: intents.Intent) -> str:
    return str(
        db.read(
            lambda conn: conn.execute(
                select(PaymentAttempt.status).where(PaymentAttempt.id == intent.id)
            ).scalar_one()
        )
    )


def confirm_linepay(db: Database, token: str, transaction_id: str, order_id: str) -> Outcome:
    """The customer back from LINE Pay having approved: the payment confirmed and recorded
    once. An unknown transaction, or one whose ``orderId`` is not its own, is NotFound (kept
    and logged, nothing asked)."""
    query = urlencode({"transactionId": transaction_id, "orderId": order_id})
    found = db.read(lambda conn: _find(conn, token, transaction_id))
    if found is None or found[0].key != order_id:
        intent_id = found[0].id if found else None
        order = found[2].id if found else None
        about = For(intent_id, None, order, lp.transaction_id(transaction_id))
        why = "unknown transaction" if found is None else "orderId is not the transaction's"
        linepay_gateway.record_refusal(db, about, query, why)
        raise NotFound(detail="No LINE Pay payment of this order has this transaction.")
    intent, status, order = found
    if status != "pending":
        return _outcome(intent, status)
    if order.status == "cancelled" or order.total_minor - order.paid_minor < intent.amount:
        due = max(0, order.total_minor - order.paid_minor)
        why = (
            f"amount_mismatch: the order owes {format_amount(due, order.currency)}, "
            f"LINE Pay was asked {format_amount(intent.amount, intent.currency)}"
        )
        about = For(intent.id, intent.key, intent.order_id, transaction_id)
        linepay_gateway.record_refusal(db, about, query, why)
        db.write(lambda conn: intents.mark_failed(conn, intent, why, transaction_id))
        return Outcome("amount_changed", intent.order_number, *_amount(intent))
    return _settle(db, intent)


def _amount(intent: intents.Intent) -> tuple[str, str]:
    return format_amount(intent.amount, intent.currency), intent.currency


def _settle(db: Database, intent: intents.Intent) -> Outcome:
    try:
        answer = intents.ask(db, intent)
    except ProviderUnavailable:
        return _outcome(intent, _status(db, intent))
    if not answer.ok and answer.message.startswith(linepay_gateway.AMOUNT_MISMATCH):
        # LINE Pay confirmed another amount than asked: not recorded, and not dropped
        # either (money may have moved): the intent waits for staff, the timeline says so.
        refused = InvalidTransition(detail=answer.message)
        db.write(lambda conn: transactions.needs_attention(conn, intent, answer, refused))
        return _outcome(intent, _status(db, intent))
    # Declined (failed), refused on record (attention) or settled meanwhile: the intent's
    # status says which.
    with contextlib.suppress(DomainError):
        transactions.settle_intent(db, intent, answer)
    return _outcome(intent, _status(db, intent))


def cancel_linepay(db: Database, token: str, transaction_id: str | None) -> Outcome | None:
    """The customer back from LINE Pay without paying. The intent fails once LINE Pay says
    the payment was cancelled or failed; one the customer did approve is confirmed as at
    the confirm address. None when the order has no LINE Pay payment under way."""

    def find(conn: Connection) -> tuple[intents.Intent, str, Any] | None:
        if transaction_id:
            return _find(conn, token, transaction_id)
        order = conn.execute(select(Order).where(Order.tracking_token == token)).first()
        rows = _linepay_intents(conn, order.id) if order is not None else []
        if order is None or not rows or not rows[0].reference:
            return None
        return intents._intent(rows[0], order.number), str(rows[0].status), order

    found = db.read(find)
    if found is None:
        return None
    intent, status, _order = found
    if status != "pending" or not intent.reference:
        return _outcome(intent, status)
    about = For(intent.id, intent.key, intent.order_id, intent.reference)
    checked = linepay_gateway.PROVIDER_LINEPAY.status(db, intent.reference, about)
    if checked.code in (lp.STATUS_AUTHORIZED, lp.STATUS_COMPLETED):
        return _settle(db, intent)
    if checked.transient or checked.code == lp.STATUS_WAITING:
        return _outcome(intent, status)
    why = f"cancelled: {linepay_gateway.said(checked)}"
    db.write(lambda conn: intents.mark_failed(conn, intent, why, intent.reference))
    return _outcome(intent, _status(db, intent))
