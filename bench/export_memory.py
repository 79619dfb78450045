"""Exports at scale: N orders (bench/generate.py, default 100,000) exported as CSV and XLSX
through ``services.reports.exports`` (the API's and the pages' path, without HTTP), with
tracemalloc's peak (Python allocations) and the process's peak RSS, the time and the size.

    .venv/bin/python -m bench.export_memory --backend sqlite --orders 100000 [--formats csv]

tracemalloc slows Python down about twice; ``--no-trace`` measures the time without it.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from typing import Any

from dingdan.db.engine import Database
from dingdan.services.reports import exports
from dingdan.services.shared.common import SYSTEM


def export_once(url: str, kind: str, fmt: str, trace: bool) -> dict[str, Any]:
    db = Database(url)
    try:
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        size = sum(len(c) for c in exports.start(db, SYSTEM, kind, fmt, {}).chunks)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace else None
        if trace:
            tracemalloc.stop()
    finally:
        db.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "kind": kind,
        "format": fmt,
        "bytes": size,
        "seconds": round(seconds, 1),
        "traced_peak_mb": None if peak is None else round(peak / 1e6, 1),
        "max_rss_mb": round(rss / 1024, 1),
    }


def main() -> None:
    from bench.generate import generate
    from bench.server import database

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="sqlite")
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--kinds", default="orders")
    p.add_argument("--formats", default="csv,xlsx")
    p.add_argument("--no-trace", action="store_true")
    args = p.parse_args()
    with database(args.backend, "ddexport") as fresh:
        print(generate(fresh.url, args.orders), flush=True)
        print("| kind | format | MB | s | tracemalloc peak MB | max RSS MB |")
        print("|---|---|---|---|---|---|")
        for kind in args.kinds.split(","):
            for fmt in args.formats.split(","):
                r = export_once(fresh.url, kind, fmt, not args.no_trace)
                print(
                    f"| {kind} | {fmt} | {r['bytes'] / 1e6:.1f} | {r['seconds']} | "
                    f"{r['traced_peak_mb']} | {r['max_rss_mb']} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
