"""The back office as a seller's staff use it (issue 19, points 21 to 25): the customer's
note and staff notes where the order is handled, picked orders that look picked, shipping
from the pack screen with the number as printed, and only the actions that can be done."""

from __future__ import annotations

import re

from dingdan.services.fulfilment import shipments
from dingdan.services.orders import capture, queries
from dingdan.services.payments import transactions
from tests.builders import ADMIN, LIN, order_body

ZH = {"Accept-Language": "zh-TW"}
NOTE = "請下午送達，謝謝"


def _paid(db, **over):
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=LIN, **over))
    transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    return order["number"]


def _packed(browser, number):
    wh = browser("warehouse")
    r = wh.post(f"/warehouse/pack/{number}", {"location": "TPE", "scans": ["TEA-001", "TEA-001"]})
    assert r.status_code == 303
    return wh


def _notes(html: str) -> str:
    match = re.search(r'<section class="card notes" id="order-notes">(.*?)</section>', html, re.S)
    assert match, "no notes section"
    return match.group(1)


# ---- 21: notes ---------------------------------------------------------------------------


def test_the_customers_note_and_staff_notes_show_on_the_order_the_pack_screen_and_the_slip(
    shop, browser, db
):
    number = _paid(db, note=NOTE)
    cs = browser("customer_service")
    assert cs.post(f"/orders/{number}/notes", {"note": "易碎，請加泡泡紙"}).status_code == 303
    order_page = _notes(cs.get(f"/orders/{number}").text)
    assert NOTE in order_page and "易碎，請加泡泡紙" in order_page
    assert "Customer's note" in order_page and "customer_service@example.com" in order_page
    wh = browser("warehouse")
    pack = _notes(wh.get(f"/warehouse/pack/{number}?location=TPE").text)
    assert NOTE in pack and "易碎，請加泡泡紙" in pack
    slip = wh.get(f"/orders/{number}/packing-slip").text
    assert 'class="slip-notes"' in slip and NOTE in slip and "易碎，請加泡泡紙" in slip


def test_the_customers_note_is_kept_through_the_api_capture(shop, api, db):
    r = api.post("/api/v1/orders", json=order_body(buyer=LIN, note=NOTE))
    assert r.status_code == 201, r.text
    kinds = [(e["kind"], e["message"]) for e in queries.events(db, r.json()["number"])["items"]]
    assert ("customer_note", NOTE) in kinds


# ---- 23: picked --------------------------------------------------------------------------


def test_marking_all_as_picked_shows_on_the_pick_list(shop, browser, db):
    number = _paid(db)
    wh = browser("warehouse")
    before = wh.get("/warehouse?location=TPE").text
    assert number in before and "s-picked" not in before
    assert "0 of 1 orders picked" in before and "Mark all as picked" in before
    r = wh.post("/warehouse/TPE/picked", {"orders": number})
    assert r.status_code == 303
    after = wh.get("/warehouse?location=TPE").text
    assert 'class="pick-state all-picked"' in after and "s-picked" in after
    assert '<tr class="done">' in after and "All picked" in after
    assert ">Mark all as picked<" not in after


# ---- 24: shipping from the pack screen ---------------------------------------------------


def test_a_tcat_number_as_printed_on_the_label_ships_from_the_pack_screen(shop, browser, db):
    number = _paid(db)
    wh = _packed(browser, number)
    assert f'action="/warehouse/pack/{number}/ship"' in wh.get(f"/warehouse/pack/{number}").text
    r = wh.post(
        f"/warehouse/pack/{number}/ship",
        {"location": "TPE", "carrier": "tcat", "tracking_number": "9012-3456-7890"},
    )
    assert r.status_code == 303, r.text
    shipped = queries.shipments_of(db, number)["items"]
    assert [s["tracking_number"] for s in shipped] == ["901234567890"]


def test_a_refused_number_stays_on_the_pack_screen_beside_its_field_in_chinese(shop, browser, db):
    number = _paid(db)
    wh = _packed(browser, number)
    r = wh.post(
        f"/warehouse/pack/{number}/ship",
        {"location": "TPE", "carrier": "tcat", "tracking_number": "9012-3456-789"},
        headers=ZH,
    )
    assert r.status_code == 422
    html = r.text
    assert 'id="ship-form"' in html and f"包裝 {number}" in html  # still the pack screen
    assert 'value="9012-3456-789"' in html  # what was typed is kept
    error = re.search(r'<p class="field-error" id="ship-tracking-error"[^>]*>([^<]*)</p>', html)
    assert error, html
    assert "黑貓宅急便" in error.group(1) and "12 位數字" in error.group(1)
    assert "is not a valid" not in html and "digits" not in error.group(1)
    assert 'aria-invalid="true" aria-describedby="ship-tracking-error"' in html
    assert queries.shipments_of(db, number)["items"] == []


def test_a_refused_number_on_the_order_page_is_shown_beside_its_field_as_typed(shop, browser, db):
    number = _paid(db)
    r = browser("warehouse").post(
        f"/orders/{number}/shipments",
        {"location": "TPE", "carrier": "tcat", "tracking_number": "12-34"},
        headers=ZH,
    )
    assert r.status_code == 422
    assert 'value="12-34"' in r.text and 'id="ship-tracking-error"' in r.text
    assert '<option value="tcat" selected>' in r.text


# ---- 25: offered only when possible ------------------------------------------------------


def test_an_unpaid_bank_transfer_order_offers_no_ship_or_pack_and_says_why(shop, browser):
    number = shop["order"]["number"]
    wh = browser("warehouse")
    html = wh.get(f"/orders/{number}", headers=ZH).text
    assert 'id="ship-form"' not in html and f"/warehouse/pack/{number}" not in html
    assert 'id="ship-blocked"' in html and "尚未付清" in html
    pack = wh.get(f"/warehouse/pack/{number}?location=TPE", headers=ZH).text
    assert 'id="pack-blocked"' in pack and "尚未付清" in pack and 'id="code"' not in pack


def test_a_shipped_order_still_offers_its_packing_slip(shop, browser, db):
    number = _paid(db)
    shipments.create_shipment(db, ADMIN, number, {"carrier": "hct", "tracking_number": "HCT9"})
    wh = browser("warehouse")
    html = wh.get(f"/orders/{number}").text
    assert 'id="packing-slip-link"' in html and 'id="ship-blocked"' not in html
    slip = wh.get(f"/orders/{number}/packing-slip").text
    assert '<article class="slip reprint"' in slip and "HCT9" in slip


# ---- 28: inventory -----------------------------------------------------------------------


def test_inventory_lists_every_active_product_and_searches_them(shop, browser, db):
    from tests.builders import product

    product(db, "NEW-9", price="800.00", name="東方美人茶", barcode="4719999999990")
    wh = browser("warehouse")
    html = wh.get("/inventory").text
    assert "NEW-9" in html and "No stock yet" in html  # no stock record, still listed
    assert 'href="/inventory/NEW-9#receive-form"' in html
    for q in ("東方", "new-9", "4719999999990"):
        found = wh.get("/inventory", params={"q": q}).text
        assert "NEW-9" in found and "TEA-001" not in found, q
    fragment = wh.get("/inventory", params={"q": "TEA"}, headers={"HX-Target": "stock-results"})
    assert fragment.text.lstrip().startswith('<section class="card" id="stock-results">')
    assert "TEA-001" in fragment.text and "MUG-001" not in fragment.text


def test_inventory_rows_are_compact_blocks_on_a_phone(shop, browser):
    wh = browser("warehouse")
    html = wh.get("/inventory").text
    assert '<table class="rows stock-list">' in html
    start = html.index("<tbody>")
    row = html[start : html.index("</tr>", start)]
    assert row.count("<td") == 6 and row.count("data-label") == 3  # SKU, name, where: bare
    css = wh.get("/static/app.css").text
    assert "table.stock-list tr { display: grid;" in css


# ---- 22: return photos -------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_the_return_page_shows_the_customers_photos_to_staff(
    shop, browser, db, tmp_path, monkeypatch
):
    from dingdan.services.after_sales import customer_returns

    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    number = _paid(db)
    shipments.create_shipment(db, ADMIN, number, {"carrier": "tcat"})
    token = queries.get_order(db, number)["tracking_token"]
    ret = customer_returns.request_from_customer(
        db,
        token,
        {"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "damaged"}]},
        [("破損.png", PNG)],
    )
    photo = ret["photos"][0]
    cs = browser("customer_service")
    html = cs.get(f"/returns/{ret['id']}", headers=ZH).text
    url = f"/returns/{ret['id']}/photos/{photo['id']}"
    assert 'id="return-photos"' in html and f'<img src="{url}"' in html and 'class="thumb"' in html
    assert f'<a href="{url}" target="_blank"' in html  # full size
    assert "破損.png" in html and f"customer:{number}" not in html
    full = cs.get(url)
    assert full.status_code == 200 and full.content == PNG
    assert full.headers["content-type"] == "image/png"
    assert full.headers["cache-control"] == "private, no-store"
    assert full.headers["x-content-type-options"] == "nosniff"
    signed_out = browser().get(url, follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login")
    assert cs.get(f"/returns/{ret['id']}/photos/999").status_code == 404
