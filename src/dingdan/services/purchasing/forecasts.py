"""Demand forecasts per SKU and location (issue 23; shared/CONTRACT.md, "Forecasts").

The worker computes them (``run``: every SKU nightly, or only the SKUs with sales since
their last computation) and keeps the latest in ``forecasts``; the API and the pages read
them (``forecast``), computing a SKU never computed on the spot. Replenishment asks
``forecast_demand`` for the mean demand per day over its lead time and the standard
deviation of the forecast's daily error (for the safety stock).

A SKU's demand at every location together has the key ``""``; a SKU sold from more than one
location also gets one forecast per location (with one location, that one is the total).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.forecast_tables import Forecast, ForecastRun, PromotionEvent
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.tables import Location, Product, StockLevel
from dingdan.db.types import utcnow
from dingdan.domain.purchasing import calendar
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.purchasing import demand, forecast_models
from dingdan.services.purchasing.demand import ALL
from dingdan.services.purchasing.shapes import ForecastView, ScheduledRun
from dingdan.services.shared.common import iso

log = logging.getLogger("dingdan.forecasts")
MAX_HORIZON = 365
BATCH = 100  # SKUs read and written per transaction in a run
CENT = Decimal("0.01")
MIN_FOR_PROCESSES = 40


def seller_today(now: datetime | None = None) -> date:
    return demand.local_day(now or utcnow())


def promotions(conn: Connection) -> list[calendar.Promotion]:
    return [
        calendar.Promotion(name, start, end, uplift)
        for name, start, end, uplift in conn.execute(
            select(
                PromotionEvent.name,
                PromotionEvent.starts_on,
                PromotionEvent.ends_on,
                PromotionEvent.expected_uplift,
            )
        )
    ]


# Computing -----------------------------------------------------------------------------------
# product, locations, history, first day, the last choice (for a refit without backtest)
Job = tuple[int, list[str], list[float], date, forecast_models.Kept | None]


def _jobs(
    conn: Connection, *, product_ids: Sequence[int], today: date, refit: bool = False
) -> list[Job]:
    """The series to forecast for these products: the total, and each location when the
    product sold from more than one (from one location, that one's is the total's: computed
    once, stored under both); products with no demand get the total (zeros)."""
    until = today - timedelta(days=1)  # today is not over: it is no history yet
    since = until - timedelta(days=forecast_models.MAX_HISTORY_DAYS - 1)
    units = demand.daily_units(conn, product_ids, until, since)
    locations: dict[int, list[str]] = {}
    for pid, loc in units:
        if loc != ALL:
            locations.setdefault(pid, []).append(loc)
    kept = _kept(conn, product_ids) if refit else {}
    jobs: list[Job] = []
    for product_id in product_ids:
        places = sorted(locations.get(product_id, []))
        groups = [[ALL, *places]] if len(places) <= 1 else [[ALL]] + [[p] for p in places]
        for group in groups:
            series = demand.as_series(
                units.get((product_id, group[-1]), {}), until, forecast_models.MAX_HISTORY_DAYS
            )
            last = kept.get((product_id, group[-1]))
            if series is None:
                jobs.append((product_id, group, [], today, None))
            else:
                jobs.append((product_id, group, series.values, series.first_day, last))
    return jobs


def _kept(
    conn: Connection, product_ids: Sequence[int]
) -> dict[tuple[int, str], forecast_models.Kept]:
    rows = conn.execute(
        select(
            Forecast.product_id,
            Forecast.location,
            Forecast.model,
            Forecast.spec,
            Forecast.demand_class,
            Forecast.horizon,
            Forecast.mase,
            Forecast.naive_mase,
            Forecast.error_stdev,
        ).where(Forecast.product_id.in_(list(product_ids)))
    )
    return {
        (r.product_id, r.location): forecast_models.Kept(
            r.model, r.spec, r.demand_class, r.horizon, r.mase, r.naive_mase, r.error_stdev
        )
        for r in rows
    }


def _compute(
    job: Job, promos: Sequence[calendar.Promotion], arima: bool | None = None
) -> tuple[int, list[str], Any]:
    product_id, locs, history, first_day, kept = job
    found = forecast_models.compute(history, first_day, promos, kept=kept, arima=arima)
    return product_id, locs, found


class ArimaBudget:
    """A full run's AutoARIMA searches (forecast_models.arima_budget): the products come by
    revenue, highest first, and each series whose demand reacts to the peaks
    (``arima_pays``) takes one search while any is left; the others get the learned uplift.
    Checked here, in the run's process, so that the bound holds whatever the pool does."""

    def __init__(self, series: int, budget_s: float = forecast_models.RUN_BUDGET_CPU_S):
        self.left = forecast_models.arima_budget(series, budget_s)
        self.given = 0

    def decide(self, job: Job, promos: Sequence[calendar.Promotion]) -> bool:
        _, _, history, first_day, _ = job
        if self.left <= 0 or len(history) < forecast_models.ARIMA_MIN_DAYS:
            return False
        tail = history[-forecast_models.MAX_HISTORY_DAYS :]
        start = first_day + timedelta(days=len(history) - len(tail))
        if forecast_models.fc.demand_class(tail) in forecast_models.fc.INTERMITTENT_CLASSES:
            return False
        uplifts = calendar.learn_uplifts(start, tail, promos)
        if not forecast_models.arima_pays(tail, start, uplifts, promos):
            return False
        self.left -= 1
        self.given += 1
        return True


def _series_count(conn: Connection, product_ids: Sequence[int]) -> int:
    """At most how many series these products make: one each, and one per location for a
    product held at more than one (where it may sell from several)."""
    held = dict(
        conn.execute(
            select(StockLevel.product_id, func.count())
            .where(StockLevel.product_id.in_(list(product_ids)))
            .group_by(StockLevel.product_id)
        ).all()
    )
    return sum(1 + (int(held.get(p, 0)) if int(held.get(p, 0)) > 1 else 0) for p in product_ids)


def by_revenue(conn: Connection, product_ids: Sequence[int], since: date) -> list[int]:
    """These products, highest revenue first (units not cancelled x unit price since
    ``since``, in each order's own minor units), then by id."""
    start = datetime.combine(since, datetime.min.time(), SELLER_TIMEZONE)
    rows = conn.execute(
        select(
            OrderLine.product_id,
            func.sum((OrderLine.quantity - OrderLine.cancelled) * OrderLine.unit_price_minor),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.product_id.in_(list(product_ids)),
            Order.status != "cancelled",
            Order.created_at >= start,
        )
        .group_by(OrderLine.product_id)
    )
    revenue = {int(p): int(r or 0) for p, r in rows}
    return sorted(product_ids, key=lambda p: (-revenue.get(int(p), 0), p))


def _row(product_id: int, loc: str, c: forecast_models.Computed) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "location": loc,
        "model": c.model,
        "spec": c.spec,
        "demand_class": c.demand_class,
        "history_days": c.history_days,
        "horizon": c.horizon,
        "mase": c.mase,
        "naive_mase": c.naive_mase,
        "error_stdev": c.error_stdev,
        "backtests": {},
        "uplifts": c.uplifts,
        "first_day": c.first_day,
        "daily": [str(Decimal(v).quantize(CENT, ROUND_HALF_UP)) for v in c.daily],
        "computed_at": utcnow(),
    }


def _store(conn: Connection, *, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Forecast)
    columns = {k: stmt.excluded[k] for k in rows[0] if k not in ("product_id", "location")}
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["product_id", "location"], set_=columns),
        rows,
    )


def compute_products(
    db: Database,
    product_ids: Sequence[int],
    now: datetime | None = None,
    processes: int = 1,
    progress: Callable[[int], None] | None = None,
    refit: bool = False,
) -> int:
    """Forecast these products (every series of each) and keep the results; returns how
    many series were computed. ``processes`` > 1 fits the models in that many processes.
    ``refit``: a series already computed refits its model on the new days, without the
    backtest that chose it (the nightly run of the SKUs with new sales; the full run
    chooses again)."""
    today = seller_today(now)
    promos = db.read(promotions)
    budget: ArimaBudget | None = None
    if not refit:  # a full choice: AutoARIMA's searches within the run's budget, by revenue
        since = today - timedelta(days=forecast_models.MAX_HISTORY_DAYS)
        product_ids = db.read(lambda conn: by_revenue(conn, product_ids, since))
        budget = ArimaBudget(db.read(partial(_series_count, product_ids=product_ids)))
    # Starting a process costs seconds (statsforecast's import): worth it for many SKUs only.
    many = processes > 1 and len(product_ids) >= MIN_FOR_PROCESSES
    pool = ProcessPoolExecutor(processes, get_context("spawn")) if many else None
    done = 0
    try:
        for start in range(0, len(product_ids), BATCH):
            chunk = list(product_ids[start : start + BATCH])
            jobs = db.read(partial(_jobs, product_ids=chunk, today=today, refit=refit))
            arima = [budget.decide(j, promos) if budget else None for j in jobs]
            if pool is not None:
                results = list(pool.map(_compute, jobs, [promos] * len(jobs), arima, chunksize=4))
            else:
                results = [_compute(job, promos, a) for job, a in zip(jobs, arima, strict=True)]
            rows = [_row(pid, loc, c) for pid, locs, c in results for loc in locs]
            db.write(partial(_store, rows=rows))
            done += len(rows)
            if progress is not None:
                progress(len(chunk))
    finally:
        if pool is not None:
            pool.shutdown()
    return done


def changed_products(db: Database) -> list[int]:
    """Products never computed, and those with orders placed since their computation."""

    def work(conn: Connection) -> list[int]:
        computed = dict(
            conn.execute(
                select(Forecast.product_id, Forecast.computed_at).where(Forecast.location == ALL)
            ).all()
        )
        every = list(conn.execute(select(Product.id).order_by(Product.id)).scalars())
        oldest = min(computed.values(), default=None)
        if oldest is None:
            return every
        sold = set(demand.sold_since(conn, oldest))
        last_sale = _last_sales(conn, sold, oldest)
        return [
            pid
            for pid in every
            if pid not in computed or (pid in last_sale and last_sale[pid] >= computed[pid])
        ]

    return db.read(work)


def _last_sales(conn: Connection, product_ids: Iterable[int], since: datetime) -> dict:
    from dingdan.db.order_tables import Order, OrderLine

    ids = list(product_ids)
    if not ids:
        return {}
    return dict(
        conn.execute(
            select(OrderLine.product_id, func.max(Order.created_at))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.created_at >= since, OrderLine.product_id.in_(ids))
            .group_by(OrderLine.product_id)
        ).all()
    )


def all_products(db: Database) -> list[int]:
    return db.read(
        lambda conn: list(conn.execute(select(Product.id).order_by(Product.id)).scalars())
    )


def run(
    db: Database,
    mode: str = "all",
    now: datetime | None = None,
    processes: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    """``all``: every product; ``changed``: the products with sales since their last
    computation (and those never computed). Returns the series computed."""
    ids = all_products(db) if mode == "all" else changed_products(db)
    return compute_products(db, ids, now, processes, progress, refit=mode != "all")


# The worker's schedule -----------------------------------------------------------------------
NIGHT_HOUR = 2  # the full run starts after 02:00 in the seller's time zone


def _claim(conn: Connection, kind: str, slot: str) -> int | None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return conn.execute(
        dialect.insert(ForecastRun)
        .values(kind=kind, slot=slot, started_at=utcnow(), skus=0)
        .on_conflict_do_nothing(index_elements=["kind", "slot"])
        .returning(ForecastRun.id)
    ).scalar()


def scheduled(db: Database, now: datetime | None = None) -> ScheduledRun | None:
    """The worker's job, run every round: once a night (after ``NIGHT_HOUR``) the full run,
    and once an hour the SKUs with new sales. A run is claimed by inserting its slot, so
    that of several workers one runs it. Returns what ran, or None."""
    local = (now or utcnow()).astimezone(demand.SELLER_TIMEZONE)
    if local.hour >= NIGHT_HOUR:
        kind, slot = "full", local.date().isoformat()
    else:
        kind, slot = "changed", local.strftime("%Y-%m-%dT%H")
    run_id = db.write(lambda conn: _claim(conn, kind, slot))
    if run_id is None:
        kind, slot = "changed", local.strftime("%Y-%m-%dT%H")
        run_id = db.write(lambda conn: _claim(conn, kind, slot))
        if run_id is None:
            return None
    count = run(db, "all" if kind == "full" else "changed", now)

    def finish(conn: Connection) -> None:
        conn.execute(
            update(ForecastRun)
            .where(ForecastRun.id == run_id)
            .values(finished_at=utcnow(), skus=count)
        )

    db.write(finish)
    return {"kind": kind, "slot": slot, "series": count}


_running = threading.Lock()
_last_slot: dict[str, str] = {}


def start_scheduled(db: Database, now: datetime | None = None) -> bool:
    """The worker's round: start ``scheduled`` in a thread of its own when its hour has
    come (a full run may take most of an hour; the outbox must not wait), at most one at a
    time per process. Returns whether one was started."""
    local = (now or utcnow()).astimezone(demand.SELLER_TIMEZONE)
    slot = local.strftime("%Y-%m-%dT%H")
    if _last_slot.get("slot") == slot or not _running.acquire(blocking=False):
        return False
    _last_slot["slot"] = slot

    def work() -> None:
        try:
            found = scheduled(db, now)
            if found:
                log.info("forecasts: %s", found)
        except Exception:  # noqa: BLE001 - the next hour tries again
            log.exception("forecast run failed")
        finally:
            _running.release()

    threading.Thread(target=work, name="dingdan-forecasts", daemon=True).start()
    return True


# Reading -------------------------------------------------------------------------------------
def _product(conn: Connection, sku: str) -> int:
    found = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
    if found is None:
        raise NotFound(detail=f"No product with SKU {sku!r}.")
    return int(found)


def _check_location(conn: Connection, location: str | None) -> str:
    if not location:
        return ALL
    if conn.execute(select(Location.id).where(Location.code == location)).scalar() is None:
        raise ValidationFailed.on("location", "unknown_location", location=location)
    return location


def _stored(conn: Connection, product_id: int, loc: str) -> Any:
    return conn.execute(
        select(Forecast).where(Forecast.product_id == product_id, Forecast.location == loc)
    ).first()


def _covers(row: Any, tomorrow: date, horizon: int) -> bool:
    return row is not None and (tomorrow - row.first_day).days + horizon <= len(row.daily)


def _latest(
    db: Database, sku: str, location: str | None, horizon: int, now: datetime | None
) -> tuple[int, str, Any]:
    """The stored forecast covering ``horizon`` days from tomorrow, computed if need be;
    None for a location the SKU never sold from (no history there)."""
    tomorrow = seller_today(now) + timedelta(days=1)

    def work(conn: Connection) -> tuple[int, str, Any, Any]:
        pid = _product(conn, sku)
        loc = _check_location(conn, location)
        return pid, loc, _stored(conn, pid, loc), _stored(conn, pid, ALL)

    product_id, loc, row, total = db.read(work)
    if _covers(row, tomorrow, horizon):
        return product_id, loc, row
    if row is None and loc != ALL and _covers(total, tomorrow, horizon):
        return product_id, loc, None
    compute_products(db, [product_id], now)
    return product_id, loc, db.read(lambda conn: _stored(conn, product_id, loc))


def forecast(
    db: Database, sku: str, horizon: int = 28, location: str | None = None, now=None
) -> ForecastView:
    """The contract's answer: ``horizon`` days from tomorrow (seller's time zone)."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValidationFailed.on("horizon", "out_of_range", min=1, max=MAX_HORIZON)
    today = seller_today(now)
    tomorrow = today + timedelta(days=1)
    product_id, loc, row = _latest(db, sku, location, horizon, now)
    if row is None:
        days = [(tomorrow + timedelta(days=i), "0.00") for i in range(horizon)]
        return _answer(sku, "Zero", 0, None, None, days, None, "none")
    offset = max(0, (tomorrow - row.first_day).days)
    values = list(row.daily[offset : offset + horizon])
    days = [(tomorrow + timedelta(days=i), str(v)) for i, v in enumerate(values)]
    mase, naive = _backtest_for(db, row, horizon, now)
    return _answer(
        sku, row.model, row.history_days, mase, naive, days, row.computed_at, row.demand_class
    )


def _answer(sku, model, history_days, mase, naive, days, computed_at, klass) -> ForecastView:
    return {
        "sku": sku,
        "model": model,
        "history_days": history_days,
        "backtest": {"mase": _rounded(mase), "naive_mase": _rounded(naive)},
        "daily": [{"date": d.isoformat(), "quantity": q} for d, q in days],
        "demand_class": klass,
        "computed_at": iso(computed_at),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _backtest_for(db: Database, row: Any, horizon: int, now) -> tuple[Any, Any]:
    """The MASE pair with ``horizon`` days held out: kept from the run for its horizon, or
    measured now for the stored model (and kept)."""
    if horizon == row.horizon:
        return row.mase, row.naive_mase
    kept = (row.backtests or {}).get(str(horizon))
    if kept is not None:
        return kept.get("mase"), kept.get("naive_mase")
    if row.model == "Zero" or row.history_days == 0:
        return None, None
    history, first_day = _history(db, row, now)
    test = forecast_models.backtest(history, first_day, [row.model], horizon)
    found = {
        "mase": test.mase if test else None,
        "naive_mase": test.naive_mase if test else None,
    }

    def keep(conn: Connection) -> None:
        current = _stored(conn, row.product_id, row.location)
        if current is not None:
            merged = {**(current.backtests or {}), str(horizon): found}
            conn.execute(update(Forecast).where(Forecast.id == current.id).values(backtests=merged))

    db.write(keep)
    return found["mase"], found["naive_mase"]


def _history(db: Database, row: Any, now) -> tuple[list[float], date]:
    until = row.first_day - timedelta(days=1)
    since = until - timedelta(days=row.history_days - 1)
    units = db.read(lambda conn: demand.daily_units(conn, [row.product_id], until, since))
    by_day = units.get((row.product_id, row.location), {})
    days = row.history_days
    return [by_day.get(since + timedelta(days=i), 0.0) for i in range(days)], since


def history(db: Database, sku: str, location: str | None, days: int, now=None) -> dict:
    """The last ``days`` days of demand up to yesterday, for the forecast page's chart."""
    until = seller_today(now) - timedelta(days=1)
    since = until - timedelta(days=days - 1)

    def work(conn: Connection) -> dict[date, float]:
        pid = _product(conn, sku)
        loc = _check_location(conn, location)
        return demand.daily_units(conn, [pid], until, since).get((pid, loc), {})

    by_day = db.read(work)
    return {
        since + timedelta(days=i): by_day.get(since + timedelta(days=i), 0.0) for i in range(days)
    }


def forecast_demand(
    db: Database, sku: str, location: str | None, days: int, now: datetime | None = None
) -> tuple[Decimal, Decimal]:
    """For replenishment: (mean units per day over the next ``days`` days, the standard
    deviation of the forecast's daily error measured in its backtest). Over a lead time of
    L days the error's deviation is about ``stdev * sqrt(L)`` (independent days)."""
    days = max(1, min(int(days), MAX_HORIZON))
    found = forecast(db, sku, days, location, now)
    total = sum((Decimal(d["quantity"]) for d in found["daily"]), Decimal(0))
    row = db.read(lambda conn: _stored(conn, _product(conn, sku), _check_location(conn, location)))
    spread = Decimal(str(row.error_stdev)) if row is not None else Decimal(0)
    return (total / days).quantize(Decimal("0.0001")), spread.quantize(Decimal("0.0001"))


def kept_demand(
    db: Database, sku: str, location: str | None, days: int, now: datetime | None = None
) -> tuple[float, float] | None:
    """Like ``forecast_demand`` but from the worker's kept forecast only (never a fit here:
    replenishment lists every SKU at once); None when there is none covering ``days`` days
    from tomorrow, so that the caller falls back to recent history."""
    days = max(1, min(int(days), MAX_HORIZON))
    tomorrow = seller_today(now) + timedelta(days=1)

    def work(conn: Connection) -> Any:
        found = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
        if found is None:
            return None
        return _stored(conn, int(found), location or ALL)

    return kept_window(db.read(work), tomorrow, days)


def kept_window(row: Any, tomorrow: date, days: int) -> tuple[float, float] | None:
    """(mean per day over ``days`` days from ``tomorrow``, the backtest's daily error) of a
    kept forecast row; None when there is none or it does not cover them."""
    if row is None:
        return None
    offset = (tomorrow - row.first_day).days
    values = list(row.daily[offset : offset + days]) if offset >= 0 else []
    if len(values) < days:
        return None
    mean = sum(float(v) for v in values) / days
    return mean, float(row.error_stdev or 0.0)
