"""The order page loads the order's invoices from the invoicing pages (by URL); the panel
shows the number, random code and amounts, in the reader's language; each view is
audited; signed out it sends to the sign-in page."""

from __future__ import annotations

from sqlalchemy import select

from dingdan.db.tables import AuditEntry
from dingdan.db.types import utcnow
from dingdan.domain.invoicing import rules
from dingdan.services.invoicing import settings as invoicing_settings
from dingdan.services.jobs import worker
from dingdan.services.payments import transactions
from tests.builders import ADMIN


def test_the_order_page_shows_its_invoices(db, shop, browser):
    invoicing_settings.put(
        db, ADMIN, {"seller_name": "茶行有限公司", "seller_ubn": "04595257", "einvoice": True}
    )
    invoicing_settings.add_track(
        db,
        ADMIN,
        {
            "period": rules.period_of(utcnow()),
            "prefix": "AB",
            "start": "10000000",
            "end": "10000049",
        },
    )
    order = shop["order"]
    transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    worker.drain(db)
    viewer = browser("viewer")
    page = viewer.get(f"/orders/{order['number']}").text
    assert f'hx-get="/orders/{order["number"]}/invoices"' in page
    panel = viewer.get(
        f"/orders/{order['number']}/invoices",
        headers={"HX-Request": "true", "Accept-Language": "zh-TW"},
    )
    assert panel.status_code == 200
    assert "AB10000000" in panel.text and "隨機碼" in panel.text and "已開立" in panel.text
    full = viewer.get(f"/orders/{order['number']}/invoices").text
    assert "<html" in full and "AB10000000" in full
    seen = db.read(
        lambda c: (
            c.execute(
                select(AuditEntry.actor).where(
                    AuditEntry.entity_type == "invoice", AuditEntry.action == "view"
                )
            )
            .scalars()
            .all()
        )
    )
    assert len(seen) == 2 and all("viewer" in a for a in seen)


def test_signed_out_the_invoice_panel_sends_to_sign_in(shop, browser):
    r = browser().get(f"/orders/{shop['order']['number']}/invoices", follow_redirects=False)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]


def test_the_printed_proof_is_rendered_by_the_worker_and_served_from_the_store(
    db, shop, browser, monkeypatch, tmp_path
):
    from dingdan.config import get_settings
    from dingdan.services.invoicing import proof
    from dingdan.services.shared import documents

    monkeypatch.setenv("DINGDAN_EINVOICE_QR_AES_KEY", "FE05F029154F6AA67A78B338ED2F6601")
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    get_settings.cache_clear()
    try:
        invoicing_settings.put(
            db, ADMIN, {"seller_name": "茶行有限公司", "seller_ubn": "04595257", "einvoice": True}
        )
        period = rules.period_of(utcnow())
        track = {"period": period, "prefix": "AB", "start": "10000000", "end": "10000049"}
        invoicing_settings.add_track(db, ADMIN, track)
        order = shop["order"]  # no carrier, no donation: a printed invoice, paper wanted
        transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
        worker.drain(db)
        assert documents.pdf_state(db, proof.KIND, "AB10000000")["pending"]
        assert documents.render_pending(db) == 2  # the A4 invoice and the proof

        def never(*args, **kwargs):  # the request must not render
            raise AssertionError("rendered on demand")

        monkeypatch.setattr(proof, "render_proof", never)
        r = browser("viewer").get("/invoices/AB10000000/proof.pdf")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert r.content == documents.latest_pdf(db, proof.KIND, "AB10000000")["data"]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_finance_voids_an_allowance_from_the_invoices_page_with_a_reason(db, shop, browser):
    invoicing_settings.put(
        db, ADMIN, {"seller_name": "茶行有限公司", "seller_ubn": "04595257", "einvoice": True}
    )
    period = rules.period_of(utcnow())
    track = {"period": period, "prefix": "AB", "start": "10000000", "end": "10000049"}
    invoicing_settings.add_track(db, ADMIN, track)
    order = shop["order"]
    number = order["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": order["total"]})
    worker.drain(db)
    transactions.refund(db, ADMIN, number, {"amount": "100.00", "reason": "破損"})
    worker.drain(db)
    base = f"/orders/{number}/invoices"
    action = f"{base}/AB10000000/allowances/AL-{utcnow().year}-000001/void"
    # A viewer sees the allowance, and no button.
    seen = browser("viewer").get(base, headers={"Accept-Language": "zh-TW"}).text
    assert f"AL-{utcnow().year}-000001" in seen and action not in seen
    assert browser("viewer").post(action, {"reason": "x"}).status_code == 403
    finance = browser("finance")
    page = finance.get(base, headers={"Accept-Language": "zh-TW"}).text
    assert action in page and "作廢折讓" in page
    # No reason: the page again, the message beside the field, nothing voided.
    refused = finance.post(action, {"reason": "  "}, headers={"Accept-Language": "zh-TW"})
    assert refused.status_code == 422 and "field-error" in refused.text
    done = finance.post(
        action, {"reason": "金額錯誤"}, headers={"Accept-Language": "zh-TW"}, follow_redirects=True
    )
    assert done.status_code == 200 and "已作廢" in done.text and "金額錯誤" in done.text
    assert action not in done.text  # a void allowance has no button
    again = finance.post(
        action, {"reason": "again"}, headers={"Accept-Language": "en"}, follow_redirects=True
    )
    assert again.status_code == 409 and "cannot be voided" in again.text
