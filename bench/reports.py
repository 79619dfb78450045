"""The reports at scale (issue 24, part 9): a generated shop of N orders (bench/generate.py),
the daily rollups rebuilt from it (`dingdan reports rebuild`'s function), then every report
asked `--repeat` times over the last 30 days, the last year and the whole two years (to the
shop's last day, 31 December, and to 15 November: ragged ends), through the service
functions the API calls (no HTTP): p50 and p95 in milliseconds.

    .venv/bin/python -m bench.reports --backends postgresql,sqlite --orders 1000000

A shop kept between runs (generate once, roll up once, measure again after a change):

    .venv/bin/python -m bench.reports --url sqlite:////path/r.db --orders 1000000 \\
        --generate --rebuild
    .venv/bin/python -m bench.reports --url sqlite:////path/r.db
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import make_url

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


def _ranges(ragged: bool = True) -> dict[str, tuple[str, str]]:
    """30, 365 and 730 days to the generated shop's last day (31 December: whole months and
    years), and, with ``ragged``, the same to 15 November (ragged ends: the worst case)."""
    out = {}
    ends = {"": local_day(START + SPAN)}
    if ragged:
        ends[" to 15 Nov"] = ends[""].replace(month=11, day=15)
    for suffix, end in ends.items():
        for days in (30, 365, 730):
            start = max(local_day(START), end - timedelta(days=days - 1))
            out[f"{days} days{suffix}"] = (start.isoformat(), end.isoformat())
    return out


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(
    url: str, repeat: int, ragged: bool = True, only: set[str] | None = None
) -> dict[str, Any]:
    db = Database(url)
    out: dict[str, Any] = {}
    for label, (a, b) in _ranges(ragged).items():
        for name, report in REPORTS.items():
            if only and name not in only:
                continue
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


def _rebuild_part(url: str, backend: str, batch: int, after: int, until: int | None) -> int:
    db = Database(url)
    t0 = time.perf_counter()
    step = max(1, 100_000 // batch)

    def progress(done: int, total: int) -> None:
        if (done // batch) % step == 0:
            print(f"  {backend} ({after}..{until}): rolled up {done:,} of {total:,} orders "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip

    try:
        return rollups.rebuild(db, batch=batch, progress=progress, after=after, until=until)
    finally:
        db.dispose()


def rebuild(url: str, backend: str, batch: int, processes: int = 1) -> tuple[int, float, int]:
    """The rollups rebuilt from the orders (``dingdan reports rebuild``'s function; on
    PostgreSQL in ``processes`` processes, each a range of order ids), then analysed:
    (orders changed, seconds, rows in ``report_daily``)."""
    db = Database(url)
    t0 = time.perf_counter()
    if processes > 1 and backend == "postgresql":
        top = int(db.read(lambda c: c.exec_driver_sql("SELECT MAX(id) FROM orders").scalar()) or 0)
        cuts = [top * i // processes for i in range(processes + 1)]
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(processes) as pool:
            parts = [(url, backend, batch, cuts[i], cuts[i + 1]) for i in range(processes)]
            changed = sum(pool.starmap(_rebuild_part, parts))
    else:
        changed = _rebuild_part(url, backend, batch, 0, None)
    rebuild_s = time.perf_counter() - t0
    rows = db.read(lambda c: c.exec_driver_sql("SELECT COUNT(*) FROM report_daily").scalar())
    if backend == "postgresql":
        # VACUUM too: the rebuild updated each month's and year's rows once per batch, and an
        # index scan walks their dead versions until (auto)vacuum clears them.
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for t in ("report_daily", "report_monthly", "report_yearly", "report_order_facts"):
                conn.exec_driver_sql(f"VACUUM ANALYZE {t}")
    else:
        db.write(lambda c: c.exec_driver_sql("ANALYZE"))
    db.dispose()
    print(f"{backend}: rebuilt the rollups of {changed:,} orders in {rebuild_s:.0f} s "
          f"({changed / max(rebuild_s, 0.001):,.0f} orders/s); report_daily: {rows:,} rows",
          flush=True)  # fmt: skip
    return changed, rebuild_s, int(rows or 0)


ROLLUP_TABLES = {
    "report_daily": "dimension, day, currency, key, orders, units, revenue_minor",
    "report_monthly": "dimension, month, currency, key, orders, units, revenue_minor",
    "report_yearly": "dimension, year, currency, key, orders, units, revenue_minor",
    "report_order_facts": "order_id, day, currency, rows",
}


def copy_rollups(source: str, target: str) -> float:
    """The rollups of ``source`` (a SQLite file's URL, rebuilt from the same generated
    orders: same seed, same ids) copied into ``target`` (PostgreSQL, its rollups emptied):
    the seconds taken. ``check_copy`` then shows they are the target's own."""
    import sqlite3

    import psycopg

    t0 = time.perf_counter()
    src = sqlite3.connect(make_url(source).database or "")
    with psycopg.connect(make_url(target).set(drivername="postgresql").render_as_string(
            hide_password=False)) as pg:  # fmt: skip
        for name in ROLLUP_TABLES:
            pg.execute(f"DELETE FROM {name}")
        for name, cols in ROLLUP_TABLES.items():
            with pg.cursor() as cur, cur.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
                for row in src.execute(f"SELECT {cols} FROM {name}"):
                    copy.write_row(row)
            print(f"  copied {name} ({time.perf_counter() - t0:.0f} s)", flush=True)
        pg.commit()
        pg.autocommit = True
        for name in ROLLUP_TABLES:
            pg.execute(f"VACUUM ANALYZE {name}")
    src.close()
    return time.perf_counter() - t0


def check_copy(source: str, target: str, sample: int = 2000) -> dict[str, Any]:
    """That the two databases hold the same orders (count, totals, refunds, ids and customers
    agree) and that ``target``'s own rebuild of ``sample`` orders spread over its ids
    changes none of them (each order's copied share is the one its orders make there)."""
    query = (
        "SELECT COUNT(*), SUM(total_minor), SUM(refunded_minor), SUM(id), "
        "COUNT(DISTINCT customer_id) FROM orders"
    )
    dbs = [Database(source), Database(target)]
    sums = [
        tuple(int(v or 0) for v in d.read(lambda c: c.exec_driver_sql(query).one())) for d in dbs
    ]
    db = dbs[1]
    top = int(db.read(lambda c: c.exec_driver_sql("SELECT MAX(id) FROM orders").scalar()) or 0)
    changed, step = 0, max(1, top // 20)
    for start in range(0, top, step):  # 20 runs of sample / 20 consecutive orders
        changed += rollups.rebuild(db, batch=sample // 20, after=start, until=start + sample // 20)
    for d in dbs:
        d.dispose()
    return {"orders_equal": sums[0] == sums[1], "sums": sums[1], "sample_changed": changed}


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def run(backend: str, orders: int, repeat: int, batch: int, ragged: bool = True) -> dict[str, Any]:
    with database(backend, "ddreports") as fresh:
        info = generate(fresh.url, orders)
        print(f"{backend}: generated {orders:,} orders ({info['rows']:,} rows) in "
              f"{info['load_s']} s + analyze {info['analyze_s']} s", flush=True)  # fmt: skip
        changed, rebuild_s, rows = rebuild(fresh.url, backend, batch)
        return _measured(fresh.url, backend, orders, repeat, ragged,
                         {"rebuild_s": round(rebuild_s, 1), "rollup_rows": rows})  # fmt: skip


def _measured(
    url: str,
    backend: str,
    orders: int,
    repeat: int,
    ragged: bool,
    extra: dict[str, Any],
    only: set[str] | None = None,
) -> dict[str, Any]:
    before = _load()
    t0 = time.perf_counter()
    times = measure(url, repeat, ragged, only)
    print(f"{backend}: measured in {time.perf_counter() - t0:.0f} s, load average (1/5/15 min) "
          f"{before} before, {_load()} after", flush=True)  # fmt: skip
    return {"backend": backend, "orders": orders, "times": times, **extra}


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
    p.add_argument("--no-ragged", action="store_true", help="only the ranges to 31 December")
    p.add_argument("--url", help="a database to keep (one backend): generated into when "
                   "--generate, rolled up when --rebuild, then measured")  # fmt: skip
    p.add_argument("--generate", action="store_true")
    p.add_argument("--rebuild", action="store_true")
    p.add_argument("--processes", type=int, default=1, help="rebuild processes (PostgreSQL)")
    p.add_argument("--no-measure", action="store_true")
    p.add_argument("--only", help="comma list of report names to measure (--url only)")
    p.add_argument("--copy-rollups-from",
                   help="a SQLite URL of the same generated shop whose rebuilt rollups --url "
                   "(PostgreSQL) takes, checked by a sample rebuild")  # fmt: skip
    p.add_argument("--json", help="append the results to this file (one JSON line)")
    args = p.parse_args()
    results = []
    if args.url:
        backend = make_url(args.url).get_backend_name()
        if args.generate:
            info = generate(args.url, args.orders)
            print(f"{backend}: generated {args.orders:,} orders ({info['rows']:,} rows) in "
                  f"{info['load_s']} s + analyze {info['analyze_s']} s", flush=True)  # fmt: skip
        extra: dict[str, Any] = {}
        if args.copy_rollups_from:
            copy_s = copy_rollups(args.copy_rollups_from, args.url)
            check = check_copy(args.copy_rollups_from, args.url)
            print(f"{backend}: rollups copied in {copy_s:.0f} s; {check}", flush=True)
            extra = {"copied_s": round(copy_s, 1), "check": check}
        if args.rebuild:
            _changed, rebuild_s, rows = rebuild(args.url, backend, args.batch, args.processes)
            extra = {"rebuild_s": round(rebuild_s, 1), "rollup_rows": rows}
        if not args.no_measure:
            count = Database(args.url)
            orders = count.read(lambda c: c.exec_driver_sql("SELECT COUNT(*) FROM orders").scalar())
            count.dispose()
            only = {r.strip() for r in args.only.split(",")} if args.only else None
            results.append(_measured(args.url, backend, int(orders or 0), args.repeat,
                                     not args.no_ragged, extra, only))  # fmt: skip
    else:
        for backend in args.backends.split(","):
            if backend == "postgresql" and not pg_available():
                print("PostgreSQL is not reachable: skipped")
                continue
            results.append(run(backend, args.orders, args.repeat, args.batch,
                               not args.no_ragged))  # fmt: skip
    if results:
        print(table(results), flush=True)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as f:
                for r in results:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
