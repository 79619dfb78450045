"""GET /api/v1/forecasts/{sku} (shared/CONTRACT.md, "Forecasts"): the demand history it is
fitted on (cancelled left out, backorders included, by the seller's day and location), the
answer's shape, zeros for a SKU with no history, the horizon's bounds, unknown SKUs and
locations; and the worker's runs (all, changed)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from dingdan.db.forecast_tables import Forecast
from dingdan.db.order_tables import Order
from dingdan.db.types import utcnow
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.fulfilment import shipments as order_service
from dingdan.services.purchasing import demand, forecasts
from tests.builders import ADMIN, Shop, order_body, post_order

SHOP = Shop(
    products={
        "TEA-001": "350.00",
        "TEA-002": {"price": "120.00", "allow_backorder": True},
        "CUP-001": "500.00",
    },
    locations={"TPE": 0, "KHH": 1},
    stock={"TPE": {"TEA-001": 200}},
)
stocked = SHOP.fixture()
DAYS = 21


def _placed_days_ago(db, number, days):
    today = datetime.now(SELLER_TIMEZONE).date()
    when = datetime.combine(today - timedelta(days=days), time(12), SELLER_TIMEZONE)
    db.write(
        lambda c: c.execute(update(Order).where(Order.number == number).values(created_at=when))
    )


@pytest.fixture
def history(api, stocked):
    """TEA-001: 1 unit a day for 21 days, 3 on Saturdays; a cancelled order of 5 (left
    out); TEA-002: 2 backordered units 3 days ago (included)."""
    today = datetime.now(SELLER_TIMEZONE).date()
    for days in range(1, DAYS + 1):
        units = 3 if (today - timedelta(days=days)).weekday() == 5 else 1
        o = post_order(api, order_body([{"sku": "TEA-001", "quantity": units}]))
        _placed_days_ago(api.db, o["number"], days)
    gone = post_order(api, order_body([{"sku": "TEA-001", "quantity": 5}]))
    order_service.cancel_order(api.db, ADMIN, gone["number"], "test")
    _placed_days_ago(api.db, gone["number"], 2)
    back = post_order(api, order_body([{"sku": "TEA-002", "quantity": 2}]))
    _placed_days_ago(api.db, back["number"], 3)
    return today


def test_demand_counts_ordered_units_by_day_and_location(db, history):
    ids = dict(db.read(lambda c: c.execute(select(Order.id, Order.number)).all()))
    assert ids
    from dingdan.db.tables import Product

    pid = dict(db.read(lambda c: c.execute(select(Product.sku, Product.id)).all()))
    until = history - timedelta(days=1)
    units = db.read(lambda c: demand.daily_units(c, [pid["TEA-001"], pid["TEA-002"]], until))
    tea = units[(pid["TEA-001"], "")]
    assert tea[history - timedelta(days=2)] in (1, 3)  # the cancelled 5 are not there
    assert sum(tea.values()) == sum(
        3 if (history - timedelta(days=d)).weekday() == 5 else 1 for d in range(1, DAYS + 1)
    )
    assert units[(pid["TEA-001"], "TPE")] == tea  # allocated at TPE
    # The backorder: no location holds it; it counts at the first location tried (TPE).
    assert units[(pid["TEA-002"], "")] == {history - timedelta(days=3): 2}
    assert units[(pid["TEA-002"], "TPE")] == {history - timedelta(days=3): 2}


def test_the_forecast_has_the_contracts_shape(api, history):
    r = api.get("/api/v1/forecasts/TEA-001", params={"horizon": 7}, role="viewer")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sku"] == "TEA-001"
    assert body["history_days"] == DAYS
    assert body["model"] in ("AutoETS", "SeasonalNaive", "Theta")
    assert set(body["backtest"]) == {"mase", "naive_mase"}
    assert [d["date"] for d in body["daily"]] == [
        (history + timedelta(days=i)).isoformat() for i in range(1, 8)
    ]
    for day in body["daily"]:
        assert re.fullmatch(r"\d+\.\d\d", day["quantity"]), day
    # Stored: a second read answers from the table, the same.
    assert api.get("/api/v1/forecasts/TEA-001", params={"horizon": 7}).json() == body
    # Another horizon: the backtest holds out that many days, kept once measured.
    longer = api.get("/api/v1/forecasts/TEA-001", params={"horizon": 10}).json()
    assert len(longer["daily"]) == 10
    assert longer["daily"][:7] == body["daily"]


def test_no_history_forecasts_zeros(api, history):
    body = api.get("/api/v1/forecasts/CUP-001", params={"horizon": 3}).json()
    assert body["model"] == "Zero" and body["history_days"] == 0
    assert body["backtest"] == {"mase": None, "naive_mase": None}
    assert [d["quantity"] for d in body["daily"]] == ["0.00"] * 3
    # A location the SKU never sold from has no history there either.
    there = api.get("/api/v1/forecasts/TEA-001", params={"horizon": 2, "location": "KHH"})
    assert [d["quantity"] for d in there.json()["daily"]] == ["0.00", "0.00"]


def test_default_horizon_is_28_days(api, history):
    assert len(api.get("/api/v1/forecasts/TEA-002").json()["daily"]) == 28
    assert len(api.get("/api/v1/forecasts/TEA-002", params={"horizon": 365}).json()["daily"]) == 365


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"horizon": 0}, "horizon", "out_of_range"),
        ({"horizon": 366}, "horizon", "out_of_range"),
        ({"location": "NOPE"}, "location", "unknown_location"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(api, stocked, params, field, code):
    r = api.get("/api/v1/forecasts/TEA-001", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [(field, code)]


def test_horizon_that_is_no_number_is_422(api, stocked):
    r = api.get("/api/v1/forecasts/TEA-001", params={"horizon": "soon"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "horizon"


def test_unknown_sku_is_404(api, stocked):
    r = api.get("/api/v1/forecasts/NOPE-1")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_runs_all_then_only_the_skus_with_new_sales(db, api, history):
    # One location each: the total stored twice (TEA-001 and TEA-002: all and TPE), CUP-001
    # with no history only in total.
    assert forecasts.run(db, "all") == 5
    rows = db.read(lambda c: c.execute(select(Forecast.location)).scalars().all())
    assert sorted(rows) == ["", "", "", "TPE", "TPE"]
    assert forecasts.changed_products(db) == []
    post_order(api, order_body([{"sku": "TEA-001", "quantity": 1}]))
    from dingdan.db.tables import Product

    tea = db.read(lambda c: c.execute(select(Product.id).where(Product.sku == "TEA-001")).scalar())
    assert forecasts.changed_products(db) == [tea]
    before = db.read(lambda c: c.execute(select(Forecast.model, Forecast.computed_at)).all())
    assert forecasts.run(db, "changed") == 2
    after = db.read(lambda c: c.execute(select(Forecast.model, Forecast.computed_at)).all())
    assert sorted(m for m, _ in after) == sorted(m for m, _ in before)  # refitted, not chosen
    assert len({t for _, t in after} - {t for _, t in before}) >= 1


def test_the_worker_claims_a_night_once(db, history):
    # The last 03:00 in Taipei that has passed (between midnight and 03:00 it is yesterday's).
    night = datetime.combine(history, time(3), SELLER_TIMEZONE)
    if night > utcnow():
        night -= timedelta(days=1)
    first = forecasts.scheduled(db, night)
    assert first is not None and first["kind"] == "full"
    again = forecasts.scheduled(db, night)
    assert again is not None and again["kind"] == "changed"  # the hour's refit instead
    assert forecasts.scheduled(db, night) is None
    assert utcnow() > night


def test_forecast_demand_for_replenishment(db, history):
    mean, spread = forecasts.forecast_demand(db, "TEA-001", None, 7)
    assert mean > 0 and spread >= 0
    assert forecasts.forecast_demand(db, "CUP-001", "TPE", 7) == (0, 0)
