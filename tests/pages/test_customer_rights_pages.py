"""The customer page's personal-data card: consent to marketing recorded and withdrawn with
how, its history, and the copy of the customer's data as a PDF."""

from __future__ import annotations

from dingdan.services.orders import consent


def test_consent_is_toggled_from_the_customer_page(shop, browser, db):
    cid = shop["order"]["customer"]["id"]
    cs = browser("customer_service")
    page = cs.get(f"/customers/{cid}").text
    assert 'id="marketing-consent"' in page and 'name="granted" value="1"' in page
    r = cs.post(f"/customers/{cid}/consent", {"granted": "1", "source": "phone call"})
    assert r.status_code == 303
    assert db.read(lambda c: consent.has_marketing_consent(c, int(cid)))
    page = cs.get(f"/customers/{cid}").text
    assert "phone call" in page and 'name="granted" value="0"' in page
    cs.post(f"/customers/{cid}/consent", {"granted": "0", "source": ""})
    assert not db.read(lambda c: consent.has_marketing_consent(c, int(cid)))
    assert "back_office" in cs.get(f"/customers/{cid}").text
    viewer = browser("viewer")
    assert 'action="/customers/' not in viewer.get(f"/customers/{cid}").text
    assert viewer.post(f"/customers/{cid}/consent", {"granted": "1"}).status_code == 403


def test_the_customer_page_downloads_the_pdf_copy(shop, browser):
    cid = shop["order"]["customer"]["id"]
    cs = browser("customer_service")
    assert f'href="/customers/{cid}/export.pdf"' in cs.get(f"/customers/{cid}").text
    r = cs.get(f"/customers/{cid}/export.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    wh = browser("warehouse")
    assert "export.pdf" not in wh.get(f"/customers/{cid}").text
    assert wh.get(f"/customers/{cid}/export.pdf").status_code == 403
