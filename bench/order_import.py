"""Historical order import at scale: a CSV of N orders (two lines each, 1,000 customers) written
here, then streamed and imported through ``services.catalog.order_imports`` (what `dingdan orders
import --historical` runs, without its progress bar), timed in its parts, with the process's
peak RSS.

    .venv/bin/python -m bench.order_import --backend sqlite --orders 100000
    .venv/bin/python -m bench.order_import --backend postgresql --orders 100000
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

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


def main() -> None:
    from bench.server import database

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="sqlite")
    p.add_argument("--orders", type=int, default=100_000)
    args = p.parse_args()
    with database(args.backend, "ddimport") as fresh, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        lines = write_file(path, args.orders)
        bootstrap.migrate(fresh.url)
        db = Database(fresh.url)
        try:
            for sku, price in (("BENCH-1", "350.00"), ("BENCH-2", "120.00")):
                products.create_product(
                    db, SYSTEM, {"sku": sku, "name": sku, "price": price, "currency": "TWD"}
                )
            size = path.stat().st_size
            started = time.perf_counter()
            for _ in imports.stream_rows(path):  # one read of the file, for its time
                pass
            read = time.perf_counter() - started
            started = time.perf_counter()

            def rows() -> Iterator[dict[str, str | None]]:
                return imports.stream_rows(path)  # as the CLI reads the file: twice, streamed

            result = order_imports.import_orders(db, SYSTEM, rows, historical=True)
            total = time.perf_counter() - started
            again_started = time.perf_counter()
            again = order_imports.import_orders(db, SYSTEM, rows, historical=True)
            again_s = time.perf_counter() - again_started
        finally:
            db.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        "| backend | orders | lines | file MB | read s | total s | orders/s | again s "
        "| max RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.backend} | {result.imported:,} | {lines:,} | "
        f"{size / 1e6:.1f} | {read:.1f} | {total:.1f} | "
        f"{result.imported / total:,.0f} | {again_s:.1f} (added {again.imported}) | {rss:.0f} |"
    )


if __name__ == "__main__":
    main()
