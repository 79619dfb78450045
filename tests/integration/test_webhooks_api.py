"""The webhook endpoints' API: who may use it, what it refuses, secrets shown once; and
our signatures against the Standard Webhooks test vectors and the spec's own library."""

from __future__ import annotations

import json
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from dingdan.config import get_settings
from dingdan.domain.shared import standard_webhooks as signing
from dingdan.services.integrations import addresses
from tests.helpers import shared_data_param, shared_external

VECTORS = shared_external() / "vectors/standardwebhooks.json"


def _vectors() -> list[Any]:
    if not VECTORS.is_file():
        return [shared_data_param(f"{VECTORS} is missing")]
    cases = json.loads(VECTORS.read_text())["vectors"]
    return [pytest.param(c, id=c["id"]) for c in cases]


@pytest.mark.parametrize("case", _vectors())
def test_signatures_match_the_published_standard_webhooks_vectors(case):
    given, expected = case["inputs"], case["expected"]
    msg_id, ts, payload = given["msg_id"], given["timestamp"], given["payload"]
    if case["kind"] == "stdwh_sign":
        assert signing.sign(given["secret"], msg_id, ts, payload) == expected["signature"]
    elif case["kind"] == "stdwh_verify":
        header = given["webhook_signature_header"]
        matches = signing.signature_matches(given["secret"], msg_id, ts, payload, header)
        assert matches is expected["valid"]
    else:  # the same key written with and without padding or prefix
        signed = {signing.sign(s, msg_id, ts, payload) for s in given["secrets"]}
        assert signed == {expected["derived_signature"]}


def test_the_standardwebhooks_library_accepts_what_we_sign_and_nothing_else():
    secret = signing.new_secret()
    body = json.dumps({"type": "order.created", "data": {"number": "DD001"}})
    import time

    headers = signing.headers([secret], "msg_test", int(time.time()), body)
    assert Webhook(secret).verify(body, headers)["data"] == {"number": "DD001"}
    other = signing.new_secret()
    both = signing.headers([other, secret], "msg_test", int(time.time()), body)
    assert Webhook(secret).verify(body, both) and Webhook(other).verify(body, both)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + " ", headers)
    with pytest.raises(WebhookVerificationError):  # a day old: receivers refuse it
        Webhook(secret).verify(body, signing.headers([secret], "m", int(time.time()) - 86400, body))


@pytest.fixture
def strict_addresses(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DINGDAN_WEBHOOK_ALLOW_PRIVATE", "false")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "http://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
    ],
)
def test_endpoints_on_private_addresses_are_refused(api, strict_addresses, url):
    r = api.post("/api/v1/webhooks", json={"url": url, "events": ["*"]})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    [error] = r.json()["errors"]
    assert error["field"] == "url" and error["code"] == "private_address"


def test_a_public_address_passes_the_check_and_a_private_one_is_refused_at_delivery(
    strict_addresses,
):
    assert addresses.refused_address("https://93.184.215.14/hook") is None
    assert addresses.refused_address("http://127.0.0.1:9/x") == "127.0.0.1"


def test_the_api_checks_urls_and_event_types_and_shows_the_secret_only_once(api, monkeypatch):
    monkeypatch.setenv("DINGDAN_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    try:
        bad = api.post("/api/v1/webhooks", json={"url": "ftp://x", "events": ["order.nope"]})
        assert bad.status_code == 422
        codes = {(e["field"], e["code"]) for e in bad.json()["errors"]}
        assert codes == {("url", "invalid_webhook_url"), ("events[0]", "not_one_of")}
        message = next(e["message"] for e in bad.json()["errors"] if e["code"] == "not_one_of")
        assert "order.created" in message and "purchase_order.received" in message
        mixed = api.post(
            "/api/v1/webhooks", json={"url": "http://127.0.0.1/", "events": ["*", "order.paid"]}
        )
        assert mixed.status_code == 422
        empty = api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1/", "events": []})
        assert empty.status_code == 422

        body = {"url": "http://127.0.0.1:9/h", "events": ["order.paid"], "description": "ERP"}
        assert api.post("/api/v1/webhooks", json=body, role="customer_service").status_code == 403
        made = api.post("/api/v1/webhooks", json=body, role="manager")
        assert made.status_code == 201, made.text
        hook = made.json()
        assert hook["secret"].startswith("whsec_") and len(signing.key_of(hook["secret"])) == 24
        assert hook["events"] == ["order.paid"] and hook["description"] == "ERP"
        listed = api.get("/api/v1/webhooks").json()["items"]
        assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
        shown = api.get(f"/api/v1/webhooks/{hook['id']}").json()
        assert "secret" not in shown
        assert api.get("/api/v1/webhooks", role="viewer").status_code == 403

        patched = api.patch(
            f"/api/v1/webhooks/{hook['id']}",
            json={"events": ["*"], "status": "disabled"},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["events"] == ["*"] and patched.json()["status"] == "disabled"
        wrong = api.patch(f"/api/v1/webhooks/{hook['id']}", json={"status": "paused"})
        assert wrong.status_code == 422
        assert api.get("/api/v1/webhooks/abc").status_code == 404
        assert api.get(f"/api/v1/webhooks/{hook['id']}/deliveries?status=x").status_code == 422
        assert api.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json() == {
            "items": [],
            "next_cursor": None,
        }
        assert api.request("DELETE", f"/api/v1/webhooks/{hook['id']}").status_code == 204
        assert api.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    finally:
        get_settings.cache_clear()
