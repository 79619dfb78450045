"""Customer rights (issue 26, part 5): the export as a readable PDF (audited), and the
record of consent to marketing messages with its history, through the API and the pages."""

from __future__ import annotations

from dingdan.services.access import audit_log
from dingdan.services.orders import consent, customer_export_pdf
from tests.builders import TEA_SHOP, post_order

stocked = TEA_SHOP.fixture()


def _put(api, url, **kw):
    return api.request("PUT", url, **kw)


def _customer(api) -> str:
    return str(post_order(api)["customer"]["id"])


def test_the_export_is_a_pdf_too_and_each_download_is_audited(api, stocked, db):
    cid = _customer(api)
    r = api.get(f"/api/v1/customers/{cid}/export.pdf", role="customer_service")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and len(r.content) > 5000
    assert f"customer-{cid}.pdf" in r.headers["content-disposition"]
    assert api.get(f"/api/v1/customers/{cid}/export.pdf", role="warehouse").status_code == 403
    assert api.get("/api/v1/customers/999999/export.pdf").status_code == 404
    [entry] = audit_log.list_entries(db, action="export").items
    assert (entry["entity_type"], entry["entity_id"]) == ("customer", cid)


def test_the_pdf_holds_what_the_json_export_holds(api, stocked, db):
    number = post_order(api)["number"]
    data = api.get(f"/api/v1/customers/{_customer(api)}/export").json()
    html = customer_export_pdf.export_html(data, "茶行")
    for text in ("a@example.com", "+886912345678", "王小明", "信義路五段7號", number, "茶行"):
        assert text in html


def test_consent_is_recorded_with_its_history_and_gates_marketing(api, stocked, db):
    cid = _customer(api)
    url = f"/api/v1/customers/{cid}/consent"
    assert api.get(url).json() == {
        "customer": cid,
        "marketing": False,
        "since": None,
        "source": None,
        "history": [],
    }
    assert not db.read(lambda c: consent.has_marketing_consent(c, int(cid)))
    given = _put(
        api,
        url + "/marketing",
        json={"granted": True, "source": "checkout box"},
        role="customer_service",
    )
    assert given.status_code == 200, given.text
    assert given.json()["marketing"] is True and given.json()["source"] == "checkout box"
    assert db.read(lambda c: consent.has_marketing_consent(c, int(cid)))
    again = _put(api, url + "/marketing", json={"granted": True}, role="customer_service")
    assert len(again.json()["history"]) == 1  # the same state adds nothing
    _put(
        api,
        url + "/marketing",
        json={"granted": False, "source": "unsubscribe link"},
        role="manager",
    )
    now = api.get(url, role="viewer").json()
    assert now["marketing"] is False
    assert [
        (h["granted"], h["source"], h["actor"].rpartition("test-")[2]) for h in now["history"]
    ] == [(False, "unsubscribe link", "manager"), (True, "checkout box", "customer_service")]
    assert not db.read(lambda c: consent.has_marketing_consent(c, int(cid)))
    exported = api.get(f"/api/v1/customers/{cid}/export").json()
    assert [c["granted"] for c in exported["consents"]] == [True, False]


def test_consent_input_is_checked_and_needs_the_right(api, stocked):
    cid = _customer(api)
    url = f"/api/v1/customers/{cid}/consent/marketing"
    assert _put(api, url, json={"granted": "yes"}).status_code == 422
    assert _put(api, url, json={"granted": True, "source": ""}).status_code == 422
    assert _put(api, url, json={"granted": True}, role="warehouse").status_code == 403
    assert (
        _put(api, "/api/v1/customers/999999/consent/marketing", json={"granted": True}).status_code
        == 404
    )
    assert api.get("/api/v1/customers/abc/consent").status_code == 404
