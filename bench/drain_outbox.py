"""How fast the worker drains an outbox backlog (a flash sale's order.created messages).

Each round writes N messages at once, then times ``worker.drain_outbox`` (claim a batch,
run the handlers with no transaction open, delete the handled ones and claim the next)
until the outbox is empty. The default handler only logs, so this is the queue's own cost.

    .venv/bin/python -m bench.drain_outbox [--messages 20000] [--rounds 3]
        [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import insert

from bench.server import database
from dingdan import bootstrap
from dingdan.db.engine import Database
from dingdan.db.tables import OutboxMessage
from dingdan.services.jobs import worker

PAYLOAD = {"number": "DD0001234", "total": "760.00", "currency": "TWD", "channel": "web"}


def _round(db: Database, messages: int) -> tuple[int, float]:
    rows = [{"topic": "order.created", "payload": PAYLOAD} for _ in range(messages)]
    db.write(lambda conn: conn.execute(insert(OutboxMessage), rows))
    start = time.perf_counter()
    drained = 0
    while True:
        done = worker.drain_outbox(db, budget=1e9)
        drained += done
        if not done:
            return drained, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print("| backend | round | messages | seconds | messages/s |")
    print("|---|---:|---:|---:|---:|")
    for backend in args.backends.split(","):
        with database(backend, prefix="dddrain") as fresh:
            bootstrap.migrate(fresh.url)
            db = Database(fresh.url)
            try:
                for i in range(args.rounds):
                    n, seconds = _round(db, args.messages)
                    print(f"| {backend} | {i + 1} | {n:,} | {seconds:.2f} | {n / seconds:,.0f} |")
            finally:
                db.dispose()


if __name__ == "__main__":
    main()
