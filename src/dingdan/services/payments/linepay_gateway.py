"""LINE Pay over HTTP: the seller's channel, every exchange kept, and the payment provider.

- The channel (id, secret, address): ``linepay_settings``.
- ``call``: one signed call, written to ``linepay_exchanges`` before it goes out and
  completed with the answer, each in its own short transaction; never call it with one
  open.
- ``LinePayProvider`` (code ``linepay``), the provider the payment intents ask
  (``intents.ask``): an intent's ``reference`` is LINE Pay's transaction id. ``authorize``
  asks LINE Pay for the transaction's status and confirms it once the customer approved it
  (so the worker, finding a pending intent of a customer who approved and never came back,
  completes it; one still waiting stays pending); ``refund`` refunds through LINE Pay, once
  per idempotency key. LINE Pay takes no idempotency key for refunds: a refund sent without
  an answer that says what happened (a timeout, a dropped connection, a 5xx) is never sent
  again blindly; its exchange stays ``pending`` and, asked again, LINE Pay's Payment Details
  say whether it was made (then it is answered from there) or not (then it is sent again).

The provider is given the database of the intent it is asked about (``intents.ask``), and
keeps its exchanges and reads the channel there.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Connection, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.linepay_tables import LinePayExchange
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.db.types import utcnow
from dingdan.domain.payments import linepay as lp
from dingdan.domain.shared.money import exponent
from dingdan.services.payments.linepay_settings import channel, channel_secret
from dingdan.services.payments.providers import PROVIDERS, ProviderResult

log = logging.getLogger("dingdan.payments.linepay")

# The start of a confirm's message when LINE Pay's answer names another amount.
AMOUNT_MISMATCH = "amount_mismatch"
MAX_TEXT = 200_000
# A refund sent this long ago without an answer is looked for in LINE Pay's Payment Details
# (its call times out well before; until then it may still be under way).
UNANSWERED_AFTER = timedelta(minutes=1)


# ---- one call, kept ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    exchange_id: int
    status: int | None
    answer: lp.Answer | None
    error: str | None
    sent: bool = True  # False: the call never reached LINE Pay (no connection)

    @property
    def transient(self) -> bool:
        """No answer, an HTTP error, an answer that is not LINE Pay's, or a code that says
        "later": the same call may be made again."""
        if self.answer is None:
            return True
        return self.answer.code in lp.TRANSIENT_CODES

    @property
    def code(self) -> str | None:
        return self.answer.code if self.answer else None


@dataclass(frozen=True)
class For:
    """What a call is for, kept beside it."""

    intent_id: int | None = None
    key: str | None = None
    order_id: int | None = None
    transaction_id: str | None = None


def _text(body: bytes | None) -> str | None:
    return None if body is None else body.decode("utf-8", errors="replace")[:MAX_TEXT]


def call(db: Database, operation: str, method: str, path: str, body: str, about: For) -> Reply:
    """One signed call to LINE Pay (``body``: the JSON text of a POST, the query of a GET),
    kept in ``linepay_exchanges``. Call with no transaction open."""
    ch, secret = db.read(lambda conn: (channel(conn), channel_secret(conn)))
    url = ch.api_base + path + (f"?{body}" if method == "GET" and body else "")
    exchange_id = _write_intent(db, operation, method, url, body, about)
    nonce = str(uuid.uuid4())
    headers = lp.headers(ch.channel_id, secret, path, body, nonce)
    status, raw, error, sent = None, None, None, True
    try:
        with httpx.Client(timeout=ch.timeout, follow_redirects=False) as client:
            if method == "GET":
                response = client.get(url, headers=headers)
            else:
                response = client.post(url, content=body.encode(), headers=headers)
        status, raw = response.status_code, response.content
    except httpx.HTTPError as exc:
        # Only a connection never made is sure not to have reached LINE Pay; a timeout or a
        # dropped answer may come after LINE Pay acted.
        sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        error = f"{type(exc).__name__}: {exc}"[:1000]
    answer = lp.parse(raw) if status is not None and status < 500 else None
    if answer is None and error is None:
        error = f"HTTP {status}: not a LINE Pay answer"
    reply = Reply(exchange_id, status, answer, error, sent)
    _write_answer(db, operation, reply, raw)
    return reply


def _write_intent(
    db: Database, operation: str, method: str, url: str, body: str, about: For
) -> int:
    values = {
        "operation": operation,
        "intent_id": about.intent_id,
        "idempotency_key": about.key,
        "order_id": about.order_id,
        "transaction_id": about.transaction_id,
        "method": method,
        "url": url[:1000],
        "request_body": body[:MAX_TEXT],
        "outcome": "pending",
        "at": utcnow(),
    }
    return int(
        db.write(
            lambda conn: conn.execute(
                insert(LinePayExchange).values(**values).returning(LinePayExchange.id)
            ).scalar_one()
        )
    )


def _outcome(operation: str, reply: Reply) -> str:
    if reply.transient:
        # A refund that may have been made stays pending: sending it again could refund twice.
        return "pending" if operation == "refund" and reply.sent else "retry"
    code = reply.code or ""
    if code == lp.OK or (operation == "check" and code.startswith("01")):
        return "ok"
    return "refused"


def _write_answer(db: Database, operation: str, reply: Reply, raw: bytes | None) -> None:
    outcome = _outcome(operation, reply)
    message = reply.error or (
        None if outcome == "ok" or reply.answer is None else reply.answer.message
    )
    values = {
        "outcome": outcome,
        "http_status": reply.status,
        "response_body": _text(raw),
        "return_code": (reply.code or None) and str(reply.code)[:10],
        "error": message[:1000] if message else None,
        "answered_at": utcnow(),
    }
    db.write(
        lambda conn: conn.execute(
            update(LinePayExchange).where(LinePayExchange.id == reply.exchange_id).values(**values)
        )
    )
    if outcome != "ok":
        log.warning(
            "LINE Pay %s, exchange %s: %s (%s)", operation, reply.exchange_id, outcome, message
        )


def record_refusal(db: Database, about: For, query: str, why: str) -> None:
    """A customer's return refused before any call (unknown or tampered transaction, an
    amount that no longer fits): kept as a ``return`` exchange and logged."""
    values = {
        "operation": "return",
        "intent_id": about.intent_id,
        "idempotency_key": about.key,
        "order_id": about.order_id,
        "transaction_id": (about.transaction_id or "")[:40] or None,
        "method": "GET",
        "url": "",
        "request_body": query[:MAX_TEXT],
        "outcome": "refused",
        "error": why[:1000],
        "at": utcnow(),
        "answered_at": utcnow(),
    }
    db.write(lambda conn: conn.execute(insert(LinePayExchange).values(**values)))
    log.warning("LINE Pay return refused (transaction %s): %s", about.transaction_id, why)


# ---- the provider --------------------------------------------------------------------------


class LinePayUnavailable(Exception):
    """LINE Pay did not answer, or the customer has not approved yet: ask again later."""


class LinePayProvider:
    code = "linepay"

    def status(self, db: Database, transaction_id: str, about: For) -> Reply:
        return call(db, "check", "GET", lp.check_path(transaction_id), "", about)

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
        """Confirm the transaction ``reference`` once its customer approved it."""
        if not reference:
            return ProviderResult(False, "", "The payment never reached LINE Pay.")
        about = For(_intent_id(db, idempotency_key), idempotency_key, None, reference)
        checked = self.status(db, reference, about)
        if checked.transient:
            raise LinePayUnavailable(checked.error or f"LINE Pay answered {checked.code}")
        code = checked.code
        if code == lp.STATUS_COMPLETED:
            return ProviderResult(True, reference)
        if code == lp.STATUS_WAITING:
            raise LinePayUnavailable("the customer has not approved the payment yet")
        if code != lp.STATUS_AUTHORIZED:
            return ProviderResult(False, reference, said(checked))
        return self._confirm(db, reference, amount_minor, currency, about)

    def _confirm(
        self, db: Database, tid: str, amount_minor: int, currency: str, about: For
    ) -> ProviderResult:
        digits = exponent(currency)
        units = lp.to_units(amount_minor, currency, digits)
        body = lp.dumps({"amount": units, "currency": currency})
        reply = call(db, "confirm", "POST", lp.confirm_path(tid), body, about)
        if reply.transient:
            raise LinePayUnavailable(reply.error or f"LINE Pay answered {reply.code}")
        assert reply.answer is not None
        if not reply.answer.ok:
            # Confirmed meanwhile by another call for the same transaction (the customer's
            # second return, the worker): LINE Pay says so, and the payment is ours once.
            again = self.status(db, tid, about)
            if again.code == lp.STATUS_COMPLETED:
                return ProviderResult(True, tid)
            return ProviderResult(False, tid, said(reply))
        paid = lp.paid_minor(reply.answer.info, digits)
        if paid is not None and paid != amount_minor:
            log.error(
                "LINE Pay confirmed %s of %s for transaction %s, not %s: refused",
                paid,
                currency,
                tid,
                amount_minor,
            )
            return ProviderResult(
                False, tid, f"{AMOUNT_MISMATCH}: LINE Pay confirmed {paid}, not {amount_minor}"
            )
        return ProviderResult(True, tid)

    def capture(
        self,
        authorization: str,
        amount_minor: int,
        currency: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult:
        return ProviderResult(True, authorization)  # confirm captures at once

    def void(
        self,
        authorization: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult:
        return ProviderResult(False, authorization, "LINE Pay payments are captured at once.")

    def refund(
        self,
        payment: str | None,
        amount_minor: int,
        currency: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult:
        if not payment:
            return ProviderResult(False, "", "No LINE Pay transaction to refund.")
        done = _refunded(db, idempotency_key)
        if done is not None:
            return ProviderResult(True, done)
        about = For(_intent_id(db, idempotency_key), idempotency_key, None, payment)
        unanswered = _unanswered(db, idempotency_key)
        if unanswered:
            made = _made_meanwhile(db, payment, amount_minor, currency, unanswered, about)
            if made is not None:
                return ProviderResult(True, made)
        units = lp.to_units(amount_minor, currency, exponent(currency))
        body = lp.dumps({"refundAmount": units})
        reply = call(db, "refund", "POST", lp.refund_path(payment), body, about)
        if reply.transient:
            raise LinePayUnavailable(reply.error or f"LINE Pay answered {reply.code}")
        assert reply.answer is not None
        if not reply.answer.ok:
            return ProviderResult(False, payment, said(reply))
        refund_id = lp.transaction_id(reply.answer.info.get("refundTransactionId"))
        return ProviderResult(True, refund_id or payment)


def _made_meanwhile(
    db: Database,
    payment: str,
    amount_minor: int,
    currency: str,
    unanswered: dict[int, datetime],
    about: For,
) -> str | None:
    """Whether the refund sent without an answer was made: LINE Pay's Payment Details list
    a refund of this amount that no other refund of ours accounts for (its id), or none was
    made (None: its exchanges become ``retry`` and it may be sent again). Anything less
    certain leaves the intent pending (asked again in a minute)."""
    if max(unanswered.values()) > utcnow() - UNANSWERED_AFTER:
        raise LinePayUnavailable("a refund was sent moments ago without an answer")
    query = lp.details_query(payment)
    reply = call(db, "details", "GET", lp.DETAILS_PATH, query, about)
    listed = None
    if reply.answer is not None and reply.answer.ok:
        listed = lp.refunds_listed(reply.answer, payment, exponent(currency))
    if listed is None:
        raise LinePayUnavailable(f"LINE Pay's payment details do not say: {said(reply)}")
    known = _known_refunds(db, payment)
    for refund_id, amount in listed:
        if amount == amount_minor and refund_id not in known:
            return refund_id
    db.write(
        lambda conn: conn.execute(
            update(LinePayExchange)
            .where(LinePayExchange.id.in_(list(unanswered)), LinePayExchange.outcome == "pending")
            .values(outcome="retry", error="not in LINE Pay's payment details: not made")
        )
    )
    return None


def said(reply: Reply) -> str:
    answer = reply.answer
    return f"LINE Pay {answer.code}: {answer.message}" if answer else (reply.error or "")


def _intent_id(db: Database, key: str) -> int | None:
    return db.read(
        lambda conn: conn.execute(
            select(PaymentAttempt.id).where(PaymentAttempt.idempotency_key == key)
        ).scalar()
    )


def _unanswered(db: Database, key: str) -> dict[int, datetime]:
    """The refunds sent with this key whose answer never said what happened, and when."""
    rows = db.read(
        lambda conn: conn.execute(
            select(LinePayExchange.id, LinePayExchange.at).where(
                LinePayExchange.idempotency_key == key,
                LinePayExchange.operation == "refund",
                LinePayExchange.outcome == "pending",
            )
        ).all()
    )
    return {r.id: r.at for r in rows}


def _known_refunds(db: Database, payment: str) -> set[str]:
    """The refunds of the transaction ``payment`` that ours account for: answered, or
    recorded on a refund intent."""

    def work(conn: Connection) -> set[str]:
        bodies = conn.execute(
            select(LinePayExchange.response_body).where(
                LinePayExchange.transaction_id == payment,
                LinePayExchange.operation == "refund",
                LinePayExchange.outcome == "ok",
            )
        ).scalars()
        known = {
            lp.transaction_id(answer.info.get("refundTransactionId"))
            for answer in map(lp.parse, bodies)
            if answer is not None
        }
        recorded = conn.execute(
            select(PaymentAttempt.provider_reference).where(
                PaymentAttempt.provider == LinePayProvider.code,
                PaymentAttempt.kind == "refund",
                PaymentAttempt.original_reference == payment,
                PaymentAttempt.status == "succeeded",
            )
        ).scalars()
        return {k for k in known | set(recorded) if k}

    return db.read(work)


def _refunded(db: Database, key: str) -> str | None:
    """The refund LINE Pay already made for this key (asked again after a crash)."""

    def work(conn: Connection) -> str | None:
        body = conn.execute(
            select(LinePayExchange.response_body)
            .where(
                LinePayExchange.idempotency_key == key,
                LinePayExchange.operation == "refund",
                LinePayExchange.outcome == "ok",
            )
            .limit(1)
        ).scalar()
        answer = lp.parse(body)
        return lp.transaction_id(answer.info.get("refundTransactionId")) if answer else None

    return db.read(work)


PROVIDER_LINEPAY = LinePayProvider()
PROVIDERS[LinePayProvider.code] = PROVIDER_LINEPAY
