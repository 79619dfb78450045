"""Invoices and Taiwan e-invoices through the API and the worker (issue 22): settings,
number ranges, the invoice request at capture, issuing on payment, pending numbers, voids,
allowances for refunds, and reads in the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import func, select, text, update

from dingdan.db.invoice_tables import EInvoiceTrack, Invoice
from dingdan.db.tables import AuditEntry, OutboxMessage
from dingdan.db.types import utcnow
from dingdan.domain.invoicing import rules
from dingdan.services.invoicing import consumers, issuing
from dingdan.services.jobs import worker
from tests.builders import ADMIN as ADMIN_ACTOR
from tests.builders import order_body, pay, post_order
from tests.helpers import location, product, receive

SELLER_UBN = "04595257"  # valid under the 2023 rule (and the old one)
NS = {"m": "urn:GEINV:eInvoiceMessage:F0401:4.0"}


@pytest.fixture
def shop(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10_000})
    return db


def _put(api: Any, body: dict[str, Any], role: str = "finance") -> Any:
    return api.request("PUT", "/api/v1/settings/invoicing", json=body, role=role)


def _settings(api: Any, **over: Any) -> None:
    body = {"seller_name": "茶行有限公司", "seller_ubn": SELLER_UBN, "einvoice": True} | over
    r = _put(api, body)
    assert r.status_code == 200, r.text


def _track(
    api: Any, start: str = "10000000", end: str = "10000049", role: str = "finance", **over: Any
) -> Any:
    period = rules.period_of(utcnow())
    body = {"period": period, "prefix": "AB", "start": start, "end": end} | over
    return api.post("/api/v1/einvoice/tracks", json=body, role=role)


def _paid_order(api: Any, **over: Any) -> str:
    o = post_order(api, order_body(**over))
    pay(api, o)
    return str(o["number"])


def _invoices(api: Any, number: str) -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/orders/{number}/invoices")
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _codes(r: Any) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in r.json()["errors"]}


def test_settings_check_the_seller_ubn_with_the_2023_rule(api):
    r = _put(api, {"seller_name": "茶行", "seller_ubn": "04595258", "einvoice": True})
    assert r.status_code == 422 and ("seller_ubn", "invalid_ubn") in _codes(r)
    assert _put(api, {"seller_name": "茶行", "einvoice": True, "issue_on": "x"}).status_code == 422
    assert (
        _put(api, {"seller_name": "茶行", "einvoice": False}, role="warehouse").status_code == 403
    )
    _settings(api, issue_on="shipment")
    got = api.get("/api/v1/settings/invoicing", role="manager").json()
    assert got["seller_ubn"] == SELLER_UBN and got["issue_on"] == "shipment" and got["configured"]


def test_tracks_follow_the_contract_and_an_overlap_is_a_conflict(api):
    assert _track(api).status_code == 201
    bad = api.post(
        "/api/v1/einvoice/tracks",
        json={"period": "2026-12", "prefix": "ab", "start": "10000001", "end": "10000048"},
        role="finance",
    )
    assert bad.status_code == 422
    assert _codes(bad) == {
        ("period", "invalid_einvoice_period"),
        ("prefix", "invalid_track_prefix"),
        ("start", "invalid_track_number"),
        ("end", "invalid_track_number"),
    }
    backwards = _track(api, start="10000100", end="10000049")
    assert backwards.status_code == 422 and ("end", "track_end_before_start") in _codes(backwards)
    overlap = _track(api, start="10000000", end="10000099")
    assert overlap.status_code == 409 and overlap.json()["code"] == "conflict"
    assert _track(api, prefix="AC").status_code == 201  # another prefix is another range
    items = api.get("/api/v1/einvoice/tracks", role="finance").json()["items"]
    assert [(t["prefix"], t["next"], t["remaining"]) for t in items] == [
        ("AB", "10000000", 50),
        ("AC", "10000000", 50),
    ]
    assert _track(api, prefix="AD", role="customer_service").status_code == 403
    assert _track(api, prefix="AD", colour="red").status_code == 422  # not a field


@pytest.mark.parametrize(
    ("invoice", "field", "code"),
    [
        (
            {"type": "b2c", "carrier_type": "mobile", "carrier_id": "ABC1234"},
            "carrier_id",
            "invalid_carrier_id",
        ),
        (
            {"type": "b2c", "carrier_type": "mobile", "carrier_id": "/abc1234"},
            "carrier_id",
            "invalid_carrier_id",
        ),
        (
            {"type": "b2c", "carrier_type": "certificate", "carrier_id": "AB123"},
            "carrier_id",
            "invalid_carrier_id",
        ),
        ({"type": "b2c", "donation_code": "12"}, "donation_code", "invalid_donation_code"),
        ({"type": "b2c", "donation_code": "12345678"}, "donation_code", "invalid_donation_code"),
        (
            {
                "type": "b2c",
                "carrier_type": "mobile",
                "carrier_id": "/ABC1234",
                "donation_code": "168",
            },
            "donation_code",
            "invoice_carrier_and_donation",
        ),
        (
            {"type": "b2b", "buyer_ubn": "04595258", "buyer_name": "甲公司"},
            "buyer_ubn",
            "invalid_ubn",
        ),
        (
            {
                "type": "b2b",
                "buyer_ubn": SELLER_UBN,
                "buyer_name": "甲公司",
                "donation_code": "168",
            },
            "donation_code",
            "invoice_b2b_no_carrier",
        ),
        ({"type": "b2b", "buyer_ubn": SELLER_UBN}, "buyer_name", "required"),
        ({"type": "b3b"}, "type", "not_one_of"),
    ],
)
def test_a_bad_invoice_request_is_refused_with_its_code(api, shop, invoice, field, code):
    r = api.post("/api/v1/orders", json=order_body(invoice=invoice))
    assert r.status_code == 422, r.text
    assert (f"invoice.{field}", code) in _codes(r)


def test_a_paid_order_gets_the_next_e_invoice_number_with_its_mig_message(api, shop, db):
    _settings(api, seller_address="台北市信義區信義路五段7號")
    assert _track(api).status_code == 201
    carrier = {"type": "b2c", "carrier_type": "mobile", "carrier_id": "/TRM+O+P"}
    first = _paid_order(api, invoice=carrier)
    second = _paid_order(
        api, invoice={"type": "b2b", "buyer_ubn": SELLER_UBN, "buyer_name": "甲公司"}
    )
    worker.drain(db)
    [a] = _invoices(api, first)
    [b] = _invoices(api, second)
    assert (a["number"], b["number"]) == ("AB10000000", "AB10000001")
    assert a["status"] == "issued" and len(a["random_code"]) == 4 and a["random_code"].isdigit()
    assert (a["carrier_type"], a["carrier_id"], a["total"], a["tax"]) == (
        "mobile",
        "/TRM+O+P",
        "760.00",
        "0.00",
    )
    assert (b["type"], b["buyer_ubn"], b["tax"]) == ("b2b", SELLER_UBN, "36.00")  # 760/1.05*.05
    detail = api.get(f"/api/v1/invoices/{a['number']}").json()
    assert [(ln["description"], ln["amount"]) for ln in detail["lines"]] == [
        ("Product TEA-001", "700.00"),
        ("運費", "60.00"),
    ]
    r = api.get(f"/api/v1/invoices/{b['number']}/mig")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(r.content)
    assert root.findtext("m:Main/m:InvoiceNumber", namespaces=NS) == "AB10000001"
    assert root.findtext("m:Main/m:Buyer/m:Identifier", namespaces=NS) == SELLER_UBN
    assert root.findtext("m:Amount/m:SalesAmount", namespaces=NS) == "724"
    assert root.findtext("m:Amount/m:TaxAmount", namespaces=NS) == "36"
    assert root.findtext("m:Amount/m:TotalAmount", namespaces=NS) == "760"
    seen = db.read(
        lambda c: c.execute(
            select(AuditEntry.action, AuditEntry.entity_id).where(
                AuditEntry.entity_type == "invoice"
            )
        ).all()
    )
    assert ("view", "AB10000000") in seen and ("download", "AB10000001") in seen


def test_an_event_handled_twice_issues_one_invoice(api, shop, db):
    _settings(api, einvoice=False)
    n = _paid_order(api)
    message = db.read(
        lambda c: c.execute(select(OutboxMessage).where(OutboxMessage.topic == "order.paid")).one()
    )
    consumers.on_event(db, message)
    consumers.on_event(db, message)
    worker.drain(db)
    [inv] = _invoices(api, n)
    year = rules.local(utcnow()).year
    assert inv["number"] == f"INV-{year}-000001" and inv["einvoice"] is False
    assert api.get(f"/api/v1/invoices/{inv['number']}/mig").status_code == 404


def test_orders_not_in_twd_to_tw_get_a_yearly_numbered_invoice(api, shop, db):
    _settings(api)
    _track(api)
    product(db, "TEA-USD", price="10.00", currency="USD")
    receive(db, "TPE", {"TEA-USD": 10})
    body = order_body([{"sku": "TEA-USD", "quantity": 1}], currency="USD", shipping_price="0")
    o = post_order(api, body)
    pay(api, o)
    worker.drain(db)
    [inv] = _invoices(api, o["number"])
    assert inv["number"].startswith("INV-") and inv["einvoice"] is False


def test_no_numbers_left_leaves_the_invoice_pending_until_a_range_is_added(api, shop, db):
    _settings(api)
    _track(api)
    db.write(lambda c: c.execute(update(EInvoiceTrack).values(next_no=10000049)))
    last, waiting = _paid_order(api), _paid_order(api)
    worker.drain(db)
    assert _invoices(api, last)[0]["number"] == "AB10000049"
    [pending] = _invoices(api, waiting)
    assert pending["status"] == "pending" and pending["number"] is None
    assert _track(api, start="10000050", end="10000099").status_code == 201
    worker.drain(db)
    [issued] = _invoices(api, waiting)
    assert (issued["status"], issued["number"]) == ("issued", "AB10000050")


def test_a_range_80_percent_used_alerts_staff_once(api, shop, db):
    _settings(api)
    _track(api)
    db.write(lambda c: c.execute(update(EInvoiceTrack).values(next_no=10000038)))
    for _ in range(3):
        _paid_order(api)
    worker.drain(db)  # 38, 39 (the 40th number: 80% of 50), 40
    lows = db.read(
        lambda c: (
            c.execute(
                select(OutboxMessage.payload).where(OutboxMessage.topic == "einvoice.range_low")
            )
            .scalars()
            .all()
        )
    )
    assert len(lows) == 1 and lows[0]["prefix"] == "AB" and lows[0]["remaining"] == 10


def test_a_refund_gives_an_allowance_never_beyond_the_invoice(api, shop, db):
    _settings(api)
    _track(api)
    n = _paid_order(api)
    worker.drain(db)
    [inv] = _invoices(api, n)
    for amount in ("100.00", "660.00"):
        r = api.post(
            f"/api/v1/orders/{n}/refunds", json={"amount": amount, "reason": "破損"}, role="finance"
        )
        assert r.status_code == 201, r.text
    worker.drain(db)
    worker.drain(db)  # a second run adds nothing
    issuing.on_refund(db, n, "50.00", "elsewhere", "more than the invoice has left")
    items = api.get(f"/api/v1/invoices/{inv['number']}/allowances").json()["items"]
    assert [(a["amount"], a["tax"], a["status"]) for a in items] == [
        ("100.00", "5.00", "issued"),
        ("660.00", "31.00", "issued"),
    ]


def test_void_within_the_window_and_refused_after_it(api, shop, db):
    _settings(api)
    _track(api)
    a, b = _paid_order(api), _paid_order(api)
    worker.drain(db)
    na, nb = _invoices(api, a)[0]["number"], _invoices(api, b)[0]["number"]
    assert (
        api.post(f"/api/v1/invoices/{na}/void", json={"reason": "x"}, role="warehouse").status_code
        == 403
    )
    r = api.post(f"/api/v1/invoices/{na}/void", json={"reason": "客戶取消"}, role="finance")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "void"
    again = api.post(f"/api/v1/invoices/{na}/void", json={"reason": "x"}, role="finance")
    assert again.status_code == 409 and ("number", "invoice_not_voidable") in _codes(again)
    old = rules.period_of(utcnow() - timedelta(days=120))
    db.write(lambda c: c.execute(update(Invoice).where(Invoice.number == nb).values(period=old)))
    late = api.post(f"/api/v1/invoices/{nb}/void", json={"reason": "x"}, role="finance")
    assert late.status_code == 409 and ("number", "void_window_closed") in _codes(late)
    # The void number is never given again.
    c = _paid_order(api)
    worker.drain(db)
    assert _invoices(api, c)[0]["number"] == "AB10000002"


def _edit(api: Any, n: str, quantity: int) -> None:
    r = api.patch(f"/api/v1/orders/{n}", json={"lines": [{"sku": "TEA-001", "quantity": quantity}]})
    assert r.status_code == 200, r.text


def test_an_order_edited_after_its_invoice_is_voided_and_issued_again(api, shop, db):
    _settings(api)
    _track(api)
    n = _paid_order(api)
    worker.drain(db)
    _edit(api, n, 1)
    worker.drain(db)
    old, new = _invoices(api, n)
    assert (old["number"], old["status"]) == ("AB10000000", "void")
    assert (new["number"], new["status"], new["total"]) == ("AB10000001", "issued", "410.00")
    kept = db.read(
        lambda c: c.execute(
            select(Invoice.void_xml).where(Invoice.number == "AB10000000")
        ).scalar_one()
    )
    assert "urn:GEINV:eInvoiceMessage:F0501:4.0" in kept


def test_an_order_edited_after_the_void_window_gets_an_allowance(api, shop, db):
    _settings(api)
    _track(api)
    n = _paid_order(api)
    worker.drain(db)
    old = rules.period_of(utcnow() - timedelta(days=120))
    db.write(lambda c: c.execute(update(Invoice).values(period=old)))
    _edit(api, n, 1)
    worker.drain(db)
    [inv] = _invoices(api, n)
    assert inv["status"] == "issued"
    items = api.get(f"/api/v1/invoices/{inv['number']}/allowances").json()["items"]
    assert [(a["amount"], a["status"]) for a in items] == [("350.00", "issued")]
    issuing.on_order_changed(db, n, "edit:again", cancelled=False)  # nothing new went down
    assert len(api.get(f"/api/v1/invoices/{inv['number']}/allowances").json()["items"]) == 1


def test_a_cancelled_pending_invoice_is_voided_without_a_number(api, shop, db):
    _settings(api)
    n = _paid_order(api)  # no range yet: pending
    worker.drain(db)
    issuing.on_order_changed(db, n, "edit:test", cancelled=True)
    [inv] = _invoices(api, n)
    assert (inv["status"], inv["number"]) == ("void", None)
    count = db.read(lambda c: c.execute(select(func.count()).select_from(Invoice)).scalar_one())
    assert count == 1


def test_the_a4_pdf_is_rendered_by_the_worker_with_chinese_text(
    api, shop, db, tmp_path, monkeypatch
):
    import subprocess

    from dingdan.services.shared import documents

    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    _settings(api, seller_address="台北市信義區信義路五段7號")
    _track(api)
    n = _paid_order(api, invoice={"type": "b2b", "buyer_ubn": SELLER_UBN, "buyer_name": "甲公司"})
    worker.drain(db)
    [inv] = _invoices(api, n)
    assert api.get(f"/api/v1/invoices/{inv['number']}/pdf").status_code == 404  # not yet made
    assert documents.render_pending(db) == 1
    r = api.get(f"/api/v1/invoices/{inv['number']}/pdf", role="viewer")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(r.content)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "茶行有限公司" in text and "甲公司" in text and inv["number"] in text
    assert "760.00" in text and "36.00" in text  # the total, and the B2B tax shown apart
    downloads = db.read(
        lambda c: (
            c.execute(
                select(AuditEntry.actor).where(
                    AuditEntry.entity_type == "invoice", AuditEntry.action == "download"
                )
            )
            .scalars()
            .all()
        )
    )
    assert len(downloads) == 1


def test_ranges_are_imported_from_the_tax_platforms_csv_all_or_none(api):
    csv = "期別,字軌,起號,迄號,本數\n11511,AB,10000000,10000049,1\n115/11,AC,20000050,20000149,2\n"
    r = api.post("/api/v1/einvoice/tracks/import", json={"csv": csv}, role="finance")
    assert r.status_code == 201, r.text
    assert [(t["period"], t["prefix"], t["remaining"]) for t in r.json()["items"]] == [
        ("2026-11", "AB", 50),
        ("2026-11", "AC", 100),
    ]
    bad = "period,prefix,start,end\n2027-01,AD,10000000,10000049\n2027-01,AD,10000001,1\n"
    r = api.post("/api/v1/einvoice/tracks/import", json={"csv": bad}, role="finance")
    assert r.status_code == 422 and ("rows[3].start", "invalid_track_number") in _codes(r)
    again = "period,prefix,start,end\n2027-01,AE,10000000,10000049\n2026-11,AB,10000000,10000049\n"
    assert (
        api.post("/api/v1/einvoice/tracks/import", json={"csv": again}, role="finance").status_code
        == 409
    )
    listed = api.get("/api/v1/einvoice/tracks", role="finance").json()["items"]
    assert {t["prefix"] for t in listed} == {"AB", "AC"}  # nothing of the refused files
    r = api.post("/api/v1/einvoice/tracks/import", json={"csv": "a,b\n1,2\n"}, role="finance")
    assert r.status_code == 422 and ("csv", "missing_columns") in _codes(r)
    # A line break inside a field with no quotes, a quote never closed: the file's fault.
    for broken in ('period,prefix\r1\n"a\rb', 'a,"b\n1,2'):
        r = api.post("/api/v1/einvoice/tracks/import", json={"csv": broken}, role="finance")
        assert r.status_code == 422, r.text


def test_blank_numbers_are_each_ranges_unused_tail_and_their_e0402(api, db):
    from dingdan.services.invoicing import settings as invoicing_settings

    invoicing_settings.put(
        db, ADMIN_ACTOR, {"seller_name": "茶舖", "seller_ubn": "04595257", "einvoice": True}
    )
    for prefix, start, end in (("AB", "10000000", "10000049"), ("AC", "20000000", "20000099")):
        r = api.post(
            "/api/v1/einvoice/tracks",
            json={"period": "2026-11", "prefix": prefix, "start": start, "end": end},
        )
        assert r.status_code == 201, r.text
    # Three numbers of AB used, as issuing takes them.
    db.write(
        lambda c: c.execute(
            text("UPDATE einvoice_tracks SET next_no = 10000003 WHERE prefix = 'AB'")
        )
    )
    blanks = api.get("/api/v1/einvoice/blanks", params={"period": "2026-11"}, role="finance")
    assert blanks.status_code == 200, blanks.text
    assert blanks.json() == {
        "period": "2026-11",
        "total": 147,
        "numbered_by": None,
        "items": [
            {"prefix": "AB", "start": "10000003", "end": "10000049", "count": 47},
            {"prefix": "AC", "start": "20000000", "end": "20000099", "count": 100},
        ],
    }
    assert api.get("/api/v1/einvoice/blanks", params={"period": "2026-12"}).status_code == 422
    assert (
        api.get(
            "/api/v1/einvoice/blanks", params={"period": "2026-11"}, role="warehouse"
        ).status_code
        == 403
    )
    xml = api.get("/api/v1/einvoice/blanks/AB/mig", params={"period": "2026-11"})
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(xml.content)
    ns = {"m": "urn:GEINV:eInvoiceMessage:E0402:4.0"}
    assert [el.tag.split("}")[1] for el in root] == ["Main", "Details"]
    assert [(el.tag.split("}")[1], el.text) for el in root.find("m:Main", ns)] == [
        ("HeadBan", "04595257"),
        ("BranchBan", "04595257"),
        ("InvoiceType", "07"),
        ("YearMonth", "11512"),
        ("InvoiceTrack", "AB"),
    ]
    items = root.findall("m:Details/m:BranchTrackBlankItem", ns)
    assert [
        (i.findtext("m:InvoiceBeginNo", namespaces=ns), i.findtext("m:InvoiceEndNo", namespaces=ns))
        for i in items
    ] == [("10000003", "10000049")]
    assert (
        api.get("/api/v1/einvoice/blanks/ab/mig", params={"period": "2026-11"}).status_code == 422
    )
