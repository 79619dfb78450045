"""The planning pages (預測): what runs out before a delivery could arrive, orders at risk,
and the forecast page of a SKU with its chart, accuracy and classes; every role reads them."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import update

from dingdan.db.order_tables import Order
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.orders import capture
from dingdan.services.purchasing import forecasts
from tests.builders import ADMIN, order_body


def _history(db, days=30):
    """One TEA-001 a day for ``days`` days up to yesterday."""
    today = forecasts.seller_today()
    for d in range(1, days + 1):
        order, _ = capture.place_order(db, ADMIN, order_body([{"sku": "TEA-001", "quantity": 1}]))
        when = datetime.combine(today - timedelta(days=d), time(12), SELLER_TIMEZONE)
        stmt = update(Order).where(Order.number == order["number"]).values(created_at=when)
        db.write(lambda c, stmt=stmt: c.execute(stmt))


def test_planning_lists_what_runs_out_before_a_delivery(db, shop, browser):
    # TPE held 20 TEA-001: the shop's order took 2, 14 days of 1 a day 14: 4 left, sold at
    # 1 a day, gone in days (a delivery takes 14).
    _history(db, 14)
    forecasts.run(db, "all")
    page = browser("viewer").get("/planning")
    assert page.status_code == 200
    assert "Will run out before the next delivery could arrive" in page.text
    running_out = page.text.split('id="running-out"')[1].split("</section>")[0]
    assert "/planning/forecasts/TEA-001?location=TPE" in running_out
    assert "MUG-001" not in running_out  # never sold: no forecast of running out
    assert "Orders at risk" in page.text


def test_the_forecast_page_shows_chart_accuracy_and_classes(db, shop, browser):
    _history(db, 14)
    b = browser("warehouse")
    page = b.get("/planning/forecasts/TEA-001", params={"horizon": 28})
    assert page.status_code == 200, page.text
    assert "<svg" in page.text and "<polyline" in page.text
    assert "MASE" in page.text
    assert "A / " in page.text  # the only SKU sold: class A
    assert "TPE" in page.text  # its stock-out row
    found = b.get("/planning", params={"sku": "TEA-001"}, follow_redirects=False)
    assert found.status_code == 303
    assert found.headers["location"].endswith("/planning/forecasts/TEA-001")
    missing = b.get("/planning/forecasts/NOPE-9")
    assert missing.status_code == 404
    sheet = b.get("/planning/abc.csv")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    assert sheet.content.decode("utf-8-sig").splitlines()[1].startswith("TEA-001,")


def test_planning_in_traditional_chinese(db, shop, browser):
    b = browser("manager")
    page = b.get("/planning", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200
    assert "可能逾時的訂單" in page.text


def test_signed_out_goes_to_sign_in(shop, browser):
    r = browser().get("/planning", follow_redirects=False)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]


def test_promotions_and_thresholds_are_entered_on_the_planning_settings_page(db, shop, browser):
    b = browser("manager")
    page = b.get("/planning/settings")
    assert page.status_code == 200 and "No promotions entered." in page.text
    typed = {
        "name": "週年慶",
        "starts_on": "2027-03-05",
        "ends_on": "2027-03-01",
        "expected_uplift": "1.5",
    }
    refused = b.post("/planning/promotions", typed)
    assert refused.status_code == 422
    assert 'id="promo-end-error"' in refused.text and 'value="週年慶"' in refused.text
    done = b.post("/planning/promotions", {**typed, "ends_on": "2027-03-07"})
    assert done.status_code == 303
    page = b.get("/planning/settings").text
    assert "週年慶" in page and "× 1.5" in page
    pid = page.split('action="/planning/promotions/')[1].split("/delete")[0]
    assert b.post(f"/planning/promotions/{pid}/delete").status_code == 303
    assert "週年慶" not in b.get("/planning/settings").text.split('id="new-promotion"')[0]
    # Full-width digits are digits; B below A is refused beside B, nothing saved.
    bad = b.post("/planning/abc-thresholds", {"a": "０.９", "b": "0.5", "x": "0.5", "y": "1"})
    assert bad.status_code == 422 and 'id="threshold-b-error"' in bad.text
    ok = b.post("/planning/abc-thresholds", {"a": "０.７", "b": "0.9", "x": "0.5", "y": "1"})
    assert ok.status_code == 303
    assert 'value="0.7"' in b.get("/planning/settings").text
    viewer = browser("viewer")
    assert viewer.post("/planning/promotions", typed).status_code == 403
