"""LINE Pay Online API v3, the pure part: the request signature, amounts, the bodies sent and
what the answers mean.

Every call carries ``X-LINE-ChannelId``, ``X-LINE-Authorization-Nonce`` (a UUID, new for each
call) and ``X-LINE-Authorization`` = Base64(HMAC-SHA256(key = channel secret, message =
channel secret + URI path + (POST: the body's exact text | GET: the query string without
``?``) + nonce)). The URI is the path (``/v3/payments/request``), not the absolute URL.

Amounts go in the currency's units as a JSON number (TWD 100, not 10000 cents). LINE Pay
takes TWD and JPY in whole units only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

SANDBOX_API = "https://sandbox-api-pay.line.me"
PRODUCTION_API = "https://api-pay.line.me"

REQUEST_PATH = "/v3/payments/request"
# Payment Details (GET, ``transactionId`` in the query): a transaction with its refundList.
DETAILS_PATH = "/v3/payments"

# Currencies LINE Pay takes, and those it takes in whole units only.
CURRENCIES = frozenset({"TWD", "JPY", "THB", "USD"})
WHOLE_UNITS = frozenset({"TWD", "JPY"})

OK = "0000"
# Check payment status (GET /v3/payments/requests/{transactionId}/check).
STATUS_WAITING = "0000"  # the customer has not approved yet
STATUS_AUTHORIZED = "0110"  # approved: confirm may be called
STATUS_CANCELLED = "0121"  # cancelled by the customer, or the request expired
STATUS_FAILED = "0122"
STATUS_COMPLETED = "0123"  # confirmed already
# Error codes of the published list that matter here.
NO_SUCH_TRANSACTION = "1150"
AMOUNT_DIFFERS = "1153"
ALREADY_REFUNDED = "1165"
SAME_ORDER_ID = "1172"
# Codes that say: the same call later may succeed (payment in process, internal error).
TRANSIENT_CODES = frozenset({"1145", "9000"})


def confirm_path(transaction_id: str) -> str:
    return f"/v3/payments/{transaction_id}/confirm"


def refund_path(transaction_id: str) -> str:
    return f"/v3/payments/{transaction_id}/refund"


def check_path(transaction_id: str) -> str:
    return f"/v3/payments/requests/{transaction_id}/check"


def details_query(transaction_id: str) -> str:
    return f"transactionId={transaction_id}"


def signature(channel_secret: str, uri: str, body_or_query: str, nonce: str) -> str:
    """``X-LINE-Authorization`` for one call."""
    message = f"{channel_secret}{uri}{body_or_query}{nonce}".encode()
    digest = hmac.new(channel_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def headers(
    channel_id: str, channel_secret: str, uri: str, body_or_query: str, nonce: str
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-LINE-ChannelId": channel_id,
        "X-LINE-Authorization-Nonce": nonce,
        "X-LINE-Authorization": signature(channel_secret, uri, body_or_query, nonce),
    }


def signature_holds(
    channel_secret: str, uri: str, body_or_query: str, nonce: str, given: str
) -> bool:
    """Whether ``given`` is the signature of the call (what LINE Pay checks; our stand-in
    in the tests does the same)."""
    return hmac.compare_digest(signature(channel_secret, uri, body_or_query, nonce), given)


class AmountNotPayable(ValueError):
    """An amount LINE Pay cannot take in this currency."""


def to_units(minor: int, currency: str, exponent: int) -> int | Decimal:
    """The amount LINE Pay is sent: units of the currency (``exponent``: its minor digits)."""
    if currency not in CURRENCIES:
        raise AmountNotPayable(f"LINE Pay does not take {currency}")
    units = Decimal(minor).scaleb(-exponent)
    if units == units.to_integral_value():
        return int(units)
    if currency in WHOLE_UNITS:
        raise AmountNotPayable(f"LINE Pay takes {currency} in whole units only")
    return units


def to_minor(value: Any, exponent: int) -> int | None:
    """An amount of an answer in minor units; None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        minor = Decimal(str(value)).scaleb(exponent)
    except ArithmeticError:
        return None
    return int(minor) if minor == minor.to_integral_value() else None


def dumps(body: dict[str, Any]) -> str:
    """The exact text sent (and signed): compact JSON, decimals written as numbers."""

    def number(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)  # two decimals at most: the float's shortest form is exact
        raise TypeError(type(value).__name__)

    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=number)


def request_body(
    order_id: str,
    order_number: str,
    amount: int | Decimal,
    currency: str,
    confirm_url: str,
    cancel_url: str,
    product_name: str,
) -> dict[str, Any]:
    """The body of ``POST /v3/payments/request``: one package with one line for the order
    (LINE Pay needs the packages' amounts to add up to ``amount``)."""
    return {
        "amount": amount,
        "currency": currency,
        "orderId": order_id,
        "packages": [
            {
                "id": order_number,
                "amount": amount,
                "products": [{"name": product_name[:100], "quantity": 1, "price": amount}],
            }
        ],
        "redirectUrls": {"confirmUrl": confirm_url, "cancelUrl": cancel_url},
    }


@dataclass(frozen=True)
class Answer:
    """A LINE Pay answer opened: its ``returnCode``, message and ``info``."""

    code: str
    message: str
    info: dict[str, Any]
    listed: tuple[dict[str, Any], ...] = ()  # ``info`` when it is a list (Payment Details)

    @property
    def ok(self) -> bool:
        return self.code == OK


def parse(text: bytes | str | None) -> Answer | None:
    """The answer, or None when it is not LINE Pay's JSON. ``transactionId`` is a 19-digit
    number: read as Python's int it stays exact, and is kept as text."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("returnCode"), str):
        return None
    info = data.get("info")
    listed = tuple(i for i in info if isinstance(i, dict)) if isinstance(info, list) else ()
    return Answer(
        code=data["returnCode"],
        message=str(data.get("returnMessage") or ""),
        info=info if isinstance(info, dict) else {},
        listed=listed,
    )


def transaction_id(value: Any) -> str | None:
    """A transaction id as text (LINE Pay sends a number), None when it is not one."""
    if isinstance(value, bool):
        return None
    text = str(value) if isinstance(value, int | str) else ""
    return text if text.isascii() and text.isdigit() and 0 < len(text) <= 40 else None


def paid_minor(info: dict[str, Any], exponent: int) -> int | None:
    """What a confirm answer says was paid (the sum of ``payInfo``), None when unreadable."""
    pay_info = info.get("payInfo")
    if not isinstance(pay_info, list) or not pay_info:
        return None
    total = 0
    for item in pay_info:
        amount = to_minor(item.get("amount") if isinstance(item, dict) else None, exponent)
        if amount is None:
            return None
        total += amount
    return total


def refunds_listed(answer: Answer, payment: str, exponent: int) -> list[tuple[str, int]] | None:
    """The refunds a Payment Details answer lists for the transaction ``payment``: its
    ``refundList`` as (``refundTransactionId``, amount in minor units, positive: LINE Pay
    writes refunds as negative amounts). None when the answer does not list that payment or
    a refund cannot be read: nothing can be concluded from it."""
    for item in answer.listed:
        if transaction_id(item.get("transactionId")) != payment:
            continue
        found = []
        for refund in item.get("refundList") or []:
            if not isinstance(refund, dict):
                return None
            rid = transaction_id(refund.get("refundTransactionId"))
            amount = to_minor(refund.get("refundAmount"), exponent)
            if rid is None or amount is None:
                return None
            found.append((rid, abs(amount)))
        return found
    return None
