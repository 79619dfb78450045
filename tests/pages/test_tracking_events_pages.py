"""Carrier tracking events on the pages: a warehouse upload with its result, the order's
timeline, the customer's tracking page in Chinese, and a carrier's webhook secret."""

from __future__ import annotations

from dingdan.services.fulfilment import shipments
from dingdan.services.payments import transactions
from tests.builders import ADMIN

ZH = {"Accept-Language": "zh-TW"}
NUMBER = "123456789012"


def _shipped(db, number):
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00"})
    shipments.create_shipment(db, ADMIN, number, {"carrier": "tcat", "tracking_number": NUMBER})


def test_a_warehouse_upload_moves_the_shipment_and_the_customer_sees_it_in_chinese(
    shop, browser, db
):
    order = shop["order"]
    _shipped(db, order["number"])
    b = browser("warehouse")
    text = (
        "carrier,tracking_number,status,time,location\n"
        f"tcat,{NUMBER},in_transit,2026-12-07 09:00,台北轉運中心\n"
        f"tcat,{NUMBER},out_for_delivery,2026-12-07 10:15,台北營業所\n"
        "tcat,999999999999,in_transit,2026-12-07 09:00,\n"
        f"tcat,{NUMBER},beamed_up,2026-12-07 11:00,\n"
    )
    files = {"file": ("events.csv", text.encode(), "text/csv")}
    r = b.post("/warehouse/tracking/import", files=files, headers=ZH)
    assert r.status_code == 422 and "import-refused" in r.text
    assert "第 5 列" in r.text or "Row 5" in r.text
    r = b.post("/warehouse/tracking/import", {"skip_bad": "1"}, files=files, headers=ZH)
    assert r.status_code == 200, r.text
    assert "import-result" in r.text and "999999999999" in r.text

    listed = b.get(f"/orders/{order['number']}", headers=ZH).text
    assert "台北營業所" in listed and "物流追蹤" in listed

    page = browser().get(f"/track/{order['tracking_token']}", headers=ZH).text
    assert "配送中" in page and "運送中" in page and "台北營業所" in page
    assert "10:15" in page  # Taipei time, as written


def test_a_manager_makes_a_carriers_webhook_secret_shown_once(shop, browser):
    b = browser("manager")
    r = b.post("/settings/carriers/tcat", {"do": "webhook_secret"})
    assert r.status_code == 200 and "whsec_" in r.text and "/hooks/carriers/tcat" in r.text
    again = b.get("/settings/carriers")
    assert "whsec_" not in again.text
    assert b.post("/settings/carriers/tcat", {"do": "webhook_secret"}).status_code == 200
    refused = browser("warehouse").post("/settings/carriers/tcat", {"do": "webhook_secret"})
    assert refused.status_code == 403
