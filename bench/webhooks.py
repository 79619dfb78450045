"""Order capture while webhooks go out: no endpoint, an endpoint answering after 2 s, and
one that is down (connection refused). A failing or slow endpoint must not slow capture:
the sender posts from its own threads, outside any transaction.

Each case: a fresh database with the catalog, `dingdan serve` (its worker thread fans the
events out and sends), ``--clients`` clients posting orders for ``--seconds``; then the
deliveries by status (the slow endpoint's backlog is still draining).

    .venv/bin/python -m bench.webhooks [--seconds 10] [--clients 16]
        [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import func, select

from bench import load, seed
from bench.server import Server, create_token, database, free_port
from dingdan.db.engine import Database
from dingdan.db.tables import table_of
from dingdan.db.webhook_tables import WebhookDelivery, WebhookEndpoint
from dingdan.domain.shared import standard_webhooks as signing

SKUS = seed.uniform_skus(200)


class SlowHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        time.sleep(2.0)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _endpoint(url: str, case: str) -> str | None:
    """The endpoint's URL for ``case``, with the receiver started (None: no endpoint)."""
    if case == "none":
        return None
    if case == "down":
        return f"http://127.0.0.1:{free_port()}/hooks"  # nothing listens there
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hooks"


def _register(db_url: str, url: str) -> None:
    # Written directly: the endpoint is on 127.0.0.1, which only the env of `serve` allows.
    db = Database(db_url)
    try:
        db.write(
            lambda c: c.execute(
                table_of(WebhookEndpoint)
                .insert()
                .values(
                    url=url,
                    events=["*"],
                    description="bench",
                    status="active",
                    secret=signing.new_secret(),
                )
            )
        )
    finally:
        db.dispose()


def _deliveries(db_url: str) -> dict[str, int]:
    db = Database(db_url)
    try:
        rows = db.read(
            lambda c: c.execute(
                select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
            ).all()
        )
        return {status: n for status, n in rows}
    finally:
        db.dispose()


def run_case(backend: str, case: str, clients: int, seconds: float) -> dict[str, Any]:
    with database(backend, prefix="ddhook") as fresh:
        seed.load_catalog(fresh.url, SKUS, 100_000)
        url = _endpoint(fresh.url, case)
        if url:
            _register(fresh.url, url)
        token = create_token(fresh.url)
        env = {"DINGDAN_WEBHOOK_ALLOW_PRIVATE": "true"}
        with Server(fresh.url, workers=1, extra_env=env).start() as server:
            load.run_orders(server.base_url, token, SKUS, 2, 1.0)  # warm up
            result = load.run_orders(server.base_url, token, SKUS, clients, seconds)
            time.sleep(2.0)  # a worker round or two after the load
            deliveries = _deliveries(fresh.url)
        return {"backend": backend, "case": case, **result.as_dict(), "deliveries": deliveries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print("| backend | endpoint | orders/s | p50 ms | p95 ms | errors | deliveries 2 s after |")
    print("|---|---|---:|---:|---:|---|---|")
    for backend in args.backends.split(","):
        for case in ("none", "slow", "down"):
            r = run_case(backend, case, args.clients, args.seconds)
            said = {"none": "none", "slow": "answers in 2 s", "down": "down (refused)"}[case]
            shown = ", ".join(f"{k} {v}" for k, v in sorted(r["deliveries"].items())) or "-"
            print(
                f"| {backend} | {said} | {r['orders_per_s']:,.0f} | {r['p50_ms']:.1f} | "
                f"{r['p95_ms']:.1f} | {r['errors'] or '-'} | {shown} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
