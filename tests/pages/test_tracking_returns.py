"""Customers ask for a return from the tracking page, with photos; no sign-in."""

from __future__ import annotations

from dingdan.services.after_sales import customer_returns, return_queries
from dingdan.services.fulfilment import shipments
from dingdan.services.payments import transactions
from tests.builders import ADMIN
from tests.pages.conftest import csrf_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _shipped(db, number):
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00"})
    shipments.create_shipment(db, ADMIN, number, {"carrier": "tcat"})


def test_a_customer_requests_a_return_with_a_photo_from_the_tracking_page(
    shop, browser, db, tmp_path, monkeypatch
):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    order = shop["order"]
    _shipped(db, order["number"])
    b = browser()
    url = f"/track/{order['tracking_token']}"
    page = b.get(url, headers={"Accept-Language": "zh-TW"})
    assert "申請退貨" in page.text and 'enctype="multipart/form-data"' in page.text
    token = csrf_of(page.text)
    r = b.client.post(
        f"{url}/returns",
        data={"csrf_token": token, "sku": "TEA-001", "quantity-0": "1", "reason-0": "damaged",
              "note": "<script>alert(1)</script>"},
        files=[("photos", ("破損.png", PNG, "image/png"))],
        headers={"Accept-Language": "zh-TW"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    listed = return_queries.list_returns(db, order=order["number"]).items
    assert [(ln["sku"], ln["quantity"]) for ln in listed[0]["lines"]] == [("TEA-001", 1)]
    assert listed[0]["requested_by"] == f"customer:{order['number']}"
    photos = customer_returns.photos_of(db, listed[0]["id"])
    assert [p["filename"] for p in photos] == ["破損.png"]
    after = b.get(url, headers={"Accept-Language": "zh-TW"})
    assert "已收到您的退貨申請" in after.text


def test_a_request_outside_what_shipped_is_refused_on_the_page_and_stores_nothing(
    shop, browser, db, tmp_path, monkeypatch
):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    order = shop["order"]
    _shipped(db, order["number"])
    b = browser()
    url = f"/track/{order['tracking_token']}"
    token = csrf_of(b.get(url).text)
    r = b.client.post(f"{url}/returns", data={
        "csrf_token": token, "sku": "TEA-001", "quantity-0": "9", "reason-0": "damaged"})
    assert r.status_code == 422
    assert return_queries.list_returns(db, order=order["number"]).items == []
    forged = b.client.post(f"{url}/returns", data={
        "sku": "TEA-001", "quantity-0": "1", "reason-0": "damaged"})
    assert forged.status_code == 403
    assert return_queries.list_returns(db, order=order["number"]).items == []


def test_no_return_form_before_anything_shipped(shop, browser):
    page = browser().get(f"/track/{shop['order']['tracking_token']}")
    assert 'action="/track/' not in page.text
