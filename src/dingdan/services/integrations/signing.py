"""Standard Webhooks v1 signatures (symmetric): HMAC-SHA256 of ``{id}.{timestamp}.{body}``
with the secret's key, base64, prefixed ``v1,``. Several signatures (a secret and the one
it replaced, while both sign) are separated by spaces in one ``webhook-signature`` header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    """A random 24-byte key as ``whsec_<base64>``, the form the spec's libraries read."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def key_of(secret: str) -> bytes:
    """The key's bytes: the base64 after ``whsec_`` (the prefix is optional, and so is the
    base64's padding)."""
    text = secret.removeprefix(PREFIX)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is the base64 of its key") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """``v1,<base64 signature>`` of one message."""
    content = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key_of(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_: list[str], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with each secret in ``secrets_``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_),
    }


def verify(secret: str, msg_id: str, timestamp: int, body: str, header: str) -> bool:
    """Whether any ``v1`` entry of a ``webhook-signature`` header is this secret's
    signature (other versions are ignored). No timestamp tolerance: the caller checks it."""
    expected = sign(secret, msg_id, timestamp, body)
    return any(
        hmac.compare_digest(entry.encode(), expected.encode())
        for entry in header.split(" ")
        if entry.startswith("v1,")
    )
