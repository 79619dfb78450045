"""The driver's run on a phone (Debian Chromium, 390×844): open the route sheet and the
run's phone page, open a stop, take the photo (a small PNG set on the camera's file input),
sign with the finger on the pad (pointer events), mark it delivered; the order is
delivered."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest
from sqlalchemy import select

from dingdan.db.delivery_tables import DeliveryStop
from dingdan.db.order_tables import Shipment
from tests.builders import address, order_body
from tests.e2e.test_back_office_browser import (
    ARGS,
    CHROMIUM,
    _fits,
    _shot,
    server,  # noqa: F401 - the fixture
)

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt install chromium)"
    ),
    pytest.mark.serial,
]
DRIVER, PASSWORD = "ming@example.com", "long passphrase 1"


def _png() -> bytes:
    """A real 2×2 PNG, as a phone's camera would send one (smaller)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _run_with_a_cod_stop(db: Any) -> tuple[str, str, str]:
    from dingdan.services.access import accounts
    from dingdan.services.fulfilment import delivery_runs, shipments
    from dingdan.services.orders import capture
    from dingdan.services.shared.common import SYSTEM

    accounts.create_user(db, SYSTEM, email=DRIVER, role="driver", password=PASSWORD, name="阿明")
    order, _ = capture.place_order(
        db,
        SYSTEM,
        order_body(
            [{"sku": "TEA-OOLONG-150", "quantity": 1}],
            payment_method="cod",
            shipping_address=address(name="陳小姐", line1="忠孝東路一段1號", postal_code="100"),
        ),
    )
    shipments.create_shipment(db, SYSTEM, order["number"], {"carrier": "own_delivery"})
    run = delivery_runs.create_run(
        db, SYSTEM, {"driver": DRIVER, "date": "2026-12-08", "orders": [order["number"]]}
    )
    return str(order["number"]), str(run["id"]), str(run["stops"][0]["id"])


def test_a_driver_marks_a_stop_delivered_with_a_photo_and_a_signature(
    server,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    from playwright.sync_api import expect, sync_playwright

    from dingdan.services.orders.queries import get_order

    uploads = tmp_path / "uploads"
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(uploads))
    db, base = server["db"], server["url"]
    number, run_id, stop_id = _run_with_a_cod_stop(db)
    photo = tmp_path / "door.png"
    photo.write_bytes(_png())
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(
                viewport={"width": 390, "height": 844}, locale="zh-TW", has_touch=True
            )
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/login")
            page.fill("#email", DRIVER)
            page.fill("#password", PASSWORD)
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/delivery-runs/{run_id}/sheet")
            expect(page.locator("#sheet-stops tbody tr")).to_have_count(1)
            expect(page.locator("#sheet-stops")).to_contain_text(number)
            assert _fits(page)
            _shot(page, "phone-delivery-sheet")
            page.goto(f"{base}/delivery-runs/{run_id}/phone")
            stop = page.locator("#phone-stops li.stop").first
            expect(stop).to_contain_text("陳小姐")
            expect(stop.locator("a[href^='tel:']")).to_have_count(1)
            expect(stop.locator(".cod")).to_be_visible()
            assert _fits(page)
            _shot(page, "phone-delivery-run")
            stop.locator(f"a.button[href$='/stops/{stop_id}']").click()
            page.wait_for_selector("#deliver-form")
            assert _fits(page)
            page.set_input_files("#pod-photo", str(photo))
            box = page.locator("#pod-pad").bounding_box()
            assert box is not None
            x, y = box["x"], box["y"]
            page.mouse.move(x + 30, y + 100)
            page.mouse.down()
            for step in range(1, 12):
                page.mouse.move(x + 30 + step * 22, y + 100 - (step % 4) * 18)
            page.mouse.up()
            signed = page.input_value("#pod-signature")
            assert signed.startswith("data:image/png;base64,")
            _shot(page, "phone-delivery-stop")
            page.click("#deliver-button")
            page.wait_for_url(f"{base}/delivery-runs/{run_id}/phone")
            expect(page.locator("#phone-stops li.stop.s-delivered")).to_have_count(1)
        finally:
            browser.close()
    assert problems == []
    # Delivered, its COD not yet paid (finance records it when it closes the run).
    assert get_order(db, number)["status"] == "open"
    row = db.read(lambda c: c.execute(select(DeliveryStop)).one())
    assert row.status == "delivered" and row.photo_sha256 and row.signature_sha256
    assert (uploads / row.photo_path).read_bytes() == photo.read_bytes()
    assert (uploads / row.signature_path).read_bytes().startswith(b"\x89PNG")
    statuses = db.read(
        lambda c: (
            c.execute(select(Shipment.status).where(Shipment.id == row.shipment_id)).scalars().all()
        )
    )
    assert statuses == ["delivered"]
