"""One rule for "low" everywhere (services/purchasing/positions.py): the staff alerts,
/replenishment (its list and stock-out dates) and the dashboard's low-stock tile agree on a
hand-built SKU as its locations' own reorder points, a purchase order and a kept forecast
change what each says."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from dingdan.db.forecast_tables import Forecast
from dingdan.db.notification_tables import NotificationCondition
from dingdan.db.tables import Product
from dingdan.services.jobs import staff_alerts
from dingdan.services.purchasing import forecasts, planning
from dingdan.services.reports import dashboard
from tests.builders import location, product, receive


def _listed(api) -> dict[str, tuple]:
    r = api.get("/api/v1/replenishment")
    assert r.status_code == 200, r.text
    return {
        i["location"]: (i["reorder_point"], i["suggested_quantity"], i["stockout_date"])
        for i in r.json()["items"]
    }


def _tile(db) -> dict[str, tuple]:
    d = dashboard.summary(db)
    assert d["low_stock_total"] == len(d["low_stock"])
    return {i["location"]: (i["level"], i["source"], i["stockout_date"]) for i in d["low_stock"]}


def _alerts(db) -> set[str]:
    staff_alerts.low_stock(db)
    staff_alerts.reorder_points(db)
    keys = db.read(lambda c: c.execute(select(NotificationCondition.key)).scalars().all())
    return {k for k in keys if k.startswith(("low:", "reorder:"))}


def _own(api, loc: str, point: int | None) -> None:
    url = f"/api/v1/products/TEA-001/reorder-points/{loc}"
    r = api.request("PUT", url, json={"reorder_point": point}, role="warehouse")
    assert r.status_code == 200, r.text


def _keep_forecast(db, loc: str, daily: list[float]) -> None:
    tomorrow = forecasts.seller_today() + timedelta(days=1)

    def work(c):
        pid = c.execute(select(Product.id).where(Product.sku == "TEA-001")).scalar_one()
        c.execute(
            insert(Forecast).values(
                product_id=pid, location=loc, model="AutoETS", demand_class="smooth",
                history_days=400, horizon=28, error_stdev=0.0, first_day=tomorrow,
                daily=[f"{v:.2f}" for v in daily], backtests={}, uplifts={},
            )
        )  # fmt: skip

    db.write(work)


def test_a_locations_own_point_changes_replenishment_the_tile_and_the_alerts_alike(api, db):
    product(db, "TEA-001", price="100.00", low_stock_threshold=5)
    location(db, "TPE")
    location(db, "KHH", priority=1)
    receive(db, "TPE", {"TEA-001": 20})
    receive(db, "KHH", {"TEA-001": 3})
    today = forecasts.seller_today()

    # No demand, no reorder point: the threshold (5) governs both; KHH (3) is low.
    assert _listed(api) == {"KHH": (5, 2, None)}
    assert _tile(db) == {"KHH": (5, "threshold", None)}
    assert _alerts(db) == {"low:TEA-001:KHH"}

    # TPE sets its own point above its 20 units: low there, told as a reorder point.
    _own(api, "TPE", 25)
    assert _listed(api) == {"TPE": (25, 5, None), "KHH": (5, 2, None)}
    assert _tile(db) == {"TPE": (25, "location", None), "KHH": (5, "threshold", None)}
    assert _alerts(db) == {"reorder:TEA-001:TPE", "low:TEA-001:KHH"}

    # KHH's own point of 2 wins over the threshold: 3 is above it, nothing low there.
    _own(api, "KHH", 2)
    assert _listed(api) == {"TPE": (25, 5, None)}
    assert set(_tile(db)) == {"TPE"}
    assert _alerts(db) == {"reorder:TEA-001:TPE"}

    # 10 on order for TPE, due in 3 days: 20 + 10 is above 25 everywhere at once.
    r = api.post(
        "/api/v1/suppliers",
        json={"code": "S1", "name": "S1", "lead_time_days": 7, "currency": "TWD"},
    )
    assert r.status_code == 201, r.text
    po = api.post(
        "/api/v1/purchase-orders",
        json={
            "supplier": "S1",
            "location": "TPE",
            "expected_date": (today + timedelta(days=3)).isoformat(),
            "lines": [{"sku": "TEA-001", "quantity": 10, "unit_cost": "50.00"}],
        },
    )
    assert po.status_code == 201, po.text
    assert api.post(f"/api/v1/purchase-orders/{po.json()['id']}/send").status_code == 200
    assert _listed(api) == {} and _tile(db) == {} and _alerts(db) == set()

    # A kept forecast of 4 a day at TPE and its own point raised to 40 (30 is below): the
    # stock-out day counts the 10 arriving on day 3, as planning's does. 20 → 16, 12, then
    # 12 + 10 - 4 = 18, 14, 10, 6, 2, and day 8's 4 is not met.
    _keep_forecast(db, "TPE", [4.0] * 120)
    _own(api, "TPE", 40)
    runs_out = (today + timedelta(days=8)).isoformat()
    # Up to 40 + 14 days × 4 = 96, less 30 held and coming: 66.
    assert _listed(api) == {"TPE": (40, 66, runs_out)}
    assert _tile(db) == {"TPE": (40, "location", runs_out)}
    planned = {i["location"]: i["stockout_date"] for i in planning.stockouts(db, sku="TEA-001")}
    assert planned["TPE"] == runs_out
    assert _alerts(db) == {"reorder:TEA-001:TPE"}

    # Cleared: the product has no point of its own, so TPE's is computed from the forecast:
    # no preferred supplier, so planning's lead time of 14 days: 4 × 14 = 56 (30 is below).
    _own(api, "TPE", None)
    assert _listed(api)["TPE"][0] == 56
    assert _tile(db)["TPE"][:2] == (56, "computed")
