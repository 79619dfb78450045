"""Stock-out days and orders at risk on hand-built histories with known answers, through the
services and the database (both backends)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from dingdan.db.order_tables import Order
from dingdan.db.tables import Product
from dingdan.db.types import utcnow
from dingdan.services.purchasing import forecasts, planning
from dingdan.services.reports import at_risk
from tests.builders import Shop, order_body, pay, post_order

SHOP = Shop(
    products={"TEA-001": "350.00", "CUP-001": "100.00"},
    locations={"TPE": 0, "KHH": 1},
    stock={"TPE": {"TEA-001": 10, "CUP-001": 5}, "KHH": {"TEA-001": 100}},
)
stocked = SHOP.fixture()


def _forecast(db, sku, location, per_day, today):
    pid = db.read(lambda c: c.execute(select(Product.id).where(Product.sku == sku)).scalar())
    row = {
        "product_id": pid,
        "location": location,
        "model": "Hand",
        "spec": None,
        "demand_class": "smooth",
        "history_days": 30,
        "horizon": 28,
        "mase": None,
        "naive_mase": None,
        "error_stdev": 0.5,
        "backtests": {},
        "uplifts": {},
        "first_day": today,
        "daily": [per_day] * 366,
        "computed_at": utcnow(),
    }
    db.write(lambda c: forecasts._store(c, rows=[row]))


def test_stockout_days_per_sku_and_location(db, stocked):
    today = forecasts.seller_today()
    _forecast(db, "TEA-001", "TPE", "2.00", today)  # 10 available: out on day 6
    _forecast(db, "TEA-001", "KHH", "1.00", today)  # 100 available: out on day 101
    found = {(i["sku"], i["location"]): i for i in planning.stockouts(db)}
    assert set(found) == {("TEA-001", "TPE"), ("TEA-001", "KHH")}  # CUP-001: no forecast
    tpe = found[("TEA-001", "TPE")]
    assert tpe["stockout_date"] == (today + timedelta(days=6)).isoformat()
    assert (tpe["available"], tpe["days_left"], tpe["before_delivery"]) == (10, 6, True)
    khh = found[("TEA-001", "KHH")]
    assert (khh["days_left"], khh["before_delivery"]) == (101, False)
    # 5 on order, expected on day 3: 10 - 6 + 5 = 9 that evening, out on day 8.
    arriving = {("TEA-001", "TPE"): [(today + timedelta(days=3), 5)]}
    later = planning.stockouts(db, sku="TEA-001", location="TPE", on_order=arriving)
    assert [(i["days_left"], i["on_order"]) for i in later] == [(8, 5)]
    assert [i["location"] for i in planning.running_out(db)] == ["TPE"]
    assert planning.running_out(db, lead_times={"TEA-001": 5}) == []


def test_open_purchase_orders_arrive_in_the_projection_on_their_expected_day(api, stocked):
    db = api.db
    today = forecasts.seller_today()
    _forecast(db, "TEA-001", "TPE", "2.00", today)  # 10 available: out on day 6 alone
    supplier = {"code": "S1", "name": "S1", "lead_time_days": 7, "currency": "TWD"}
    assert api.post("/api/v1/suppliers", json=supplier).status_code == 201

    def po(quantity, location="TPE", send=True, **over):
        lines = [{"sku": "TEA-001", "quantity": quantity, "unit_cost": "10.00"}]
        body = {"supplier": "S1", "location": location, "lines": lines, **over}
        made = api.post("/api/v1/purchase-orders", json=body).json()
        if send:
            assert api.post(f"/api/v1/purchase-orders/{made['id']}/send").status_code == 200
        return made

    po(5, expected_date=(today + timedelta(days=3)).isoformat())
    po(4)  # no expected day: sent today, the supplier's 7 days
    po(100, send=False)  # a draft is not on order
    po(100, location="KHH")  # another location's
    # 10 - 2/day; +5 on day 3, +4 on day 7: 9, 3, then 5 on day 7, 1 on day 9, out on day 10.
    (found,) = planning.stockouts(db, sku="TEA-001", location="TPE")
    assert (found["on_order"], found["days_left"]) == (9, 10)
    assert (found["lead_time_days"], found["before_delivery"]) == (14, True)  # the setting
    assert api.patch("/api/v1/products/TEA-001", json={"supplier": "S1"}).status_code == 200
    (found,) = planning.stockouts(db, sku="TEA-001", location="TPE")
    assert (found["lead_time_days"], found["before_delivery"]) == (7, False)


def _created(db, number, when):
    db.write(
        lambda c: c.execute(update(Order).where(Order.number == number).values(created_at=when))
    )


def test_orders_at_risk_from_how_long_payment_takes_now(api, stocked):
    now = utcnow()
    # Three orders paid now after 70, 80 and 90 hours: payment takes a median of 80 h now
    # (over its 72 h limit).
    for hours in (70, 80, 90):
        o = post_order(api, order_body([{"sku": "CUP-001", "quantity": 1}]))
        pay(api, o)
        _created(api.db, o["number"], now - timedelta(hours=hours))
    waiting = post_order(api, order_body([{"sku": "CUP-001", "quantity": 1}]))
    _created(api.db, waiting["number"], now - timedelta(hours=20))  # due in 52 h: at risk
    late = post_order(api, order_body([{"sku": "CUP-001", "quantity": 1}]))
    _created(api.db, late["number"], now - timedelta(hours=75))  # late already: not listed
    found = at_risk.orders_at_risk(api.db, now + timedelta(seconds=1))
    assert round(found["paces"]["payment"]["median_hours"]) == 80
    assert [(i["number"], i["stage"]) for i in found["items"]] == [(waiting["number"], "payment")]
    expected = datetime.fromisoformat(found["items"][0]["expected"].replace("Z", "+00:00"))
    assert abs(expected - (now + timedelta(hours=60))) < timedelta(minutes=1)
