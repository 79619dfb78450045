"""The fast path of POST /api/v1/orders (web/api/orders/capture.py) answers exactly as the
FastAPI route does, and hands the route everything it does not answer itself."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest

from dingdan.services.orders import queries
from dingdan.web.api.orders.capture import OrderCapture
from tests.builders import Shop, order_body

stocked = Shop(
    products={"TEA-001": "350.00"}, locations={"TPE": 0}, stock={"TPE": {"TEA-001": 5}}
).fixture()


class Fallback:
    """Stands in for the FastAPI app behind the fast path: records what reached it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b"route"})


def post(app: Any, fallback: Fallback, token: str, body: bytes, **headers: str) -> httpx.Response:
    capture = OrderCapture(fallback)

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        scope["app"] = app  # as Starlette sets it before its middleware runs
        await capture(scope, receive, send)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.post(
                "/api/v1/orders",
                content=body,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    **headers,
                },
            )

    return asyncio.run(go())


def test_a_cached_token_and_a_good_body_are_answered_without_the_route(api, app, stocked):
    token = api.token("admin")
    assert api.get("/api/v1/orders").status_code == 200  # the route accepted it: now cached
    fallback = Fallback()
    r = post(app, fallback, token, json.dumps(order_body()).encode())
    assert r.status_code == 201, r.text
    assert fallback.bodies == []
    stored = queries.get_order(stocked, r.json()["number"])
    assert r.json() == json.loads(json.dumps(stored))
    assert stored["lines"][0]["allocated"] == 2


def test_the_same_idempotency_key_answers_the_first_order_with_200(api, app, stocked):
    token = api.token("admin")
    api.get("/api/v1/orders")
    body = json.dumps(order_body()).encode()
    first = post(app, Fallback(), token, body, **{"Idempotency-Key": "k-1"})
    again = post(app, Fallback(), token, body, **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["number"] == first.json()["number"]


@pytest.mark.parametrize(
    "case",
    ["unknown token", "may not place orders", "bad body", "not json", "long key", "text/plain"],
)
def test_everything_else_reaches_the_route_with_the_body_intact(api, app, stocked, case):
    token = api.token("warehouse" if case == "may not place orders" else "admin")
    api.get("/api/v1/orders", role="warehouse" if case == "may not place orders" else "admin")
    body = json.dumps(order_body(lines=[] if case == "bad body" else order_body()["lines"]))
    raw = b"\xff{not json" if case == "not json" else body.encode()
    headers: dict[str, str] = {}
    if case == "long key":
        headers["Idempotency-Key"] = "k" * 201
    if case == "text/plain":
        headers["Content-Type"] = "text/plain"
    fallback = Fallback()
    r = post(app, fallback, "dd_unknown" if case == "unknown token" else token, raw, **headers)
    assert (r.status_code, r.text) == (599, "route")
    assert fallback.bodies == [raw]
    assert queries.list_orders(stocked).as_dict()["items"] == []


def test_a_broken_rule_is_the_routes_problem_and_changes_nothing(api, app, stocked):
    token = api.token("admin")
    api.get("/api/v1/orders")
    too_many = order_body(lines=[{"sku": "TEA-001", "quantity": 6}])
    fast = post(app, Fallback(), token, json.dumps(too_many).encode())
    # The route answers a token this process has not accepted yet (a new one).
    routed = api.post("/api/v1/orders", json=too_many, role="manager")
    assert fast.status_code == routed.status_code == 409
    assert fast.headers["content-type"] == routed.headers["content-type"]
    assert fast.json() == routed.json()
    assert fast.json()["errors"][0]["field"] == "lines[0].quantity"
    assert queries.list_orders(stocked).as_dict()["items"] == []


def test_through_the_whole_app_the_fast_and_routed_answers_agree(api, stocked):
    routed = api.post("/api/v1/orders", json=order_body(), role="manager")  # first use: route
    fast = api.post("/api/v1/orders", json=order_body(), role="manager")  # cached: fast path
    assert routed.status_code == fast.status_code == 201
    a, b = routed.json(), fast.json()
    for varying in ("number", "created_at", "updated_at", "tracking_token", "tracking_url"):
        a.pop(varying, None), b.pop(varying, None)
    assert a == b
    assert routed.headers["content-security-policy"] == fast.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["short", "route"])
def test_no_more_captures_run_at_once_than_the_setting_allows(api, app, stocked, monkeypatch, path):
    """capture_concurrency (PostgreSQL): the others wait their turn and are all answered,
    whether the short path or the route (a token not yet cached here) takes the request.
    SQLite's captures are not limited: its writers queue for one group commit."""
    from dingdan.services.access import accounts
    from dingdan.services.orders import capture as orders

    token = api.token("admin")
    assert api.get("/api/v1/orders").status_code == 200  # the token is now cached
    if path == "route":
        monkeypatch.setattr(accounts, "cached_actor", lambda token: None)
    app.state.settings = app.state.settings.model_copy(update={"capture_concurrency": 2})
    running, most = [0], [0]
    lock = threading.Lock()
    real, real_async = orders.place_order, orders.place_order_async

    def counted(delta: int) -> None:
        with lock:
            running[0] += delta
            most[0] = max(most[0], running[0])

    def slow_place_order(*args: Any, **kwargs: Any) -> Any:
        counted(1)
        try:
            time.sleep(0.05)
            return real(*args, **kwargs)
        finally:
            counted(-1)

    async def slow_place_order_async(*args: Any, **kwargs: Any) -> Any:
        # PostgreSQL's captures run on the event loop (orders.place_order_async).
        counted(1)
        try:
            await asyncio.sleep(0.05)
            return await real_async(*args, **kwargs)
        finally:
            counted(-1)

    monkeypatch.setattr(orders, "place_order", slow_place_order)
    monkeypatch.setattr(orders, "place_order_async", slow_place_order_async)
    capture = OrderCapture(Fallback())

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        scope["app"] = app
        await capture(scope, receive, send)

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=asgi if path == "short" else app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            body = dict(order_body(), lines=[{"sku": "TEA-001", "quantity": 1}])
            headers = {"Authorization": f"Bearer {token}"}
            return await asyncio.gather(
                *(c.post("/api/v1/orders", json=body, headers=headers) for _ in range(5))
            )

    answers = asyncio.run(go())
    assert [r.status_code for r in answers] == [201] * 5
    assert most[0] == (5 if stocked.is_sqlite else 2)
    assert len(queries.list_orders(stocked, limit=10).items) == 5
