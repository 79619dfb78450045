"""Invoices that follow the order after they are issued (issue 22): an order raised after
its invoice's void window gets a supplementary invoice for the difference (a closed
period's invoice cannot be voided), and lowered again gets allowances; with "issue on
shipment", a refund before the invoice is left out of it (no allowance against an invoice
not yet issued), and a refund after it is an allowance once, whatever order the events
arrive in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from dingdan.db.invoice_tables import Invoice
from dingdan.db.order_tables import Payment
from dingdan.db.types import utcnow
from dingdan.domain.invoicing import rules
from dingdan.services.invoicing import issuing
from dingdan.services.jobs import worker
from tests.builders import order_body, pay, post_order
from tests.integration.test_invoices import _edit, _invoices, _paid_order, _settings, _track, shop

__all__ = ["shop"]


def _detail(api: Any, number: str) -> dict[str, Any]:
    r = api.get(f"/api/v1/invoices/{number}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _allowances(api: Any, number: str) -> list[tuple[str, str]]:
    items = api.get(f"/api/v1/invoices/{number}/allowances").json()["items"]
    return [(a["amount"], a["status"]) for a in items]


def test_an_order_raised_after_the_void_window_gets_a_supplementary_invoice(api, shop, db):
    _settings(api)
    _track(api)
    n = _paid_order(api)  # 2 x 350 + 60 shipping = 760
    worker.drain(db)
    old = rules.period_of(utcnow() - timedelta(days=120))
    db.write(lambda c: c.execute(update(Invoice).values(period=old)))
    _edit(api, n, 3)  # 1110: 350 more
    worker.drain(db)
    main, extra = _invoices(api, n)
    assert (main["number"], main["status"], main["total"]) == ("AB10000000", "issued", "760.00")
    assert (extra["number"], extra["status"], extra["total"]) == (
        "AB10000001",
        "issued",
        "350.00",
    )
    assert extra["supplement_of"] == "AB10000000" and main["supplement_of"] is None
    lines = _detail(api, extra["number"])["lines"]
    assert [(ln["description"], ln["quantity"], ln["amount"]) for ln in lines] == [
        ("Product TEA-001", 1, "350.00")
    ]
    assert _allowances(api, main["number"]) == []
    worker.drain(db)  # handled again: nothing more
    assert len(_invoices(api, n)) == 2
    # Down to one unit (410): 700 less, the newest invoice's allowance first.
    _edit(api, n, 1)
    worker.drain(db)
    assert _allowances(api, extra["number"]) == [("350.00", "issued")]
    assert _allowances(api, main["number"]) == [("350.00", "issued")]
    assert [i["status"] for i in _invoices(api, n)] == ["issued", "issued"]
    # The invoice choice no longer changes once invoiced.
    b2b = {"type": "b2b", "buyer_ubn": "04595257", "buyer_name": "甲公司"}
    r = api.patch(f"/api/v1/orders/{n}", json={"invoice": b2b})
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "invoice_already_issued"


def test_a_refund_before_the_invoice_on_shipment_is_left_out_of_it(api, shop, db):
    _settings(api, issue_on="shipment")
    _track(api)
    o = post_order(api, order_body())
    pay(api, o)
    n = o["number"]
    r = api.post(
        f"/api/v1/orders/{n}/refunds",
        json={"amount": "100.00", "reason": "缺貨補償"},
        role="finance",
    )
    assert r.status_code == 201, r.text
    worker.drain(db)
    assert _invoices(api, n) == []  # not shipped: no invoice, no allowance
    s = api.post(f"/api/v1/orders/{n}/shipments", json={"carrier": "tcat"}, role="warehouse")
    assert s.status_code == 201, s.text
    worker.drain(db)
    [inv] = _invoices(api, n)
    assert (inv["status"], inv["total"]) == ("issued", "660.00")
    lines = _detail(api, inv["number"])["lines"]
    assert [(ln["description"], ln["amount"]) for ln in lines] == [
        ("Product TEA-001", "700.00"),
        ("運費", "60.00"),
        ("退款", "-100.00"),
    ]
    assert _allowances(api, inv["number"]) == []
    xml = db.read(
        lambda c: c.execute(
            select(Invoice.mig_xml).where(Invoice.number == inv["number"])
        ).scalar_one()
    )
    assert "<TotalAmount>660</TotalAmount>" in xml
    # A refund after the invoice: an allowance, once; the first refund's event handled
    # again (late, or twice) takes nothing more off.
    r = api.post(
        f"/api/v1/orders/{n}/refunds", json={"amount": "50.00", "reason": "破損"}, role="finance"
    )
    assert r.status_code == 201, r.text
    worker.drain(db)
    first = db.read(
        lambda c: (
            c.execute(select(Payment.id).where(Payment.kind == "refund").order_by(Payment.id))
            .scalars()
            .first()
        )
    )
    issuing.on_refund(db, n, "100.00", str(first), "缺貨補償")
    assert _allowances(api, inv["number"]) == [("50.00", "issued")]
