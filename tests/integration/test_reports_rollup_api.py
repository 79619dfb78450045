"""Every report on a hand-built shop, answers computed by hand: two currencies, a refund, a
cancelled order, a line cancelled after a backorder, a shipment, a damaged return, two
ratings, and two orders a minute either side of Taipei's midnight (23:59 on Sunday 1 March
2026 and 00:01 on Monday 2 March).

TWD orders (prices include tax; shipping 60.00):
  O1 WANG 台北市  Sun 23:59  2 × TEA-001 350        = 760.00  shipped 5 h later, delivered
                                                              the next day; 1 back damaged
  O2 LIN  高雄市  Mon 00:01  1 × CUP-001 500        = 560.00  refunded 100.00 → 460.00
  O3 WANG 台北市  Mon 10:00  1 × TEA-001            = 410.00  cancelled: left out
  O5 WANG 台北市  Mon 14:00  2 × TEA-002 120 (none in stock: backordered), 1 cancelled
                                                    → 180.00
USD: O4 Mon 12:00, 1 × TEA-001 at 10.00 + 5.00 shipping = 15.00.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import insert, select, update

from dingdan.db.message_tables import OrderRating
from dingdan.db.order_tables import Order, Shipment
from dingdan.services.after_sales import returns
from dingdan.services.fulfilment import shipments
from dingdan.services.jobs import worker
from dingdan.services.orders import capture, edits
from dingdan.services.payments import transactions
from tests.builders import ADMIN, LIN, WANG, Shop, order_body

SHOP = Shop(
    products={
        "TEA-001": {"price": "350.00", "category": "tea", "brand": "Ali"},
        "CUP-001": {"price": "500.00", "category": "cup", "brand": "Yixing"},
        "TEA-002": {"price": "120.00", "category": "tea", "allow_backorder": True},
    },
    locations={"TPE": 0},
    stock={"TPE": {"TEA-001": 10, "CUP-001": 5}},
)
stocked = SHOP.fixture()
SUN_2359 = datetime(2026, 3, 1, 15, 59, tzinfo=UTC)
MON_0001 = datetime(2026, 3, 1, 16, 1, tzinfo=UTC)
TWD = {"from": "2026-03-01", "to": "2026-03-02", "currency": "TWD"}


def _place(db, when, lines, buyer=WANG, city=("台北市", "110"), **over):
    body = order_body(lines, buyer=buyer, **over)
    body["shipping_address"] = buyer.address(city=city[0], postal_code=city[1])
    number = capture.place_order(db, ADMIN, body)[0]["number"]
    db.write(
        lambda c: c.execute(update(Order).where(Order.number == number).values(created_at=when))
    )
    return number


def _pay(db, number, amount):
    transactions.record_payment(db, ADMIN, number, {"amount": amount})


@pytest.fixture
def shop(api, stocked):
    db = api.db
    o1 = _place(db, SUN_2359, [{"sku": "TEA-001", "quantity": 2}])
    o2 = _place(
        db, MON_0001, [{"sku": "CUP-001", "quantity": 1}], buyer=LIN, city=("高雄市", "800")
    )
    o3 = _place(db, MON_0001 + timedelta(hours=10), [{"sku": "TEA-001", "quantity": 1}])
    o4 = _place(
        db, MON_0001 + timedelta(hours=12),
        [{"sku": "TEA-001", "quantity": 1, "unit_price": "10.00"}],
        currency="USD", shipping_price="5.00",
    )  # fmt: skip
    o5 = _place(db, MON_0001 + timedelta(hours=14), [{"sku": "TEA-002", "quantity": 2}])
    _pay(db, o1, "760.00")
    sid = shipments.create_shipment(db, ADMIN, o1, {"carrier": "tcat"})["id"]
    shipments.mark_delivered(db, ADMIN, str(sid))
    rid = returns.request_return(
        db, ADMIN, o1, {"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "damaged"}]}
    )["id"]
    returns.approve_return(db, ADMIN, rid)
    returns.receive_return(
        db, ADMIN, rid,
        {"location": "TPE", "lines": [{"sku": "TEA-001", "quantity": 1, "condition": "damaged"}]},
    )  # fmt: skip
    db.write(
        lambda c: c.execute(
            update(Shipment).where(Shipment.id == int(sid)).values(
                created_at=SUN_2359 + timedelta(hours=5),
                delivered_at=datetime(2026, 3, 3, 2, 0, tzinfo=UTC),
            )
        )
    )  # fmt: skip
    _pay(db, o2, "560.00")
    transactions.refund(db, ADMIN, o2, {"amount": "100.00", "reason": "late"})
    shipments.cancel_order(db, ADMIN, o3, "customer asked")
    edits.cancel_line(db, ADMIN, o5, "TEA-002", {"quantity": 1, "reason": "no stock"})
    ids = {
        n: db.read(lambda c, n=n: c.execute(select(Order.id).where(Order.number == n)).scalar())
        for n in (o1, o2, o4)
    }
    db.write(lambda c: c.execute(insert(OrderRating), [
        {"order_id": ids[o1], "rating": 5}, {"order_id": ids[o2], "rating": 3},
        {"order_id": ids[o4], "rating": 1}]))  # fmt: skip
    worker.drain(db)
    return {"o1": o1, "o2": o2, "o3": o3, "o4": o4, "o5": o5}


def _get(api, path, **params):
    r = api.get(f"/api/v1/reports/{path}", params=params, role="viewer")
    assert r.status_code == 200, r.text
    return r.json()


def _sales(api, group_by, **over):
    body = _get(api, "sales", group_by=group_by, **{**TWD, **over})
    return [(i["key"], i["orders"], i["units"], i["revenue"]) for i in body["items"]], body


def test_sales_by_day_splits_the_orders_at_taipei_midnight(api, shop):
    items, body = _sales(api, "day")
    assert items == [("2026-03-01", 1, 2, "760.00"), ("2026-03-02", 2, 2, "640.00")]
    total = body["total"]
    assert (total["orders"], total["units"], total["revenue"]) == (3, 4, "1400.00")
    assert total["average_order_value"] == "466.67"
    assert body["previous"]["orders"] == 0 and body["currency"] == "TWD"
    sunday, _ = _sales(api, "day", to="2026-03-01")
    assert sunday == [("2026-03-01", 1, 2, "760.00")]
    monday, _ = _sales(api, "day", **{"from": "2026-03-02"})
    assert monday == [("2026-03-02", 2, 2, "640.00")]
    later = _get(api, "sales", group_by="day", currency="TWD", **{"from": "2026-03-03",
                 "to": "2026-03-04"})  # fmt: skip
    assert later["previous"]["revenue"] == "1400.00" and later["total"]["orders"] == 0


def test_sales_by_every_grouping(api, shop):
    assert _sales(api, "week")[0] == [("2026-W09", 1, 2, "760.00"), ("2026-W10", 2, 2, "640.00")]
    assert _sales(api, "month")[0] == [("2026-03", 3, 4, "1400.00")]
    assert _sales(api, "channel")[0] == [("web", 3, 4, "1400.00")]
    assert _sales(api, "country")[0] == [("TW", 3, 4, "1400.00")]
    assert _sales(api, "region")[0] == [("TW-TPE", 2, 3, "940.00"), ("TW-KHH", 1, 1, "460.00")]
    assert _sales(api, "product")[0] == [
        ("TEA-001", 1, 2, "700.00"), ("CUP-001", 1, 1, "500.00"), ("TEA-002", 1, 1, "120.00"),
    ]  # fmt: skip
    assert _sales(api, "category")[0] == [("tea", 2, 3, "820.00"), ("cup", 1, 1, "500.00")]
    assert _sales(api, "brand")[0] == [
        ("Ali", 1, 2, "700.00"), ("Yixing", 1, 1, "500.00"), ("", 1, 1, "120.00"),
    ]  # fmt: skip
    usd, _ = _sales(api, "day", currency="USD")
    assert usd == [("2026-03-01", 0, 0, "0.00"), ("2026-03-02", 1, 1, "15.00")]


def test_customers_are_paged(api, shop):
    first = _get(api, "sales", group_by="customer", limit=1, **TWD)
    second = _get(api, "sales", group_by="customer", limit=1, cursor=first["next_cursor"], **TWD)
    assert second["next_cursor"] is None
    rows = {i["label"]: (i["orders"], i["revenue"]) for i in first["items"] + second["items"]}
    assert rows == {"王小明": (2, "940.00"), "林美華": (1, "460.00")}


def test_two_currencies_in_the_range_need_one_named(api, shop):
    r = api.get("/api/v1/reports/sales", params={"from": "2026-03-01", "to": "2026-03-02"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("currency", "currency_required")
    ]
    one = _get(api, "sales", **{"from": "2026-03-01", "to": "2026-03-01"})
    assert one["currency"] == "TWD"  # only TWD on Sunday


def test_top_n(api, shop):
    def top(dimension, metric="revenue", limit=10):
        body = _get(api, "top", dimension=dimension, metric=metric, limit=limit, **TWD)
        return [(i["key"], i["value"]) for i in body["items"]]

    assert top("products", "units") == [("TEA-001", 2), ("CUP-001", 1), ("TEA-002", 1)]
    assert top("products", limit=1) == [("TEA-001", "700.00")]
    assert top("customers", "orders") == top("customers", "orders")[:2]
    assert [v for _k, v in top("customers")] == ["940.00", "460.00"]
    assert top("countries", "orders") == [("TW", 3)]
    assert top("regions") == [("TW-TPE", "940.00"), ("TW-KHH", "460.00")]
    assert top("categories", "units") == [("tea", 3), ("cup", 1)]
    assert top("brands") == [("Ali", "700.00"), ("Yixing", "500.00"), ("", "120.00")]
    assert top("channels") == [("web", "1400.00")]
    assert top("days") == [("2026-03-01", "760.00"), ("2026-03-02", "640.00")]
    assert top("weekdays", "orders") == [("1", 2), ("7", 1)]
    assert top("hours") == [("23", "760.00"), ("0", "460.00"), ("14", "180.00")]
    body = _get(api, "top", dimension="weekdays", **TWD)
    assert body["items"][0]["label"] == "Sunday"


def test_heat_map_cells(api, shop):
    cells = _get(api, "sales/heatmap", **TWD)["cells"]
    assert len(cells) == 7 * 24
    busy = {(c["weekday"], c["hour"]): (c["orders"], c["revenue"]) for c in cells if c["orders"]}
    assert busy == {(7, 23): (1, "760.00"), (1, 0): (1, "460.00"), (1, 14): (1, "180.00")}


def test_kpis(api, shop):
    k = _get(api, "kpis", **TWD)
    assert (k["orders"], k["revenue"], k["average_order_value"]) == (3, "1400.00", "466.67")
    assert k["cancel_rate"] == 0.25  # O3 of O1, O2, O3, O5
    assert k["backorder_rate"] == 0.25  # O5
    assert k["fill_rate"] == 0.6667  # (2 + 1 + 1 + 2 ordered - 2 backordered) / 6
    assert k["return_rate"] == 0.5  # 1 of O1's 2 units came back
    assert (k["on_time_ship_rate"], k["median_hours_to_ship"], k["p90_hours_to_ship"]) == (
        1.0, 5, 5,
    )  # fmt: skip
    assert k["perfect_order_rate"] == 0.0  # returned damaged
    assert (k["csat"], k["average_rating"], k["ratings"]) == (0.5, 4.0, 2)  # USD's not here
    # On hand now: TEA-001 10 - 2 shipped (the damaged one is not back on hand), CUP-001 5.
    assert (k["inventory_turnover"], k["days_of_supply"]) == (0.1538, 13.0)
    assert k["previous"]["orders"] == 0 and k["previous"]["cancel_rate"] is None
    usd = _get(api, "kpis", currency="USD", **{"from": "2026-03-01", "to": "2026-03-02"})
    assert (usd["orders"], usd["revenue"], usd["csat"]) == (1, "15.00", 0.0)


def test_carriers_against_their_promised_days(api, shop):
    (tcat,) = _get(api, "carriers", **TWD)["items"]
    assert tcat == {
        "carrier": "tcat", "shipments": 1, "units": 2, "delivered": 1,
        "median_transit_days": 1, "p90_transit_days": 1,
        "transit_days": [{"days": 1, "shipments": 1}], "on_time_rate": 1.0,
        "exception_rate": 0.0, "loss_rate": 0.0, "return_rate": 0.5,
    }  # fmt: skip
    r = api.request("PUT", "/api/v1/reports/carriers/promises",
                    json={"carrier": "tcat", "region": "TW-TPE", "days": 0})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [{"carrier": "tcat", "region": "TW-TPE", "days": 0}]
    assert _get(api, "carriers", **TWD)["items"][0]["on_time_rate"] == 0.0
    bad = api.request("PUT", "/api/v1/reports/carriers/promises", json={"carrier": "tcat",
                      "days": 99})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "days"


def test_stockouts(api, shop):
    (row,) = _get(api, "stockouts", **TWD)["items"]
    assert row == {
        "sku": "TEA-002", "name": "Product TEA-002", "stockout_days": 1,
        "backordered_units": 2, "backordered_revenue": "240.00",
        "lost_units": 1, "lost_revenue": "120.00",
    }  # fmt: skip


def test_a_report_as_csv_and_xlsx(api, shop):
    r = api.get("/api/v1/reports/sales", params={"group_by": "day", "format": "csv", **TWD})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert rows == [
        ["from", "to", "currency", "key", "label", "orders", "units", "revenue",
         "average_order_value"],
        ["2026-03-01", "2026-03-02", "TWD", "2026-03-01", "2026-03-01", "1", "2", "760.00",
         "760.00"],
        ["2026-03-01", "2026-03-02", "TWD", "2026-03-02", "2026-03-02", "2", "2", "640.00",
         "320.00"],
    ]  # fmt: skip
    x = api.get("/api/v1/reports/kpis", params={"format": "xlsx", **TWD})
    assert x.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(x.content)).worksheets[0]
    values = {row[3]: row[4] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["revenue"] == "1400.00" and values["cancel_rate"] == "0.25"
    assert values["orders"] == 3


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"from": "2026-02-30"}, "from", "not_a_date"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to", "before_start"),
        ({"from": "2000-01-01", "to": "2026-03-01"}, "from", "range_too_long"),
        ({"group_by": "planet"}, "group_by", "unknown_value"),
        ({"format": "pdf"}, "format", "unknown_value"),
        ({"currency": "XX"}, "currency", "invalid_currency"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from", "out_of_range"),
        ({"from": "9999-12-30", "to": "9999-12-31"}, "from", "out_of_range"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(api, stocked, params, field, code):
    r = api.get("/api/v1/reports/sales", params=params)
    assert r.status_code == 422, r.text
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [(field, code)]


def test_whole_months_are_read_by_month_and_ragged_ends_by_day(api, shop):
    for start, end in [("2026-02-01", "2026-03-31"), ("2026-02-15", "2026-04-10"),
                       ("2026-03-01", "2026-03-02"), ("2025-12-31", "2026-03-01")]:  # fmt: skip
        body = _get(api, "sales", group_by="channel", currency="TWD", **{"from": start, "to": end})
        expected = ("web", 1, 2, "760.00") if end == "2026-03-01" else ("web", 3, 4, "1400.00")
        assert [(i["key"], i["orders"], i["units"], i["revenue"]) for i in body["items"]] == [
            expected
        ], (start, end)
