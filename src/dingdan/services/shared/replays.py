"""Replays of POST requests sent with an ``Idempotency-Key``: what the first answered is
kept per principal and key (``request_replays``) with the request's fingerprint, so a client
that sends the same request again (a retry after a timeout) gets the same answer instead of
a second payment, refund, return or product.

A key is claimed before the request runs (``running``), in its own short transaction: two
requests with the same key at once cannot both run (the primary key decides). The first
request's answer is then kept (``done``), or the claim is let go when the request was
refused (a 4xx changes nothing, so the key is not used up), or marked ``unknown`` when it
ended without an answer (a 5xx, a crash: it may have done its work). A key that is
``running`` or ``unknown`` is refused, never run twice. Order capture keeps its own keys in
the order's transaction (``orders.capture``); the worker purges both after 7 days.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.tables import RequestReplay
from dingdan.domain.shared.errors import Conflict


def fingerprint(path: str, content_type: str, body: bytes) -> str:
    """The request as far as a replay must match it: its path and its body. A JSON body is
    compared as data (key order and spacing aside); a multipart body without its boundary
    (a client makes a new one for every send)."""
    data = body
    if content_type.startswith("application/json"):
        try:
            data = json.dumps(
                json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
        except ValueError:
            data = body
    elif content_type.startswith("multipart/"):
        for part in content_type.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "boundary" and value:
                data = body.replace(value.strip('"').encode("latin-1"), b"--")
    return hashlib.sha256(path.encode() + b"\n" + data).hexdigest()


def _row(conn: Connection, scope: str, key: str) -> Any:
    return conn.execute(
        select(RequestReplay).where(RequestReplay.scope == scope, RequestReplay.key == key)
    ).first()


def claim(db: Database, scope: str, key: str, digest: str) -> Any | None:
    """None when the key is claimed now for this request (run it); else the earlier
    request's row (its state, fingerprint and answer)."""

    def work(conn: Connection) -> Any | None:
        earlier = _row(conn, scope, key)
        if earlier is not None:
            return earlier
        conn.execute(
            insert(RequestReplay).values(scope=scope, key=key, fingerprint=digest, state="running")
        )
        return None

    try:
        return db.write(work)
    except Conflict:  # a request with the same key claimed it meanwhile (PostgreSQL)
        return db.read(lambda conn: _row(conn, scope, key))


def keep(
    db: Database, scope: str, key: str, status_code: int, content_type: str, body: bytes
) -> None:
    db.write(
        lambda conn: conn.execute(
            update(RequestReplay)
            .where(RequestReplay.scope == scope, RequestReplay.key == key)
            .values(state="done", status_code=status_code, content_type=content_type, body=body)
        )
    )


def let_go(db: Database, scope: str, key: str) -> None:
    """The request was refused and changed nothing: its key may be used again."""
    db.write(
        lambda conn: conn.execute(
            delete(RequestReplay).where(
                RequestReplay.scope == scope,
                RequestReplay.key == key,
                RequestReplay.state == "running",
            )
        )
    )


def unknown(db: Database, scope: str, key: str, status_code: int | None) -> None:
    """The request ended without a known outcome (a 5xx, a crash): never run again."""
    db.write(
        lambda conn: conn.execute(
            update(RequestReplay)
            .where(RequestReplay.scope == scope, RequestReplay.key == key)
            .values(state="unknown", status_code=status_code)
        )
    )
