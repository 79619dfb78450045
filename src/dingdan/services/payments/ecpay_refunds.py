"""ECPay behind the payment interface: card refunds through CreditDetail/DoAction (Action
``R``), asked by the refund intents of ``services/payments/intents.py`` with no transaction
open, each request and answer kept, once per idempotency key."""

from __future__ import annotations

import hashlib
import urllib.parse

import httpx
from sqlalchemy import Connection, select

from dingdan.db.ecpay_tables import EcpayTrade, PaymentExchange
from dingdan.db.engine import Database
from dingdan.domain.payments import ecpay as ec
from dingdan.services.payments.ecpay_log import CODE, KEYS, configured, exchange, finish, hash_keys
from dingdan.services.payments.providers import CapturedAtOnce, ProviderResult
from dingdan.services.shared import provider_keys


def form_of(body: bytes) -> dict[str, str]:
    """A posted ``application/x-www-form-urlencoded`` body (UTF-8), the last value of a name."""
    text = body.decode("utf-8", errors="replace")
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


class EcpayProvider(CapturedAtOnce):
    """ECPay behind the payment interface. Payments come from the customer's checkout and
    its callbacks, never from a call of ours: ``authorize`` declines, and ECPay captures card
    payments itself (``capture`` answers what ``authorize`` did). ``refund`` of a card
    payment asks CreditDetail/DoAction (Action R); ATM and CVS payments cannot be given back
    through ECPay, so their refunds are recorded as staff make them (a bank transfer), as
    the manual provider does."""

    code = CODE

    def authorize(
        self,
        order: str,
        amount_minor: int,
        currency: str,
        reference: str | None,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult:
        """ECPay's payments come from the customer's checkout, never from a call of ours. One
        ECPay reported taken (a signed ReturnURL result, RtnCode 1) that could not be recorded
        is kept for staff as an intent whose reference is our MerchantTradeNo: asked again
        (staff record it once the order is put right), that kept result answers."""
        taken = paid_result(db, reference, amount_minor) if reference else None
        if taken is not None:
            return ProviderResult(True, taken)
        return ProviderResult(False, "", "ECPay payments are taken on the customer's pay page")

    def void(
        self,
        authorization: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult:
        return ProviderResult(False, authorization, "ECPay payments are refunded, not voided")

    def refund(
        self,
        payment: str | None,
        amount_minor: int,
        currency: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult:
        return refund(db, payment, amount_minor, currency, idempotency_key)


PROVIDER = EcpayProvider()


def paid_result(db: Database, merchant_trade_no: str, amount_minor: int) -> str | None:
    """ECPay's TradeNo of a kept ReturnURL result for ``merchant_trade_no`` that says it took
    ``amount_minor`` (signed with our keys, RtnCode 1), else None."""
    form = db.read(lambda conn: paid_form(conn, merchant_trade_no, amount_minor))
    return form["TradeNo"][:20] if form is not None else None


def paid_form(conn: Connection, merchant_trade_no: str, amount_minor: int) -> dict[str, str] | None:
    """The first kept ReturnURL result for ``merchant_trade_no`` that says ECPay took
    ``amount_minor`` (signed with our keys, RtnCode 1, a TradeNo), else None."""
    bodies = (
        conn.execute(
            select(PaymentExchange.request_body)
            .where(
                PaymentExchange.provider == CODE,
                PaymentExchange.operation == "result",
                PaymentExchange.direction == "in",
                PaymentExchange.reference == merchant_trade_no[:40],
            )
            .order_by(PaymentExchange.id)
        )
        .scalars()
        .all()
    )
    keys = provider_keys.keys(conn, KEYS)
    for body in bodies:
        form = form_of(body.encode())
        amount = form.get("TradeAmt") or ""
        if (
            ec.is_signed(form, keys["hash_key"], keys["hash_iv"])
            and form.get("RtnCode") == ec.RTN_PAID
            and amount.isascii()
            and amount.isdigit()
            and int(amount) * 100 == amount_minor
            and form.get("TradeNo")
        ):
            return form
    return None


def _manual_reference(key: str) -> str:
    return f"manual-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def refund(
    db: Database, trade_no: str | None, amount_minor: int, currency: str, key: str
) -> ProviderResult:
    """A refund of the ECPay payment ``trade_no`` (ECPay's TradeNo), once per ``key``."""
    trade = db.read(
        lambda conn: conn.execute(
            select(EcpayTrade).where(EcpayTrade.trade_no == trade_no, EcpayTrade.status == "paid")
        ).first()
    )
    if trade is None or trade.choice != "card":
        return ProviderResult(True, _manual_reference(key), "refund by bank transfer")
    earlier = db.read(
        lambda conn: conn.execute(
            select(PaymentExchange)
            .where(PaymentExchange.operation == "refund", PaymentExchange.reference == key[:40])
            .order_by(PaymentExchange.id.desc())
        ).first()
    )
    if earlier is not None and earlier.outcome == "ok":
        return ProviderResult(True, str(trade.trade_no))
    if earlier is not None and earlier.outcome == "pending":
        # Sent once with no answer recorded: asking again might refund twice.
        return ProviderResult(
            False, "", "an earlier refund request got no answer: check ECPay's back office"
        )
    cfg = configured(db)
    hk, iv = hash_keys(db)
    try:
        dollars = ec.whole_dollars(amount_minor, currency)
    except ValueError:
        return ProviderResult(False, "", "ECPay refunds whole New Taiwan dollars")
    fields = ec.signed(
        ec.refund_params(cfg.merchant_id, trade.merchant_trade_no, trade.trade_no, dollars), hk, iv
    )
    url = cfg.url + ec.DO_ACTION_PATH
    body = urllib.parse.urlencode(fields)
    xid = db.write(lambda conn: exchange(conn, "refund", "out", key, url, body))
    try:
        with httpx.Client(timeout=cfg.timeout, follow_redirects=False) as client:
            answer = client.post(
                url,
                content=body.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
    except httpx.TimeoutException:
        raise  # ECPay may have refunded: the exchange stays pending, for staff to check
    except httpx.HTTPError as exc:
        finish(db, xid, "retry", error=f"{type(exc).__name__}: {exc}")
        raise
    got = form_of(answer.content)
    code = got.get("RtnCode")
    ok = answer.status_code == 200 and code == "1"
    finish(
        db,
        xid,
        "ok" if ok else "refused",
        http_status=answer.status_code,
        response_body=answer.content,
        code=code,
        error=None if ok else (got.get("RtnMsg") or f"HTTP {answer.status_code}"),
    )
    if ok:
        return ProviderResult(True, str(trade.trade_no))
    return ProviderResult(
        False, str(trade.trade_no), got.get("RtnMsg") or f"HTTP {answer.status_code}"
    )
