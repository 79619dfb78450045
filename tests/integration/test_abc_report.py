"""GET /api/v1/reports/abc: SKUs by line revenue in a range, cancelled orders left out,
classes and shares as the contract says, CSV/XLSX, and a currency required when several."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from dingdan.db.order_tables import Order
from dingdan.services.fulfilment import shipments
from tests.builders import ADMIN, Shop, order_body, post_order

SHOP = Shop(
    products={"TEA-001": "350.00", "CUP-001": "100.00", "POT-001": "50.00", "BAG-001": "25.00"},
    locations={"TPE": 0},
    stock={"TPE": {"TEA-001": 50, "CUP-001": 50, "POT-001": 50, "BAG-001": 50}},
)
stocked = SHOP.fixture()
URL = "/api/v1/reports/abc"


def _placed(db, number, when):
    stmt = update(Order).where(Order.number == number).values(created_at=when)
    db.write(lambda c: c.execute(stmt))


@pytest.fixture
def sales(api, stocked):
    """TEA 2 x 350 = 700 (70%), CUP 2 x 100 = 200 (before it 70%: A), POT 50, BAG 2 x 25 =
    50 (a tie with POT: BAG first by SKU); a cancelled TEA order left out."""
    body = [
        {"sku": "TEA-001", "quantity": 2},
        {"sku": "CUP-001", "quantity": 2},
        {"sku": "POT-001", "quantity": 1},
        {"sku": "BAG-001", "quantity": 2},
    ]
    o = post_order(api, order_body(body))
    _placed(api.db, o["number"], datetime(2026, 11, 3, 4, tzinfo=UTC))
    gone = post_order(api, order_body([{"sku": "TEA-001", "quantity": 9}]))
    shipments.cancel_order(api.db, ADMIN, gone["number"], "test")


def test_classes_and_shares(api, sales):
    r = api.get(URL, role="viewer")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["currency"] == "TWD"
    got = [(i["sku"], i["revenue"], i["class"]) for i in body["items"]]
    assert got == [
        ("TEA-001", "700.00", "A"),
        ("CUP-001", "200.00", "A"),
        ("BAG-001", "50.00", "B"),  # before it 90%
        ("POT-001", "50.00", "C"),  # before it 95%: not under it
    ]
    assert [i["share"] for i in body["items"]] == [0.7, 0.2, 0.05, 0.05]
    assert [i["cumulative_share"] for i in body["items"]] == [0.7, 0.9, 0.95, 1.0]
    assert {i["xyz"] for i in body["items"]} <= {"X", "Y", "Z"}


def test_a_range_and_files(api, sales):
    assert api.get(URL, params={"from": "2026-12-01", "to": "2026-12-02"}).json()["items"] == []
    nov = api.get(URL, params={"from": "2026-11-01", "to": "2026-11-30"}).json()
    assert len(nov["items"]) == 4
    f = api.get(URL, params={"format": "csv"})
    assert f.status_code == 200 and f.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(f.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["sku", "revenue", "currency"]
    assert rows[1][:3] == ["TEA-001", "700.00", "TWD"]
    x = api.get(URL, params={"format": "xlsx"})
    assert x.status_code == 200 and x.content[:2] == b"PK"
    bad = api.get(URL, params={"format": "pdf"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "format"
    backwards = api.get(URL, params={"from": "2026-11-02", "to": "2026-11-01"})
    assert backwards.status_code == 422


def test_several_currencies_need_one_named(api, stocked):
    post_order(api, order_body([{"sku": "TEA-001", "quantity": 1, "unit_price": "350.00"}]))
    usd = order_body(
        [{"sku": "CUP-001", "quantity": 1, "unit_price": "10.00"}],
        currency="USD",
        shipping_price="1.00",
    )
    post_order(api, usd)
    r = api.get(URL)
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("currency", "required")]
    only = api.get(URL, params={"currency": "USD"}).json()
    assert [(i["sku"], i["revenue"]) for i in only["items"]] == [("CUP-001", "10.00")]


def test_the_pages_classes_are_kept_for_the_day_and_the_thresholds(api, sales):
    from datetime import timedelta

    from dingdan.services.purchasing import abc, forecasts

    first = abc.all_classes(api.db)
    assert {k: v["class"] for k, v in first.items()} == {
        "TEA-001": "A", "CUP-001": "A", "BAG-001": "B", "POT-001": "C"}  # fmt: skip
    # 40 POT-001 (2,000.00) yesterday: kept, the classes are not computed again that day...
    o = post_order(api, order_body([{"sku": "POT-001", "quantity": 40}]))
    yesterday = forecasts.seller_today() - timedelta(days=1)
    _placed(api.db, o["number"], datetime.combine(yesterday, datetime.min.time(), UTC))
    assert abc.all_classes(api.db) is first
    # ...until the thresholds change: POT-001 now holds two thirds of the revenue.
    limits = {"a": 0.8, "b": 0.9, "x": 0.5, "y": 1}
    assert api.request("PUT", "/api/v1/settings/abc-thresholds", json=limits).status_code == 200
    assert abc.all_classes(api.db)["POT-001"]["class"] == "A"


def test_a_past_order_cancelled_today_leaves_the_kept_classes_at_once_in_every_process(api, sales):
    """The classes are kept per process; a cancel of a past day's order writes a new mark
    (services/shared/past_sales.py) that another process's kept classes see at their next
    read. Today's orders are in no classes: cancelling one writes nothing."""
    from datetime import timedelta

    from dingdan.db.engine import Database
    from dingdan.services.purchasing import abc, forecasts
    from dingdan.services.shared import past_sales

    other = Database(api.db.url.render_as_string(hide_password=False))
    try:
        first = abc.all_classes(api.db)
        assert abc.all_classes(other) == first and "TEA-001" in first
        today = post_order(api, order_body([{"sku": "TEA-001", "quantity": 1}]))
        shipments.cancel_order(api.db, ADMIN, today["number"], "today's")
        assert api.db.read(past_sales.mark) is None
        assert abc.all_classes(api.db) is first
        # 30 POT-001 three days ago (1,500.00 of 2,450.00) change no kept classes by themselves.
        o = post_order(api, order_body([{"sku": "POT-001", "quantity": 30}]))
        ago = forecasts.seller_today() - timedelta(days=3)
        _placed(api.db, o["number"], datetime.combine(ago, datetime.min.time(), UTC))
        assert abc.all_classes(api.db) is first  # kept: a past day changed without a mark
        assert abc.all_classes(other)["POT-001"]["class"] == "C"
        r = api.post(f"/api/v1/orders/{o['number']}/cancel", json={"reason": "changed mind"})
        assert r.status_code == 200, r.text
        assert api.db.read(past_sales.mark) is not None
        # Both processes compute again: the 30 POT-001 are gone, TEA-001 back on top.
        for db in (api.db, other):
            again = abc.all_classes(db)
            assert again is not first
            assert {k: v["class"] for k, v in again.items()} == {
                "TEA-001": "A", "CUP-001": "A", "BAG-001": "B", "POT-001": "C"}  # fmt: skip
        # Cancelling one line of a past order marks it too.
        body = [{"sku": "POT-001", "quantity": 30}, {"sku": "CUP-001", "quantity": 1}]
        o = post_order(api, order_body(body))
        _placed(api.db, o["number"], datetime.combine(ago, datetime.min.time(), UTC))
        before = api.db.read(past_sales.mark)
        r = api.post(f"/api/v1/orders/{o['number']}/lines/CUP-001/cancel", json={"reason": "x"})
        assert r.status_code == 200, r.text
        assert api.db.read(past_sales.mark) != before
        assert abc.all_classes(other)["POT-001"]["class"] == "A"
    finally:
        other.dispose()
