"""`make bench`: Dingdan's order capture against PostgreSQL's own limit, in one run.

1. the limit: pgbench with Dingdan's order-capture transaction (bench/pgbench_limit.py);
2. Dingdan over HTTP (`dingdan serve --workers N`) on PostgreSQL and SQLite, loaded by a
   bounded async client at 1/4/16/64 clients, uniform over many SKUs and hot (10 SKUs),
   then the ledger checks (nothing oversold, verify exact, reserved = allocations);
3. scale (bench/generate.py): capture, list/search and dashboard queries at N stored orders;
4. the historical order import of N orders on each backend (bench/order_import.py, each in a
   process of its own, so that its peak RSS is its own).

Prints markdown tables; --json writes every number. Durations are flags: --quick fits in
about ten minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load, pgbench_limit, seed  # noqa: E402
from bench.server import (  # noqa: E402
    CpuSampler,
    Server,
    create_token,
    database,
    pg_available,
    pg_backends,
)

SELL_OUT_UNITS = 30


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadavg_at_start": os.getloadavg(),
    }
    try:
        with open("/proc/meminfo") as f:
            info["mem_total_mb"] = int(f.readline().split()[1]) // 1024
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?"
            )
    except OSError:
        pass
    if pg_available():
        import psycopg

        from bench.server import PG_BASE, _pg_dsn

        with psycopg.connect(_pg_dsn(PG_BASE)) as conn:
            for name in (
                "server_version",
                "shared_buffers",
                "synchronous_commit",
                "max_connections",
            ):
                row = conn.execute(f"SHOW {name}").fetchone()
                assert row is not None  # SHOW always answers one row
                key = "postgresql" if name == "server_version" else f"pg_{name}"
                info[key] = row[0]
    return info


def run_limit(args: argparse.Namespace) -> list[dict[str, Any]]:
    if not pg_available():
        print("PostgreSQL is not reachable: pgbench limit skipped", file=sys.stderr)
        return []
    if pgbench_limit.pgbench_path() is None:
        print("pgbench not found (apt-get install postgresql-contrib): skipped", file=sys.stderr)
        return []
    out = []
    with database("postgresql", "ddpgbench") as fresh:
        pgbench_limit.seed(fresh, args.uniform_skus)
        points = [("shape", 16, args.uniform_skus), ("shape", 64, args.hot_skus)]
        if not args.no_full_script:
            points.append(("full", 16, args.uniform_skus))
        for script, clients, skus in points:
            r = pgbench_limit.run(
                fresh, script=script, clients=clients, skus=skus, duration=args.pgbench_duration
            )
            print(f"  pgbench {script} c={clients} skus={skus}: {r.tps:.0f} tps, p99 {r.p99_ms} ms")
            out.append(r.as_dict())
    return out


class _CpuMeter:
    """CPU per order: the server's workers, the database's backends, this client."""

    def __init__(self, server: Server, pg_dbname: str | None) -> None:
        self.server = CpuSampler(server.worker_pids).start()
        self.db = CpuSampler(lambda: pg_backends(pg_dbname)).start() if pg_dbname else None
        self.client = time.process_time()

    def per_order(self, orders: int) -> dict[str, float]:
        client = time.process_time() - self.client
        server = self.server.stop()
        db = self.db.stop() if self.db else 0.0
        n = max(1, orders)
        return {
            "server_cpu_ms": round(server / n * 1000, 2),
            "pg_cpu_ms": round(db / n * 1000, 2),
            "client_cpu_ms": round(client / n * 1000, 2),
        }


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    uniform = seed.uniform_skus(args.uniform_skus)
    hot = seed.hot_skus(args.hot_skus)
    sold = [f"SOLD{i:02d}" for i in range(10)]
    workers = args.sqlite_workers if backend == "sqlite" else args.workers
    result: dict[str, Any] = {"backend": backend, "workers": workers, "points": []}
    with database(backend, "ddbench") as fresh:
        t0 = time.perf_counter()
        seed.load_catalog(fresh.url, uniform + hot, units=10_000_000)
        seed.load_catalog_more(fresh.url, sold, units=SELL_OUT_UNITS)
        result["setup_s"] = round(time.perf_counter() - t0, 1)
        token = create_token(fresh.url)
        units: Counter = Counter()
        env = {}
        if backend == "sqlite" and args.sqlite_synchronous:
            env["DINGDAN_SQLITE_SYNCHRONOUS"] = args.sqlite_synchronous
            result["sqlite_synchronous"] = args.sqlite_synchronous
        with Server(fresh.url, workers=workers, extra_env=env) as server:
            # Warm up (pools, caches) and store some orders, then ANALYZE (an empty table can
            # be planned as a sequential scan and stay that way).
            warm = load.run_orders(server.base_url, token, uniform, 16, args.warmup, seed=99)
            units.update(warm.units)
            seed.analyze(fresh.url)
            points = [
                (client, dist, skus, clients)
                for client in args.client
                for dist, skus in (("uniform", uniform), ("hot", hot))
                for clients in args.clients
            ]
            for client, dist, skus, clients in points:
                cpu = _CpuMeter(server, fresh.name if backend == "postgresql" else None)
                r = load.run_orders(
                    server.base_url,
                    token,
                    skus,
                    clients,
                    args.duration,
                    seed=clients,
                    client=client,
                )
                units.update(r.units)
                point = {"client": client, "distribution": dist, **r.as_dict()}
                point.update(cpu.per_order(r.ok))
                result["points"].append(point)
                print(
                    f"  {backend} {client:5} {dist:7} c={clients:<3} {r.rate:7.1f} orders/s  "
                    f"p50 {point['p50_ms']:6.1f}  p95 {point['p95_ms']:6.1f}  "
                    f"p99 {point['p99_ms']:6.1f} ms  errors {r.errors or '-'}",
                    flush=True,
                )
            # Sell-out: 64 clients race for 10 SKUs of SELL_OUT_UNITS units each.
            r = load.run_orders(server.base_url, token, sold, 64, min(args.duration, 5), seed=7)
            units.update(r.units)
            sold_units = sum(r.units[s] for s in sold)
            result["sell_out"] = {
                "stock": SELL_OUT_UNITS * len(sold),
                "units_acknowledged": sold_units,
                "answers": dict(r.kinds),
                "oversold": sold_units > SELL_OUT_UNITS * len(sold)
                or any(r.units[s] > SELL_OUT_UNITS for s in sold),
            }
            print(f"  {backend} sell-out: {result['sell_out']}", flush=True)
            mem = server.memory()
            result["memory_kb"] = {str(pid): m for pid, m in mem.items()}
            peak = max((m.get("VmHWM", 0) for m in mem.values()), default=0)
            result["peak_rss_mb_per_worker"] = round(peak / 1024, 1)
            print(f"  {backend} peak RSS per worker: {result['peak_rss_mb_per_worker']} MB")
        check = seed.check_ledger(fresh.url, units)
        result["ledger"] = check.as_dict()
        print(f"  {backend} ledger: {'OK' if check.ok else 'FAILED'} {check.problems or ''}")
    return result


def run_import(backend: str, orders: int) -> dict[str, Any]:
    """bench/order_import.py in a process of its own; its numbers."""
    out = Path(tempfile.mkdtemp(prefix="ddimport")) / "import.json"
    cmd = [sys.executable, "-m", "bench.order_import", "--backend", backend]
    subprocess.run([*cmd, "--orders", str(orders), "--json", str(out)], cwd=ROOT, check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    shutil.rmtree(out.parent, ignore_errors=True)
    return result


def _ms(v: Any) -> str:
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def report(results: dict[str, Any]) -> str:
    lines = []
    limit = {(r["script"], r["clients"]): r for r in results.get("pgbench", [])}
    if limit:
        lines += [
            "### The limit: pgbench (C client), Dingdan's transaction shape",
            "",
            "| script | clients | SKUs | tps | p50 ms | p95 ms | p99 ms | failed "
            "| CPU ms/txn: PG / pgbench |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in results["pgbench"]:
            lines.append(
                f"| {r['script']} | {r['clients']} | {r['skus']} | {r['tps']:.0f} | "
                f"{r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['failed']} | "
                f"{r.get('pg_cpu_ms', '-')} / {r.get('pgbench_cpu_ms', '-')} |"
            )
        lines.append("")
    for b in results.get("backends", []):
        lines += [
            f"### Dingdan over HTTP, {b['backend']}, `dingdan serve --workers {b['workers']}`"
            + (f", synchronous={b['sqlite_synchronous']}" if b.get("sqlite_synchronous") else ""),
            "",
            "| client | SKUs | clients | orders/s | p50 ms | p95 ms | p99 ms | errors | vs pgbench "
            "| CPU ms/order: server / PG / client |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for p in b["points"]:
            ref = limit.get(("shape", 16 if p["distribution"] == "uniform" else 64))
            ratio = f"{p['orders_per_s'] / ref['tps']:.0%}" if ref and ref["tps"] else "-"
            errors = ", ".join(f"{k}: {v}" for k, v in p["errors"].items()) or "none"
            lines.append(
                f"| {p.get('client', 'httpx')} | {p['distribution']} | {p['clients']} | "
                f"{p['orders_per_s']} | "
                f"{_ms(p['p50_ms'])} | {_ms(p['p95_ms'])} | {_ms(p['p99_ms'])} | "
                f"{errors} | {ratio} | {p.get('server_cpu_ms', '-')} / {p.get('pg_cpu_ms', '-')}"
                f" / {p.get('client_cpu_ms', '-')} |"
            )
        led = b["ledger"]
        lines += [
            "",
            f"Peak RSS per worker: {b['peak_rss_mb_per_worker']} MB. "
            f"Ledger: verify exit {led['verify_exit']}, oversold levels {led['oversold']}, "
            f"reserved != allocations {led['reserved_vs_allocations']}, units acknowledged "
            f"{led['acknowledged_units']} = reserved {led['reserved_units']}: "
            f"{'OK' if led['ok'] else 'FAILED'}. Sell-out (64 clients, 10 SKUs x "
            f"{SELL_OUT_UNITS}): {b['sell_out']['units_acknowledged']} of "
            f"{b['sell_out']['stock']} units sold, answers {b['sell_out']['answers']}.",
            "",
        ]
    if results.get("scale"):
        from bench import generate

        lines.append(generate.report(results["scale"]))
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short points, 100k-order scale run")
    p.add_argument("--backends", default="postgresql,sqlite")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.add_argument("--clients", default="1,4,16,64")
    p.add_argument(
        "--client",
        default="httpx,raw",
        help="load clients: httpx (the issue's) and/or raw (asyncio streams, ~20x less CPU)",
    )
    p.add_argument(
        "--sqlite-workers",
        type=int,
        default=2,
        help="workers for SQLite: each process groups its writers into one commit and the "
        "processes take turns through the writer lock file (2 measured fastest at 64 "
        "clients: 1 and 4 both gave less; see docs/benchmarks.md)",
    )
    p.add_argument("--duration", type=float, default=12.0, help="seconds per load point")
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--pgbench-duration", type=float, default=15.0)
    p.add_argument(
        "--sqlite-synchronous", default="", help="DINGDAN_SQLITE_SYNCHRONOUS for the server"
    )
    p.add_argument("--uniform-skus", type=int, default=1000)
    p.add_argument("--hot-skus", type=int, default=10)
    p.add_argument("--no-full-script", action="store_true", help="skip pgbench's full script")
    p.add_argument("--skip", default="", help="comma list of: limit,http,scale,reports,imports")
    p.add_argument("--import-orders", type=int, default=100_000, help="orders in the import")
    p.add_argument("--scale-orders", type=int, default=1_000_000)
    p.add_argument("--scale-backends", default="postgresql,sqlite")
    p.add_argument("--list-requests", type=int, default=30, help="GETs per list/search query")
    p.add_argument("--json", default="", help="write every number to this file")
    p.add_argument("--markdown", default="", help="write the tables to this file")
    args = p.parse_args(argv)
    if args.quick:
        defaults = {"duration": 4.0, "warmup": 3.0, "pgbench_duration": 6.0,
                    "scale_orders": 100_000, "list_requests": 15,
                    "import_orders": 20_000}  # fmt: skip
        for key, value in defaults.items():
            if getattr(args, key) == p.get_default(key):
                setattr(args, key, value)
    args.clients = [int(c) for c in args.clients.split(",") if c]
    args.client = [c for c in args.client.split(",") if c]
    if set(args.client) - {"httpx", "raw"}:
        p.error("--client takes httpx, raw or both")
    args.skip = {s for s in args.skip.split(",") if s}
    return args


def main(argv: list[str] | None = None) -> int:
    # A terminated run still drops its databases and stops its servers (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parse(argv)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "args": {
        k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()}}  # fmt: skip
    print(f"machine: {results['machine']}", flush=True)
    if "limit" not in args.skip:
        print("== the limit (pgbench) ==", flush=True)
        results["pgbench"] = run_limit(args)
    if "http" not in args.skip:
        results["backends"] = []
        for backend in [b for b in args.backends.split(",") if b]:
            if backend == "postgresql" and not pg_available():
                print("PostgreSQL is not reachable: skipped", file=sys.stderr)
                continue
            print(f"== Dingdan over HTTP on {backend} ==", flush=True)
            results["backends"].append(run_backend(backend, args))
    if "scale" not in args.skip and args.scale_orders > 0:
        from bench import generate

        print(f"== scale: {args.scale_orders:,} orders ==", flush=True)
        results["scale"] = generate.scale_bench(args)
    if "reports" not in args.skip and args.scale_orders > 0:
        from bench import reports

        print(f"== reports: {args.scale_orders:,} orders ==", flush=True)
        results["reports"] = [
            reports.run(b, args.scale_orders, 10, 2000)
            for b in args.scale_backends.split(",")
            if b and (b != "postgresql" or pg_available())
        ]
    if "imports" not in args.skip and args.import_orders > 0:
        print(f"== historical order import: {args.import_orders:,} orders ==", flush=True)
        results["imports"] = [
            run_import(b, args.import_orders)
            for b in args.scale_backends.split(",")
            if b and (b != "postgresql" or pg_available())
        ]
    results["wall_s"] = round(time.perf_counter() - started, 1)
    text = report(results)
    if results.get("reports"):
        text += "\n\n### Reports (p50 / p95 ms)\n\n" + reports.table(results["reports"])
    if results.get("imports"):
        from bench import order_import

        text += "\n\n### Historical order import\n\n" + order_import.table(results["imports"])
    print()
    print(text)
    print(f"\nwall time {results['wall_s']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    ok = all(
        b["ledger"]["ok"] and not b["sell_out"]["oversold"] for b in results.get("backends", [])
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
