"""Talking to an e-invoice centre over HTTP, with every exchange kept (``einvoice_exchanges``).

``post`` records the request (the exact bytes) before it goes out, in its own short
transaction, sends it with httpx under a timeout, and records the answer in another; the
caller says what the answer meant (``finish``). Neither write is part of a transaction that
may run twice, so a request is recorded once and never lost with a rollback. Call this from
the worker after the invoice's own transaction has committed, never from inside one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, insert, select, update

from dingdan.db.einvoice_exchange_tables import EinvoiceExchange
from dingdan.db.engine import Database
from dingdan.db.types import utcnow
from dingdan.services.invoicing.shapes import ExchangeView
from dingdan.services.shared.common import iso

log = logging.getLogger("dingdan.einvoice")

# Answers worth another try later: the centre is overloaded, rate limiting (ECPay answers
# 403 when called too fast), or down.
RETRY_STATUSES = frozenset({403, 408, 425, 429})
MAX_TEXT = 200_000


@dataclass(frozen=True)
class Sent:
    """One request and what came back: ``status`` and ``body`` when the centre answered,
    ``error`` when it did not (refused connection, timeout, broken transfer)."""

    exchange_id: int
    status: int | None
    body: bytes | None
    error: str | None

    @property
    def transient(self) -> bool:
        """No answer, or an HTTP answer that says: not now."""
        if self.status is None:
            return True
        return self.status >= 500 or self.status in RETRY_STATUSES


def _text(body: bytes | None) -> str | None:
    if body is None:
        return None
    return body.decode("utf-8", errors="replace")[:MAX_TEXT]


class Exchanges:
    """The log of one centre's exchanges in one database."""

    def __init__(self, db: Database, centre: str) -> None:
        self.db = db
        self.centre = centre

    def _intent(self, operation: str, number: str, url: str, body: bytes) -> int:
        values = {
            "centre": self.centre,
            "operation": operation,
            "document_number": number[:40],
            "url": url[:500],
            "request_body": _text(body) or "",
            "outcome": "pending",
            "at": utcnow(),
        }
        return int(
            self.db.write(
                lambda conn: conn.execute(
                    insert(EinvoiceExchange).values(**values).returning(EinvoiceExchange.id)
                ).scalar_one()
            )
        )

    def post(
        self,
        operation: str,
        number: str,
        url: str,
        body: bytes,
        headers: dict[str, str],
        timeout: float,
    ) -> Sent:
        exchange_id = self._intent(operation, number, url, body)
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                response = client.post(url, content=body, headers=headers)
            return Sent(exchange_id, response.status_code, response.content, None)
        except httpx.TimeoutException as exc:
            return Sent(
                exchange_id, None, None, f"timed out after {timeout:g} s ({type(exc).__name__})"
            )
        except httpx.HTTPError as exc:
            return Sent(exchange_id, None, None, f"{type(exc).__name__}: {exc}"[:1000])

    def finish(
        self,
        sent: Sent,
        outcome: str,
        *,
        answer: Any = None,
        code: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record the answer of ``sent`` and what it meant: ok, refused or retry."""
        problem = error or sent.error
        values = {
            "outcome": outcome,
            "http_status": sent.status,
            "response_body": _text(sent.body),
            "answer": None
            if answer is None
            else json.dumps(answer, ensure_ascii=False, default=str)[:MAX_TEXT],
            "code": None if code is None else str(code)[:40],
            "error": str(problem)[:1000] if problem else None,
            "answered_at": utcnow(),
        }
        self.db.write(
            lambda conn: conn.execute(
                update(EinvoiceExchange)
                .where(EinvoiceExchange.id == sent.exchange_id)
                .values(**values)
            )
        )
        if outcome != "ok":
            log.info(
                "e-invoice centre %s, exchange %s: %s (%s)",
                self.centre,
                sent.exchange_id,
                outcome,
                values["error"] or values["code"],
            )

    def last_ok(self, operation: str, number: str) -> Any:
        """The opened answer of the latest ``ok`` exchange of this operation and document
        (None when there is none)."""

        def work(conn: Connection) -> Any:
            return conn.execute(
                select(EinvoiceExchange.answer)
                .where(
                    EinvoiceExchange.centre == self.centre,
                    EinvoiceExchange.operation == operation,
                    EinvoiceExchange.document_number == number[:40],
                    EinvoiceExchange.outcome == "ok",
                )
                .order_by(EinvoiceExchange.id.desc())
                .limit(1)
            ).first()

        row = self.db.read(work)
        if row is None:
            return None
        return json.loads(row.answer) if row.answer else {}


def exchanges_of(db: Database, number: str) -> list[ExchangeView]:
    """Every exchange about one document, oldest first (for the invoice's page)."""

    def work(conn: Connection) -> list[Any]:
        return list(
            conn.execute(
                select(EinvoiceExchange)
                .where(EinvoiceExchange.document_number == number[:40])
                .order_by(EinvoiceExchange.id)
            ).all()
        )

    return [
        {
            "id": str(x.id),
            "centre": x.centre,
            "operation": x.operation,
            "document_number": x.document_number,
            "url": x.url,
            "outcome": x.outcome,
            "http_status": x.http_status,
            "code": x.code,
            "error": x.error,
            "request_body": x.request_body,
            "response_body": x.response_body,
            "answer": x.answer,
            "at": iso(x.at),
            "answered_at": iso(x.answered_at),
        }
        for x in db.read(work)
    ]
