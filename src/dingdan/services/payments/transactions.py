"""Payments and refunds. Totals move by one conditional statement each, so two payments
(or two refunds) racing can never together exceed what is due (or what was paid).

A payment or a refund through a provider is an intent between two transactions,
the provider asked in between with none open (``services/payments/intents.py``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Payment
from dingdan.domain.orders.rules import PaymentMethod
from dingdan.domain.payments import cards
from dingdan.domain.shared.errors import (
    DomainError,
    FieldErrors,
    InvalidTransition,
    PaymentRequired,
    ServiceUnavailable,
    ValidationFailed,
)
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.text import check_clean
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch
from dingdan.services.payments import intents
from dingdan.services.payments.providers import (
    PAYMENT_RECORDED,
    PROVIDERS,
    ProviderResult,
    provider_of_record,
)
from dingdan.services.payments.records import (
    insert_payment,
    original_payment,
    over_refunded,
    payment_amount,
    payment_view,
    record_card,
    record_paid,
    refunded,
    take,
    with_order,
)
from dingdan.services.payments.shapes import (
    PaymentCommand,
    PaymentView,
    PaymentWithOrderView,
    RefundCommand,
    RemittanceCommand,
    RemittanceView,
    RemittedOrder,
    RemittedOrderIn,
)
from dingdan.services.payments.store_credit import spend_store_credit
from dingdan.services.shared.common import Actor, PageView

log = logging.getLogger("dingdan.payments")
V = TypeVar("V")


def _text(
    value: object, field: str, max_len: int, required: bool, errors: FieldErrors
) -> str | None:
    """``value`` checked (an error added when it is wrong): the text, else None."""
    if value is None:
        if required:
            errors.add(field, "required")
    elif not isinstance(value, str) or len(value) > max_len or (required and not value.strip()):
        errors.add(field, "too_long", max=max_len)
    else:
        check_clean(value, field, errors, multiline=field == "reason")
        return value
    return None


def record_payment(
    db: Database, actor: Actor, number: str, body: PaymentCommand
) -> PaymentWithOrderView:
    errors = FieldErrors()
    _text(body.get("reference"), "reference", 200, False, errors)
    method = body.get("method")
    if method is not None and method not in {m.value for m in PaymentMethod}:
        errors.add("method", "unknown_payment_method")
    if body.get("provider") is not None and body["provider"] not in PROVIDERS:
        errors.add("provider", "unknown_provider")
    card = cards.given_card(str(body.get("provider") or "manual"), body, errors)
    if card.known and method is not None and method != PaymentMethod.CARD:
        for field in ("card_fingerprint", "card_country"):
            if body.get(field) is not None:
                errors.add(field, "not_a_field")
    errors.raise_if_any()
    # Kept with the intent: the worker records a recovered intent as the request would.
    given = {"fingerprint": card.fingerprint, "country": card.country} if card.known else None
    if method == PaymentMethod.STORE_CREDIT:
        # No provider: the credit is spent and the payment recorded in one transaction.
        return db.write(lambda conn: _pay_with_store_credit(conn, actor, number, body))
    intent = db.write(lambda conn: _open_payment(conn, actor, number, body, given))
    return settle(db, intent, intents.ask(db, intent), _record_for_order, _recorded_already)


def _payable(conn: Connection, number: str, body: PaymentCommand) -> tuple[Any, int]:
    order = fetch(conn, number, lock=True)
    if order.status == "cancelled":
        raise InvalidTransition(detail=f"Order {number} is cancelled; it takes no payment.")
    return order, payment_amount(body.get("amount"), order.currency)


def _pay_with_store_credit(
    conn: Connection, actor: Actor, number: str, body: PaymentCommand
) -> PaymentWithOrderView:
    order, amount = _payable(conn, number, body)
    take(conn, order, amount)
    reference = f"order:{number}"
    spend_store_credit(conn, order.customer_id, order.currency, amount, reference, actor.name)
    pid = insert_payment(
        conn, actor, order, "payment", amount, "store_credit", reference, "internal"
    )
    return record_paid(conn, actor, order, pid, amount, reference)


def _open_payment(
    conn: Connection,
    actor: Actor,
    number: str,
    body: PaymentCommand,
    card: Mapping[str, object] | None,
) -> intents.Intent:
    """The first transaction: the request checked against the balance due (less what
    pending intents already ask for), and the intent written."""
    order, amount = _payable(conn, number, body)
    pending = intents.pending_total(conn, order.id, "payment")
    if order.paid_minor + pending + amount > order.total_minor:
        due = format_amount(max(0, order.total_minor - order.paid_minor - pending), order.currency)
        raise ValidationFailed.on("amount", "exceeds_balance", due=due)
    return intents.open_intent(
        conn,
        actor,
        order,
        kind="payment",
        amount=amount,
        provider=body.get("provider") or "manual",
        method=body.get("method") or order.payment_method,
        reference=body.get("reference"),
        details={"card": card} if card else None,
    )


def settle_intent(
    db: Database, intent: intents.Intent, answer: ProviderResult
) -> Mapping[str, object]:
    """The second transaction: the provider's answer recorded (or the intent failed), by the
    recorder of the intent's purpose (``RECORDERS``); its view."""
    return settle(db, intent, answer, _by_purpose, _recorded_already)


def settle(
    db: Database,
    intent: intents.Intent,
    answer: ProviderResult,
    recorder: Callable[[Connection, intents.Intent, ProviderResult, Any], tuple[V, int]],
    already: Callable[[Connection, intents.Intent, Any], V],
) -> V:
    """``settle_intent`` with the recorder of the intent's purpose named by the caller, so
    that its view keeps its type; ``already`` answers when another settlement of the same
    intent recorded it first."""
    if not answer.ok:
        db.write(lambda conn: _declined(conn, intent, answer))
        raise PaymentRequired(detail=f"The payment provider declined: {answer.message}")
    try:
        return db.write(lambda conn: _record(conn, intent, answer, recorder, already))
    except ServiceUnavailable:
        raise  # the database: the intent stays pending and the worker records it later
    except DomainError as exc:
        # The provider moved the money and the order can no longer take it (its total was
        # lowered, it was cancelled, the dispute or return settled otherwise meanwhile):
        # nothing is recorded and nothing is reversed by itself; the intent waits for staff
        # with the provider's reference, and the order's timeline says so.
        log.error("intent %s: %s succeeded but was refused: %s", intent.id, answer.reference, exc)
        refused = exc
        db.write(lambda conn: needs_attention(conn, intent, answer, refused))
        raise


def _declined(conn: Connection, intent: intents.Intent, answer: ProviderResult) -> None:
    intents.mark_failed(conn, intent, answer.message or "declined", answer.reference)
    undo = ON_DECLINED.get(intent.purpose)
    if undo is not None:
        undo(conn, intent)


def needs_attention(
    conn: Connection, intent: intents.Intent, answer: ProviderResult, exc: DomainError
) -> None:
    why = str(exc)[:500]
    if not intents.mark_attention(conn, intent, str(why), answer.reference):
        return  # settled meanwhile by another recording
    shown = format_amount(intent.amount, intent.currency)
    event(
        conn,
        intent.order_id,
        "payment_unrecorded",
        "system",
        f"The provider's {intent.kind} {answer.reference} of {shown} {intent.currency} "
        f"could not be recorded: {why}",
        {
            "intent_id": str(intent.id),
            "kind": intent.kind,
            "amount": shown,
            "reference": answer.reference,
            "reason": why,
        },
    )


# A purpose's recorder answers its view (any: a payment, a return, a dispute) and the id of
# the payment it wrote.
Recorder = Callable[
    [Connection, intents.Intent, ProviderResult, Any], tuple[Mapping[str, object], int]
]


def _record(
    conn: Connection,
    intent: intents.Intent,
    answer: ProviderResult,
    recorder: Callable[[Connection, intents.Intent, ProviderResult, Any], tuple[V, int]],
    already: Callable[[Connection, intents.Intent, Any], V],
) -> V:
    order = fetch(conn, intent.order_number, lock=True)
    if not intents.mark_succeeded(conn, intent, answer):
        return already(conn, intent, order)
    answered, pid = recorder(conn, intent, answer, order)
    intents.link_payment(conn, intent, pid)
    return answered


def _by_purpose(
    conn: Connection, intent: intents.Intent, answer: ProviderResult, order: Any
) -> tuple[Mapping[str, object], int]:
    return RECORDERS[intent.purpose](conn, intent, answer, order)


def _record_for_order(
    conn: Connection, intent: intents.Intent, answer: ProviderResult, order: Any
) -> tuple[PaymentWithOrderView, int]:
    """An order's payment or refund, recorded as before intents existed."""
    actor, amount = intent.actor, intent.amount
    if intent.kind == "refund":
        reason = intent.reason or ""
        done = refunded(conn, actor, order, amount, reason, intent.reference, answer=answer)
        return done, int(done["id"])
    take(conn, order, amount)
    pid = insert_payment(
        conn, actor, order, "payment", amount, intent.method, answer.reference, intent.provider
    )
    gateway_recorded = PAYMENT_RECORDED.get(intent.provider)
    if gateway_recorded is not None:
        gateway_recorded(conn, intent, answer, order, pid)
    given = intent.details.get("card") or {}
    card = cards.Card(fingerprint=given.get("fingerprint"), country=given.get("country"))
    record_card(conn, actor, order, pid, card)
    return record_paid(conn, actor, order, pid, amount, answer.reference), pid


# How an intent's answer is recorded, by its purpose: other contexts add theirs (returns,
# disputes, exchanges, authorizations).
RECORDERS: dict[str, Recorder] = {"order": _record_for_order}
# What a purpose puts back when the provider declined its intent (an authorization being
# captured or voided is open again).
ON_DECLINED: dict[str, Callable[[Connection, intents.Intent], None]] = {}


def _recorded_already(conn: Connection, intent: intents.Intent, order: Any) -> PaymentWithOrderView:
    """Another settlement of the same intent got there first (the worker and the request)."""
    pid = intents.recorded_payment_id(conn, intent)
    if pid is None or intent.purpose != "order":
        settled_meanwhile(conn, intent, order)
    row = conn.execute(select(Payment).where(Payment.id == pid)).one()
    return with_order(conn, row, order)


def settled_meanwhile(conn: Connection, intent: intents.Intent, order: Any) -> NoReturn:
    """Another settlement of the same intent got there first: refused (only an order's own
    payment or refund is answered as it was recorded)."""
    raise InvalidTransition(detail=f"The {intent.kind} was settled meanwhile.")


def refund(db: Database, actor: Actor, number: str, body: RefundCommand) -> PaymentWithOrderView:
    """Money back to the order's payment method: an intent, the provider, the record."""
    errors = FieldErrors()
    reason = _text(body.get("reason"), "reason", 500, True, errors)
    reference = _text(body.get("reference"), "reference", 200, False, errors)
    errors.raise_if_any()
    assert reason is not None  # required: refused above when missing
    amount = body.get("amount")
    intent = db.write(lambda conn: _open_refund(conn, actor, number, amount, reason, reference))
    return settle(db, intent, intents.ask(db, intent), _record_for_order, _recorded_already)


def _open_refund(
    conn: Connection,
    actor: Actor,
    number: str,
    amount_sent: object,
    reason: str,
    reference: str | None,
) -> intents.Intent:
    order = fetch(conn, number, lock=True)
    amount = payment_amount(amount_sent, order.currency)
    return open_refund(conn, actor, order, amount, reason, reference)


def open_refund(
    conn: Connection,
    actor: Actor,
    order: Any,
    amount: int,
    reason: str,
    reference: str | None,
    purpose: str = "order",
    details: Mapping[str, object] | None = None,
) -> intents.Intent:
    """A refund's intent, once the amount fits in what was paid less what is refunded and
    what pending refunds ask for (the caller holds the order's row)."""
    pending = intents.pending_total(conn, order.id, "refund")
    if order.refunded_minor + pending + amount > order.paid_minor:
        over_refunded(order, pending)
    original = original_payment(conn, order)
    return intents.open_intent(
        conn,
        actor,
        order,
        kind="refund",
        purpose=purpose,
        amount=amount,
        provider=provider_of_record(original.provider if original else None).code,
        method=order.payment_method,
        reason=reason,
        reference=reference,
        original_reference=original.reference if original else None,
        details=details,
    )


def payments_of(db: Database, number: str) -> PageView[PaymentView]:
    def work(conn: Connection) -> PageView[PaymentView]:
        order = fetch(conn, number)
        rows = conn.execute(
            select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)
        ).all()
        return {"items": [payment_view(p, order.currency) for p in rows], "next_cursor": None}

    return db.read(work)


def record_cod_remittance(db: Database, actor: Actor, body: RemittanceCommand) -> RemittanceView:
    """A carrier's COD remittance: one payment per order it lists, all or none."""
    errors = FieldErrors()
    _text(body.get("reference"), "reference", 200, True, errors)
    _text(body.get("carrier"), "carrier", 50, True, errors)
    items = body.get("orders")
    if not isinstance(items, list) or not items:
        errors.add("orders", "no_orders")
    errors.raise_if_any()

    def work(conn: Connection) -> RemittanceView:
        settled = settle_remittance(conn, actor, body["reference"], items or [])
        return {"carrier": body["carrier"], "reference": body["reference"], "orders": settled}

    return db.write(work)


def settle_remittance(
    conn: Connection, actor: Actor, reference: str, items: list[RemittedOrderIn]
) -> list[RemittedOrder]:
    """One COD payment per item (``{"number", "amount"}``) in the caller's transaction; the
    first bad item refuses them all."""
    settled: list[RemittedOrder] = []
    for i, item in enumerate(items):
        order = conn.execute(select(Order).where(Order.number == item.get("number"))).first()
        if order is None:
            raise ValidationFailed.on(
                f"orders[{i}].number", "unknown_order", number=item.get("number")
            )
        if order.payment_method != "cod":
            raise ValidationFailed.on(f"orders[{i}].number", "not_cod")
        try:
            amount = payment_amount(item.get("amount"), order.currency)
            settle_cod(conn, actor, order, amount, reference)
        except ValidationFailed as exc:
            bad = exc.errors[0]
            raise ValidationFailed.on(f"orders[{i}].amount", bad.code, **bad.params) from None
        settled.append({"number": order.number, "amount": format_amount(amount, order.currency)})
    return settled


def settle_cod(
    conn: Connection, actor: Actor, order: Any, amount_minor: int, reference: str
) -> None:
    """One COD payment in the caller's transaction: the money a carrier's remittance, ECPay's
    payout report or a delivery run's driver brought in for ``order`` (method ``cod``,
    provider ``manual``: no provider is asked, the money is in hand). More than the order
    owes is refused (``exceeds_balance`` on ``amount``), nothing written."""
    take(conn, order, amount_minor)
    pid = insert_payment(conn, actor, order, "payment", amount_minor, "cod", reference, "manual")
    record_paid(conn, actor, order, pid, amount_minor, reference)
