"""Convenience-store pickup on the pages: staff type the store and see it on the order, the
customer's tracking page offers ECPay's map (a page posting on to ECPay, its origin allowed
as a form target), the map's reply comes back through the browser, and finance uploads a
COD payout report and sees its differences."""

from __future__ import annotations

from typing import Any

import pytest

from dingdan.config import Settings
from tests.ecpay_logistics_fake import FakeEcpayLogistics, map_reply

ZH = {"Accept-Language": "zh-TW"}
ECPAY = "https://logistics-stage.ecpay.com.tw"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        run_worker=False,
        public_url="http://testserver",
        ecpay_logistics_url=ECPAY,
    )


def test_staff_type_the_store_and_the_order_and_slip_show_it(shop: Any, browser: Any) -> None:
    number = shop["order"]["number"]
    b = browser("manager")
    page = b.get(f"/orders/{number}/cvs", headers=ZH)
    assert page.status_code == 200 and "尚未選擇門市" in page.text
    bad = b.post(f"/orders/{number}/cvs/store", {"brand": "OK", "store_id": "²", "store_name": "x"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    r = b.post(
        f"/orders/{number}/cvs/store",
        {
            "brand": "FamilyMart",
            "store_id": "006598",
            "store_name": "全家南港店",
            "address": "南港路",
        },
    )
    assert r.status_code == 303, r.text
    shown = b.get(f"/orders/{number}/cvs", headers=ZH).text
    assert "全家南港店" in shown and "006598" in shown
    assert "全家南港店" in b.get(f"/orders/{number}", headers=ZH).text
    assert "全家南港店" in b.get(f"/orders/{number}/packing-slip", headers=ZH).text
    viewer = browser("viewer")
    refused = viewer.post(
        f"/orders/{number}/cvs/store", {"brand": "OK", "store_id": "1", "store_name": "x"}
    )
    assert refused.status_code == 403


def test_the_customer_chooses_a_store_on_ecpays_map_from_the_tracking_page(
    shop: Any, browser: Any, db: Any
) -> None:
    token = shop["order"]["tracking_token"]
    customer = browser()
    page = customer.get(f"/track/{token}", headers=ZH)
    assert f"/track/{token}/cvs-map" not in page.text  # not a store pickup: nothing offered
    staff = browser("manager")
    staff.post(
        f"/orders/{shop['order']['number']}/cvs/store",
        {"brand": "7-ELEVEN", "store_id": "131386", "store_name": "建盛門市"},
    )
    page = customer.get(f"/track/{token}", headers=ZH)
    assert "建盛門市" in page.text and f"/track/{token}/cvs-map" in page.text
    go = customer.get(f"/track/{token}/cvs-map", params={"brand": "FamilyMart"})
    assert go.status_code == 200
    assert f'action="{ECPAY}/Express/map"' in go.text
    assert 'name="LogisticsSubType" value="FAMI"' in go.text
    assert f"form-action 'self' {ECPAY}" in go.headers["content-security-policy"]
    assert "x-dingdan-form-action" not in go.headers

    fake = FakeEcpayLogistics()
    fields = dict(
        __import__("re").findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', go.text)
    )
    action, reply = map_reply(fake._map(fields))
    back = customer.client.post(
        action.removeprefix("http://testserver"), data=reply, follow_redirects=False
    )
    assert back.status_code == 303 and back.headers["location"] == f"/track/{token}"
    assert "全家南港店" in customer.get(f"/track/{token}", headers=ZH).text


def test_finance_uploads_a_cod_payout_report_and_sees_its_differences(
    shop: Any, browser: Any
) -> None:
    b = browser("finance")
    assert b.get("/cod-payouts", headers=ZH).status_code == 200
    report = "廠商交易編號,代收金額,撥款日期\nNOPE1,760,2026/12/15\n".encode()
    r = b.post("/cod-payouts", files={"file": ("cod.csv", report, "text/csv")}, headers=ZH)
    assert r.status_code == 200 and "payout-result" in r.text
    assert "NOPE1" in b.get("/cod-payouts", headers=ZH).text
    assert browser("warehouse").get("/cod-payouts").status_code == 403
