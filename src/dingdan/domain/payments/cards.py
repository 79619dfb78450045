"""The card a payment was made with, as Dingdan keeps it (the card velocity and card
country risk rules read it: domain/orders/risk.py, services/orders/risk.py).

- **From a provider's callback** (ECPay's ReturnURL: ``card6no``, the first six digits, the
  issuer's BIN; ``card4no``, the last four): both kept on the payment, and a fingerprint
  derived from them, a keyed hash (HMAC-SHA256 under a key of its own derived from
  ``DINGDAN_SECRET_KEY``) of the provider and the ten digits. The fingerprint never holds
  the digits, and without the key it cannot be matched against the few billion possible
  ones. Two cards sharing BIN and last four digits share the fingerprint: a rare collision
  within a velocity window, which can only add a reason, never hide one.
- **From an integrating gateway** (``POST /orders/{number}/payments`` with
  ``card_fingerprint``): the gateway's own fingerprint of the card, opaque to us; kept as a
  SHA-256 of the provider and it, so one gateway's value never matches another's.
- **The card's country** only as the provider reports it: a BIN does not tell it reliably
  (BIN ranges are assigned issuer by issuer and change; no small, honest table exists), so
  no country is guessed from ``card6no``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from dingdan.domain.shared.contact import check_country
from dingdan.domain.shared.errors import FieldErrors

BIN = re.compile(r"[0-9]{6}")
LAST4 = re.compile(r"[0-9]{4}")
# A gateway's card fingerprint: an opaque token, never a card number.
GIVEN = re.compile(r"[A-Za-z0-9_\-]{8,64}")
_CARD_NUMBER = re.compile(r"[0-9]{12,19}")


@dataclass(frozen=True)
class Card:
    """What a payment records of its card; each part may be unknown."""

    bin: str | None = None
    last4: str | None = None
    fingerprint: str | None = None
    country: str | None = None

    @property
    def known(self) -> bool:
        return any((self.bin, self.last4, self.fingerprint, self.country))

    def columns(self) -> dict[str, str | None]:
        return {
            "card_bin": self.bin,
            "card_last4": self.last4,
            "card_fingerprint": self.fingerprint,
            "card_country": self.country,
        }


def fingerprint_of(key: bytes, provider: str, bin_: str, last4: str) -> str:
    """The fingerprint of the card a provider told by its first six and last four digits."""
    message = f"card:{provider}:{bin_}:{last4}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def given_fingerprint(provider: str, given: str) -> str:
    """A gateway's own fingerprint of the card, kept apart from other providers' values."""
    return hashlib.sha256(f"token:{provider}:{given}".encode()).hexdigest()


def from_digits(key: bytes, provider: str, card6no: str | None, card4no: str | None) -> Card:
    """The card of a callback that reports ``card6no`` and ``card4no`` (either may be
    missing or malformed: then no fingerprint, and what is well-formed is kept)."""
    bin_ = (card6no or "").strip()
    last4 = (card4no or "").strip()
    bin_ok, last4_ok = bool(BIN.fullmatch(bin_)), bool(LAST4.fullmatch(last4))
    return Card(
        bin=bin_ if bin_ok else None,
        last4=last4 if last4_ok else None,
        fingerprint=fingerprint_of(key, provider, bin_, last4) if bin_ok and last4_ok else None,
    )


def given_card(provider: str, body: Mapping[str, object], errors: FieldErrors) -> Card:
    """The card facts of a recorded payment's request (``card_fingerprint``,
    ``card_country``, both optional); bad ones are added to ``errors``."""
    fingerprint = country = None
    given = body.get("card_fingerprint")
    if given is not None:
        text = given if isinstance(given, str) else ""
        if not GIVEN.fullmatch(text) or _CARD_NUMBER.fullmatch(text):
            errors.add("card_fingerprint", "card_fingerprint_format")
        else:
            fingerprint = given_fingerprint(provider, text)
    if body.get("card_country") is not None:
        country = check_country(body["card_country"], "card_country", errors)
    return Card(fingerprint=fingerprint, country=country)
