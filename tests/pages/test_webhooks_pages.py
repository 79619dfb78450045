"""The webhooks page under Settings: an endpoint added with its events chosen by checkboxes
(its secret shown once), disabled and enabled, its secret rotated; its deliveries listed
with each attempt, and replayed. For admins and managers, in the user's language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from dingdan.config import get_settings
from dingdan.db.webhook_tables import WebhookDelivery, WebhookEndpoint
from dingdan.services.integrations import delivery
from dingdan.services.jobs import worker
from dingdan.services.orders import capture
from tests.builders import ADMIN, LIN, order_body
from tests.integration.webhook_receiver import Receiver

SECRET = re.compile(r'value="(whsec_[^"]+)"')


@pytest.fixture
def private_ok(monkeypatch):
    monkeypatch.setenv("DINGDAN_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_an_endpoint_is_added_its_deliveries_shown_and_one_replayed(shop, browser, db, private_ok):
    worker.drain(db)  # the shop's order was placed before any endpoint: not sent
    admin = browser("admin")
    assert 'href="/settings/webhooks"' in admin.get("/settings").text
    with Receiver(lambda _r, n: (500, "down for maintenance") if n == 0 else (200, "ok")) as rc:
        r = admin.post(
            "/settings/webhooks",
            {"url": rc.url, "description": "ERP", "events": ["order.created", "order.paid"]},
        )
        assert r.status_code == 201, r.text
        secret = SECRET.search(r.text)
        assert secret and "data-copy" in r.text
        row = db.read(lambda c: c.execute(select(WebhookEndpoint)).one())
        assert row.events == ["order.created", "order.paid"] and row.secret == secret.group(1)
        listed = admin.get("/settings/webhooks").text
        assert rc.url in listed and "whsec_" not in listed  # shown once only

        # The shop's order was placed before the endpoint existed: an order placed now.
        capture.place_order(db, ADMIN, order_body(buyer=LIN))
        worker.drain(db)
        assert delivery.send_due(db)["pending"] == 1
        page = admin.get(f"/settings/webhooks/{row.id}").text
        number = db.read(lambda c: c.execute(select(WebhookDelivery.order_number)).scalar())
        assert "order.created" in page and number in page
        assert "500" in page and "down for maintenance" in page
        d = db.read(lambda c: c.execute(select(WebhookDelivery.id)).scalar_one())
        r = admin.post(f"/settings/webhooks/{row.id}/deliveries/{d}/replay")
        assert r.status_code == 303
        assert delivery.send_due(db)["delivered"] == 1
        page = admin.get(f"/settings/webhooks/{row.id}?status=delivered").text
        assert "down for maintenance" in page and "200" in page  # both attempts listed
        assert "order.created" not in admin.get(f"/settings/webhooks/{row.id}?status=dead").text

        r = admin.post(f"/settings/webhooks/{row.id}", {"do": "rotate"})
        assert r.status_code == 200 and SECRET.search(r.text).group(1) != secret.group(1)
        assert admin.post(f"/settings/webhooks/{row.id}", {"do": "disable"}).status_code == 303
        assert db.read(lambda c: c.execute(select(WebhookEndpoint.status)).scalar()) == "disabled"
        assert admin.post(f"/settings/webhooks/{row.id}", {"do": "enable"}).status_code == 303
        assert db.read(lambda c: c.execute(select(WebhookEndpoint.status)).scalar()) == "active"


def test_a_bad_endpoint_comes_back_with_the_errors_beside_the_fields(shop, browser, monkeypatch):
    monkeypatch.setenv("DINGDAN_WEBHOOK_ALLOW_PRIVATE", "false")
    get_settings.cache_clear()
    try:
        r = browser("manager").post(
            "/settings/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["order.created"]}
        )
        assert r.status_code == 422
        assert 'aria-invalid="true"' in r.text and "127.0.0.1" in r.text
        assert 'value="order.created" checked' in r.text  # what was chosen stays chosen
        r = browser("manager").post("/settings/webhooks", {"url": "https://example.com/h"})
        assert r.status_code == 422 and "field-error" in r.text
    finally:
        get_settings.cache_clear()


def test_the_webhooks_page_is_for_admins_and_managers_in_their_language(shop, browser):
    for role in ("customer_service", "warehouse", "finance", "viewer"):
        assert browser(role).get("/settings/webhooks").status_code == 403
    manager = browser("manager")
    for lang, words in (("zh-TW", "新增端點"), ("zh-CN", "新增端点"), ("en", "New endpoint")):
        html = manager.get("/settings/webhooks", headers={"Accept-Language": lang}).text
        assert words in html, lang
    assert manager.get("/settings/webhooks/999").status_code == 404
