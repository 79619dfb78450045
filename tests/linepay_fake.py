"""A local stand-in for LINE Pay Online API v3: a real HTTP server on 127.0.0.1, in a thread.

It checks every call as LINE Pay does (``X-LINE-ChannelId``, ``X-LINE-Authorization-Nonce``,
``X-LINE-Authorization`` = Base64(HMAC-SHA256(secret, secret + path + body-or-query +
nonce)), computed here on its own) and answers as the published API does: ``returnCode``
``0000`` with ``info``, or an error code of LINE Pay's list (1106 header info error, 1150 no
such transaction, 1153 amount differs from the request, 1164/1165 refunds, 1172 an orderId
or transaction already used). ``approve`` and ``cancel`` play the customer on LINE Pay's
page. ``mode = "down"`` answers 503. ``refund_answer`` ``"dropped"`` makes a refund and drops
the connection without answering, ``"lost"`` drops it without making the refund (what a
timeout looks like from our side). Payment Details (``GET /v3/payments?transactionId=``) list
a transaction with its ``refundList`` (amounts negative, as LINE Pay writes them). Every call
is kept in ``received``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HEADER_ERROR = "1106"
NOT_FOUND = "1150"
AMOUNT_DIFFERS = "1153"
NOT_REFUNDABLE = "1155"
NOT_CONFIRMABLE = "1169"
OVER_REFUND = "1164"
ALREADY_REFUNDED = "1165"
DUPLICATE = "1172"


@dataclass
class Call:
    method: str
    path: str
    body: str
    headers: dict[str, str]


@dataclass
class Transaction:
    order_id: str
    amount: Any
    currency: str
    status: str = "requested"  # requested, authorized, confirmed, cancelled
    refunded: Any = 0
    refunds: list[tuple[int, Any]] = field(default_factory=list)  # (refundTransactionId, amount)


@dataclass
class FakeLinePay:
    channel_id: str = "1234567890"
    secret: str = "fake-channel-secret"
    mode: str = "up"  # up, down
    # A confirm answered with this payInfo amount instead of the confirmed one.
    pay_info_amount: Any = None
    refund_answer: str = "answer"  # answer, dropped, lost
    received: list[Call] = field(default_factory=list)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(2026120700000000001))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def calls(self, suffix: str) -> list[Call]:
        return [c for c in self.received if c.path.endswith(suffix)]

    # ---- the customer on LINE Pay's page ----

    def approve(self, tid: str) -> None:
        with self._lock:
            self.transactions[tid].status = "authorized"

    def cancel(self, tid: str) -> None:
        with self._lock:
            self.transactions[tid].status = "cancelled"

    # ---- the server ----

    def start(self) -> FakeLinePay:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET", b"")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self._serve("POST", self.rfile.read(length))

            def _serve(self, method: str, raw: bytes) -> None:
                status, answer = fake.answer(method, self.path, raw, dict(self.headers))
                if status == 0:  # no answer at all: the connection is dropped
                    self.close_connection = True
                    return
                data = json.dumps(answer).encode() if answer is not None else b"down"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _signed(self, method: str, path: str, body: str, headers: dict[str, str]) -> bool:
        got = {k.lower(): v for k, v in headers.items()}
        nonce = got.get("x-line-authorization-nonce", "")
        if got.get("x-line-channelid") != self.channel_id or not nonce:
            return False
        split = urlsplit(path)
        signed = body if method == "POST" else split.query
        message = (self.secret + split.path + signed + nonce).encode()
        expected = base64.b64encode(
            hmac.new(self.secret.encode(), message, hashlib.sha256).digest()
        ).decode()
        return hmac.compare_digest(expected, got.get("x-line-authorization", ""))

    def answer(
        self, method: str, path: str, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any] | None]:
        body = raw.decode()
        with self._lock:
            self.received.append(Call(method, path, body, headers))
            if self.mode == "down":
                return 503, None
            if not self._signed(method, path, body, headers):
                return 200, _error(HEADER_ERROR, "Header information error.")
            parts = urlsplit(path).path.strip("/").split("/")
            data = json.loads(body) if body else {}
            if parts == ["v3", "payments", "request"]:
                return 200, self._request(data)
            if parts[:3] == ["v3", "payments", "requests"] and parts[4:] == ["check"]:
                return 200, self._check(parts[3])
            if len(parts) == 4 and parts[3] == "confirm":
                return 200, self._confirm(parts[2], data)
            if len(parts) == 4 and parts[3] == "refund":
                if self.refund_answer == "lost":
                    return 0, None
                answer = self._refund(parts[2], data)
                return (0 if self.refund_answer == "dropped" else 200), answer
            if parts == ["v3", "payments"] and method == "GET":
                return 200, self._details(parse_qs(urlsplit(path).query))
            return 404, _error("2101", "Parameter error.")

    def _request(self, data: dict[str, Any]) -> dict[str, Any]:
        packages = data.get("packages") or []
        if sum(p["amount"] for p in packages) != data["amount"]:
            return _error("2101", "Parameter error.")
        for p in packages:
            if sum(x["quantity"] * x["price"] for x in p["products"]) != p["amount"]:
                return _error("2101", "Parameter error.")
        if any(t.order_id == data["orderId"] for t in self.transactions.values()):
            return _error(DUPLICATE, "Existing same orderId.")
        tid = str(next(self._ids))
        self.transactions[tid] = Transaction(data["orderId"], data["amount"], data["currency"])
        token = f"{tid}-token"
        return _ok(
            {
                "paymentUrl": {
                    "web": f"{self.url}/web/payment/wait?transactionReserveId={token}",
                    "app": f"line://pay/payment/{token}",
                },
                "transactionId": int(tid),
                "paymentAccessToken": "187568751124",
            }
        )

    def _check(self, tid: str) -> dict[str, Any]:
        t = self.transactions.get(tid)
        if t is None:
            return _error(NOT_FOUND, "Transaction record not found.")
        code = {
            "requested": "0000",
            "authorized": "0110",
            "cancelled": "0121",
            "confirmed": "0123",
        }[t.status]
        return {"returnCode": code, "returnMessage": "OK"}

    def _confirm(self, tid: str, data: dict[str, Any]) -> dict[str, Any]:
        t = self.transactions.get(tid)
        if t is None:
            return _error(NOT_FOUND, "Transaction record not found.")
        if t.status == "confirmed":
            return _error(DUPLICATE, "Existing same orderId.")
        if t.status != "authorized":
            return _error(NOT_CONFIRMABLE, "Payment not approved.")
        if data.get("amount") != t.amount or data.get("currency") != t.currency:
            return _error(AMOUNT_DIFFERS, "The amount differs from the request.")
        t.status = "confirmed"
        paid = t.amount if self.pay_info_amount is None else self.pay_info_amount
        return _ok(
            {
                "orderId": t.order_id,
                "transactionId": int(tid),
                "payInfo": [{"method": "BALANCE", "amount": paid}],
            }
        )

    def _refund(self, tid: str, data: dict[str, Any]) -> dict[str, Any]:
        t = self.transactions.get(tid)
        if t is None:
            return _error(NOT_FOUND, "Transaction record not found.")
        if t.status != "confirmed":
            return _error(NOT_REFUNDABLE, "Not a refundable transaction.")
        if t.refunded >= t.amount:
            return _error(ALREADY_REFUNDED, "Already refunded.")
        amount = data.get("refundAmount", t.amount - t.refunded)
        if amount > t.amount - t.refunded:
            return _error(OVER_REFUND, "Refund amount exceeds the limit.")
        t.refunded += amount
        refund_id = int(next(self._ids))
        t.refunds.append((refund_id, amount))
        return _ok(
            {"refundTransactionId": refund_id, "refundTransactionDate": "2026-12-07T10:00:00Z"}
        )

    def _details(self, query: dict[str, list[str]]) -> dict[str, Any]:
        tid = (query.get("transactionId") or [""])[0]
        t = self.transactions.get(tid)
        if t is None:
            return _error(NOT_FOUND, "Transaction record not found.")
        refunds = [
            {
                "refundTransactionId": rid,
                "transactionType": "PARTIAL_REFUND",
                "refundAmount": -amount,
                "refundTransactionDate": "2026-12-07T10:00:00Z",
            }
            for rid, amount in t.refunds
        ]
        item = {
            "transactionId": int(tid),
            "transactionType": "PAYMENT",
            "orderId": t.order_id,
            "currency": t.currency,
            "payInfo": [{"method": "BALANCE", "amount": t.amount}],
            "refundList": refunds,
        }
        return _ok([item])


def _ok(info: Any) -> dict[str, Any]:
    return {"returnCode": "0000", "returnMessage": "Success.", "info": info}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"returnCode": code, "returnMessage": message}
