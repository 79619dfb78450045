"""LINE Pay over HTTP: the seller's channel, every exchange kept, and the payment provider.

- Settings: the channel id and secret and the API's address, stored in ``settings`` under
  ``linepay`` (the environment's ``DINGDAN_LINEPAY_*`` give the defaults). The secret is read
  in one place, ``channel_secret``.
- ``call``: one signed call, written to ``linepay_exchanges`` before it goes out and
  completed with the answer, each in its own short transaction; never call it with one
  open.
- ``LinePayProvider`` (code ``linepay``), the provider the payment intents ask
  (``intents.ask``): an intent's ``reference`` is LINE Pay's transaction id. ``authorize``
  asks LINE Pay for the transaction's status and confirms it once the customer approved it
  (so the worker, finding a pending intent of a customer who approved and never came back,
  completes it; one still waiting stays pending); ``refund`` refunds through LINE Pay, once
  per idempotency key.

The provider is called without a database (``intents.ask``); it uses the database the LINE
Pay pages bound (``bind``), else the one the settings name (``dingdan serve``, ``dingdan
worker``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.config import get_settings
from dingdan.db.engine import Database
from dingdan.db.linepay_tables import LinePayExchange
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.payments import linepay as lp
from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.money import exponent
from dingdan.domain.shared.text import check_clean
from dingdan.services.payments.providers import PROVIDERS, ProviderResult
from dingdan.services.shared.common import Actor, audit

log = logging.getLogger("dingdan.payments.linepay")

KEY = "linepay"
# The start of a confirm's message when LINE Pay's answer names another amount.
AMOUNT_MISMATCH = "amount_mismatch"
MAX_TEXT = 200_000


class LinePayEnv(BaseSettings):
    """Defaults from the environment: ``DINGDAN_LINEPAY_CHANNEL_ID``, ``..._CHANNEL_SECRET``,
    ``..._API_BASE`` (the sandbox unless set), ``..._TIMEOUT`` (seconds)."""

    model_config = SettingsConfigDict(
        env_prefix="DINGDAN_LINEPAY_", env_file=".env", extra="ignore"
    )

    channel_id: str = ""
    channel_secret: SecretStr = SecretStr("")
    api_base: str = lp.SANDBOX_API
    timeout: float = 20.0


@dataclass(frozen=True)
class Channel:
    channel_id: str
    api_base: str
    timeout: float

    @property
    def configured(self) -> bool:
        return bool(self.channel_id)


def _stored(conn: Connection) -> dict[str, Any]:
    value = conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar()
    return value if isinstance(value, dict) else {}


def channel(conn: Connection) -> Channel:
    stored, env = _stored(conn), LinePayEnv()
    return Channel(
        channel_id=str(stored.get("channel_id") or env.channel_id),
        api_base=str(stored.get("api_base") or env.api_base).rstrip("/"),
        timeout=env.timeout,
    )


def channel_secret(conn: Connection) -> str:
    """The channel secret: the only reader of it (the stored one, else the environment's)."""
    stored = _stored(conn).get("channel_secret")
    return str(stored) if stored else LinePayEnv().channel_secret.get_secret_value()


def settings_view(conn: Connection) -> dict[str, Any]:
    ch = channel(conn)
    return {
        "channel_id": ch.channel_id,
        "channel_secret": "••••" if channel_secret(conn) else "",
        "api_base": ch.api_base,
        "configured": ch.configured and bool(channel_secret(conn)),
    }


def get_settings_view(db: Database) -> dict[str, Any]:
    return db.read(settings_view)


def put_settings(db: Database, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """Set the channel; a secret left out or sent as "••••" is kept."""
    errors = FieldErrors()
    for field in ("channel_id", "channel_secret", "api_base"):
        v = body.get(field)
        if v is not None and (not isinstance(v, str) or len(v) > 500):
            errors.add(field, "too_long", max=500)
        elif v is not None:
            check_clean(v, field, errors)
    base = body.get("api_base")
    if isinstance(base, str) and base and not base.startswith(("https://", "http://")):
        errors.add("api_base", "invalid", reason="an http(s) address")
    errors.raise_if_any()

    def work(conn: Connection) -> dict[str, Any]:
        before = _stored(conn)
        secret = body.get("channel_secret")
        value = {
            "channel_id": str(body.get("channel_id") or "").strip(),
            "channel_secret": before.get("channel_secret", "")
            if secret in (None, "••••")
            else str(secret).strip(),
            "api_base": str(body.get("api_base") or "").strip(),
        }
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Setting).values(key=KEY, value=value, updated_at=utcnow())
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": value, "updated_at": utcnow()}
            )
        )
        audit(conn, actor, "update", "setting", KEY)
        return settings_view(conn)

    return db.write(work)


# ---- the database the provider uses --------------------------------------------------------

_bound: list[Database] = []


def bind(db: Database) -> None:
    """The database LINE Pay's exchanges and settings are in, for calls made through the
    payment intents (which carry none)."""
    if not _bound or _bound[0] is not db:
        _bound[:] = [db]


def _database() -> Database:
    if not _bound:
        s = get_settings()
        _bound.append(
            Database(
                s.database_url,
                pool_size=s.db_pool_size,
                sqlite_synchronous=s.sqlite_synchronous,
                sqlite_busy_timeout=s.sqlite_busy_timeout,
            )
        )
    return _bound[0]


# ---- one call, kept ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    exchange_id: int
    status: int | None
    answer: lp.Answer | None
    error: str | None

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
    status, raw, error = None, None, None
    try:
        with httpx.Client(timeout=ch.timeout, follow_redirects=False) as client:
            if method == "GET":
                response = client.get(url, headers=headers)
            else:
                response = client.post(url, content=body.encode(), headers=headers)
        status, raw = response.status_code, response.content
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    answer = lp.parse(raw) if status is not None and status < 500 else None
    if answer is None and error is None:
        error = f"HTTP {status}: not a LINE Pay answer"
    reply = Reply(exchange_id, status, answer, error)
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
        return "retry"
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


def exchanges_of(db: Database, intent_id: int) -> list[dict[str, Any]]:
    def work(conn: Connection) -> list[dict[str, Any]]:
        rows = conn.execute(
            select(LinePayExchange)
            .where(LinePayExchange.intent_id == intent_id)
            .order_by(LinePayExchange.id)
        ).all()
        return [
            {"operation": r.operation, "outcome": r.outcome, "code": r.return_code} for r in rows
        ]

    return db.read(work)


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
    ) -> ProviderResult:
        """Confirm the transaction ``reference`` once its customer approved it."""
        if not reference:
            return ProviderResult(False, "", "The payment never reached LINE Pay.")
        db = _database()
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
        self, authorization: str, amount_minor: int, currency: str, *, idempotency_key: str
    ) -> ProviderResult:
        return ProviderResult(True, authorization)  # confirm captures at once

    def void(self, authorization: str, *, idempotency_key: str) -> ProviderResult:
        return ProviderResult(False, authorization, "LINE Pay payments are captured at once.")

    def refund(
        self, payment: str | None, amount_minor: int, currency: str, *, idempotency_key: str
    ) -> ProviderResult:
        if not payment:
            return ProviderResult(False, "", "No LINE Pay transaction to refund.")
        db = _database()
        done = _refunded(db, idempotency_key)
        if done is not None:
            return ProviderResult(True, done)
        units = lp.to_units(amount_minor, currency, exponent(currency))
        body = lp.dumps({"refundAmount": units})
        about = For(_intent_id(db, idempotency_key), idempotency_key, None, payment)
        reply = call(db, "refund", "POST", lp.refund_path(payment), body, about)
        if reply.transient:
            raise LinePayUnavailable(reply.error or f"LINE Pay answered {reply.code}")
        assert reply.answer is not None
        if not reply.answer.ok:
            return ProviderResult(False, payment, said(reply))
        refund_id = lp.transaction_id(reply.answer.info.get("refundTransactionId"))
        return ProviderResult(True, refund_id or payment)


def said(reply: Reply) -> str:
    answer = reply.answer
    return f"LINE Pay {answer.code}: {answer.message}" if answer else (reply.error or "")


def _intent_id(db: Database, key: str) -> int | None:
    return db.read(
        lambda conn: conn.execute(
            select(PaymentAttempt.id).where(PaymentAttempt.idempotency_key == key)
        ).scalar()
    )


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
