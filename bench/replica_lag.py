"""How far a streaming replica falls behind while orders are captured on the primary, and what
reports read through it meanwhile (issue 24, part 10).

Orders are placed in-process (``capture.place_order``, the API's use case) by ``--threads``
threads for ``--seconds`` on a fresh PostgreSQL database; every 0.1 s a sampler reads the
primary's flushed WAL position and the replica's replayed one. The replica's lag in time at a
sample is how long ago the primary had first written WAL the replica has still not replayed
(0 when it has replayed everything the primary had); in bytes, the distance between the two
positions. A reader meanwhile asks the sales report through ``ReportsDatabase`` (the lag
measured at most every 5 s, the default) and counts where it was served and any error.

    .ci/replica start /tmp/dd-replica        # prints the replica's URL
    .venv/bin/python -m bench.replica_lag --replica-url postgresql+psycopg://postgres@127.0.0.1:5433/postgres
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from typing import Any, cast

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.load import order_body, percentile
from bench.seed import ACTOR, load_catalog, uniform_skus
from bench.server import database
from dingdan.db.engine import Database
from dingdan.db.replica import ReportsDatabase, lsn
from dingdan.domain.shared.errors import DomainError
from dingdan.services.orders import capture
from dingdan.services.reports import sales

FLUSHED = text("SELECT pg_current_wal_flush_lsn()::text")
REPLAYED = text("SELECT pg_last_wal_replay_lsn()::text")


def _wait_for(replica: Database, primary: Database) -> None:
    target = lsn(primary.read(lambda c: c.execute(FLUSHED).scalar_one()))
    deadline = time.monotonic() + 120
    while True:
        try:
            if lsn(replica.read(lambda c: c.execute(REPLAYED).scalar_one())) >= target:
                return
        except Exception:  # noqa: BLE001 - the database is not replayed yet
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the replica did not catch up within 120 s")
        time.sleep(0.05)


def run(replica_base: str, seconds: float, threads: int, skus: int) -> dict[str, Any]:
    with database("postgresql", "ddreplica") as fresh:
        catalog = uniform_skus(skus)
        load_catalog(fresh.url, catalog, 1_000_000)
        primary = Database(fresh.url, pool_size=threads + 4)
        url = make_url(replica_base).set(database=fresh.name)
        replica = Database(url.render_as_string(hide_password=False), pool_size=4)
        _wait_for(replica, primary)
        reports = ReportsDatabase(primary, replica, max_lag=30, check_every=5)
        stop = threading.Event()
        placed, refused = [0] * threads, [0] * threads
        samples: list[tuple[float, int, int]] = []  # (time, primary flushed, replica replayed)
        reads: dict[str, int] = {"replica": 0, "primary": 0, "errors": 0}
        read_ms: list[float] = []

        def place(i: int) -> None:
            rng = random.Random(i)
            while not stop.is_set():
                try:
                    capture.place_order(primary, ACTOR, order_body(catalog, rng))
                    placed[i] += 1
                except DomainError:  # two threads' first orders of one new customer: 409
                    refused[i] += 1

        def sample() -> None:
            while not stop.is_set():
                p = lsn(primary.read(lambda c: c.execute(FLUSHED).scalar_one()))
                r = lsn(replica.read(lambda c: c.execute(REPLAYED).scalar_one()))
                samples.append((time.monotonic(), p, r))
                time.sleep(0.1)

        def read() -> None:
            while not stop.is_set():
                where = "replica" if reports.verdict().replica else "primary"
                t0 = time.perf_counter()
                try:
                    # A ReportsDatabase reads as a Database does (the app passes it the same way).
                    sales.sales(cast(Database, reports), "day", None, None, "TWD")
                    reads[where] += 1
                    read_ms.append((time.perf_counter() - t0) * 1000)
                except Exception:  # noqa: BLE001 - counted, the run goes on
                    reads["errors"] += 1
                time.sleep(0.2)

        workers = [threading.Thread(target=place, args=(i,)) for i in range(threads)]
        workers += [threading.Thread(target=sample), threading.Thread(target=read)]
        t0 = time.monotonic()
        for w in workers:
            w.start()
        time.sleep(seconds)
        stop.set()
        for w in workers:
            w.join()
        elapsed = time.monotonic() - t0
        lag_s = [
            t - next((ti for ti, pi, _ in samples if pi > r and ti <= t), t) for t, _, r in samples
        ]
        lag_bytes = [max(0, p - r) for _, p, r in samples]
        reports.dispose()
        primary.dispose()
        return {
            "orders/s": round(sum(placed) / elapsed, 1),
            "refused (409)": sum(refused),
            "samples": len(samples),
            "lag s p50/p95/max": (
                round(percentile(lag_s, 50), 2),
                round(percentile(lag_s, 95), 2),
                round(max(lag_s), 2),
            ),
            "lag KiB p50/p95/max": (
                round(percentile(lag_bytes, 50) / 1024, 1),
                round(percentile(lag_bytes, 95) / 1024, 1),
                round(max(lag_bytes) / 1024, 1),
            ),
            "report reads": reads,
            "report ms p50/p95": (
                round(percentile(read_ms, 50), 1) if read_ms else None,
                round(percentile(read_ms, 95), 1) if read_ms else None,
            ),
            "reports' lag checks": reports.checks,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replica-url", required=True, help="the replica (any database on it)")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--skus", type=int, default=500)
    a = ap.parse_args()
    for key, value in run(a.replica_url, a.seconds, a.threads, a.skus).items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
