"""Standard Webhooks v1 signatures of the deliveries carriers send us
(https://www.standardwebhooks.com): headers ``webhook-id``, ``webhook-timestamp`` (Unix
seconds) and ``webhook-signature``, a space-separated list of ``v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">``; the key is the bytes of the base64 after ``whsec_``.

Pure functions: the caller gives the time, so that tests need no clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60  # older (or further ahead) than this: refused, a replay
_ID_MAX = 200


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes | None:
    """The key of a ``whsec_`` secret; None when it is not one."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        return None
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if 16 <= len(key) <= 128 else None


def is_secret(secret: object) -> bool:
    return isinstance(secret, str) and secret_key(secret) is not None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = secret_key(secret)
    if key is None:
        raise ValueError("not a whsec_ secret")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(
    secret: str,
    msg_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
) -> str | None:
    """Why the delivery is refused (for the log), or None when it is genuine and fresh."""
    if not msg_id or not timestamp or not signature:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    if len(msg_id) > _ID_MAX:
        return "webhook-id too long"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return "webhook-timestamp is not Unix seconds"
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return "webhook-timestamp too old or too new"
    try:
        expected = sign(secret, msg_id, int(timestamp), body)
    except ValueError:
        return "no valid secret"
    for candidate in signature.split():
        version, _sep, _value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(candidate.encode(), expected.encode()):
            return None
    return "no signature matches"
