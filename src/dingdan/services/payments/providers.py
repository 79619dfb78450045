"""The payment-provider interface. A provider moves money; Dingdan records what it did.

The built-in ``manual`` provider is for money that staff see arrive by other means (a bank
transfer on the statement, cash in the store, a carrier's COD remittance, a card terminal):
every call succeeds and returns the reference staff typed. Gateways (ECPay, NewebPay,
LINE Pay, Stripe ...) implement the same four calls and register under their own code.

Every call carries an ``idempotency_key``: asked twice with the same key (a request retried,
the worker asking again after a crash), a provider answers as it did the first time and
moves the money once. Providers are called outside any database transaction
(``services/payments/intents.py``); a call may take seconds or fail with an exception. Each
call is given the ``Database`` it is for (the app's or the worker's): a provider that keeps
its exchanges or reads its settings there uses that one, never one bound earlier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection

from dingdan.db.engine import Database
from dingdan.domain.shared.errors import ValidationFailed


@dataclass(frozen=True)
class ProviderResult:
    ok: bool
    reference: str  # the provider's id of the transaction
    message: str = ""


class PaymentProvider(Protocol):
    code: str

    def authorize(
        self,
        order: str,
        amount_minor: int,
        currency: str,
        reference: str | None,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult: ...

    def capture(
        self,
        authorization: str,
        amount_minor: int,
        currency: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult: ...

    def void(
        self,
        authorization: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult: ...

    def refund(
        self,
        payment: str | None,
        amount_minor: int,
        currency: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult: ...


class CapturedAtOnce:
    """A provider whose payments are taken whole when they are made (no hold to capture
    later: money staff report, ECPay's checkout): ``capture`` of what ``authorize``
    answered needs nothing more, and answers its reference."""

    def capture(
        self,
        authorization: str,
        amount_minor: int,
        currency: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult:
        return ProviderResult(True, authorization)


class ManualProvider(CapturedAtOnce):
    """Records what staff report; never fails. Without a reference it makes one from the
    idempotency key, so asking again with the same key gives the same reference."""

    code = "manual"

    @staticmethod
    def _ref(reference: str | None, key: str) -> str:
        return reference or f"manual-{hashlib.sha256(key.encode()).hexdigest()[:12]}"

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
        return ProviderResult(True, self._ref(reference, idempotency_key))

    def void(
        self,
        authorization: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult:
        return ProviderResult(True, authorization)

    def refund(
        self,
        payment: str | None,
        amount_minor: int,
        currency: str,
        *,
        idempotency_key: str,
        db: Database,
    ) -> ProviderResult:
        return ProviderResult(True, self._ref(None, idempotency_key))


PROVIDERS: dict[str, PaymentProvider] = {"manual": ManualProvider()}
# What a gateway keeps of its own when an intent records a payment it answered, in the
# recording transaction (the connection, the intent, the answer, the order's row, the new
# payment's id), before the order's totals are answered: ECPay marks its trade paid. A
# domain error refuses the record (nothing is written; the intent waits for staff).
PAYMENT_RECORDED: dict[str, Callable[[Connection, Any, ProviderResult, Any, int], None]] = {}


def provider(code: str | None) -> PaymentProvider:
    """The provider a request names (``manual`` when it names none); an unknown code is the
    request's fault (422 on ``provider``), never a silent fallback."""
    found = PROVIDERS.get(code or "manual")
    if found is None:
        raise ValidationFailed.on("provider", "unknown_provider")
    return found


def provider_of_record(code: str | None) -> PaymentProvider:
    """The provider of a stored payment; ``internal`` ones (store credit) and providers no
    longer registered are settled by hand, as ``manual``."""
    return PROVIDERS.get(code or "manual", PROVIDERS["manual"])


# Registered gateways (each module puts itself in PROVIDERS when imported).
from dingdan.services.payments import ecpay as _ecpay  # noqa: E402,F401
from dingdan.services.payments import linepay_gateway as _linepay  # noqa: E402, F401 registers "linepay"
