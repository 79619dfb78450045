"""A bounded async HTTP load client (httpx): C concurrent clients, each sending one request
after the other on its own keep-alive connection, for a fixed time.

Every response is counted by kind (status code + problem code); latencies are kept for
percentiles. The client stops by itself when the duration is over (in-flight requests are
allowed to finish within the request timeout).

Two clients: ``httpx`` (the issue's client) and ``raw``, a minimal HTTP/1.1 keep-alive client
on asyncio streams (the request encoded by hand, the answer read by its Content-Length).
httpx itself costs about 2.7 ms of CPU per request on this machine, so on two cores it caps
what can be measured at a few hundred requests per second whatever the server does; ``raw``
costs a fraction of that and shows the server's own capacity. Every result carries the
client's CPU per request (``client_cpu_ms``).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

NAMES = ["王小明", "陳美玲", "林志豪", "張雅婷", "李建國", "黃淑芬", "吳家豪", "劉怡君"]
CITIES = [("台北市", "110"), ("台中市", "407"), ("高雄市", "800"), ("新北市", "220")]


def percentile(values: Sequence[float], p: float) -> float:
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
    client_cpu: float = 0.0  # seconds of this process's CPU while the load ran

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

    def count(self, t0: float, kind: str, method: str, path: str, content: bytes) -> None:
        """One answer: its latency since ``t0``, its kind, and the units a new order got."""
        self.latencies.append(time.perf_counter() - t0)
        self.kinds[kind] += 1
        if kind == "201" and method == "POST" and path.endswith("/orders"):
            for a in json.loads(content).get("allocations", []):
                self.units[a["sku"]] += a["quantity"]

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
            "client_cpu_ms": round(self.client_cpu * 1000 / max(len(self.latencies), 1), 2),
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


class RawConnection:
    """One keep-alive HTTP/1.1 connection: write a request, read one answer."""

    def __init__(self, host: str, port: int, headers: str) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict | None) -> tuple[int, dict, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        head = f"{method} {path} HTTP/1.1\r\n{self.headers}Content-Length: {len(data)}\r\n\r\n"
        self.writer.write(head.encode() + data)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            content = b"".join(chunks)
        else:
            content = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection") == "close":
            self.close()
        return status, headers, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _raw_kind(status: int, headers: dict, content: bytes) -> str:
    if status < 300:
        return str(status)
    code = ""
    if "json" in headers.get("content-type", ""):
        try:
            code = json.loads(content).get("code", "")
        except ValueError:
            code = "not-json"
    return f"{status} {code}".strip()


async def _run_raw(
    base_url: str,
    token: str,
    clients: int,
    duration: float,
    make_request: Callable[[random.Random], tuple[str, str, dict | None]],
    seed: int,
    timeout: float,
) -> Result:
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    headers = (
        f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\n"
    )
    result = Result(clients, duration)
    start = time.perf_counter()
    stop_at = start + duration

    async def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        conn = RawConnection(host, port, headers)
        try:
            while time.perf_counter() < stop_at:
                method, path, body = make_request(rng)
                t0 = time.perf_counter()
                try:
                    status, got, content = await asyncio.wait_for(
                        conn.request(method, path, body), timeout
                    )
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                    result.kinds[f"transport {type(exc).__name__}"] += 1
                    conn.close()
                    continue
                result.count(t0, _raw_kind(status, got, content), method, path, content)
        finally:
            conn.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    result.duration = time.perf_counter() - start
    return result


def _measured(runner: Callable[..., Any], *args: Any) -> Result:
    cpu = time.process_time()
    result: Result = asyncio.run(runner(*args))
    result.client_cpu = time.process_time() - cpu
    return result


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
                result.count(t0, _kind(resp), method, path, resp.content)

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
    client: str = "httpx",
) -> Result:
    """POST /api/v1/orders from ``clients`` concurrent clients for ``duration`` seconds."""

    def make(rng: random.Random) -> tuple[str, str, dict | None]:
        return "POST", "/api/v1/orders", order_body(skus, rng)

    runner = _run_raw if client == "raw" else _run
    return _measured(runner, base_url, token, clients, duration, make, seed, timeout)


def run_gets(
    base_url: str,
    token: str,
    paths: list[str],
    clients: int,
    duration: float,
    *,
    seed: int = 1,
    timeout: float = 30.0,
    client: str = "httpx",
) -> Result:
    def make(rng: random.Random) -> tuple[str, str, dict | None]:
        return "GET", rng.choice(paths), None

    runner = _run_raw if client == "raw" else _run
    return _measured(runner, base_url, token, clients, duration, make, seed, timeout)


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
