"""Packing slips in the back office: what is left to pack of an order at each location, the
order number as a barcode, the tracking page as a QR code, for the warehouse only; the batch
of a location's pick list; and the PDF queued for the worker."""

from __future__ import annotations

import re

import pytest

from dingdan.services.access import audit_log
from dingdan.services.fulfilment import packing_slips, shipments
from dingdan.services.orders import capture, queries
from dingdan.services.payments import transactions
from dingdan.services.shared import documents
from tests.builders import ADMIN, LIN, order_body, product, receive

EVIL = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


@pytest.fixture
def partly_shipped(shop, db):
    """Paid; TEA-001 3 ordered, 1 shipped; MUG-001 2 ordered, both shipped; EVIL-1 1 left."""
    product(db, "EVIL-1", price="10.00", name=EVIL)
    receive(db, "TPE", {"EVIL-1": 3})
    lines = [
        {"sku": "TEA-001", "quantity": 3},
        {"sku": "MUG-001", "quantity": 2},
        {"sku": "EVIL-1", "quantity": 1},
    ]
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=LIN, lines=lines))
    number = order["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": order["total"]})
    ship = {"sku": "TEA-001", "quantity": 1}, {"sku": "MUG-001", "quantity": 2}
    shipments.create_shipment(
        db, ADMIN, number, {"carrier": "hct", "tracking_number": "HCT1", "lines": list(ship)}
    )
    return queries.get_order(db, number)


def _rows(html: str) -> dict[str, str]:
    """SKU → quantity to pack, read from the slips' tables (not the reprints of shipments)."""
    html = "".join(
        a for a in re.findall(r"<article.*?</article>", html, re.S) if "slip reprint" not in a
    )
    found = re.findall(
        r'<td class="slip-sku">([^<]+).*?<td class="slip-qty">([^<]+)</td>', html, re.S
    )
    return {sku.strip(): qty.strip() for sku, qty in found}


def test_the_slip_shows_what_is_left_to_pack_of_a_partly_shipped_order(partly_shipped, browser, db):
    number = partly_shipped["number"]
    r = browser("warehouse").get(f"/orders/{number}/packing-slip")
    assert r.status_code == 200, r.text
    html = r.text
    assert _rows(html) == {"TEA-001": "2", "EVIL-1": "1"}  # MUG-001 all shipped
    assert "3 ordered" in html  # TEA-001: 2 of 3 left
    assert "林美華" in html and "信義路五段7號" in html and "110 台北市" in html
    assert "Warehouse TPE (TPE)" in html
    # The order number as Code128 (SVG) and as text; the tracking page as a QR code.
    assert packing_slips.code128_svg(number) in html and f'aria-label="{number}"' in html
    assert f'<p class="slip-number">{number}</p>' in html
    track = f"http://127.0.0.1:8000/track/{partly_shipped['tracking_token']}"  # public URL unset
    assert packing_slips.qr_svg(track) in html
    # A print page: its own stylesheet, no navigation, no inline style or script.
    assert "/static/packing_slip.css" in html and 'class="nav"' not in html
    assert "style=" not in html and "<style" not in html
    assert "<script>" not in html.replace(EVIL, "")  # no inline script at all
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and EVIL not in html
    viewed = audit_log.list_entries(db, action="view", entity_type="order", entity_id=number)
    assert [e["actor"] for e in viewed.items] == ["user:warehouse@example.com"]


def test_the_stylesheets_print_a4_and_100mm_labels(partly_shipped, browser):
    wh = browser("warehouse")
    number = partly_shipped["number"]
    assert "packing_slip_label.css" not in wh.get(f"/orders/{number}/packing-slip").text
    label = wh.get(f"/orders/{number}/packing-slip?size=label").text
    assert "/static/packing_slip_label.css" in label
    css = wh.get("/static/packing_slip.css").text
    assert "@media print" in css and "size: A4" in css and "break-before: page" in css
    assert "size: 100mm 150mm" in wh.get("/static/packing_slip_label.css").text


def test_one_slip_per_ship_from_location_and_a_location_filter(shop, browser, db):
    receive(db, "TXG", {"MUG-001": 5})
    body = order_body(
        buyer=LIN, lines=[{"sku": "TEA-001", "quantity": 1}, {"sku": "MUG-001", "quantity": 7}]
    )
    order, _ = capture.place_order(db, ADMIN, body)
    wh = browser("warehouse")
    html = wh.get(f"/orders/{order['number']}/packing-slip").text
    assert html.count('<article class="slip"') == 2
    assert "Warehouse TPE (TPE)" in html and "Warehouse TXG (TXG)" in html
    # Not paid yet: printable, with a warning that it may not ship.
    assert "Not ready to ship" in html
    only = wh.get(f"/orders/{order['number']}/packing-slip?location=TXG").text
    assert only.count('<article class="slip"') == 1 and _rows(only) == {"MUG-001": "2"}
    assert wh.get(f"/orders/{order['number']}/packing-slip?location=NOPE").status_code == 404
    assert wh.get("/orders/NO-SUCH/packing-slip").status_code == 404


def test_a_slip_in_the_readers_language(partly_shipped, browser):
    wh = browser("warehouse")
    wh.post("/language", {"language": "zh_Hant", "next": "/"})
    html = wh.get(f"/orders/{partly_shipped['number']}/packing-slip").text
    assert '<html lang="zh-Hant">' in html and "台灣" in html  # country names from Babel


@pytest.mark.parametrize("role", ["warehouse", "manager", "admin"])
def test_the_roles_that_fulfil_may_print_slips(partly_shipped, browser, role):
    number = partly_shipped["number"]
    b = browser(role)
    assert b.get(f"/orders/{number}/packing-slip").status_code == 200
    assert b.get("/warehouse/TPE/packing-slips").status_code == 200
    assert b.post(f"/orders/{number}/packing-slip.pdf").status_code == 303


@pytest.mark.parametrize("role", ["finance", "customer_service", "viewer"])
def test_other_roles_are_refused_the_slip_and_its_pdf(partly_shipped, browser, db, role):
    number = partly_shipped["number"]
    b = browser(role)
    for url in (
        f"/orders/{number}/packing-slip",
        f"/orders/{number}/packing-slip/pdf-state",
        f"/orders/{number}/packing-slip.pdf",
        "/warehouse/TPE/packing-slips",
        "/warehouse/TPE/packing-slips.pdf",
    ):
        r = b.get(url)
        assert r.status_code == 403 and "林美華" not in r.text, url
    for url in (f"/orders/{number}/packing-slip.pdf", "/warehouse/TPE/packing-slips.pdf"):
        assert b.post(url).status_code == 403, url
    assert documents.pdf_state(db, "packing_slip", number) == {
        "pending": False,
        "failed": False,
        "ready": None,
    }
    assert audit_log.list_entries(db, action="view", entity_id=number).items == []


def test_signed_out_is_sent_to_sign_in(partly_shipped, browser):
    r = browser().get(f"/orders/{partly_shipped['number']}/packing-slip", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_a_pdf_is_asked_for_then_offered_once_the_worker_made_it(partly_shipped, browser, db):
    number = partly_shipped["number"]
    wh = browser("warehouse")
    page = wh.get(f"/orders/{number}/packing-slip").text
    assert f'action="/orders/{number}/packing-slip.pdf"' in page and "Download PDF" not in page
    assert wh.get(f"/orders/{number}/packing-slip.pdf").status_code == 404
    r = wh.post(f"/orders/{number}/packing-slip.pdf", {"size": "label"})
    assert r.status_code == 303
    assert r.headers["location"] == f"/orders/{number}/packing-slip?size=label"
    page = wh.get(r.headers["location"]).text
    assert "The PDF is being prepared" in page and "PDF being prepared" in page
    assert f'hx-get="/orders/{number}/packing-slip/pdf-state?size=label"' in page
    state = wh.get(f"/orders/{number}/packing-slip/pdf-state?size=label").text
    assert state.lstrip().startswith('<div id="pdf-state"') and "<html" not in state
    assert documents.render_pending(db, render=lambda html: b"%PDF-1.7 " + html.encode()) == 1
    state = wh.get(f"/orders/{number}/packing-slip/pdf-state?size=label").text
    assert "Download PDF" in state and "hx-get" not in state
    pdf = wh.get(f"/orders/{number}/packing-slip.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith(
        f'attachment; filename="packing-slip-{number}.pdf"'
    )
    # The worker was given the same slip, self-contained: label CSS inline, no toolbar.
    source = pdf.content.decode()
    assert "size: 100mm 150mm" in source and "<link" not in source and "<form" not in source
    assert packing_slips.code128_svg(number) in source and _rows(source)["TEA-001"] == "2"


def test_nothing_left_to_pack_says_so_and_the_shipment_slip_can_be_printed_again(shop, browser, db):
    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": shop["order"]["total"]})
    shipments.create_shipment(db, ADMIN, number, {"carrier": "hct", "tracking_number": "HCT2"})
    wh = browser("warehouse")
    page = wh.get(f"/orders/{number}/packing-slip").text
    assert "Nothing is left to pack for this order." in page
    assert '<article class="slip"' not in page  # nothing to pack
    # The shipment's own slip, for a reprint: what it took, its carrier and number.
    assert page.count('<article class="slip reprint"') == 1
    assert "Reprint: shipped" in page and "HCT2" in page and "TEA-001" in page
    assert f'action="/orders/{number}/packing-slip.pdf"' in page
    r = wh.post(f"/orders/{number}/packing-slip.pdf")
    assert r.status_code == 303
    assert documents.pdf_state(db, "packing_slip", number)["pending"] is True


def test_the_pick_list_links_to_the_slips_of_its_orders(partly_shipped, shop, browser, db):
    wh = browser("warehouse")
    pick = wh.get("/warehouse?location=TPE").text
    assert 'href="/warehouse/TPE/packing-slips"' in pick
    html = wh.get("/warehouse/TPE/packing-slips").text
    # The pick list's orders only: the unpaid order of the shop is not there.
    assert html.count('<article class="slip"') == 1
    assert partly_shipped["number"] in html and shop["order"]["number"] not in html
    assert 'href="/warehouse?location=TPE"' in html
    viewed = audit_log.list_entries(db, action="view", entity_id=partly_shipped["number"])
    assert len(viewed.items) == 1
    r = wh.post("/warehouse/TPE/packing-slips.pdf")
    assert r.status_code == 303 and r.headers["location"] == "/warehouse/TPE/packing-slips?size=a4"
    assert documents.pdf_state(db, "packing_slips", "TPE")["pending"] is True
    assert wh.get("/warehouse/NOPE/packing-slips").status_code == 404


def test_an_empty_pick_list_has_no_slips_to_print(shop, browser, db):
    wh = browser("warehouse")
    html = wh.get("/warehouse/TXG/packing-slips").text
    assert "Nothing to pick here" in html and "<article" not in html
    assert wh.post("/warehouse/TXG/packing-slips.pdf").status_code == 303
    assert documents.pdf_state(db, "packing_slips", "TXG")["pending"] is False
