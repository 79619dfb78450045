"""A bounded async HTTP load client (httpx): C concurrent clients, each sending one request
after the other on its own keep-alive connection, for a fixed time.

Every response is counted by kind (status code + problem code); latencies are kept for
percentiles. The client stops by itself when the duration is over (in-flight requests are
allowed to finish within the request timeout).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

NAMES = ["王小明", "陳美玲", "林志豪", "張雅婷", "李建國", "黃淑芬", "吳家豪", "劉怡君"]
CITIES = [("台北市", "110"), ("台中市", "407"), ("高雄市", "800"), ("新北市", "220")]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


@dataclass
class Result:
    clients: int
    duration: float
    latencies: list[float] = field(default_factory=list)  # seconds, every answered request
    kinds: Counter = field(default_factory=Counter)  # "201", "409 insufficient_stock", ...
    units: Counter = field(default_factory=Counter)  # sku -> units allocated in 201 answers

    @property
    def ok(self) -> int:
        return sum(v for k, v in self.kinds.items() if k.startswith("2"))

    @property
    def rate(self) -> float:
        return self.ok / self.duration if self.duration else 0.0

    def pct_ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000

    @property
    def errors(self) -> dict[str, int]:
        return {k: v for k, v in sorted(self.kinds.items()) if not k.startswith("2")}

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "duration_s": round(self.duration, 2),
            "orders": self.ok,
            "orders_per_s": round(self.rate, 1),
            "p50_ms": round(self.pct_ms(50), 1),
            "p95_ms": round(self.pct_ms(95), 1),
            "p99_ms": round(self.pct_ms(99), 1),
            "errors": self.errors,
        }


def order_body(skus: list[str], rng: random.Random, lines: int = 3, customers: int = 5000) -> dict:
    """An order of ``lines`` distinct SKUs from ``skus``, one unit each."""
    picked = rng.sample(skus, min(lines, len(skus)))
    n = rng.randrange(customers)
    name = NAMES[n % len(NAMES)]
    city, postal = CITIES[n % len(CITIES)]
    phone = f"+8869{20000000 + n:08d}"  # one per customer: Dingdan matches customers by phone
    return {
        "channel": "web",
        "currency": "TWD",
        "customer": {"email": f"bench{n}@example.com", "name": name, "phone": phone},
        "shipping_address": {
            "name": name,
            "line1": f"信義路五段{n % 200 + 1}號",
            "city": city,
            "postal_code": postal,
            "country": "TW",
            "phone": phone,
        },
        "lines": [{"sku": s, "quantity": 1} for s in picked],
        "shipping_price": "60.00",
        "payment_method": "bank_transfer",
    }


def _kind(resp: httpx.Response) -> str:
    if resp.status_code < 300:
        return str(resp.status_code)
    code = ""
    if "json" in resp.headers.get("content-type", ""):
        try:
            code = resp.json().get("code", "")
        except ValueError:
            code = "not-json"
    return f"{resp.status_code} {code}".strip()


async def _run(
    base_url: str,
    token: str,
    clients: int,
    duration: float,
    make_request: Callable[[random.Random], tuple[str, str, dict | None]],
    seed: int,
    timeout: float,
) -> Result:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    result = Result(clients, duration)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=timeout
    ) as http:
        start = time.perf_counter()
        stop_at = start + duration

        async def client(i: int) -> None:
            rng = random.Random(seed * 1000 + i)
            while time.perf_counter() < stop_at:
                method, path, body = make_request(rng)
                t0 = time.perf_counter()
                try:
                    resp = await http.request(method, path, json=body)
                except httpx.HTTPError as exc:
                    result.kinds[f"transport {type(exc).__name__}"] += 1
                    continue
                result.latencies.append(time.perf_counter() - t0)
                kind = _kind(resp)
                result.kinds[kind] += 1
                if kind == "201" and method == "POST" and path.endswith("/orders"):
                    for a in resp.json().get("allocations", []):
                        result.units[a["sku"]] += a["quantity"]

        await asyncio.gather(*(client(i) for i in range(clients)))
        result.duration = time.perf_counter() - start
    return result


def run_orders(
    base_url: str,
    token: str,
    skus: list[str],
    clients: int,
    duration: float,
    *,
    seed: int = 1,
    timeout: float = 30.0,
) -> Result:
    """POST /api/v1/orders from ``clients`` concurrent clients for ``duration`` seconds."""

    def make(rng: random.Random) -> tuple[str, str, dict | None]:
        return "POST", "/api/v1/orders", order_body(skus, rng)

    return asyncio.run(_run(base_url, token, clients, duration, make, seed, timeout))


def run_gets(
    base_url: str,
    token: str,
    paths: list[str],
    clients: int,
    duration: float,
    *,
    seed: int = 1,
    timeout: float = 30.0,
) -> Result:
    def make(rng: random.Random) -> tuple[str, str, dict | None]:
        return "GET", rng.choice(paths), None

    return asyncio.run(_run(base_url, token, clients, duration, make, seed, timeout))


def timed_gets(base_url: str, token: str, path: str, n: int, timeout: float = 30.0) -> Result:
    """``n`` sequential GETs of one path (one client): latency of a page a person waits for."""
    result = Result(1, 0.0)
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
    ) as http:
        start = time.perf_counter()
        for _ in range(n):
            t0 = time.perf_counter()
            resp = http.get(path)
            result.latencies.append(time.perf_counter() - t0)
            result.kinds[_kind(resp)] += 1
        result.duration = time.perf_counter() - start
    return result
