"""``Idempotency-Key`` on every POST of the API that is not order capture (which keeps its
own keys in the order's transaction, ``web/api/orders``): an ASGI middleware in front of the
routes, so no route can forget it.

With the header, a request is fingerprinted (path and body), its key claimed for the
principal (the token) in a short transaction, and the route run. A 2xx answer is kept and
given again to a request with the same key and the same fingerprint: ``200`` (the resource,
unchanged, nothing done again) with ``Idempotent-Replayed: true``. The same key with another
request is ``409 idempotency_conflict``, as for orders; so is a key whose first request is
still running, or ended without an answer (a 5xx: it may have done its work, and a payment
must not be made twice; send a new key once you have checked). A refused request (4xx) does
not use up its key. Without a valid token the request goes to the route as it is (401).

A new API token's secret, or a webhook's signing secret, is shown only in the first answer:
the kept answer has it blanked (no secret is stored), so a replay shows the rest without it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dingdan.domain.shared.errors import DomainError, IdempotencyConflict, ValidationFailed
from dingdan.services.access import accounts
from dingdan.services.shared import replays
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.errors import domain_problem
from dingdan.web.api.shared.middleware import read_body, replaying

KEY_MAX = 200
REPLAYED = (b"idempotent-replayed", b"true")
OWN_KEYS = frozenset({"/api/v1/orders"})  # order capture: keys in the order's transaction
# Answers with a field shown once (a token, a signing secret), never kept: (path, field).
SECRETS = (
    (re.compile(r"/api/v1/tokens"), "token"),
    (re.compile(r"/api/v1/webhooks"), "secret"),
    (re.compile(r"/api/v1/webhooks/[^/]+/rotate-secret"), "secret"),
    (re.compile(r"/api/v1/carriers/[^/]+/webhook-secret"), "secret"),
)


class Replays:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not path.startswith("/api/v1/")
            or path in OWN_KEYS
        ):
            await self.app(scope, receive, send)
            return
        headers = {name: value for name, value in scope["headers"]}
        raw_key = headers.get(b"idempotency-key")
        if not raw_key:
            await self.app(scope, receive, send)
            return
        if len(raw_key) > KEY_MAX:
            too_long = ValidationFailed.on("Idempotency-Key", "too_long", max=KEY_MAX)
            await domain_problem(too_long)(scope, receive, send)
            return
        db = scope["app"].state.db
        actor = await _actor(db, headers.get(b"authorization", b""))
        if actor is None:  # the route answers 401
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        key = raw_key.decode("latin-1")
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        query = scope.get("query_string", b"").decode("latin-1")
        digest = replays.fingerprint(f"{path}?{query}", content_type, body)
        try:
            earlier = await anyio.to_thread.run_sync(replays.claim, db, actor.name, key, digest)
        except DomainError as exc:
            await domain_problem(exc)(scope, receive, send)
            return
        if earlier is not None:
            await _answer_earlier(earlier, digest, scope, receive, send)
            return
        await self._run(db, actor.name, key, path, scope, replaying(body, receive), send)

    async def _run(
        self,
        db: Any,
        principal: str,
        key: str,
        path: str,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, keep)
        except BaseException:
            await anyio.to_thread.run_sync(replays.unknown, db, principal, key, None)
            raise
        if start is None:  # the route sent nothing (the client went away)
            await anyio.to_thread.run_sync(replays.unknown, db, principal, key, None)
            return
        status, body = int(start["status"]), b"".join(chunks)
        try:
            if 200 <= status < 300:
                content_type = _header(start, b"content-type")
                kept = _without_secret(path, body)
                await anyio.to_thread.run_sync(
                    replays.keep, db, principal, key, status, content_type, kept
                )
            elif status >= 500:
                await anyio.to_thread.run_sync(replays.unknown, db, principal, key, status)
            else:
                await anyio.to_thread.run_sync(replays.let_go, db, principal, key)
        except DomainError:
            pass  # the answer goes out; the key stays claimed (a retry is refused, not run)
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def _actor(db: Any, authorization: bytes) -> Actor | None:
    scheme, _, secret = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return None
    actor = accounts.cached_actor(secret)
    if actor is not None:
        return actor
    try:
        return await anyio.to_thread.run_sync(accounts.authenticate_token, db, secret)
    except DomainError:
        return None


def _header(start: Message, name: bytes) -> str:
    for key, value in start.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return "application/json"


def _without_secret(path: str, body: bytes) -> bytes:
    field = next((f for pattern, f in SECRETS if pattern.fullmatch(path)), None)
    if field is None:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict) and field in data:
        data[field] = ""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


async def _answer_earlier(
    earlier: Any, digest: str, scope: Scope, receive: Receive, send: Send
) -> None:
    if earlier.fingerprint != digest:
        refused = IdempotencyConflict(
            detail="This Idempotency-Key was used with a different request."
        )
    elif earlier.state == "running":
        refused = IdempotencyConflict(
            detail="A request with this Idempotency-Key is still running; ask again shortly."
        )
    elif earlier.state != "done":
        refused = IdempotencyConflict(
            detail="The request first sent with this Idempotency-Key ended without an answer "
            "and may have been carried out: check before sending it again with a new key."
        )
    else:
        body = bytes(earlier.body or b"")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", (earlier.content_type or "application/json").encode()),
                    (b"content-length", str(len(body)).encode()),
                    REPLAYED,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return
    await domain_problem(refused)(scope, receive, send)


def document(spec: dict[str, Any]) -> dict[str, Any]:
    """``/openapi.json`` says it too: every POST this middleware serves takes the header,
    may answer 409 ``idempotency_conflict``, and a 201 operation may answer a replay 200."""
    for path, operations in spec.get("paths", {}).items():
        op = operations.get("post")
        if op is None or not path.startswith("/api/v1/") or path in OWN_KEYS:
            continue
        op.setdefault("parameters", []).append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Sent again with the same request, the first answer is replayed "
                "(200, Idempotent-Replayed: true) and nothing is done twice.",
                "schema": {"type": "string", "maxLength": KEY_MAX},
            }
        )
        answers = op.setdefault("responses", {})
        if "409" not in answers:
            answers["409"] = {
                "description": "Idempotency conflict",
                "content": {
                    "application/problem+json": {},
                    "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}},
                },
            }
        created = answers.get("201")
        if created is not None and "200" not in answers:
            answers["200"] = {**created, "description": "A replay of the same Idempotency-Key"}
            answers["200"].pop("links", None)
    return spec
