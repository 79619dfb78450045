"""Replenishment on a hand-built history: daily demand from the last 56 days of orders
(cancelled left out), reorder points from it and the supplier's lead time or set by hand,
suggestions rounded to packs and minimums, and draft POs grouped by preferred supplier."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import update

from dingdan.db.order_tables import Order
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.purchasing import replenishment
from tests.builders import location, order_body, post_order, product, receive


def _on_day(db, number: str, days_ago: int) -> None:
    today = datetime.now(SELLER_TIMEZONE).date()
    when = datetime.combine(today - timedelta(days=days_ago), time(12), SELLER_TIMEZONE)
    db.write(
        lambda c: c.execute(update(Order).where(Order.number == number).values(created_at=when))
    )


def _order(api, db, sku: str, quantity: int, days_ago: int) -> str:
    o = post_order(api, order_body([{"sku": sku, "quantity": quantity, "unit_price": "100.00"}]))
    _on_day(db, o["number"], days_ago)
    return str(o["number"])


@pytest.fixture
def history(api, db):
    for sku in ("TEA-001", "CUP-001", "BAG-001", "PEN-001"):
        product(db, sku, price="100.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 40, "CUP-001": 3, "BAG-001": 1, "PEN-001": 500})
    for code, pack, minimum in (("S1", 6, 0), ("S2", 1, 10)):
        r = api.post(
            "/api/v1/suppliers",
            json={
                "code": code,
                "name": code,
                "lead_time_days": 7,
                "currency": "TWD",
                "pack_size": pack,
                "minimum_order_quantity": minimum,
            },
        )
        assert r.status_code == 201, r.text
    # TEA-001: 7 units on each of 4 days in the last 56; a cancelled order of 5 does not count.
    for days_ago in (1, 2, 3, 4):
        _order(api, db, "TEA-001", 7, days_ago)
    cancelled = _order(api, db, "TEA-001", 2, 5)
    r = api.post(f"/api/v1/orders/{cancelled}/cancel", json={"reason": "changed mind"})
    assert r.status_code == 200, r.text
    _order(api, db, "TEA-001", 9, 0)  # today's: not a whole day yet
    _order(api, db, "TEA-001", 1, 57)  # before the window
    api.patch("/api/v1/products/TEA-001", json={"supplier": "S1"})
    r = api.request("PUT", "/api/v1/suppliers/S1/products/TEA-001", json={"cost": "80.00"})
    assert r.status_code == 200, r.text
    api.patch("/api/v1/products/CUP-001", json={"supplier": "S2", "reorder_point": 5})
    api.patch("/api/v1/products/BAG-001", json={"reorder_point": 100})
    api.patch("/api/v1/products/PEN-001", json={"supplier": "S1", "reorder_point": 10})
    return db


def test_daily_demand_is_the_last_56_whole_days_of_orders_without_cancelled_ones(history):
    mean, sigma = replenishment.daily_demand(history, "TEA-001", None)
    # 28 units over 56 days; four days of 7 and 52 of 0: variance (4 × 6.5² + 52 × 0.5²)/56.
    assert mean == pytest.approx(0.5)
    assert sigma == pytest.approx(math.sqrt(3.25))
    assert replenishment.daily_demand(history, "TEA-001", "TPE") == pytest.approx((0.5, sigma))
    assert replenishment.daily_demand(history, "CUP-001", None) == (0.0, 0.0)


def test_suggestions_are_the_skus_at_or_below_their_reorder_point(api, history):
    r = api.get("/api/v1/replenishment?location=TPE")
    assert r.status_code == 200, r.text
    today = datetime.now(SELLER_TIMEZONE).date()
    # TEA-001: 40 received, 28 + 9 + 1 reserved (the cancelled 2 released): 2 available.
    # Reorder point 3.5 + 1.644854 × √3.25 × √7 = 11.35 → 12; up to 12 + 14 days × 0.5 = 19:
    # 19 - 2 = 17 → 3 packs of 6 = 18. Planning's rule: 2 units meet 0.5 a day for 4 days;
    # the 5th day's demand is the first not met in full.
    items = {i["sku"]: i for i in r.json()["items"]}
    assert set(items) == {"TEA-001", "CUP-001", "BAG-001"}
    assert items["TEA-001"] == {
        "sku": "TEA-001",
        "location": "TPE",
        "available": 2,
        "on_order": 0,
        "reorder_point": 12,
        "suggested_quantity": 18,
        "supplier": "S1",
        "stockout_date": (today + timedelta(days=5)).isoformat(),
    }
    assert items["CUP-001"] == {
        "sku": "CUP-001",
        "location": "TPE",
        "available": 3,
        "on_order": 0,
        "reorder_point": 5,
        "suggested_quantity": 10,
        "supplier": "S2",
        "stockout_date": None,
    }
    assert items["BAG-001"]["supplier"] is None
    assert items["BAG-001"]["suggested_quantity"] == 99


def test_one_click_makes_draft_pos_grouped_by_preferred_supplier(api, history):
    r = api.post(
        "/api/v1/replenishment/purchase-orders", json={"location": "TPE"}, role="warehouse"
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["skipped"] == ["BAG-001"]
    pos = {p["supplier"]: p for p in made["items"]}
    assert set(pos) == {"S1", "S2"}
    assert all(p["status"] == "draft" and p["location"] == "TPE" for p in pos.values())
    assert pos["S1"]["lines"] == [
        {"sku": "TEA-001", "quantity": 18, "received": 0, "unit_cost": "80.00"}
    ]
    assert pos["S2"]["lines"] == [
        {"sku": "CUP-001", "quantity": 10, "received": 0, "unit_cost": "0.00"}
    ]
    # Drafts are not on order yet; once sent, TEA-001 is covered.
    before = {i["sku"] for i in api.get("/api/v1/replenishment").json()["items"]}
    assert before == {"TEA-001", "CUP-001", "BAG-001"}
    api.post(f"/api/v1/purchase-orders/{pos['S1']['id']}/send", role="warehouse")
    after = api.get("/api/v1/replenishment").json()["items"]
    assert {i["sku"] for i in after} == {"CUP-001", "BAG-001"}
    assert api.get("/api/v1/inventory/TEA-001").json()["on_order"] == 18


def test_low_stock_lists_what_runs_out_first(history):
    items = replenishment.low_stock(history)
    assert [i["sku"] for i in items] == ["TEA-001", "BAG-001", "CUP-001"]


def test_a_draft_reaches_the_suppliers_minimum_amount_in_whole_packs(api, history):
    r = api.patch("/api/v1/suppliers/S1", json={"minimum_order": "2000.00"})
    assert r.status_code == 200 and r.json()["minimum_order"] == "2000.00"
    made = api.post("/api/v1/replenishment/purchase-orders", json={"location": "TPE"}).json()
    s1 = next(p for p in made["items"] if p["supplier"] == "S1")
    # 18 × 80.00 = 1,440.00; packs of 6 (480.00): one round makes 1,920.00, one more 2,400.00.
    assert s1["lines"] == [{"sku": "TEA-001", "quantity": 30, "received": 0, "unit_cost": "80.00"}]
    assert s1["total"] == "2400.00"
