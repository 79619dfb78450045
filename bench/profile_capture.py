"""Where the time of one order goes: statements and round trips per order, time in the
database driver vs in Python, and (with --pyinstrument) a profile of the hot path.

    .venv/bin/python -m bench.profile_capture --backend postgresql --orders 500 [--http]

--http drives POST /api/v1/orders through the ASGI app in-process (FastAPI, validation,
auth, serialization included); without it, services.orders.place_order is called directly.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from typing import Any

from sqlalchemy import event

from bench import load, seed
from bench.server import database


class StatementCounter:
    def __init__(self, engines: list[Any]) -> None:
        self.statements: Counter = Counter()
        self.commits = 0
        self.db_time = 0.0
        self._t0: dict[int, float] = {}
        for engine in {id(e): e for e in engines}.values():
            event.listen(engine, "before_cursor_execute", self._before)
            event.listen(engine, "after_cursor_execute", self._after)
            event.listen(engine, "commit", self._commit)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self._t0[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.db_time += time.perf_counter() - self._t0.pop(id(cursor), time.perf_counter())
        self.statements[" ".join(statement.split())[:90]] += 1

    def _commit(self, conn: Any) -> None:
        self.commits += 1

    def reset(self) -> None:
        self.statements.clear()
        self.commits = 0
        self.db_time = 0.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--backend", default="postgresql")
    p.add_argument("--orders", type=int, default=300)
    p.add_argument("--http", action="store_true")
    p.add_argument("--pyinstrument", default="", help="write an HTML profile here")
    args = p.parse_args()

    from dingdan.config import Settings
    from dingdan.db.engine import Database
    from dingdan.services.orders import capture

    skus = seed.uniform_skus(200)
    with database(args.backend, "ddprof") as fresh:
        seed.load_catalog(fresh.url, skus, units=1_000_000)
        db = Database(fresh.url)
        counter = StatementCounter([db.engine, db.read_engine])
        rng = random.Random(1)
        if args.http:
            from fastapi.testclient import TestClient

            from dingdan.app import create_app
            from dingdan.services.access import accounts

            secret, _ = accounts.create_token(db, seed.ACTOR, "prof", "admin")
            app = create_app(Settings(database_url=fresh.url), db=db)
            client = TestClient(app)
            headers = {"Authorization": f"Bearer {secret}"}

            def place() -> None:
                r = client.post("/api/v1/orders", json=load.order_body(skus, rng), headers=headers)
                assert r.status_code == 201, r.text
        else:

            def place() -> None:
                capture.place_order(db, seed.ACTOR, load.order_body(skus, rng))

        for _ in range(50):  # warm caches (compiled statements, pools)
            place()
        seed.analyze(fresh.url)
        counter.reset()
        profiler = None
        if args.pyinstrument:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.orders):
            place()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if profiler:
            profiler.stop()
            with open(args.pyinstrument, "w") as f:
                f.write(profiler.output_html())
            print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000])
        n = args.orders
        total = sum(counter.statements.values())
        print(
            f"{args.backend} {'HTTP in-process' if args.http else 'service call'}: "
            f"{n / wall:.0f} orders/s, {wall / n * 1000:.2f} ms per order, one client"
        )
        print(
            f"statements per order: {total / n:.1f}, commits per order: {counter.commits / n:.1f}"
        )
        print(
            f"time in driver (execute + fetch-less): {counter.db_time / n * 1000:.2f} ms/order, "
            f"rest (Python, commit): {(wall - counter.db_time) / n * 1000:.2f} ms/order"
        )
        print(f"CPU of this process (Python + driver): {cpu / n * 1000:.2f} ms/order")
        for stmt, c in counter.statements.most_common():
            print(f"  {c / n:5.2f}  {stmt}")
        db.dispose()


if __name__ == "__main__":
    main()
