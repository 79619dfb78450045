"""Customers ask for a return from the tracking page, with photos; no sign-in."""

from __future__ import annotations

from datetime import datetime, timedelta

from dingdan.services.after_sales import customer_returns, return_queries
from dingdan.services.fulfilment import shipments
from dingdan.services.payments import transactions
from dingdan.web import i18n
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
        data={
            "csrf_token": token,
            "sku": "TEA-001",
            "quantity-0": "1",
            "reason-0": "damaged",
            "note": "<script>alert(1)</script>",
        },
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
    r = b.client.post(
        f"{url}/returns",
        data={"csrf_token": token, "sku": "TEA-001", "quantity-0": "9", "reason-0": "damaged"},
    )
    assert r.status_code == 422
    assert return_queries.list_returns(db, order=order["number"]).items == []
    forged = b.client.post(
        f"{url}/returns", data={"sku": "TEA-001", "quantity-0": "1", "reason-0": "damaged"}
    )
    assert forged.status_code == 403
    assert return_queries.list_returns(db, order=order["number"]).items == []


def test_no_return_form_before_anything_shipped(shop, browser):
    page = browser().get(f"/track/{shop['order']['tracking_token']}")
    assert 'returns" enctype' not in page.text and 'id="return-form"' not in page.text


def test_after_a_request_the_page_shows_where_it_stands_and_no_reason_is_preset(
    shop, browser, db, tmp_path, monkeypatch
):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    order = shop["order"]
    _shipped(db, order["number"])
    b = browser()
    url = f"/track/{order['tracking_token']}"
    page = b.get(url, headers={"Accept-Language": "zh-TW"}).text
    select = page.split('id="tr-reason-0"')[1].split("</select>")[0]
    assert '<option value="" selected>請選擇原因</option>' in select
    assert "selected" not in select.split("</option>", 1)[1]  # no reason chosen for them
    assert "收到商品後 7 天內可申請退貨" in page  # the window, before delivery
    token = csrf_of(page)
    unchosen = b.client.post(
        f"{url}/returns",
        data={"csrf_token": token, "sku": "TEA-001", "quantity-0": "1", "reason-0": ""},
        headers={"Accept-Language": "zh-TW"},
    )
    assert unchosen.status_code == 422 and "請選擇原因" in unchosen.text
    assert 'value="1"' in unchosen.text.split('id="tr-qty-0"')[1].split(">")[0]  # kept
    assert return_queries.list_returns(db, order=order["number"]).items == []
    r = b.client.post(
        f"{url}/returns",
        data={"csrf_token": token, "sku": "TEA-001", "quantity-0": "1", "reason-0": "size_fit"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    again = browser().get(url, headers={"Accept-Language": "zh-TW"}).text  # a reload, later
    mine = again.split('id="your-returns"')[1].split("</section>")[0]
    assert "已申請" in mine and "凍頂烏龍茶 × 1" in mine and "不需要再次送出" in mine


def test_the_return_window_states_its_last_day_once_delivered(shop, browser, db):
    order = shop["order"]
    transactions.record_payment(db, ADMIN, order["number"], {"amount": "760.00"})
    shipped = shipments.create_shipment(db, ADMIN, order["number"], {"carrier": "tcat"})
    url = f"/track/{order['tracking_token']}"
    assert "Returns are accepted within 7 days of delivery." in browser().get(url).text
    delivered = shipments.mark_delivered(db, ADMIN, shipped["id"])
    closes = datetime.fromisoformat(delivered["delivered_at"]) + timedelta(days=7)
    last_day = i18n.Formatter("en").date(closes.isoformat())
    page = browser().get(url).text
    assert f"Returns are accepted within 7 days of delivery: until {last_day}." in page
