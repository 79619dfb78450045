"""E-invoice numbers assigned by the centre (ECPay), against the local stand-in
(tests/einvoice_fakes.py): the local ranges are skipped, the invoice is pending until ECPay
answers, a centre that is down is tried again by the worker and nothing is lost, ECPay's
number and random code are kept, and the period's blanks are ECPay's to report."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from dingdan.config import get_settings
from dingdan.db.einvoice_exchange_tables import EinvoiceExchange
from dingdan.db.invoice_tables import EInvoiceTrack, Invoice
from dingdan.domain.invoicing import rules
from dingdan.services.invoicing import issuing, uploads
from dingdan.services.jobs import worker
from tests.einvoice_fakes import FakeEcpay
from tests.integration.test_invoices import NS, _invoices, _paid_order, _settings, _track, shop

__all__ = ["shop"]


@pytest.fixture
def ecpay(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEcpay]:
    fake = FakeEcpay()
    fake.start()
    monkeypatch.setenv("DINGDAN_EINVOICE_CENTRE", "ecpay")
    monkeypatch.setenv("DINGDAN_EINVOICE_ECPAY_URL", fake.url)
    monkeypatch.setenv("DINGDAN_EINVOICE_CENTRE_TIMEOUT", "5")
    get_settings.cache_clear()
    yield fake
    fake.stop()
    monkeypatch.undo()
    get_settings.cache_clear()


def _row(db: Any, order_number: str) -> Any:
    from dingdan.db.order_tables import Order

    return db.read(
        lambda c: c.execute(
            select(Invoice)
            .join(Order, Order.id == Invoice.order_id)
            .where(Order.number == order_number)
            .order_by(Invoice.id)
        ).all()
    )


def test_ecpay_assigns_the_number_down_then_up_and_the_ranges_are_left_alone(api, shop, db, ecpay):
    _settings(api)
    assert _track(api).status_code == 201  # a local range: not used while ECPay numbers
    ecpay.mode = "down"
    n = _paid_order(
        api, invoice={"type": "b2c", "carrier_type": "mobile", "carrier_id": "/TRM+O+P"}
    )
    worker.drain(db)
    [waiting] = _row(db, n)
    assert (waiting.status, waiting.number, waiting.centre) == ("pending", None, "ecpay")
    assert waiting.upload_status == "pending" and waiting.centre_key.startswith(n)
    # ECPay is down: the invoice stays pending, with why, and is tried again.
    assert uploads.upload_pending(db) == 0
    [waiting] = _row(db, n)
    assert (waiting.status, waiting.upload_status) == ("pending", "pending")
    assert "503" in (waiting.upload_error or "")
    assert _invoices(api, n)[0]["status"] == "pending"
    ecpay.mode = "up"
    assert uploads.upload_pending(db) == 1
    [inv] = _row(db, n)
    held = ecpay.invoices[waiting.centre_key]
    assert (inv.status, inv.number, inv.random_code) == (
        "issued",
        held["InvoiceNo"],
        held["RandomNumber"],
    )
    assert (inv.upload_status, inv.upload_error) == ("uploaded", None)
    assert inv.period == rules.period_of(inv.issued_at)
    root = etree.fromstring(inv.mig_xml.encode())
    assert root.findtext("m:Main/m:InvoiceNumber", namespaces=NS) == held["InvoiceNo"]
    assert root.findtext("m:Main/m:RandomNumber", namespaces=NS) == held["RandomNumber"]
    sent = [r.data for r in ecpay.received if r.path == "/B2CInvoice/Issue"]
    assert len(sent) == 1 and sent[0]["RelateNumber"] == waiting.centre_key
    assert sent[0]["CustomerEmail"] and sent[0]["CarrierNum"] == "/TRM+O+P"
    outcomes = db.read(
        lambda c: (
            c.execute(
                select(EinvoiceExchange.outcome)
                .where(EinvoiceExchange.document_number == waiting.centre_key)
                .order_by(EinvoiceExchange.id)
            )
            .scalars()
            .all()
        )
    )
    assert outcomes == ["retry", "ok"]
    # The API shows ECPay's number; the local range gave nothing.
    [shown] = _invoices(api, n)
    assert (shown["number"], shown["random_code"], shown["centre"]) == (
        held["InvoiceNo"],
        held["RandomNumber"],
        "ecpay",
    )
    tracks = db.read(
        lambda c: c.execute(select(EInvoiceTrack.next_no, EInvoiceTrack.start_no)).all()
    )
    assert [(t.next_no, t.start_no) for t in tracks] == [(10000000, 10000000)]
    # A second round sends nothing again.
    assert uploads.upload_pending(db) == 0
    assert len([r for r in ecpay.received if r.path == "/B2CInvoice/Issue"]) == 1
    # The period's blanks are ECPay's: none listed here, no E0402 from the local ranges.
    blanks = api.get("/api/v1/einvoice/blanks", params={"period": inv.period}, role="finance")
    assert blanks.status_code == 200, blanks.text
    assert blanks.json() == {"period": inv.period, "items": [], "total": 0, "numbered_by": "ecpay"}
    e0402 = api.get(f"/api/v1/einvoice/blanks/AB/mig?period={inv.period}", role="finance")
    assert e0402.status_code == 409
    assert e0402.json()["errors"][0]["code"] == "einvoice_blanks_at_centre"


def test_an_invoice_voided_while_it_waits_is_sent_only_if_ecpay_may_have_it(api, shop, db, ecpay):
    _settings(api)
    ecpay.mode = "down"
    never, tried = _paid_order(api), _paid_order(api)
    worker.drain(db)
    issuing.on_order_changed(db, never, "edit:a", cancelled=True)  # before any attempt
    # ``tried``: sent once while ECPay was down (it may hold it), then cancelled.
    uploads.upload_pending(db)  # the first (void) one: nothing to send; the second: down
    issuing.on_order_changed(db, tried, "edit:b", cancelled=True)
    ecpay.mode = "up"
    uploads.upload_pending(db)
    [a] = _row(db, never)
    [b] = _row(db, tried)
    assert (a.status, a.number, a.upload_status) == ("void", None, "not_required")
    assert b.status == "void" and b.number == ecpay.invoices[b.centre_key]["InvoiceNo"]
    assert b.upload_status == "uploaded" and ecpay.invoices[b.centre_key]["void"] is True
    assert "urn:GEINV:eInvoiceMessage:F0501:4.0" in (b.void_xml or "")
    keys = {r.data.get("RelateNumber") for r in ecpay.received if r.path == "/B2CInvoice/Issue"}
    assert keys == {b.centre_key}
