"""Standard Webhooks v1 signatures (https://www.standardwebhooks.com), both ways: the
deliveries Dingdan sends (outgoing webhooks) and the ones it takes (carriers' tracking
events, channels).

Headers ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``: a
space-separated list of ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, one per
secret that signs (a secret and the one it replaced, while both sign). A secret is
``whsec_`` and the base64 of its key's bytes.

Pure functions: the caller gives the time, so that tests need no clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60  # a delivery older (or further ahead) than this: refused
_ID_MAX = 200


def new_secret() -> str:
    """A random 24-byte key as ``whsec_<base64>``, the form the spec's libraries read."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def key_of(secret: str) -> bytes:
    """The key's bytes: the base64 after ``whsec_`` (the prefix is optional, and so is the
    base64's padding, as the spec's libraries read it)."""
    text = secret.removeprefix(PREFIX)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is the base64 of its key") from exc


def is_secret(secret: object) -> bool:
    """Whether a secret someone typed or a carrier issued is one: ``whsec_``, base64, and a
    key of 16 to 128 bytes."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        return False
    try:
        return 16 <= len(key_of(secret)) <= 128
    except ValueError:
        return False


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """``v1,<base64 signature>`` of one message."""
    raw = body.encode() if isinstance(body, str) else body
    content = f"{msg_id}.{timestamp}.".encode() + raw
    digest = hmac.new(key_of(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_: list[str], msg_id: str, timestamp: int, body: bytes | str) -> dict[str, str]:
    """The three headers of a delivery, signed with each secret in ``secrets_``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_),
    }


def signature_matches(
    secret: str, msg_id: str, timestamp: int, body: bytes | str, header: str
) -> bool:
    """Whether any ``v1`` entry of a ``webhook-signature`` header is this secret's
    signature (other versions are ignored). No timestamp tolerance: ``check_delivery``."""
    expected = sign(secret, msg_id, timestamp, body).encode()
    return any(
        hmac.compare_digest(entry.encode(), expected)
        for entry in header.split(" ")
        if entry.startswith("v1,")
    )


def check_delivery(
    secret: str,
    msg_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
) -> str | None:
    """Why a delivery we received is refused (for the log), or None when it is genuine and
    fresh: the three headers present, the time within ``TOLERANCE_SECONDS`` of ``now``, a
    ``v1`` signature made with ``secret``."""
    if not msg_id or not timestamp or not signature:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    if len(msg_id) > _ID_MAX:
        return "webhook-id too long"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return "webhook-timestamp is not Unix seconds"
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return "webhook-timestamp too old or too new"
    try:
        matches = signature_matches(secret, msg_id, int(timestamp), body, signature)
    except ValueError:
        return "no valid secret"
    return None if matches else "no signature matches"
