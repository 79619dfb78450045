"""ECPay (綠界) as a payment provider: the customer's checkout (card, ATM virtual account,
convenience-store code), ECPay's callbacks, card refunds (docs/payments-ecpay.md).

- **Checkout** (``start_checkout``): one transaction writes the attempt (``ecpay_trades``,
  a new ``MerchantTradeNo``) and the signed form as an exchange; the customer's browser
  posts it to ECPay. Nothing is called from here.
- **Callbacks** (``receive``: ReturnURL and PaymentInfoURL): the form is kept first
  (``payment_exchanges``, its own transaction), then checked and recorded in one
  transaction, then our answer is kept beside it. Refused (``0|error``, nothing changed):
  a wrong CheckMacValue or MerchantID, an unknown MerchantTradeNo, an amount other than the
  attempt's, a replay whose content differs from what was recorded. A replay of the same
  content is ``1|OK`` and records nothing (ECPay posts until it reads ``1|OK``). A signed
  result saying ECPay took the money (RtnCode 1) that cannot be recorded (another amount,
  the order cancelled or owing less meanwhile, two tabs paying twice) is refused too, and
  kept for staff: a payment intent in ``attention`` with ECPay's TradeNo and the reason,
  ``payment_unrecorded`` in the order's timeline (once, however often ECPay posts it).
- **Refunds** (``EcpayProvider.refund``, asked by the refund intents of
  ``services/payments/intents.py`` with no transaction open): CreditDetail/DoAction with
  Action ``R`` for a card payment, each request and answer kept, once per idempotency key.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from dingdan.config import get_settings
from dingdan.db.ecpay_tables import EcpayTrade, PaymentExchange
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.db.secrets import card_fingerprint_key
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.payments import cards
from dingdan.domain.payments import ecpay as ec
from dingdan.domain.shared.errors import InvalidTransition, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.services.payments import intents
from dingdan.services.payments.ecpay_log import (
    CODE,
    config,
    configured,
    exchange,
    finish,
    hash_keys,
)
from dingdan.services.payments.ecpay_refunds import PROVIDER, EcpayProvider, form_of, paid_form
from dingdan.services.payments.providers import PAYMENT_RECORDED, PROVIDERS, ProviderResult
from dingdan.services.payments.records import (
    insert_payment,
    order_by_token,
    record_card,
    record_paid,
    take,
)
from dingdan.services.payments.shapes import CheckoutForm, EcpayTradeView, PayView
from dingdan.services.shared.common import Actor, iso

__all__ = [
    "PROVIDER",
    "EcpayProvider",
    "config",
    "form_of",
    "hash_keys",
    "pay_view",
    "receive",
    "start_checkout",
]
log = logging.getLogger("dingdan.payments.ecpay")
ECPAY = Actor("system:ecpay", Role.ADMIN)
# The order's payment method recorded for each way of paying through ECPay.
METHODS = {"card": "card", "atm": "bank_transfer", "cvs": "other"}
PROVIDERS[CODE] = PROVIDER


# ---- the checkout --------------------------------------------------------------------------


def _trade_view(t: Any) -> EcpayTradeView:
    return {
        "merchant_trade_no": t.merchant_trade_no,
        "choice": t.choice,
        "status": t.status,
        "amount": format_amount(t.amount_minor, t.currency),
        "currency": t.currency,
        "bank_code": t.bank_code,
        "v_account": t.v_account,
        "payment_no": t.payment_no,
        "expires_at": iso(t.expires_at),
        "created_at": iso(t.created_at),
    }


def waiting_of(conn: Connection, order_id: int) -> EcpayTradeView | None:
    """The order's latest ATM account or CVS code still waiting for the money."""
    row = conn.execute(
        select(EcpayTrade)
        .where(EcpayTrade.order_id == order_id, EcpayTrade.status == "waiting")
        .order_by(EcpayTrade.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _trade_view(row)


def pay_view(db: Database, token: str) -> PayView:
    """What the pay page shows: the order's number, what is due, whether it is paid, the
    account or code given, and whether ECPay can take the payment."""

    on = config(db) is not None

    def work(conn: Connection) -> PayView:
        order = order_by_token(conn, token)
        due = max(0, order.total_minor - order.paid_minor)
        return {
            "number": order.number,
            "status": order.status,
            "financial_status": order.financial_status,
            "currency": order.currency,
            "total": format_amount(order.total_minor, order.currency),
            "due": format_amount(due, order.currency),
            "paid": due == 0,
            "payable": order.status != "cancelled" and due > 0,
            "waiting": waiting_of(conn, order.id),
            "ecpay": on and order.currency == "TWD" and due % 100 == 0,
        }

    return db.read(work)


def start_checkout(
    db: Database, token: str, choice: str, now: datetime | None = None
) -> CheckoutForm:
    """A new attempt at paying what the order owes through ECPay: ``{"action", "fields"}``,
    the signed form the customer's browser posts to ECPay."""
    cfg = configured(db)
    if choice not in ec.CHOICES:
        raise ValidationFailed.on("choice", "not_one_of", choices=", ".join(ec.CHOICES))
    at = now or datetime.now(UTC)
    key, iv = hash_keys(db)
    base = get_settings().public_base_url()

    def work(conn: Connection) -> CheckoutForm:
        order = order_by_token(conn, token, lock=True)
        if order.status == "cancelled":
            raise InvalidTransition(detail=f"Order {order.number} is cancelled.")
        # What pending intents ask for (a LINE Pay payment under way) is not due here.
        pending = intents.pending_total(conn, order.id, "payment")
        due = order.total_minor - order.paid_minor - pending
        if due <= 0:
            detail = "is paid" if pending == 0 else "has a payment under way"
            raise InvalidTransition(detail=f"Order {order.number} {detail}.")
        try:
            dollars = ec.whole_dollars(due, order.currency)
        except ValueError:
            raise ValidationFailed.on("amount", "ecpay_whole_twd") from None
        names = conn.execute(
            select(OrderLine.name, OrderLine.quantity)
            .where(OrderLine.order_id == order.id)
            .order_by(OrderLine.position)
        ).all()
        trade = ec.trade_no(order.number)
        params = ec.checkout_params(
            ec.Checkout(
                merchant_id=cfg.merchant_id,
                merchant_trade_no=trade,
                at=at,
                amount=dollars,
                description=f"Order {order.number}",
                items=[f"{n} x {q}" for n, q in names],
                choice=choice,
                return_url=f"{base}/hooks/ecpay/result",
                client_back_url=f"{base}/pay/{token}",
                order_result_url=f"{base}/pay/{token}/result",
                payment_info_url=f"{base}/hooks/ecpay/payment-info",
            )
        )
        fields = ec.signed(params, key, iv)
        conn.execute(
            insert(EcpayTrade).values(
                order_id=order.id,
                merchant_trade_no=trade,
                choice=choice,
                amount_minor=due,
                currency=order.currency,
                status="started",
                expires_at=ec.deadline_after(at, choice),
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        action = cfg.url + ec.CHECKOUT_PATH
        xid = exchange(conn, "checkout", "out", trade, action, urllib.parse.urlencode(fields))
        # Handed to the customer's browser: ECPay answers the browser, and the result
        # comes back as the callbacks below.
        conn.execute(
            update(PaymentExchange)
            .where(PaymentExchange.id == xid)
            .values(outcome="ok", answered_at=utcnow())
        )
        return {"action": action, "fields": fields, "merchant_trade_no": trade}

    return db.write(work)


# ---- callbacks -----------------------------------------------------------------------------


class Refused(Exception):  # noqa: N818 - a callback we do not take
    pass


class Unrecorded(Refused):
    """A result saying ECPay took the money that cannot be recorded: refused, and kept for
    staff (the money moved)."""

    def __init__(self, why: str, trade: Any, result: ec.Result) -> None:
        super().__init__(why)
        self.trade, self.result = trade, result


def _canonical(form: Mapping[str, str]) -> str:
    return json.dumps(
        {k: v for k, v in form.items() if k != "CheckMacValue"}, sort_keys=True, ensure_ascii=False
    )


def receive(db: Database, operation: str, body: bytes) -> str:
    """A callback from ECPay (``result``: ReturnURL; ``payment_info``: PaymentInfoURL), kept
    before it is read; the answer ECPay is to be given (``1|OK`` or ``0|error``)."""
    form = form_of(body)
    reference = form.get("MerchantTradeNo") or "-"
    path = "/hooks/ecpay/result" if operation == "result" else "/hooks/ecpay/payment-info"
    xid = db.write(
        lambda conn: exchange(
            conn, operation, "in", reference, path, body.decode("utf-8", "replace")
        )
    )
    try:
        result = _checked(db, form)
        handle = _record_result if operation == "result" else _record_info
        db.write(lambda conn: handle(conn, result, form))
    except Refused as exc:
        log.warning("ECPay %s for %s refused: %s", operation, reference, exc)
        if isinstance(exc, Unrecorded):
            unrecorded = exc
            db.write(lambda conn: _keep_for_staff(conn, unrecorded))
        finish(
            db,
            xid,
            "refused",
            http_status=200,
            response_body=ec.ERROR_ANSWER,
            error=str(exc),
            code=form.get("RtnCode"),
        )
        return ec.ERROR_ANSWER
    finish(db, xid, "ok", http_status=200, response_body=ec.OK_ANSWER, code=form.get("RtnCode"))
    return ec.OK_ANSWER


def _checked(db: Database, form: Mapping[str, str]) -> ec.Result:
    cfg = config(db)
    if cfg is None:
        raise Refused("ECPay is not set up")
    key, iv = hash_keys(db)
    if any("\x00" in k or "\x00" in v for k, v in form.items()):
        raise Refused("a NUL character")
    if not ec.is_signed(form, key, iv):
        raise Refused("CheckMacValue does not match")
    if form.get("MerchantID") != cfg.merchant_id:
        raise Refused("another MerchantID")
    try:
        return ec.read_result(form)
    except ValueError as exc:
        raise Refused(str(exc)) from None


def _trade(conn: Connection, result: ec.Result, paid: bool = False) -> Any:
    row = conn.execute(
        select(EcpayTrade)
        .where(EcpayTrade.merchant_trade_no == result.merchant_trade_no)
        .with_for_update()
    ).first()
    if row is None:
        raise Refused("unknown MerchantTradeNo")
    if paid and row.status == "paid":
        return row  # a replay: compared whole with the result recorded (another amount too)
    if result.amount is None or result.amount * 100 != row.amount_minor:
        why = f"TradeAmt {result.amount} is not the {row.amount_minor // 100} asked"
        if paid and result.amount and row.status != "paid":
            raise Unrecorded(why, row, result)
        raise Refused(why)
    return row


def _record_result(conn: Connection, result: ec.Result, form: Mapping[str, str]) -> None:
    trade = _trade(conn, result, paid=result.rtn_code == ec.RTN_PAID)
    canonical = _canonical(form)
    if trade.status == "paid":
        if trade.paid_form != canonical:
            raise Refused("a replay that differs from the result recorded")
        return  # the same result again: taken once
    if result.rtn_code != ec.RTN_PAID:
        conn.execute(
            update(EcpayTrade)
            .where(EcpayTrade.id == trade.id)
            .values(
                status="failed",
                rtn_code=result.rtn_code,
                rtn_msg=result.rtn_msg[:200],
                updated_at=utcnow(),
            )
        )
        return
    order = conn.execute(select(Order).where(Order.id == trade.order_id).with_for_update()).one()
    if order.status == "cancelled":
        raise Unrecorded(f"order {order.number} is cancelled", trade, result)
    try:
        take(conn, order, trade.amount_minor)
    except ValidationFailed as exc:
        raise Unrecorded(f"more than order {order.number} owes: {exc}", trade, result) from None
    pid = insert_payment(
        conn,
        ECPAY,
        order,
        "payment",
        trade.amount_minor,
        METHODS[trade.choice],
        result.trade_no,
        CODE,
    )
    if trade.choice == "card":
        # NeedExtraPaidInfo=Y: the card's first six and last four digits (domain/payments/cards).
        card = cards.from_digits(
            card_fingerprint_key(), CODE, form.get("card6no"), form.get("card4no")
        )
        record_card(conn, ECPAY, order, pid, card)
    conn.execute(
        update(EcpayTrade)
        .where(EcpayTrade.id == trade.id)
        .values(
            status="paid",
            trade_no=result.trade_no[:20],
            rtn_code=result.rtn_code,
            rtn_msg=result.rtn_msg[:200],
            paid_form=canonical,
            payment_id=pid,
            updated_at=utcnow(),
        )
    )
    record_paid(conn, ECPAY, order, pid, trade.amount_minor, result.trade_no)


def _keep_for_staff(conn: Connection, refused: Unrecorded) -> None:
    """A payment intent in ``attention`` for the money ECPay took and we could not record
    (its reference our MerchantTradeNo, the provider's ECPay's TradeNo), once per trade."""
    # Imported here: transactions imports the providers, which register this module.
    from dingdan.services.payments import transactions

    trade, result = refused.trade, refused.result
    kept = conn.execute(
        select(PaymentAttempt.id).where(
            PaymentAttempt.provider == CODE,
            PaymentAttempt.kind == "payment",
            PaymentAttempt.reference == trade.merchant_trade_no,
        )
    ).first()
    if kept is not None:
        return  # ECPay posting the same result again
    order = conn.execute(select(Order).where(Order.id == trade.order_id).with_for_update()).one()
    intent = intents.open_intent(
        conn,
        ECPAY,
        order,
        kind="payment",
        amount=(result.amount or 0) * 100,
        provider=CODE,
        method=METHODS[trade.choice],
        reference=trade.merchant_trade_no,
    )
    answer = ProviderResult(True, result.trade_no[:20], result.rtn_msg[:200])
    why = InvalidTransition(detail=f"ECPay took the payment; {refused}")
    transactions.needs_attention(conn, intent, answer, why)


def _recorded_by_intent(
    conn: Connection, intent: intents.Intent, answer: ProviderResult, order: Any, pid: int
) -> None:
    """A kept result recorded through its intent (staff recording an ``attention`` one again
    once the order is put right): the trade is marked paid as the callback would have marked
    it (its TradeNo, the result's form, the payment; the card's digits kept on the
    payment), so a refund of it goes through DoAction and ECPay posting the result again is
    answered ``1|OK`` and records nothing. A trade paid already refuses the record."""
    if intent.kind != "payment" or not intent.reference:
        return
    trade = conn.execute(
        select(EcpayTrade).where(EcpayTrade.merchant_trade_no == intent.reference).with_for_update()
    ).first()
    form = paid_form(conn, intent.reference, intent.amount)
    if trade is None or form is None:
        return
    if trade.status == "paid":
        raise InvalidTransition(
            detail=f"ECPay's payment {trade.merchant_trade_no} is recorded already."
        )
    conn.execute(
        update(EcpayTrade)
        .where(EcpayTrade.id == trade.id)
        .values(
            status="paid",
            trade_no=form["TradeNo"][:20],
            rtn_code=form.get("RtnCode"),
            rtn_msg=(form.get("RtnMsg") or "")[:200],
            paid_form=_canonical(form),
            payment_id=pid,
            updated_at=utcnow(),
        )
    )
    if trade.choice == "card":
        card = cards.from_digits(
            card_fingerprint_key(), CODE, form.get("card6no"), form.get("card4no")
        )
        record_card(conn, intent.actor, order, pid, card)


PAYMENT_RECORDED[CODE] = _recorded_by_intent


def _record_info(conn: Connection, result: ec.Result, form: Mapping[str, str]) -> None:
    trade = _trade(conn, result)
    if result.rtn_code not in (ec.RTN_ATM_INFO, ec.RTN_CVS_INFO):
        if trade.status == "started":
            conn.execute(
                update(EcpayTrade)
                .where(EcpayTrade.id == trade.id)
                .values(
                    status="failed",
                    rtn_code=result.rtn_code,
                    rtn_msg=result.rtn_msg[:200],
                    updated_at=utcnow(),
                )
            )
        return
    given = {
        "bank_code": result.bank_code,
        "v_account": result.v_account,
        "payment_no": result.payment_no,
        "expires_at": result.expires_at or trade.expires_at,
    }
    if trade.status != "started":
        before = {k: getattr(trade, k) for k in given}
        if before != given and trade.status == "waiting":
            raise Refused("a replay that differs from the account or code recorded")
        return
    conn.execute(
        update(EcpayTrade)
        .where(EcpayTrade.id == trade.id)
        .values(
            status="waiting",
            trade_no=result.trade_no[:20] or None,
            rtn_code=result.rtn_code,
            rtn_msg=result.rtn_msg[:200],
            updated_at=utcnow(),
            **given,
        )
    )


# ---- payment deadlines ---------------------------------------------------------------------


def deadlines_passed(conn: Connection, now: datetime, limit: int = 500) -> list[str]:
    """Open orders with nothing paid whose latest ECPay account or code (ATM, CVS) has
    expired: the worker cancels them, as it does unpaid bank transfers. Every condition is
    in the query before its limit, so orders no longer open (whose expired accounts stay
    ``waiting``) never crowd out the ones due."""
    latest = (
        select(func.max(EcpayTrade.id))
        .where(EcpayTrade.status == "waiting", EcpayTrade.expires_at.is_not(None))
        .group_by(EcpayTrade.order_id)
    )
    return list(
        conn.execute(
            select(Order.number)
            .join(EcpayTrade, EcpayTrade.order_id == Order.id)
            .where(
                EcpayTrade.id.in_(latest),
                EcpayTrade.expires_at < now,
                Order.status == "open",
                Order.paid_minor == 0,
                Order.fulfillment_status == "unfulfilled",
            )
            .order_by(Order.id)
            .limit(limit)
        ).scalars()
    )


def orders_with_deadline() -> Any:
    """The ids of orders whose deadline is ECPay's (an account or code is waiting): a
    subquery for the worker, which leaves them out of the bank-transfer hours."""
    return select(EcpayTrade.order_id).where(
        EcpayTrade.status == "waiting", EcpayTrade.expires_at.is_not(None)
    )
