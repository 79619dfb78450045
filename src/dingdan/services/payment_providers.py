"""The payment-provider interface. A provider moves money; Dingdan records what it did.

The built-in ``manual`` provider is for money that staff see arrive by other means (a bank
transfer on the statement, cash in the store, a carrier's COD remittance, a card terminal):
every call succeeds and returns the reference staff typed. Gateways (ECPay, NewebPay,
LINE Pay, Stripe ...) implement the same four calls and register under their own code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ProviderResult:
    ok: bool
    reference: str  # the provider's id of the transaction
    message: str = ""


class PaymentProvider(Protocol):
    code: str

    def authorize(
        self, order: str, amount_minor: int, currency: str, reference: str | None
    ) -> ProviderResult: ...

    def capture(self, authorization: str, amount_minor: int, currency: str) -> ProviderResult: ...

    def void(self, authorization: str) -> ProviderResult: ...

    def refund(self, payment: str | None, amount_minor: int, currency: str) -> ProviderResult: ...


class ManualProvider:
    """Records what staff report; never fails, invents a reference when none is given."""

    code = "manual"

    @staticmethod
    def _ref(reference: str | None) -> str:
        return reference or f"manual-{secrets.token_hex(6)}"

    def authorize(
        self, order: str, amount_minor: int, currency: str, reference: str | None
    ) -> ProviderResult:
        return ProviderResult(True, self._ref(reference))

    def capture(self, authorization: str, amount_minor: int, currency: str) -> ProviderResult:
        return ProviderResult(True, authorization)

    def void(self, authorization: str) -> ProviderResult:
        return ProviderResult(True, authorization)

    def refund(self, payment: str | None, amount_minor: int, currency: str) -> ProviderResult:
        return ProviderResult(True, self._ref(None))


PROVIDERS: dict[str, PaymentProvider] = {"manual": ManualProvider()}


def provider(code: str | None) -> PaymentProvider:
    return PROVIDERS.get(code or "manual", PROVIDERS["manual"])
