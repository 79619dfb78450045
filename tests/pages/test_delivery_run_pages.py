"""Own delivery in the back office: the warehouse plans a run from the areas waiting, the
driver's phone lists the stops with a call link and the COD to collect, proof of delivery
posted from the phone (a photo file and the signature pad's PNG data URL), the A4 route
sheet, and finance closing the day's cash."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from dingdan.db.delivery_tables import DeliveryStop
from dingdan.services.fulfilment import shipments
from dingdan.services.orders import capture
from tests.builders import ADMIN, LIN, address, order_body

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DAY = "2026-12-08"


@pytest.fixture(autouse=True)
def uploads_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))


def _cod_shipped(db, postal: str) -> str:
    order, _ = capture.place_order(
        db,
        ADMIN,
        order_body(buyer=LIN, payment_method="cod", shipping_address=address(postal_code=postal)),
    )
    shipments.create_shipment(db, ADMIN, order["number"], {"carrier": "own_delivery"})
    return str(order["number"])


def test_a_run_planned_by_area_delivered_from_the_phone_and_closed(shop, browser, db):
    number = _cod_shipped(db, "100")
    wh = browser("warehouse")
    page = wh.get(f"/delivery-runs?date={DAY}")
    assert page.status_code == 200 and number in page.text and "100 台北市" in page.text
    r = wh.post("/delivery-runs", {"driver": "driver@example.com", "date": DAY})
    assert r.status_code == 303, r.text
    run_id = r.headers["location"].rsplit("/", 1)[1]
    r = wh.post("/delivery-runs/assign-area", {"run": run_id, "area": "TW:100", "date": DAY})
    assert r.status_code == 303
    run_page = wh.get(f"/delivery-runs/{run_id}")
    assert number in run_page.text and 'id="add-orders"' in run_page.text
    sheet = wh.get(f"/delivery-runs/{run_id}/sheet")
    assert sheet.status_code == 200 and number in sheet.text and "data-print" in sheet.text

    driver = browser("driver")
    phone = driver.get(f"/delivery-runs/{run_id}/phone")
    assert phone.status_code == 200 and 'href="tel:+886' in phone.text
    assert 'class="cod"' in phone.text and "760" in phone.text  # the COD to collect
    stop_id = db.read(lambda c: c.execute(select(DeliveryStop.id)).scalar_one())
    form = driver.get(f"/delivery-runs/{run_id}/stops/{stop_id}")
    assert 'capture="environment"' in form.text and "signature.js" in form.text
    refused = driver.post(f"/delivery-runs/{run_id}/stops/{stop_id}/deliver", {"signature": "x"})
    assert refused.status_code == 422
    signature = "data:image/png;base64," + base64.b64encode(PNG).decode()
    r = driver.post(
        f"/delivery-runs/{run_id}/stops/{stop_id}/deliver",
        {"signature": signature},
        files={"photo": ("door.png", PNG, "image/png")},
    )
    assert r.status_code == 303, r.text
    row = db.read(lambda c: c.execute(select(DeliveryStop)).one())
    assert row.status == "delivered" and row.photo_sha256 and row.signature_sha256
    assert driver.get(f"/delivery-runs/{run_id}/stops/{stop_id}/signature.png").content == PNG
    assert row.cod_due_minor == row.cod_collected_minor == 76000
    assert driver.post(f"/delivery-runs/{run_id}/cash", {"amount": "760.00"}).status_code == 303
    assert 'id="close-form"' not in driver.get(f"/delivery-runs/{run_id}").text

    finance = browser("finance")
    assert 'id="close-form"' in finance.get(f"/delivery-runs/{run_id}").text
    assert finance.post(f"/delivery-runs/{run_id}/close", {"note": ""}).status_code == 303
    closed = finance.get(f"/delivery-runs/{run_id}")
    assert 'id="close-form"' not in closed.text


def test_a_driver_cannot_open_another_drivers_run_nor_plan(shop, browser, db):
    number = _cod_shipped(db, "100")
    wh = browser("warehouse")
    from dingdan.services.access import accounts

    accounts.create_user(
        db, ADMIN, email="other@example.com", role="driver", password="correct-horse-battery"
    )
    r = wh.post("/delivery-runs", {"driver": "other@example.com", "date": DAY, "orders": number})
    run_id = r.headers["location"].rsplit("/", 1)[1]
    driver = browser("driver")
    assert driver.get(f"/delivery-runs/{run_id}/phone").status_code == 404
    assert (
        driver.post("/delivery-runs", {"driver": "driver@example.com", "date": DAY}).status_code
        == 403
    )
    assert browser("viewer").get("/delivery-runs").status_code == 403
