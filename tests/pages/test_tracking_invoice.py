"""The customer chooses where the invoice goes on the tracking page until it is issued, and
the issued e-invoice follows the choice (issue 22, part 5)."""

from __future__ import annotations

from dingdan.services.invoicing import queries as invoice_queries
from dingdan.services.invoicing import settings as invoicing_settings
from dingdan.services.jobs import worker
from dingdan.services.orders import invoice_choice
from dingdan.services.payments import transactions
from tests.builders import ADMIN
from tests.pages.conftest import csrf_of


def test_the_customer_picks_a_carrier_and_the_e_invoice_goes_to_it(shop, browser, db):
    order = shop["order"]
    url = f"/track/{order['tracking_token']}"
    b = browser()
    page = b.get(url)
    assert page.status_code == 200 and 'id="invoice-form"' in page.text
    b.csrf = csrf_of(page.text)
    bad = b.post(f"{url}/invoice", {"inv-kind": "mobile", "inv-carrier": "ABC+123"})
    assert bad.status_code == 422
    assert 'aria-describedby="inv-carrier-error"' in bad.text and 'value="ABC+123"' in bad.text
    assert invoice_choice.choice(db, order["tracking_token"])["request"] == {"type": "b2c"}
    ok = b.post(f"{url}/invoice", {"inv-kind": "mobile", "inv-carrier": "/ABC+123"})
    assert ok.status_code == 303
    # No e-invoice centre is set: taken on its format, and said so.
    assert invoice_choice.choice(db, order["tracking_token"])["request"] == {
        "type": "b2c",
        "carrier_type": "mobile",
        "carrier_id": "/ABC+123",
        "verified": "format",
    }
    assert '<option value="mobile" selected>' in b.get(url).text

    # The shop issues e-invoices on payment: the invoice follows the customer's choice.
    invoicing_settings.put(
        db, ADMIN, {"seller_name": "茶舖", "seller_ubn": "04595257", "einvoice": True}
    )
    invoicing_settings.add_track(
        db, ADMIN, {"period": _period(), "prefix": "AB", "start": "10000000", "end": "10000049"}
    )
    transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    worker.drain(db)
    [invoice] = invoice_queries.order_invoices(db, ADMIN, order["number"])["items"]
    assert (invoice["status"], invoice["carrier_type"], invoice["carrier_id"]) == (
        "issued",
        "mobile",
        "/ABC+123",
    )
    # Issued: the choice is closed, and said so.
    after = b.get(url).text
    assert 'id="invoice-form"' not in after and "/ABC+123" in after
    late = b.post(f"{url}/invoice", {"inv-kind": "donation", "inv-donation": "168"})
    assert late.status_code == 409
    assert invoice_choice.choice(db, order["tracking_token"])["request"]["carrier_id"] == (
        "/ABC+123"
    )


def _period() -> str:
    from dingdan.services.purchasing.forecasts import seller_today

    today = seller_today()
    first = today.month if today.month % 2 else today.month - 1
    return f"{today.year}-{first:02d}"


def test_staff_print_the_e_invoice_proof_once_the_qr_key_is_set(shop, browser, db, monkeypatch):
    import shutil
    import subprocess

    import pytest

    from dingdan.config import get_settings

    order = shop["order"]
    invoicing_settings.put(
        db, ADMIN, {"seller_name": "茶舖", "seller_ubn": "04595257", "einvoice": True}
    )
    invoicing_settings.add_track(
        db, ADMIN, {"period": _period(), "prefix": "AB", "start": "10000000", "end": "10000049"}
    )
    transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    worker.drain(db)
    [invoice] = invoice_queries.order_invoices(db, ADMIN, order["number"])["items"]
    staff = browser("customer_service")
    panel = staff.get(f"/orders/{order['number']}/invoices").text
    url = f"/invoices/{invoice['number']}/proof.pdf"
    assert url in panel
    monkeypatch.setenv("DINGDAN_EINVOICE_QR_AES_KEY", "")
    get_settings.cache_clear()
    try:
        assert staff.get(url).status_code == 409  # no QR key: said, not a 500
        monkeypatch.setenv("DINGDAN_EINVOICE_QR_AES_KEY", "0123456789ABCDEF0123456789ABCDEF")
        get_settings.cache_clear()
        got = staff.get(url)
    finally:
        get_settings.cache_clear()
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=got.content, capture_output=True, check=True
    ).stdout.decode()
    assert "電子發票證明聯" in text and "AB-10000000" in text
