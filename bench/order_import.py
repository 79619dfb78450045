"""Historical order import at scale: a CSV of N orders (two lines each, 1,000 customers) written
here, then streamed and imported through ``services.catalog.order_imports`` (what `dingdan orders
import --historical` runs, without its progress bar), timed in its parts, with the CPU time the
import took in this process and in PostgreSQL's backends (per order: what a machine shared
with others does not change much), the process's peak RSS and the machine's load. `make
bench` runs it too (bench/run.py).

    .venv/bin/python -m bench.order_import --backend sqlite --orders 100000
    .venv/bin/python -m bench.order_import --backend postgresql --orders 100000
    .venv/bin/python -m bench.order_import --backend postgresql --orders 100000 --inserts
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dingdan import bootstrap
from dingdan.db.engine import Database
from dingdan.services.catalog import imports, order_imports, products
from dingdan.services.shared.common import SYSTEM

HEADER = order_imports.ORDER_COLUMNS


def write_file(path: Path, orders: int) -> int:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(orders):
            c = i % 1000
            day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} 10:{i % 60:02d}:00"
            common = ["web", f"H-{i}", day, "TWD", f"c{c}@example.com", f"09{c:08d}", f"客{c}"]
            addr = ["台北市", "100", "中正路1號", "60", "card"]
            w.writerow([*common, "TW", "BENCH-1", 1, "350.00", *addr])
            w.writerow([*common, "TW", "BENCH-2", 2, "120.00", *addr])
    return orders * 2


def measure(backend: str, orders: int, inserts: bool = False) -> dict[str, Any]:
    """One run: the file written, imported, imported again; every number of the table."""
    from bench.server import CpuSampler, database, pg_backends

    order_imports.COPY_ON_POSTGRESQL = not inserts
    with database(backend, "ddimport") as fresh, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        lines = write_file(path, orders)
        bootstrap.migrate(fresh.url)
        db = Database(fresh.url)
        try:
            for sku, price in (("BENCH-1", "350.00"), ("BENCH-2", "120.00")):
                products.create_product(
                    db, SYSTEM, {"sku": sku, "name": sku, "price": price, "currency": "TWD"}
                )
            size = path.stat().st_size
            load_before = os.getloadavg()[0]
            started = time.perf_counter()
            for _ in imports.stream_rows(path):  # one read of the file, for its time
                pass
            read = time.perf_counter() - started
            server = CpuSampler(
                (lambda: pg_backends(fresh.name)) if backend == "postgresql" else list
            ).start()
            cpu = time.process_time()
            started = time.perf_counter()

            def rows() -> Iterator[dict[str, str | None]]:
                return imports.stream_rows(path)  # as the CLI reads the file: twice, streamed

            result = order_imports.import_orders(db, SYSTEM, rows, historical=True)
            total = time.perf_counter() - started
            cpu = time.process_time() - cpu
            server_cpu = server.stop()
            again_started = time.perf_counter()
            again = order_imports.import_orders(db, SYSTEM, rows, historical=True)
            again_s = time.perf_counter() - again_started
            load_after = os.getloadavg()[0]
        finally:
            db.dispose()
    return {
        "backend": backend,
        "writes": "INSERT" if inserts or backend != "postgresql" else "COPY",
        "orders": result.imported,
        "lines": lines,
        "file_mb": round(size / 1e6, 1),
        "read_s": round(read, 1),
        "total_s": round(total, 1),
        "orders_per_s": round(result.imported / total),
        "cpu_ms_per_order": round(cpu * 1000 / max(result.imported, 1), 2),
        "server_cpu_ms_per_order": round(server_cpu * 1000 / max(result.imported, 1), 2),
        "again_s": round(again_s, 1),
        "again_added": again.imported,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load": [round(load_before, 1), round(load_after, 1)],
    }


def table(results: list[dict[str, Any]]) -> str:
    out = [
        "| backend | writes | orders | lines | file MB | read s | total s | orders/s "
        "| CPU ms/order: import / PostgreSQL | again s | max RSS MB "
        "| load average (1 min) before, after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        out.append(
            f"| {r['backend']} | {r['writes']} | {r['orders']:,} | {r['lines']:,} | "
            f"{r['file_mb']} | {r['read_s']} | {r['total_s']} | {r['orders_per_s']:,} | "
            f"{r['cpu_ms_per_order']} / {r['server_cpu_ms_per_order']} | "
            f"{r['again_s']} (added {r['again_added']}) | {r['max_rss_mb']} "
            f"| {r['load'][0]}, {r['load'][1]} |"
        )
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="sqlite")
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument(
        "--inserts", action="store_true", help="PostgreSQL: write by INSERTs, not COPY (as before)"
    )
    p.add_argument("--json", default="", help="write the numbers to this file")
    args = p.parse_args()
    result = measure(args.backend, args.orders, args.inserts)
    print(table([result]))
    if args.json:
        Path(args.json).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
