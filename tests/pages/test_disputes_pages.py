"""Disputes in the back office: the queue (soonest due first, overdue marked, filters),
opening one on an order, and the dispute page: messages, evidence files served to signed-in
staff, investigate, resolve by refund, reshipment or reject, close; each step for its roles
only, and bad input shown on the page with nothing changed."""

from __future__ import annotations

import re

import pytest

from dingdan.services.after_sales import dispute_queries, disputes
from dingdan.services.fulfilment import shipments
from dingdan.services.inventory import stock
from dingdan.services.orders import capture, queries
from dingdan.services.payments import transactions
from tests.builders import ADMIN, LIN, order_body

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


@pytest.fixture
def shipped(shop, db):
    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00"})
    shipments.create_shipment(db, ADMIN, number, {"carrier": "hct", "tracking_number": "HCT1"})
    return number


def _open(db, number, **body):
    return disputes.open_dispute(db, ADMIN, number, {"type": "damaged", **body})


def _status(db, did):
    return disputes.get_dispute(db, did)["status"]


def _ids(html):
    return re.findall(r'<a href="/disputes/(\d+)">', html)


def _reserved(db, sku="TEA-001"):
    return stock.stock_of(db, sku)["reserved"]


def test_the_queue_is_sorted_by_due_date_marks_overdue_and_filters(shipped, browser, db):
    later = _open(db, shipped, due_date="2031-05-01", owner="mei@example.com")["id"]
    late = _open(db, shipped, type="lost", due_date="2020-01-01", owner="wang@example.com")["id"]
    soon = _open(db, shipped, type="late", due_date="2030-01-01", owner="mei@example.com")["id"]
    settled = _open(db, shipped, type="quality", due_date="2019-06-01")["id"]
    disputes.transition(db, ADMIN, settled, {"status": "resolved", "resolution": "reject"})
    cs = browser("customer_service")
    html = cs.get("/disputes").text
    assert _ids(html) == [settled, late, soon, later]
    overdue_rows = re.findall(r'<tr class="overdue">.*?</tr>', html, re.S)
    assert len(overdue_rows) == 1 and f"/disputes/{late}" in overdue_rows[0]
    assert _ids(cs.get("/disputes?overdue=1").text) == [late]
    assert _ids(cs.get("/disputes?status=resolved").text) == [settled]
    assert _ids(cs.get("/disputes?type=late").text) == [soon]
    assert _ids(cs.get("/disputes?owner=MEI").text) == [soon, later]
    assert _ids(cs.get("/disputes?status=open&owner=mei&type=damaged").text) == [later]
    # Unknown filter values are ignored, a forged cursor is a message: never a 500.
    assert _ids(cs.get("/disputes?status=nope&type=x").text) == [settled, late, soon, later]
    r = cs.get("/disputes?cursor=garbage")
    assert r.status_code == 200 and 'class="flash error"' in r.text


def test_the_queue_pages_on_due_date_then_id(shipped, db):
    days = ("2030-01-02", "2030-01-01", "2030-01-02")
    made = [_open(db, shipped, due_date=d)["id"] for d in days]
    first = dispute_queries.dispute_queue(db, limit=2)
    assert [x["id"] for x in first.items] == [made[1], made[0]] and first.next_cursor
    rest = dispute_queries.dispute_queue(db, limit=2, cursor=first.next_cursor)
    assert [x["id"] for x in rest.items] == [made[2]] and rest.next_cursor is None


@pytest.mark.parametrize(
    ("role", "shown"),
    [("customer_service", True), ("manager", True), ("warehouse", False), ("viewer", False)],
)
def test_the_navigation_shows_disputes_to_the_roles_that_handle_them(shop, browser, role, shown):
    html = browser(role).get("/").text
    assert ('href="/disputes"' in html) is shown


def test_a_dispute_is_opened_from_the_queue_by_order_number(shipped, browser, db):
    cs = browser("customer_service")
    assert 'id="open-dispute-form"' in cs.get("/disputes").text
    r = cs.get(f"/disputes/new?order={shipped}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/orders/{shipped}/disputes/new"
    form = cs.get(r.headers["location"]).text
    assert 'id="dispute-form"' in form and 'value="chargeback"' in form
    r = cs.post(
        f"/orders/{shipped}/disputes/new",
        {
            "type": "lost",
            "owner": "mei@example.com",
            "due_date": "2030-02-03",
            "summary": "<b>never came</b>",
        },
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/disputes/")
    page = cs.get(r.headers["location"]).text
    assert "&lt;b&gt;never came&lt;/b&gt;" in page and "<b>never" not in page
    d = disputes.list_disputes(db, order=shipped).items[0]
    assert (d["type"], d["owner"], d["due_date"], d["status"]) == (
        "lost",
        "mei@example.com",
        "2030-02-03",
        "open",
    )
    events = [e["kind"] for e in queries.events(db, shipped)["items"]]
    assert "dispute_opened" in events


def test_an_unknown_order_or_a_bad_date_is_shown_and_nothing_is_opened(shipped, browser, db):
    cs = browser("customer_service")
    r = cs.get("/disputes/new?order=NOPE-1")
    assert r.status_code == 422 and "no order numbered &#39;NOPE-1&#39;" in r.text
    r = cs.post(f"/orders/{shipped}/disputes/new", {"type": "lost", "due_date": "soon"})
    assert r.status_code == 422 and "must be a date such as 2026-12-31" in r.text
    r = cs.post(f"/orders/{shipped}/disputes/new", {"type": "bored"})
    assert r.status_code == 422 and "must be one of" in r.text
    assert disputes.list_disputes(db).items == []


@pytest.mark.parametrize("role", ["warehouse", "finance", "viewer"])
def test_only_dispute_roles_may_open_one(shipped, browser, db, role):
    b = browser(role)
    assert 'id="open-dispute-form"' not in b.get("/disputes").text
    assert b.get(f"/orders/{shipped}/disputes/new").status_code == 403
    assert b.post(f"/orders/{shipped}/disputes/new", {"type": "lost"}).status_code == 403
    assert disputes.list_disputes(db).items == []


def test_messages_are_logged_with_their_direction(shipped, browser, db):
    did = _open(db, shipped)["id"]
    cs = browser("customer_service")
    r = cs.post(f"/disputes/{did}/messages", {"direction": "inbound", "body": "<i>碎了</i>"})
    assert r.status_code == 303
    html = cs.get(f"/disputes/{did}").text
    assert "&lt;i&gt;碎了&lt;/i&gt;" in html and "From the customer" in html
    r = cs.post(f"/disputes/{did}/messages", {"direction": "note", "body": "  "})
    assert r.status_code == 422 and "is required" in r.text
    r = cs.post(f"/disputes/{did}/messages", {"direction": "shout", "body": "hi"})
    assert r.status_code == 422
    got = disputes.get_dispute(db, did)["messages"]
    assert [(m["direction"], m["body"]) for m in got] == [("inbound", "<i>碎了</i>")]
    assert got[0]["author"] == "user:customer_service@example.com"


def test_evidence_is_stored_and_downloaded_by_staff_only(shipped, browser, db, uploads):
    did = _open(db, shipped)["id"]
    cs = browser("customer_service")
    r = cs.post(
        f"/disputes/{did}/evidence", {"note": "box"}, files={"file": ("破損.png", PNG, "image/png")}
    )
    assert r.status_code == 303, r.text
    ev = disputes.get_dispute(db, did)["evidence"]
    assert [(e["filename"], e["content_type"], e["note"]) for e in ev] == [
        ("破損.png", "image/png", "box")
    ]
    assert len(list(uploads.rglob("*.png"))) == 1
    link = f"/disputes/{did}/evidence/{ev[0]['id']}"
    assert link in cs.get(f"/disputes/{did}").text
    got = browser("viewer").get(link)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    anon = browser().get(link, follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")
    assert browser("viewer").get(f"/disputes/{did}/evidence/999").status_code == 404
    # The declared type does not matter; the bytes do.
    r = cs.post(f"/disputes/{did}/evidence", files={"file": ("x.png", b"MZ\x90 exe", "image/png")})
    assert r.status_code == 422 and "must be a JPEG, PNG, WebP or PDF file" in r.text
    r = cs.post(f"/disputes/{did}/evidence", {"note": "nothing"})
    assert r.status_code == 422 and "is empty" in r.text
    r = browser("warehouse").post(
        f"/disputes/{did}/evidence", files={"file": ("y.png", PNG, "image/png")}
    )
    assert r.status_code == 403
    assert len(disputes.get_dispute(db, did)["evidence"]) == 1


def test_investigate_refund_and_close_by_a_manager(shipped, browser, db):
    did = _open(db, shipped)["id"]
    mgr = browser("manager")
    page = mgr.get(f"/disputes/{did}").text
    assert 'id="investigate-form"' in page and 'id="refund-form"' in page
    assert mgr.post(f"/disputes/{did}/investigate", {"note": "asked hct"}).status_code == 303
    assert _status(db, did) == "investigating"
    r = mgr.post(f"/disputes/{did}/resolve", {"resolution": "refund", "amount": "100.00"})
    assert r.status_code == 303, r.text
    d = disputes.get_dispute(db, did)
    assert (d["status"], d["resolution"], d["amount"]) == ("resolved", "refund", "100.00")
    order = queries.get_order(db, shipped)
    assert order["refunded"] == "100.00" and order["financial_status"] == "partially_refunded"
    page = mgr.get(f"/disputes/{did}").text
    assert 'id="dispute-refund"' in page and 'id="close-form"' in page
    assert 'id="refund-form"' not in page
    assert mgr.post(f"/disputes/{did}/close", {}).status_code == 303
    assert _status(db, did) == "closed"
    page = mgr.get(f"/disputes/{did}").text
    assert 'id="message-form"' not in page and 'id="evidence-form"' not in page
    kinds = [e["kind"] for e in queries.events(db, shipped)["items"]]
    assert {"dispute_investigating", "dispute_resolved", "dispute_closed"} <= set(kinds)


def test_a_refund_above_what_was_paid_is_refused_in_the_readers_language(shipped, browser, db):
    did = _open(db, shipped)["id"]
    mgr = browser("manager")
    mgr.post("/language", {"language": "zh_Hant", "next": "/"})
    r = mgr.post(f"/disputes/{did}/resolve", {"resolution": "refund", "amount": "5000.00"})
    assert r.status_code == 422
    assert 'id="resolve-error"' in r.text and "760" in r.text
    assert "is more than paid minus refunded" not in r.text
    for bad in ("", "abc", "-5"):
        r = mgr.post(f"/disputes/{did}/resolve", {"resolution": "refund", "amount": bad})
        assert r.status_code == 422
    assert _status(db, did) == "open"
    assert queries.get_order(db, shipped)["refunded"] == "0.00"


def test_customer_service_may_not_refund_but_may_reship_with_stock_reserved(shipped, browser, db):
    did = _open(db, shipped, type="lost")["id"]
    cs = browser("customer_service")
    page = cs.get(f"/disputes/{did}").text
    assert 'id="refund-form"' not in page and 'id="reship-form"' in page
    r = cs.post(f"/disputes/{did}/resolve", {"resolution": "refund", "amount": "10.00"})
    assert r.status_code == 403 and _status(db, did) == "open"
    before = _reserved(db)
    r = cs.post(
        f"/disputes/{did}/resolve",
        {"resolution": "reshipment", "sku": "TEA-001", "quantity-0": "1"},
    )
    assert r.status_code == 303, r.text
    d = disputes.get_dispute(db, did)
    assert d["status"] == "resolved" and d["resolution"] == "reshipment"
    new = queries.get_order(db, d["replacement_order"])
    assert [(ln["sku"], ln["quantity"]) for ln in new["lines"]] == [("TEA-001", 1)]
    assert new["financial_status"] == "paid"
    assert _reserved(db) == before + 1
    assert f'href="/orders/{d["replacement_order"]}"' in cs.get(f"/disputes/{did}").text
    assert queries.get_order(db, shipped)["refunded"] == "0.00"


def test_a_reshipment_of_nothing_or_more_than_stock_changes_nothing(shipped, browser, db):
    did = _open(db, shipped, type="lost")["id"]
    cs = browser("customer_service")
    before = _reserved(db)
    r = cs.post(
        f"/disputes/{did}/resolve",
        {"resolution": "reshipment", "sku": "TEA-001", "quantity-0": "0"},
    )
    assert r.status_code == 422 and "choose at least one unit" in r.text
    r = cs.post(
        f"/disputes/{did}/resolve",
        {"resolution": "reshipment", "sku": "TEA-001", "quantity-0": "x"},
    )
    assert r.status_code == 422 and "must be a whole number" in r.text
    r = cs.post(
        f"/disputes/{did}/resolve",
        {"resolution": "reshipment", "sku": "TEA-001", "quantity-0": "500"},
    )
    assert r.status_code in (409, 422) and 'id="resolve-error"' in r.text
    assert _status(db, did) == "open" and _reserved(db) == before
    assert len(orders_of(db)) == 1


def orders_of(db):
    return queries.list_orders(db, limit=50).items


def test_a_reject_needs_a_reason_and_keeps_it_in_the_history(shipped, browser, db):
    did = _open(db, shipped, type="chargeback")["id"]
    cs = browser("customer_service")
    r = cs.post(f"/disputes/{did}/resolve", {"resolution": "reject", "note": ""})
    assert r.status_code == 422 and _status(db, did) == "open"
    r = cs.post(f"/disputes/{did}/resolve", {"resolution": "reject", "note": "<b>signed for</b>"})
    assert r.status_code == 303
    d = disputes.get_dispute(db, did)
    assert (d["status"], d["resolution"]) == ("resolved", "reject")
    html = cs.get(f"/disputes/{did}").text
    assert "&lt;b&gt;signed for&lt;/b&gt;" in html
    assert queries.get_order(db, shipped)["refunded"] == "0.00"


def test_a_step_out_of_order_is_a_message_not_a_change(shipped, browser, db):
    did = _open(db, shipped)["id"]
    cs = browser("customer_service")
    r = cs.post(f"/disputes/{did}/close", {})
    assert r.status_code == 409 and 'class="flash error"' in r.text
    assert _status(db, did) == "open"


@pytest.mark.parametrize(
    ("role", "step", "data"),
    [
        ("warehouse", "investigate", {}),
        ("finance", "investigate", {}),
        ("viewer", "messages", {"direction": "note", "body": "x"}),
        ("warehouse", "resolve", {"resolution": "reject", "note": "no"}),
        ("finance", "resolve", {"resolution": "refund", "amount": "10.00"}),
        ("viewer", "close", {}),
    ],
)
def test_a_forged_step_of_another_role_gets_403_and_changes_nothing(
    shipped, browser, db, role, step, data
):
    did = _open(db, shipped)["id"]
    b = browser(role)
    page = b.get(f"/disputes/{did}").text
    assert "<form" not in page.split('id="messages"')[1].split("</main>")[0]
    r = b.post(f"/disputes/{did}/{step}", data)
    assert r.status_code == 403
    d = disputes.get_dispute(db, did)
    assert d["status"] == "open" and d["messages"] == []
    assert queries.get_order(db, shipped)["refunded"] == "0.00"


def test_an_unknown_dispute_is_404(shop, browser):
    b = browser("viewer")
    assert b.get("/disputes/999").status_code == 404
    assert b.get("/disputes/abc").status_code == 404


def test_a_dispute_on_a_second_order_links_it(shop, browser, db):
    other, _ = capture.place_order(db, ADMIN, order_body(buyer=LIN))
    did = _open(db, other["number"], type="quality")["id"]
    html = browser("viewer").get(f"/disputes/{did}").text
    assert f'href="/orders/{other["number"]}"' in html and "Quality" in html


@pytest.mark.parametrize(("role", "shown"), [("customer_service", True), ("warehouse", False)])
def test_the_order_page_links_to_opening_a_dispute_for_dispute_roles(shipped, browser, role, shown):
    html = browser(role).get(f"/orders/{shipped}").text
    assert (f'href="/orders/{shipped}/disputes/new"' in html) is shown


def test_the_owner_and_due_date_are_changed_on_the_page(shipped, browser, db):
    did = _open(db, shipped, owner="mei@example.com", due_date="2030-01-10")["id"]
    cs = browser("customer_service")
    r = cs.post(f"/disputes/{did}/assign", {"owner": "wang@example.com", "due_date": "2030-03-01"})
    assert r.status_code == 303
    d = disputes.get_dispute(db, did)
    assert d["owner"] == "wang@example.com" and d["due_date"] == "2030-03-01"
    bad = cs.post(f"/disputes/{did}/assign", {"owner": "", "due_date": "soon"})
    assert bad.status_code == 422 and 'value="soon"' in bad.text
    assert disputes.get_dispute(db, did)["due_date"] == "2030-03-01"
    assert browser("warehouse").post(f"/disputes/{did}/assign", {"owner": "x"}).status_code == 403
    html = cs.get(f"/orders/{shipped}").text
    assert "owner now wang@example.com" in html
