"""Bulk actions of the order list (issue 21, part 6): ticked orders or every order matching
the filter (bounded), each order done or refused on its own with why, with the single
action's permission, audited like it."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from dingdan.services.fulfilment import shipments
from dingdan.services.orders import bulk, capture, queries
from dingdan.services.payments import transactions
from dingdan.services.shared import documents
from tests.builders import ADMIN, WANG, order_body


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))


def _order(db: Any, **over: Any) -> str:
    order, _ = capture.place_order(
        db, ADMIN, order_body(buyer=WANG, lines=[{"sku": "TEA-001", "quantity": 1}], **over)
    )
    return str(order["number"])


def _paid(db: Any) -> str:
    number = _order(db)
    total = queries.get_order(db, number)["total"]
    transactions.record_payment(db, ADMIN, number, {"amount": total})
    return number


def _outcomes(html: str) -> dict[str, str]:
    """Order → "ok" or "refused", read from the answer's table."""
    return dict(
        (n, state)
        for state, n in re.findall(r'<tr class="(ok|refused)" data-order="([^"]+)"', html)
    )


def test_ticked_orders_are_paid_in_full_and_a_refused_one_says_why(shop, db, browser):
    due = [_order(db), _order(db)]
    paid = _paid(db)
    b = browser("customer_service")
    r = b.post("/bulk/orders/payments", {"orders": [*due, paid], "method": "bank_transfer"})
    assert r.status_code == 200, r.text
    assert _outcomes(r.text) == {due[0]: "ok", due[1]: "ok", paid: "refused"}
    assert "nothing is due on this order" in r.text
    for n in due:
        o = queries.get_order(db, n)
        assert o["financial_status"] == "paid" and o["paid"] == o["total"]
        [p] = transactions.payments_of(db, n)["items"]
        assert p["method"] == "bank_transfer"
    # The refused order is untouched: still one payment.
    assert len(transactions.payments_of(db, paid)["items"]) == 1


def test_cancel_needs_a_reason_and_refuses_a_shipped_order_among_good_ones(shop, db, browser):
    good = [_order(db), _order(db)]
    shipped = _paid(db)
    shipments.create_shipment(db, ADMIN, shipped, {"carrier": "tcat"})
    b = browser("manager")
    r = b.post("/bulk/orders/cancel", {"orders": [*good, shipped], "reason": ""})
    assert r.status_code == 303  # refused whole: no reason, nothing cancelled
    assert all(queries.get_order(db, n)["status"] == "open" for n in good)
    r = b.post("/bulk/orders/cancel", {"orders": [*good, shipped], "reason": "customer called"})
    assert r.status_code == 200
    assert _outcomes(r.text) == {good[0]: "ok", good[1]: "ok", shipped: "refused"}
    for n in good:
        o = queries.get_order(db, n)
        assert o["status"] == "cancelled" and o["cancel_reason"] == "customer called"
    assert queries.get_order(db, shipped)["status"] == "open"


def test_each_action_needs_the_single_actions_permission(shop, db, browser):
    number = _order(db)
    warehouse, finance, viewer = browser("warehouse"), browser("finance"), browser("viewer")
    base = {"orders": [number]}
    assert warehouse.post("/bulk/orders/payments", {**base, "method": "cash"}).status_code == 403
    assert finance.post("/bulk/orders/cancel", {**base, "reason": "x"}).status_code == 403
    assert finance.post("/bulk/orders/tag", {**base, "tag": "vip"}).status_code == 403
    assert finance.post("/bulk/orders/packing-slips", base).status_code == 403
    assert viewer.post("/bulk/orders/pick-lists", base).status_code == 403
    assert queries.get_order(db, number)["status"] == "open"
    assert bulk.tags_of(db, [number]) == {}
    # The list offers each role only what it may do.
    page = finance.get("/orders").text
    assert 'id="bulk-pay"' in page and 'id="bulk-cancel"' not in page
    assert 'id="bulk-slips"' not in page and 'id="bulk-export"' in page
    assert viewer.post("/bulk/orders/export", base).status_code == 200


def test_a_tag_is_shown_on_the_list_in_the_timeline_and_the_audit(shop, db, browser):
    a, b_ = _order(db), _order(db)
    b = browser("customer_service")
    r = b.post("/bulk/orders/tag", {"orders": [a, b_], "tag": "  團購  12月 "})
    assert _outcomes(r.text) == {a: "ok", b_: "ok"}
    assert bulk.tags_of(db, [a, b_]) == {a: ["團購 12月"], b_: ["團購 12月"]}
    again = b.post("/bulk/orders/tag", {"orders": [a], "tag": "團購 12月"})
    assert _outcomes(again.text) == {a: "ok"} and "Had the tag already" in again.text
    assert '<span class="badge tag">團購 12月</span>' in b.get("/orders").text
    kinds = [e["kind"] for e in queries.events(db, a)["items"]]
    assert kinds.count("tagged") == 1
    trail = browser("manager").get(f"/audit?resource=order:{a}").text
    assert "tag" in trail


def test_all_orders_matching_the_filter_and_its_bound(shop, db, browser, monkeypatch):
    unpaid = [_order(db), _order(db)]
    paid = _paid(db)
    b = browser("manager")
    filt = {"financial_status": "pending", "all": "1", "tag": "unpaid"}
    r = b.post("/bulk/orders/tag", filt)
    assert r.status_code == 200, r.text
    done = _outcomes(r.text)
    assert set(unpaid) <= set(done) and paid not in done
    assert set(done.values()) == {"ok"}
    assert 'href="/orders?financial_status=pending"' in r.text  # back to the same filter
    count = b.get("/bulk/orders/count?financial_status=pending").text
    assert f">{len(done)} orders<" in count
    # Over the bound: refused whole, nothing done, and the page says so.
    monkeypatch.setattr(bulk, "MAX_ORDERS", 1)
    r = b.post("/bulk/orders/tag", {**filt, "tag": "too-many"})
    assert r.status_code == 303
    assert not any("too-many" in t for ts in bulk.tags_of(db, unpaid).values() for t in ts)
    assert "at most 1 orders" in b.get(r.headers["location"]).text
    assert "more than 1 orders" in b.get("/bulk/orders/count?financial_status=pending").text


def test_nothing_ticked_is_refused(shop, browser):
    b = browser("manager")
    r = b.post("/bulk/orders/tag", {"tag": "x"})
    assert r.status_code == 303
    assert "at least one order" in b.get(r.headers["location"]).text


def test_the_selection_exports_as_the_orders_export_does(shop, db, browser):
    a, b_, c = _order(db), _order(db), _order(db)
    r = browser("manager").post("/bulk/orders/export", {"orders": [c, a], "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "number" and [row[0] for row in rows[1:]] == [c, a]
    assert b_ not in r.text


def test_packing_slips_of_a_selection_are_one_pdf_and_a_refused_order_says_why(shop, db, browser):
    ready, other = _paid(db), _paid(db)
    cancelled = _order(db)
    shipments.cancel_order(db, ADMIN, cancelled, "test")
    b = browser("warehouse")
    r = b.post("/bulk/orders/packing-slips", {"orders": [ready, other, cancelled]})
    assert r.status_code == 200, r.text
    assert _outcomes(r.text) == {ready: "ok", other: "ok", cancelled: "refused"}
    assert "has nothing left to pack" in r.text and "PDF being prepared" in r.text
    assert documents.render_pending(db, render=lambda html: b"%PDF-1.7 " + html.encode()) == 1
    state = re.search(r'hx-get="(/bulk/documents/[^"]+/state)"', r.text)
    assert state
    shown = b.get(state.group(1)).text
    link = re.search(r'href="(/bulk/documents/[^"]+\.pdf)"', shown)
    assert link
    pdf = b.get(link.group(1))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert ready.encode() in pdf.content and other.encode() in pdf.content
    assert cancelled.encode() not in pdf.content
    assert b.get("/bulk/documents/packing_slips/selection-../x.pdf").status_code == 404


def test_pick_lists_of_a_selection_leave_out_unpaid_orders(shop, db, browser):
    paid = _paid(db)
    unpaid = _order(db)
    b = browser("warehouse")
    r = b.post("/bulk/orders/pick-lists", {"orders": [paid, unpaid]})
    assert _outcomes(r.text) == {paid: "ok", unpaid: "refused"}
    assert "is not paid in full" in r.text and "TPE" in r.text
    assert documents.render_pending(db, render=lambda html: b"%PDF-1.7 " + html.encode()) == 1
    link = re.search(r'hx-get="(/bulk/documents/pick_lists/[^"]+)/state"', r.text)
    assert link
    pdf = b.get(link.group(1) + ".pdf")
    assert paid.encode() in pdf.content and b"TEA-001" in pdf.content
    assert unpaid.encode() not in pdf.content


def test_the_order_list_offers_ticks_and_the_bound_at_390_px(shop, browser):
    page = browser("manager").get("/orders").text
    assert 'name="orders" value="' in page and "data-select-all" in page
    assert "at most 500 orders" in page
    assert 'formaction="/bulk/orders/payments"' in page


def test_the_printed_pick_lists_show_each_products_photo_beside_its_line(
    shop, db, browser, tmp_path
):
    """The PDF made by the worker (WeasyPrint, fetching nothing) holds the product's
    thumbnail on each line whose product has a photo, read back with poppler's pdfimages."""
    import shutil
    import subprocess

    from PIL import Image

    from dingdan.services.catalog import photos

    if shutil.which("pdfimages") is None:
        pytest.skip("pdfimages (poppler-utils) is not installed")
    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 160, 60)).save(picture, format="PNG")
    photos.add_photo(db, ADMIN, "tea.png", picture.getvalue(), sku="TEA-001")
    with_mug = capture.place_order(
        db,
        ADMIN,
        order_body(buyer=WANG, lines=[{"sku": "MUG-001", "quantity": 1}], payment_method="cod"),
    )[0]["number"]
    b = browser("warehouse")
    r = b.post("/bulk/orders/pick-lists", {"orders": [_paid(db), with_mug]})
    assert set(_outcomes(r.text).values()) == {"ok"}
    assert documents.render_pending(db) == 1
    link = re.search(r'hx-get="(/bulk/documents/pick_lists/[^"]+)/state"', r.text)
    assert link
    pdf = b.get(link.group(1) + ".pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "pick-lists.pdf"
    path.write_bytes(pdf.content)
    listed = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    # One line of two has a photo (the mug has none): one image, the 96 px thumbnail.
    assert [(row.split()[3], row.split()[4]) for row in listed] == [("96", "72")]
    subprocess.run(["pdfimages", "-png", str(path), str(tmp_path / "img")], check=True)
    (extracted,) = tmp_path.glob("img-*.png")
    with Image.open(extracted) as img:
        red, green, blue = img.convert("RGB").getpixel((48, 36))
    assert green > 120 and red < 60 and blue < 100, "the tea's green picture"
