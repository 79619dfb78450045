"""Settings → Provider keys: an admin stores ECPay's and the e-invoice centres' keys; a key
is never shown again (nor echoed when refused), only its last four characters."""

from __future__ import annotations

from dingdan.services.payments import ecpay_log

SECRET = "LiveHashKey0000Zq7W"


def test_an_admin_stores_keys_that_are_never_shown_again(shop, browser, db):
    admin = browser("admin")
    page = admin.get("/settings/provider-keys")
    assert page.status_code == 200
    assert 'id="keys-ecpay_payments"' in page.text and 'id="keys-einvoice_amego"' in page.text
    r = admin.post("/settings/provider-keys/ecpay_payments", {"hash_key": SECRET, "hash_iv": ""})
    assert r.status_code == 303, r.text
    assert ecpay_log.hash_keys(db)[0] == SECRET
    page = admin.get("/settings/provider-keys")
    assert SECRET not in page.text and "••••Zq7W" in page.text
    refused = admin.post(
        "/settings/provider-keys/ecpay_payments",
        {"hash_key": "Other\x01Secret-99999", "merchant_id": "31\x0250"},
        follow_redirects=True,
    )
    assert refused.status_code == 422, refused.text
    assert "Other" not in refused.text and 'class="field-error"' in refused.text
    assert ecpay_log.hash_keys(db)[0] == SECRET


def test_only_admins_see_or_set_provider_keys(shop, browser, db):
    for role in ("manager", "finance", "viewer"):
        b = browser(role)
        assert b.get("/settings/provider-keys").status_code == 403
        r = b.post("/settings/provider-keys/ecpay_payments", {"hash_key": SECRET})
        assert r.status_code == 403
    assert ecpay_log.hash_keys(db)[0] != SECRET
