"""Secrets at rest: webhook secrets, carriers' and channels' signing keys, message providers'
tokens are stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256, a fresh IV each time),
with a key derived from ``DINGDAN_SECRET_KEY`` (HKDF-SHA256, its own label, so the session
signing key and the storage key are never the same bytes).

Rotation (docs/operations.md, "Secrets at rest"): set the new key in ``DINGDAN_SECRET_KEY``
and the one it replaces in ``DINGDAN_SECRET_KEY_OLD`` (several, comma-separated); values
sealed with either are read, new ones are sealed with the new key, and ``dingdan secrets
rotate`` re-seals every stored one with it, after which the old key can go.

A stored value is ``enc:`` and the Fernet token. A value without the prefix (written before
encryption existed, or by hand) is read as it is and sealed by the next rotation.
"""

from __future__ import annotations

import base64
import logging
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("dingdan.secrets")
PREFIX = "enc:"
_LABEL = b"dingdan:secrets-at-rest:v1"
_CARD_LABEL = b"dingdan:card-fingerprint:v1"
STORED_LENGTH = 500  # a Fernet token of a 200-character secret, with room


_MISMATCH = (
    "A stored secret cannot be decrypted with DINGDAN_SECRET_KEY: after changing the key, "
    "set the previous one in DINGDAN_SECRET_KEY_OLD (docs/operations.md)."
)


class SecretKeyMismatch(RuntimeError):
    """A stored secret was sealed with a key that is neither DINGDAN_SECRET_KEY nor one of
    DINGDAN_SECRET_KEY_OLD."""


def fernet_key(secret_key: str) -> bytes:
    """The storage key derived from a configured secret key (any string)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8")))


@lru_cache(maxsize=8)
def _card_key_of(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_CARD_LABEL)
    return hkdf.derive(secret_key.encode("utf-8"))


def card_fingerprint_key() -> bytes:
    """The key of the cards' fingerprints (domain/payments/cards.py), derived from
    ``DINGDAN_SECRET_KEY`` with a label of its own. A new secret key gives new fingerprints:
    ``dingdan secrets rotate`` computes the stored ones again from the digits kept."""
    return _card_key_of(configured_keys()[0])


@lru_cache(maxsize=8)
def keyring_of(current: str, old: tuple[str, ...] = ()) -> MultiFernet:
    """Seals with ``current``; opens with it or any of ``old``."""
    keys = [current, *(k for k in old if k and k != current)]
    return MultiFernet([Fernet(fernet_key(k)) for k in keys])


def configured_keys() -> tuple[str, tuple[str, ...]]:
    from dingdan.config import get_settings

    settings = get_settings()
    old = tuple(k.strip() for k in settings.secret_key_old.split(",") if k.strip())
    return settings.secret_key, old


def keyring() -> MultiFernet:
    current, old = configured_keys()
    return keyring_of(current, old)


def is_sealed(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def seal(plain: str | None, ring: MultiFernet | None = None) -> str | None:
    """``plain`` encrypted for storage (None and "" stay as they are)."""
    if not plain:
        return plain
    token = (ring or keyring()).encrypt(plain.encode("utf-8"))
    return PREFIX + token.decode("ascii")


def unseal(stored: str | None, ring: MultiFernet | None = None) -> str | None:
    """The secret a stored value holds; a value stored before encryption, as it is."""
    if not stored or not stored.startswith(PREFIX):
        return stored
    try:
        return (ring or keyring()).decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretKeyMismatch(_MISMATCH) from None


def unseal_or_none(stored: str | None) -> str | None:
    """As ``unseal``, but a value no configured key opens reads as not set (None), with an
    error in the log (never the value): a wrong key then refuses signed webhooks and leaves
    the providers unconfigured instead of failing every page that lists a channel."""
    try:
        return unseal(stored)
    except SecretKeyMismatch as exc:
        log.error("%s", exc)
        return None


def reseal(stored: str | None, ring: MultiFernet | None = None) -> str | None:
    """A stored value sealed again with the current key (a plain one sealed)."""
    if not stored:
        return stored
    ring = ring or keyring()
    if not stored.startswith(PREFIX):
        return seal(stored, ring)
    try:
        return PREFIX + ring.rotate(stored[len(PREFIX) :].encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretKeyMismatch(_MISMATCH) from None


def shown_secret(plain: str | None) -> str:
    """How a set secret is shown after entry: never again in full, only "••••" and its
    last four characters, so the seller can tell which one is set."""
    if not plain:
        return ""
    return "••••" + (plain[-4:] if len(plain) >= 16 else "")


class EncryptedText(TypeDecorator[str]):
    """A column whose value is sealed on the way in and opened on the way out: code reads
    and writes the secret itself, the database only ever holds ciphertext."""

    impl = String(STORED_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or (isinstance(value, str) and value.startswith(PREFIX)):
            return value
        return seal(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return unseal_or_none(value)
