"""Demand forecasts at scale (issue 23): the time per SKU of a 730-day series, and full and
"changed" runs through the database, extrapolated to the target (10,000 SKUs x 2 years in
under 60 minutes on 2 cores; the nightly refit of SKUs with new sales under 10).

1. models only: ``--series`` generated 730-day series (60% smooth with a weekly season and
   trend, 40% intermittent), each through ``forecast_models.compute`` (classification,
   backtest of the class's candidates on the last 28 days, refit of the winner, a year's
   forecast), in one process and in ``--processes`` processes;
2. through the database: ``--skus`` SKUs with 730 days of orders written straight into a
   fresh database (one order per SKU and day with demand), then ``forecasts.run(db, "all")``
   and, after one more day of orders for 10% of the SKUs, ``forecasts.run(db, "changed")``.

    .venv/bin/python -m bench.forecasts --series 200 --skus 200 --processes 2
    .venv/bin/python -m bench.forecasts --skus 200 --backend postgresql
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from multiprocessing import get_context
from typing import Any

from sqlalchemy import create_engine, insert, text

from dingdan import bootstrap
from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer, Order, OrderLine
from dingdan.db.tables import Location, Product
from dingdan.domain.purchasing import calendar
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.purchasing import forecast_models, forecasts

DAYS = 730
TARGET_SKUS = 10_000


FIRST_DAY = date(2024, 12, 7)
# --peaked: smooth series react to the year's peaks (so AutoARIMA with the peaks as
# regressors is among their candidates); read from the environment so that the pool's
# spawned processes see it too.
PEAKED = "DINGDAN_BENCH_PEAKED"
BUDGET = "DINGDAN_BENCH_BUDGET"  # --budget: the full run's AutoARIMA budget applies
PEAK_FACTORS = {"singles_day": 3.0, "double_12": 3.0, "chinese_new_year": 2.0, "mothers_day": 1.5}


def series(i: int, days: int = DAYS) -> list[float]:
    rng = random.Random(i)
    if i % 5 < 3:  # smooth: weekly season, trend, noise
        base, slope = rng.uniform(5, 40), rng.uniform(-0.01, 0.03)
        week = [rng.uniform(0.7, 1.5) for _ in range(7)]
        peaks: dict[date, str] = {}
        if os.environ.get(PEAKED):
            peaks = calendar.peak_days(FIRST_DAY, FIRST_DAY + timedelta(days=days - 1))
        return [
            max(
                0.0,
                round(
                    (base + slope * d)
                    * week[d % 7]
                    * PEAK_FACTORS.get(peaks.get(FIRST_DAY + timedelta(days=d), ""), 1.0)
                    + rng.gauss(0, 2)
                ),
            )
            for d in range(days)
        ]
    rate, size = rng.uniform(0.05, 0.4), rng.randint(1, 4)  # intermittent
    return [float(rng.randint(1, size)) if rng.random() < rate else 0.0 for _ in range(days)]


def _one(i: int, arima: bool | None = None) -> tuple[str, float]:
    """(demand class, CPU seconds of this series' forecast); the class is marked "+arima"
    where AutoARIMA was among the candidates, "+arima chosen" where it won, "+uplift" where
    it would have been but the run's budget was spent (``arima`` False)."""
    history = series(i)
    started = time.process_time()
    found = forecast_models.compute(history, FIRST_DAY, arima=arima)
    seconds = time.process_time() - started
    klass = found.demand_class
    pays = forecast_models.arima_pays(history, FIRST_DAY, found.uplifts)
    if pays and klass in ("smooth", "erratic"):
        if arima is False:
            klass += " +uplift (budget spent)"
        else:
            klass += " +arima chosen" if found.model == forecast_models.ARIMA else " +arima"
    return klass, seconds


def _budgeted(count: int) -> list[bool | None]:
    """With DINGDAN_BENCH_BUDGET: the full run's AutoARIMA budget for 10,000 SKUs scaled to
    this sample (forecasts.ArimaBudget), the series in index order standing for revenue."""
    if not os.environ.get(BUDGET):
        return [None] * count
    share = forecast_models.RUN_BUDGET_CPU_S * count / TARGET_SKUS
    budget = forecasts.ArimaBudget(count, share)
    return [budget.decide((i, [""], series(i), FIRST_DAY, None), []) for i in range(count)]


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the pool's processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def models_only(count: int, processes: int) -> dict[str, Any]:
    _one(10_000_000)  # the first call imports statsforecast
    started, cpu = time.perf_counter(), _cpu()
    allowed = _budgeted(count)
    timed = [_one(i, a) for i, a in zip(range(count), allowed, strict=True)]
    one = time.perf_counter() - started
    by_class: dict[str, list[float]] = {}
    for klass, seconds in timed:
        by_class.setdefault(klass, []).append(seconds)
    out: dict[str, Any] = {
        "series": count,
        "one_process_s": one,
        "one_process_cpu": _cpu() - cpu,
        "by_class": by_class,
    }
    if processes > 1:
        with ProcessPoolExecutor(processes, get_context("spawn")) as pool:
            list(pool.map(_one, range(10_000_000, 10_000_000 + processes)))  # warm
            started = time.perf_counter()
            list(pool.map(_one, range(count), chunksize=4))
            out["many_processes_s"] = time.perf_counter() - started
    return out


def _fill(db_url: str, skus: int) -> None:
    """SKUs B0000.. with 730 days of orders up to yesterday (seller's days)."""
    engine = create_engine(db_url)
    today = datetime.now(SELLER_TIMEZONE).date()
    first = today - timedelta(days=DAYS)
    with engine.begin() as conn:
        conn.execute(insert(Location).values(code="MAIN", name="Main", country="TW"))
        cid = conn.execute(
            insert(Customer).values(email="bench@example.com", name="Bench").returning(Customer.id)
        ).scalar_one()
        products = [
            {"sku": f"B{i:05d}", "name": f"Bench {i}", "price_minor": 10000, "currency": "TWD"}
            for i in range(skus)
        ]
        ids = conn.execute(insert(Product).returning(Product.id, Product.sku), products).all()
        n = 0
        for pid, sku in ids:
            values = series(int(sku[1:]))
            orders, lines = [], []
            for d, units in enumerate(values):
                if units <= 0:
                    continue
                n += 1
                at = datetime.combine(first + timedelta(days=d), dtime(12), SELLER_TIMEZONE)
                orders.append(_order(n, cid, at.astimezone(UTC)))
                lines.append((n, pid, sku, int(units)))
            got = conn.execute(insert(Order).returning(Order.id, Order.number), orders).all()
            by_number = {num: oid for oid, num in got}
            conn.execute(
                insert(OrderLine),
                [
                    {
                        "order_id": by_number[f"B{k}"],
                        "position": 1,
                        "product_id": p,
                        "sku": s,
                        "name": s,
                        "quantity": q,
                        "unit_price_minor": 10000,
                        "shipped": q,
                    }
                    for k, p, s, q in lines
                ],
            )
    engine.dispose()


def _order(n: int, cid: int, at: datetime) -> dict[str, Any]:
    return {
        "number": f"B{n}",
        "channel": "web",
        "status": "completed",
        "currency": "TWD",
        "customer_id": cid,
        "customer": {},
        "shipping_address": {},
        "payment_method": "card",
        "subtotal_minor": 0,
        "shipping_minor": 0,
        "tax_minor": 0,
        "total_minor": 0,
        "search_text": "",
        "tracking_token": uuid.uuid4().hex,
        "created_at": at,
        "updated_at": at,
    }


def through_database(backend: str, skus: int, processes: int) -> dict[str, Any]:
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="dd-fc-")
        url = f"sqlite:///{folder}/bench.db"
    else:
        name = f"dd_fc_{uuid.uuid4().hex[:8]}"
        admin = create_engine(
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    bootstrap.migrate(url)
    started = time.perf_counter()
    _fill(url, skus)
    out: dict[str, Any] = {"fill_s": time.perf_counter() - started}
    db = Database(url)
    started, cpu = time.perf_counter(), _cpu()
    out["series_all"] = forecasts.run(db, "all", processes=processes)
    out["all_s"] = time.perf_counter() - started
    out["all_cpu"] = _cpu() - cpu
    # One more day: an order for every tenth SKU, placed now.
    engine = create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        cid = conn.execute(text("select min(id) from customers")).scalar_one()
        ids = conn.execute(text("select id, sku from products order by id")).all()[::10]
        for k, (pid, sku) in enumerate(ids):
            oid = conn.execute(
                insert(Order).returning(Order.id), [_order(10_000_000 + k, cid, now)]
            ).scalar_one()
            conn.execute(
                insert(OrderLine).values(
                    order_id=oid,
                    position=1,
                    product_id=pid,
                    sku=sku,
                    name=sku,
                    quantity=1,
                    unit_price_minor=10000,
                    shipped=1,
                )
            )
    engine.dispose()
    started, cpu = time.perf_counter(), _cpu()
    out["series_changed"] = forecasts.run(db, "changed", processes=processes)
    out["changed_s"] = time.perf_counter() - started
    out["changed_cpu"] = _cpu() - cpu
    db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--skip-db", action="store_true")
    parser.add_argument(
        "--peaked", action="store_true", help="smooth series react to the year's peaks"
    )
    parser.add_argument(
        "--budget", action="store_true", help="AutoARIMA within the full run's CPU budget"
    )
    args = parser.parse_args()
    if args.peaked:
        os.environ[PEAKED] = "1"
    if args.budget:
        os.environ[BUDGET] = "1"
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()}")
    found = models_only(args.series, args.processes)
    cpu = found["one_process_cpu"] / found["series"]
    print("\nWall time is what this (shared) machine gave; CPU time is what the work costs: on")
    print("2 idle cores, 10,000 SKUs take about CPU per SKU x 10,000 / 2.\n")
    print("| part | series | wall s | CPU s | CPU per series | 10,000 SKUs on 2 cores |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| models, 1 process | {found['series']} | {found['one_process_s']:.1f} | "
        f"{found['one_process_cpu']:.1f} | {cpu:.3f} s | {cpu * TARGET_SKUS / 2 / 60:.1f} min |"
    )
    if "many_processes_s" in found:
        print(
            f"| models, {args.processes} processes | {found['series']} | "
            f"{found['many_processes_s']:.1f} | | | wall: "
            f"{found['many_processes_s'] / found['series'] * TARGET_SKUS / 60:.1f} min |"
        )
    print("\n| class | series | mean CPU s | p50 | p95 |")
    print("|---|---:|---:|---:|---:|")
    for klass, times in sorted(found["by_class"].items()):
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(
            f"| {klass} | {len(times)} | {statistics.mean(times):.3f} | "
            f"{statistics.median(times):.3f} | {p95:.3f} |"
        )
    if args.skip_db:
        return
    db = through_database(args.backend, args.skus, args.processes)
    print(f"\n{args.backend}: {args.skus} SKUs x {DAYS} days written in {db['fill_s']:.1f} s\n")
    print("| run | SKUs | series stored | wall s | CPU s | CPU per SKU | 10,000 SKUs on 2 cores |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    per_all = db["all_cpu"] / args.skus
    print(
        f"| all ({args.processes} processes) | {args.skus} | {db['series_all']} | "
        f"{db['all_s']:.1f} | {db['all_cpu']:.1f} | {per_all:.3f} s | "
        f"{per_all * TARGET_SKUS / 2 / 60:.1f} min |"
    )
    skus = max(1, (args.skus + 9) // 10)
    per_changed = db["changed_cpu"] / skus
    print(
        f"| changed (10% of SKUs sold) | {skus} | {db['series_changed']} | "
        f"{db['changed_s']:.1f} | {db['changed_cpu']:.1f} | {per_changed:.3f} s | "
        f"{per_changed * TARGET_SKUS / 10 / 2 / 60:.1f} min (1,000 SKUs) |"
    )


if __name__ == "__main__":
    main()
