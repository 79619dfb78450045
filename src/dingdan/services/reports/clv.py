"""Customer value (shared/CONTRACT.md, "Reports": ``clv``): the BG/NBD purchase model and the
Gamma-Gamma spend model (domain/crm/clv.py) fitted on every customer's orders up to a
calibration end, kept in ``clv_fits`` with each customer's predictions, so that a second
question for the same day is answered from the table.

What the fit reads: every order not cancelled placed on or before ``calibration_end`` (days
in the seller's time zone); a customer's purchases are their distinct order days, times are
in weeks. The spend model takes the currency most of those orders are in: a purchase's value
is its orders' totals in that currency less their refunds, and a customer's expected value is
in that currency (orders in others count as purchases, not as spend). Predictions are for
the 52 weeks after ``calibration_end``, not discounted."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.crm_tables import ClvCustomer, ClvFit
from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer, Order
from dingdan.domain.crm import clv
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.reports.shapes import (
    ClvModelView,
    ClvRow,
    CustomerClvView,
    LikelyCustomer,
    MoneyView,
    SpendModel,
)

log = logging.getLogger("dingdan.reports.clv")
HORIZON_WEEKS = 52


def today() -> date:
    return datetime.now(SELLER_TIMEZONE).date()


@dataclass
class _Customer:
    days: list[date]
    spend_days: list[date]
    spend_values: list[float]


def _orders(conn: Connection, calibration_end: date) -> tuple[dict[int, _Customer], str | None]:
    before = datetime.combine(calibration_end + timedelta(days=1), time(), SELLER_TIMEZONE)
    rows = conn.execute(
        select(
            Order.customer_id,
            Order.created_at,
            Order.currency,
            Order.total_minor - Order.refunded_minor,
        ).where(Order.status != "cancelled", Order.created_at < before)
    ).all()
    currency = Counter(r[2] for r in rows).most_common(1)
    main = currency[0][0] if currency else None
    out: dict[int, _Customer] = defaultdict(lambda: _Customer([], [], []))
    for cid, at, cur, net in rows:
        day = at.astimezone(SELLER_TIMEZONE).date()
        c = out[int(cid)]
        c.days.append(day)
        if cur == main:
            c.spend_days.append(day)
            c.spend_values.append(float(net))
    return dict(out), main


@dataclass
class _Result:
    fit: clv.Fit
    spend: clv.SpendFit | None
    currency: str | None
    rows: list[ClvRow]


def _compute(orders: dict[int, _Customer], currency: str | None, end: date) -> _Result:
    summaries = {cid: clv.summarise(c.days, end) for cid, c in orders.items()}
    kept = {cid: s for cid, s in summaries.items() if s is not None}
    if not kept:
        raise ValidationFailed.on("calibration_end", "no_purchases")
    # Customers sharing (x, t_x, T) are one weighted term of the likelihood.
    groups = Counter((s.x, s.t_x, s.T) for s in kept.values())
    keys = list(groups)
    fit = clv.fit_bg_nbd(
        [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], list(groups.values())
    )
    spends = {
        cid: clv.summarise(orders[cid].spend_days, end, orders[cid].spend_values) for cid in kept
    }
    repeaters = [s for s in spends.values() if s is not None and s.x > 0 and s.spend > 0]
    spend = None
    if repeaters:
        spend = clv.fit_gamma_gamma([s.x for s in repeaters], [s.spend for s in repeaters])
    rows: list[ClvRow] = []
    for cid, s in kept.items():
        value = None
        if spend is not None:
            own = spends[cid] or clv.Summary(0, 0.0, 0.0)
            with_spend = clv.Summary(s.x, s.t_x, s.T, own.spend if own.x else 0.0)
            value = round(clv.customer_value(fit.params, spend.params, with_spend, HORIZON_WEEKS))
        rows.append(
            {
                "customer_id": cid,
                "x": s.x,
                "t_x": s.t_x,
                "T": s.T,
                "expected_purchases": clv.expected_purchases(
                    fit.params, HORIZON_WEEKS, s.x, s.t_x, s.T
                ),
                "probability_alive": clv.probability_alive(fit.params, s.x, s.t_x, s.T),
                "expected_value_minor": value,
            }
        )
    return _Result(fit, spend, currency if spend else None, rows)


def _kept(conn: Connection, calibration_end: date) -> Any:
    return conn.execute(select(ClvFit).where(ClvFit.calibration_end == calibration_end)).first()


def _store(conn: Connection, end: date, result: _Result) -> Any:
    """Insert the fit once (a concurrent fit of the same day keeps the first)."""
    p, s = result.fit.params, result.spend
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(ClvFit).values(
        calibration_end=end,
        customers=result.fit.customers,
        r=p.r,
        alpha=p.alpha,
        a=p.a,
        b=p.b,
        log_likelihood=result.fit.log_likelihood,
        currency=result.currency,
        spend_p=s.params.p if s else None,
        spend_q=s.params.q if s else None,
        spend_v=s.params.v if s else None,
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["calibration_end"]).returning(ClvFit.id)
    new = conn.execute(stmt).first()
    if new is not None:
        rows = [{"fit_id": new[0], **r} for r in result.rows]
        for i in range(0, len(rows), 5000):
            conn.execute(insert(ClvCustomer), rows[i : i + 5000])
    return _kept(conn, end)


def check_calibration_end(calibration_end: date) -> date:
    if calibration_end > today():
        raise ValidationFailed.on("calibration_end", "in_future")
    return calibration_end


def fit(db: Database, calibration_end: date) -> Any:
    """The kept fit for ``calibration_end``, fitted and kept first if there is none."""
    check_calibration_end(calibration_end)
    row = db.read(lambda conn: _kept(conn, calibration_end))
    if row is not None:
        return row
    orders, currency = db.read(lambda conn: _orders(conn, calibration_end))
    result = _compute(orders, currency, calibration_end)
    log.info("BG/NBD fitted to %s: %s", calibration_end, result.fit)
    return db.write(lambda conn: _store(conn, calibration_end, result))


def model_view(row: Any) -> ClvModelView:
    spend: SpendModel | None = None
    if row.spend_p is not None:
        spend = {"p": row.spend_p, "q": row.spend_q, "v": row.spend_v, "currency": row.currency}
    return {
        "model": "bg_nbd",
        "calibration_end": row.calibration_end.isoformat(),
        "customers": row.customers,
        "params": {"r": row.r, "alpha": row.alpha, "a": row.a, "b": row.b},
        "log_likelihood": row.log_likelihood,
        "spend_model": spend,
    }


def report(db: Database, calibration_end: date) -> ClvModelView:
    return model_view(fit(db, calibration_end))


def latest(db: Database) -> Any:
    """The newest kept fit by calibration end, or None."""
    return db.read(
        lambda conn: conn.execute(
            select(ClvFit).order_by(ClvFit.calibration_end.desc()).limit(1)
        ).first()
    )


def _customer_exists(conn: Connection, cid: int) -> bool:
    return conn.execute(select(Customer.id).where(Customer.id == cid)).first() is not None


def yesterday() -> date:
    """The last complete day: the worker's and the customer page's calibration end (a fit
    to today would miss the rest of today's orders, and be kept)."""
    return today() - timedelta(days=1)


def for_customer(
    db: Database, customer_id: str, calibration_end: date | None = None
) -> CustomerClvView:
    """One customer's predictions under the fit of ``calibration_end`` (default: the newest
    kept fit, or one to yesterday when none is kept). A customer with no purchase by then is
    predicted nothing (no data to predict from): ``expected_purchases`` 0, the rest null."""
    cid = row_id(customer_id)
    if cid < 0 or not db.read(lambda conn: _customer_exists(conn, cid)):
        raise NotFound(detail=f"No customer with id {customer_id!r}.")
    end = calibration_end or yesterday()
    try:
        model = fit(db, calibration_end) if calibration_end else (latest(db) or fit(db, end))
    except ValidationFailed as exc:
        if exc.errors[0].code != "no_purchases":
            raise
        return _nothing(cid, end)
    row = db.read(
        lambda conn: conn.execute(
            select(ClvCustomer).where(
                ClvCustomer.fit_id == model.id, ClvCustomer.customer_id == cid
            )
        ).first()
    )
    value: MoneyView | None = None
    if row is not None and row.expected_value_minor is not None and model.currency:
        value = {
            "currency": model.currency,
            "amount": format_amount(row.expected_value_minor, model.currency),
        }
    return {
        "customer_id": str(cid),
        "calibration_end": model.calibration_end.isoformat(),
        "horizon_weeks": HORIZON_WEEKS,
        "repeat_purchases": row.x if row else 0,
        "expected_purchases": row.expected_purchases if row else 0.0,
        "probability_alive": row.probability_alive if row else None,
        "expected_value": value,
    }


def _nothing(cid: int, end: date) -> CustomerClvView:
    return {
        "customer_id": str(cid),
        "calibration_end": end.isoformat(),
        "horizon_weeks": HORIZON_WEEKS,
        "repeat_purchases": 0,
        "expected_purchases": 0.0,
        "probability_alive": None,
        "expected_value": None,
    }


def likely_to_buy(db: Database, limit: int = 50) -> list[LikelyCustomer]:
    """The newest fit's customers expected to buy the most in the next 52 weeks: the list
    to contact (empty before any fit)."""
    model = latest(db)
    if model is None:
        return []
    rows = db.read(
        lambda conn: conn.execute(
            select(ClvCustomer, Customer.name, Customer.email, Customer.phone)
            .join(Customer, Customer.id == ClvCustomer.customer_id)
            .where(ClvCustomer.fit_id == model.id)
            .order_by(ClvCustomer.expected_purchases.desc(), ClvCustomer.customer_id)
            .limit(limit)
        ).all()
    )
    return [
        {
            "customer_id": str(r.customer_id),
            "name": r.name,
            "email": r.email,
            "phone": r.phone,
            "expected_purchases": r.expected_purchases,
            "probability_alive": r.probability_alive,
            "expected_value": (
                format_amount(r.expected_value_minor, model.currency)
                if r.expected_value_minor is not None and model.currency
                else None
            ),
            "currency": model.currency,
        }
        for r in rows
    ]


def forget(db: Database) -> int:
    """Drop every kept fit (after a historical import changed the past)."""

    def work(conn: Connection) -> int:
        conn.execute(delete(ClvCustomer))
        return int(conn.execute(delete(ClvFit)).rowcount)

    return db.write(work)
