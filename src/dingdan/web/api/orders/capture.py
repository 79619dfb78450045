"""The hot path of ``POST /api/v1/orders``: the same endpoint, without the framework's
per-request work.

A flash sale is this one request, thousands of times. Routed through FastAPI it paid for
the session middleware, matching ~200 routes, solving dependencies, validating the body as
Python objects and a thread-pool hop for each; that was about a third of the server's CPU
per order. This ASGI middleware answers the common case itself with exactly the route's
steps: a token this process already accepted, an ``application/json`` body that
``OrderIn`` accepts (parsed from the bytes by pydantic-core), then ``services.orders`` and
the same answer, or the same problem+json for a broken rule (``errors.domain_problem``).

Anything else (no or unknown token, a role that may not place orders, a body the schema
refuses, an over-long Idempotency-Key, another content type) is passed to the FastAPI route
with the body replayed, so every error answer stays the route's own. The route also keeps
the OpenAPI description.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any
from weakref import WeakKeyDictionary

import anyio.to_thread
from pydantic import ValidationError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from dingdan.config import Settings
from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.access import accounts
from dingdan.services.orders import capture as orders
from dingdan.services.shared.common import Actor
from dingdan.services.shared.view_types import OrderView
from dingdan.web.api.orders.schemas import OrderIn
from dingdan.web.api.shared.errors import JSONAnswer, domain_problem
from dingdan.web.api.shared.middleware import read_body, replaying

PATH = "/api/v1/orders"

# PostgreSQL, per event loop (a worker has one; tests make many): at most
# ``capture_concurrency`` captures run at once, the others wait here. 64 clients on a 2-core
# machine otherwise kept 40 PostgreSQL transactions going at once, and orders/s fell from
# 690 to 410 while p99 passed 400 ms; with 8 per worker, 690 and 180 ms. SQLite is not
# limited: its writers queue for one group commit, and the longer the queue the more one
# commit carries (limited to 8, 64 clients made 662 orders/s instead of 829).
# An asyncio semaphore rather than anyio's CapacityLimiter: that one yields to the event
# loop on every entry, even when a place is free (a loop turn per order).
_LIMITERS: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()


def _limiter(settings: Settings) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = asyncio.Semaphore(settings.capture_concurrency)
    return limiter


KEY_MAX = 200  # the route's Header(max_length=...)


async def capture(
    state: Any, actor: Actor, data: dict[str, Any], idempotency_key: str | None
) -> tuple[OrderView, bool]:
    """What this short path and the route both run. PostgreSQL: within the capture limit,
    ``orders.place_order_async`` on this event loop, or ``orders.place_order`` in a worker
    thread for what only it answers. SQLite: ``orders.place_order`` in a worker thread."""
    db, prefix = state.db, state.settings.order_number_prefix
    threaded = functools.partial(
        orders.place_order,
        db,
        actor,
        data,
        idempotency_key=idempotency_key,
        prefix=prefix,
        look_up_invoice=True,
    )
    if db.is_sqlite:
        return await anyio.to_thread.run_sync(threaded)
    async with _limiter(state.settings):
        done = await orders.place_order_async(
            db, actor, data, idempotency_key=idempotency_key, prefix=prefix, look_up_invoice=True
        )
        if done is not None:
            return done
        return await anyio.to_thread.run_sync(threaded)


class OrderCapture:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        answer = await self._answer(scope, body)
        if answer is None:
            await self.app(scope, replaying(body, receive), send)
        else:
            await answer(scope, receive, send)

    async def _answer(self, scope: Scope, body: bytes) -> JSONResponse | None:
        """The answer, or None when the route must answer (see the module's notes)."""
        authorization = key = content_type = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"idempotency-key":
                key = value
            elif name == b"content-type":
                content_type = value
        if authorization is None or not (content_type or b"").startswith(b"application/json"):
            return None
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        actor = accounts.cached_actor(token) if scheme.lower() == "bearer" else None
        if actor is None or not actor.may(Action.MANAGE_ORDERS):
            return None
        idempotency_key = key.decode("latin-1") if key is not None else None
        if idempotency_key is not None and len(idempotency_key) > KEY_MAX:
            return None
        try:
            data = OrderIn.model_validate_json(body).model_dump(exclude_unset=True)
        except ValidationError:
            return None
        try:
            order, created = await capture(scope["app"].state, actor, data, idempotency_key)
        except DomainError as exc:
            return domain_problem(exc)
        return answer_of(order, created)


REPLAYED = {"Idempotent-Replayed": "true"}  # shared/CONTRACT.md, "Replays say so"


def answer_of(order: OrderView, created: bool) -> JSONAnswer:
    """``201`` and the new order, or ``200``, the earlier order and the replay header."""
    if created:
        return JSONAnswer(order, status_code=201)
    return JSONAnswer(order, status_code=200, headers=REPLAYED)
