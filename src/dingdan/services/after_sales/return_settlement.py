"""Settling a received return: a refund (to the original method or to store credit) or an
exchange for a replacement order. Both move the return's status conditionally first, so a
return is settled once even when two requests race."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import Connection, func, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.db.return_tables import Return, ReturnLine
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Action
from dingdan.domain.after_sales import returns as rules
from dingdan.domain.after_sales.returns import RefundTarget, ReturnStatus
from dingdan.domain.inventory.stock import check_lines
from dingdan.domain.shared.errors import (
    DomainError,
    FieldErrors,
    Forbidden,
    InvalidTransition,
    ValidationFailed,
)
from dingdan.domain.shared.money import format_amount, parse_amount
from dingdan.services.after_sales import replacements, return_policy
from dingdan.services.after_sales.return_queries import fetch_return, get_return, return_view
from dingdan.services.after_sales.returns import check_text, move_status
from dingdan.services.after_sales.shapes import (
    ExchangeRequest,
    RefundRequest,
    ReturnView,
    SkuQuantity,
)
from dingdan.services.orders.events import event
from dingdan.services.payments import intents, store_credit, transactions
from dingdan.services.payments.providers import ProviderResult
from dingdan.services.payments.records import refunded
from dingdan.services.payments.shapes import PaymentWithOrderView
from dingdan.services.shared.common import Actor


def received_value(conn: Connection, return_id: int) -> int:
    rows = conn.execute(
        select(ReturnLine.resellable + ReturnLine.damaged, OrderLine.unit_price_minor)
        .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(ReturnLine.return_id == return_id)
    ).all()
    return rules.default_refund((int(u), int(p)) for u, p in rows)


def _check_refund(body: RefundRequest) -> str:
    errors = FieldErrors()
    to = body.get("to", RefundTarget.ORIGINAL.value)
    if to not in {t.value for t in RefundTarget}:
        errors.add("to", "not_one_of", choices="original, store_credit")
    check_text(body.get("reason"), "reason", 500, errors)
    errors.raise_if_any()
    return str(to)


def refund_return(db: Database, actor: Actor, return_id: str, body: RefundRequest) -> ReturnView:
    """Money back to the original method goes through a payment intent: the provider is
    asked between two transactions (``services/payments/intents.py``); store credit moves no
    money and takes one transaction."""
    to = _check_refund(body)
    if to == RefundTarget.ORIGINAL:
        intent = db.write(lambda conn: _open_refund(conn, actor, return_id, body))
        if intent is not None:
            transactions.settle_intent(db, intent, intents.ask(db, intent))
            return get_return(db, return_id)  # as recorded (the recorder's answer is untyped)

    def work(conn: Connection) -> ReturnView:
        ret = fetch_return(conn, return_id)
        rules.check_return_transition(ret.status, ReturnStatus.REFUNDED, return_id)
        order = replacements.order_by_id(conn, ret.order_id)
        amount = _amount_of(conn, ret, order, body, actor)
        return _refund(conn, actor, ret, order, amount, to, body.get("reason"))[0]

    return db.write(work)


def refund_cap(conn: Connection, ret: Any, order: Any) -> int:
    """The most a return refunds without a manager: the received goods at their price, tax as
    the order charged it, and the share of shipping the return policy gives."""
    rows = conn.execute(
        select(
            ReturnLine.resellable + ReturnLine.damaged,
            OrderLine.unit_price_minor,
            OrderLine.quantity - OrderLine.cancelled,
            OrderLine.tax_minor,
        )
        .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(ReturnLine.return_id == ret.id)
    ).all()
    line_taxes = conn.execute(
        select(func.coalesce(func.sum(OrderLine.tax_minor), 0)).where(
            OrderLine.order_id == order.id
        )
    ).scalar_one()
    added_tax = 0 if order.prices_include_tax else int(line_taxes)
    return rules.refund_cap(
        [rules.ReturnedLine(int(u), int(p), int(c), int(t)) for u, p, c, t in rows],
        prices_include_tax=order.prices_include_tax,
        subtotal=order.subtotal_minor,
        shipping_charged=max(0, order.total_minor - order.subtotal_minor - added_tax),
        refund_shipping=return_policy.load(conn).refund_shipping,
    )


def _amount_of(conn: Connection, ret: Any, order: Any, body: RefundRequest, actor: Actor) -> int:
    sent = body.get("amount")
    if sent is None:
        return received_value(conn, ret.id)
    amount = parse_amount(sent, order.currency, "amount", allow_zero=False)
    cap = refund_cap(conn, ret, order)
    if amount <= cap:
        return amount
    if not body.get("reason"):
        raise ValidationFailed.on(
            "amount", "exceeds_return_value", max=format_amount(cap, order.currency)
        )
    if not actor.may(Action.MANAGE_SETTINGS):
        raise Forbidden(
            detail=f"Refunding more than the returned goods are worth "
            f"({format_amount(cap, order.currency)}) needs a manager or an admin."
        )
    return amount


def _open_refund(
    conn: Connection, actor: Actor, return_id: str, body: RefundRequest
) -> intents.Intent | None:
    """The first transaction: the return may be refunded and is not being refunded, the
    amount fits; None when there is no money to move (nothing received)."""
    order_id = fetch_return(conn, return_id).order_id
    order = conn.execute(select(Order).where(Order.id == order_id).with_for_update()).one()
    # Read again under the order's lock: a refund of this return that committed while this
    # waited for it is seen (PostgreSQL reads each statement's own snapshot).
    ret = fetch_return(conn, return_id)
    rules.check_return_transition(ret.status, ReturnStatus.REFUNDED, return_id)
    ref = f"return:{ret.id}"
    if intents.pending_for(conn, order.id, "return", ref):
        raise InvalidTransition(detail=f"Return {return_id} is being refunded already.")
    amount = _amount_of(conn, ret, order, body, actor)
    if not amount:
        return None
    reason = body.get("reason") or f"Return {ret.id}"
    return transactions.open_refund(conn, actor, order, amount, reason, ref, purpose="return")


def _record_refund(
    conn: Connection, intent: intents.Intent, answer: ProviderResult, order: Any
) -> tuple[dict[str, Any], int]:
    """The second transaction of a return's refund (the request's, or the worker's)."""
    ret = fetch_return(conn, (intent.reference or "").removeprefix("return:"))
    answered, pid = _refund(
        conn, intent.actor, ret, order, intent.amount, "original", intent.reason, answer
    )
    assert pid is not None  # an amount was refunded to the original method
    return dict(answered), pid


transactions.RECORDERS["return"] = _record_refund


def _refund(
    conn: Connection,
    actor: Actor,
    ret: Any,
    order: Any,
    amount: int,
    to: str,
    reason: Any,
    answer: ProviderResult | None = None,
) -> tuple[ReturnView, int | None]:
    """The return refunded: its status, the order's refund, the event. Returns the view and
    the refund's payment id."""
    move_status(
        conn, ret, ReturnStatus.REFUNDED, refund_minor=amount, refund_to=to, refunded_at=utcnow()
    )
    pid = _pay_back(conn, actor, ret, order, amount, to, reason, answer) if amount else None
    shown = format_amount(amount, order.currency)
    event(
        conn,
        order.id,
        "return_refunded",
        actor.name,
        f"Return {ret.id} refunded: {shown} {order.currency} ({to})",
        {"return_id": str(ret.id), "amount": shown, "to": to},
    )
    return return_view(conn, fetch_return(conn, str(ret.id))), pid


def _pay_back(
    conn: Connection,
    actor: Actor,
    ret: Any,
    order: Any,
    amount: int,
    to: str,
    reason: Any,
    answer: ProviderResult | None,
) -> int:
    ref = f"return:{ret.id}"
    why = reason or f"Return {ret.id}"
    to_credit = to == RefundTarget.STORE_CREDIT
    method = "store_credit" if to_credit else None
    paid = refunded(conn, actor, order, amount, why, ref, method=method, answer=answer)
    if to_credit:
        # No money leaves: the refund is recorded on the order (its refunded grows, as the
        # contract says) and the same amount becomes the customer's store credit.
        store_credit.earn(conn, order.customer_id, order.currency, amount, ref, actor.name)
        event(
            conn,
            order.id,
            "store_credit",
            actor.name,
            f"Return {ret.id}: {paid['amount']} {order.currency} to store credit",
            {"return_id": str(ret.id), "amount": paid["amount"]},
        )
    return int(paid["id"])


def exchange_return(
    db: Database, actor: Actor, return_id: str, body: ExchangeRequest, prefix: str = "DD"
) -> ReturnView:
    """Settle a received return with a replacement order. The returned value pays for the
    replacement; a dearer one leaves the difference due on it, a cheaper one refunds the
    difference on the original order.

    The exchange (the return's status, the replacement order and its payment) is one
    transaction; the difference goes back through a refund intent written in it (purpose
    ``exchange``): the provider is asked after the commit with no transaction open, and the
    refund is recorded in a second one. The answer is the exchanged return whatever the
    provider says: a provider that does not answer leaves the refund pending for the worker,
    and one that declines leaves it for staff (an ``attention`` intent, in the timeline)."""
    errors = FieldErrors()
    check_lines(body.get("lines"), errors)
    errors.raise_if_any()
    lines: list[SkuQuantity] = []
    for ln in body["lines"]:
        quantity = ln["quantity"]
        assert quantity is not None  # check_lines refused a line without one
        lines.append({"sku": ln["sku"], "quantity": quantity})

    def work(conn: Connection) -> intents.Intent | None:
        ret = fetch_return(conn, return_id)
        move_status(conn, ret, ReturnStatus.EXCHANGED)
        original = replacements.order_by_id(conn, ret.order_id)
        new = replacements.create_replacement(
            conn, actor, original, lines, prefix, f"exchange for return {ret.id}"
        )
        back, intent = _settle_difference(conn, actor, ret, original, new)
        conn.execute(
            update(Return)
            .where(Return.id == ret.id)
            .values(replacement_order_id=new.id, refund_minor=back or None)
        )
        event(
            conn,
            original.id,
            "return_exchanged",
            actor.name,
            f"Return {ret.id} exchanged for order {new.number}",
            {"return_id": str(ret.id), "replacement": new.number},
        )
        return intent

    intent = db.write(work)
    if intent is not None:
        # The exchange stands; a refund not made is pending (the provider or the database
        # did not answer: the worker settles it) or left for staff (declined, refused).
        with contextlib.suppress(DomainError):
            transactions.settle_intent(db, intent, intents.ask(db, intent))
    return db.read(lambda conn: return_view(conn, fetch_return(conn, return_id)))


def _settle_difference(
    conn: Connection, actor: Actor, ret: Any, original: Any, new: Any
) -> tuple[int, intents.Intent | None]:
    """Pay the replacement with the returned value; the intent of refunding what is left over
    on the original. Returns the difference and its intent."""
    value = received_value(conn, ret.id)
    ref = f"exchange:{ret.id}"
    if min(value, new.total_minor) > 0:
        replacements.pay_in(conn, actor, new, min(value, new.total_minor), ref)
    back = max(0, value - new.total_minor)
    if back and not actor.may(Action.MANAGE_PAYMENTS):
        raise Forbidden(detail="The exchange refunds a difference; that needs a refund role.")
    if not back:
        return 0, None
    locked = conn.execute(select(Order).where(Order.id == original.id).with_for_update()).one()
    reason = f"Exchange for return {ret.id}"
    return back, transactions.open_refund(
        conn, actor, locked, back, reason, ref, purpose="exchange"
    )


def _record_difference(
    conn: Connection, intent: intents.Intent, answer: ProviderResult, order: Any
) -> tuple[PaymentWithOrderView, int]:
    """The second transaction of an exchange's refund (the request's, or the worker's)."""
    paid = refunded(
        conn,
        intent.actor,
        order,
        intent.amount,
        intent.reason or "",
        intent.reference,
        answer=answer,
    )
    return paid, int(paid["id"])


def _difference_declined(conn: Connection, intent: intents.Intent) -> None:
    """The exchange is done and its difference still owed: left for staff, not failed."""
    conn.execute(
        update(PaymentAttempt)
        .where(PaymentAttempt.id == intent.id, PaymentAttempt.status == "failed")
        .values(status="attention")
    )
    shown = format_amount(intent.amount, intent.currency)
    event(
        conn,
        intent.order_id,
        "payment_unrecorded",
        "system",
        f"The provider declined the refund of {shown} {intent.currency} for "
        f"{intent.reference}; it is still owed",
        {
            "intent_id": str(intent.id),
            "kind": "refund",
            "amount": shown,
            "reference": None,
            "reason": "declined",
        },
    )


transactions.RECORDERS["exchange"] = _record_difference
transactions.ON_DECLINED["exchange"] = _difference_declined
