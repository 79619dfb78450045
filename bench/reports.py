"""The reports at scale (issue 24, part 9): a generated shop of N orders (bench/generate.py),
the daily rollups rebuilt from it (`dingdan reports rebuild`'s function), then every report
asked `--repeat` times over the last 30 days, the last year and the whole two years, through
the service functions the API calls (no HTTP): p50 and p95 in milliseconds.

    .venv/bin/python -m bench.reports --backends postgresql,sqlite --orders 1000000
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench.generate import SPAN, START, generate
from bench.server import database, pg_available
from dingdan.db.engine import Database
from dingdan.services.reports import carrier_reports, kpis, rollups, sales, stockouts, top
from dingdan.services.reports.rollup_facts import local_day

REPORTS: dict[str, Callable[[Database, str, str], Any]] = {
    "sales by day": lambda db, a, b: sales.sales(db, "day", a, b, "TWD"),
    "sales by month": lambda db, a, b: sales.sales(db, "month", a, b, "TWD"),
    "sales by channel": lambda db, a, b: sales.sales(db, "channel", a, b, "TWD"),
    "sales by region": lambda db, a, b: sales.sales(db, "region", a, b, "TWD"),
    "sales by product": lambda db, a, b: sales.sales(db, "product", a, b, "TWD"),
    "sales by category": lambda db, a, b: sales.sales(db, "category", a, b, "TWD"),
    "sales by customer (page 1)": lambda db, a, b: sales.sales(db, "customer", a, b, "TWD"),
    "heat map": lambda db, a, b: sales.heatmap(db, a, b, "TWD"),
    "top 10 products": lambda db, a, b: top.top(db, "products", "revenue", 10, a, b, "TWD"),
    "top 10 customers": lambda db, a, b: top.top(db, "customers", "revenue", 10, a, b, "TWD"),
    "top weekdays": lambda db, a, b: top.top(db, "weekdays", "orders", 7, a, b, "TWD"),
    "kpis": lambda db, a, b: kpis.kpis(db, a, b, "TWD"),
    "carriers": lambda db, a, b: carrier_reports.carriers(db, a, b, "TWD"),
    "stockouts": lambda db, a, b: stockouts.stockouts(db, a, b, "TWD"),
}


def _ranges() -> dict[str, tuple[str, str]]:
    end = local_day(START + SPAN)
    return {
        "30 days": ((end - timedelta(days=29)).isoformat(), end.isoformat()),
        "365 days": ((end - timedelta(days=364)).isoformat(), end.isoformat()),
        "730 days": (local_day(START).isoformat(), end.isoformat()),
    }


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(url: str, repeat: int) -> dict[str, Any]:
    db = Database(url)
    out: dict[str, Any] = {}
    for label, (a, b) in _ranges().items():
        for name, report in REPORTS.items():
            report(db, a, b)  # warm
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                report(db, a, b)
                times.append((time.perf_counter() - t0) * 1000)
            out[f"{name} | {label}"] = (round(statistics.median(times), 1),
                                        round(_pct(times, 95), 1))  # fmt: skip
    db.dispose()
    return out


def run(backend: str, orders: int, repeat: int, batch: int) -> dict[str, Any]:
    with database(backend, "ddreports") as fresh:
        info = generate(fresh.url, orders)
        print(f"{backend}: generated {orders:,} orders ({info['rows']:,} rows) in "
              f"{info['load_s']} s + analyze {info['analyze_s']} s", flush=True)  # fmt: skip
        db = Database(fresh.url)
        t0 = time.perf_counter()
        changed = rollups.rebuild(db, batch=batch)
        rebuild_s = time.perf_counter() - t0
        rows = db.read(lambda c: c.exec_driver_sql("SELECT COUNT(*) FROM report_daily").scalar())
        if backend == "postgresql":
            db.write(lambda c: c.exec_driver_sql("ANALYZE report_daily"))
        else:
            db.write(lambda c: c.exec_driver_sql("ANALYZE"))
        db.dispose()
        print(f"{backend}: rebuilt the rollups of {changed:,} orders in {rebuild_s:.0f} s "
              f"({changed / rebuild_s:,.0f} orders/s); report_daily: {rows:,} rows",
              flush=True)  # fmt: skip
        times = measure(fresh.url, repeat)
        return {"backend": backend, "orders": orders, "rebuild_s": round(rebuild_s, 1),
                "rollup_rows": rows, "times": times}  # fmt: skip


def table(results: list[dict[str, Any]]) -> str:
    head = ["report | range"] + [f"{r['backend']} p50 / p95 ms" for r in results]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in results[0]["times"]:
        cells = [f"{r['times'][key][0]} / {r['times'][key][1]}" for r in results]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--backends", default="postgresql,sqlite")
    p.add_argument("--orders", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--batch", type=int, default=2000)
    args = p.parse_args()
    results = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and not pg_available():
            print("PostgreSQL is not reachable: skipped")
            continue
        results.append(run(backend, args.orders, args.repeat, args.batch))
        print(table(results), flush=True)


if __name__ == "__main__":
    main()
