"""The webhooks page in a real browser at phone width: an endpoint added with checkboxes,
its secret shown once and copied, and its deliveries with their attempts, all within 390 px
and without script errors."""

from __future__ import annotations

import re

import pytest

from tests.e2e import test_back_office_browser as office
from tests.e2e.test_back_office_browser import CHROMIUM, _fits, _new_order, _shot

server = office.server

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing"),
    pytest.mark.serial,
]


def test_the_webhooks_pages_fit_a_phone(server, monkeypatch):
    from playwright.sync_api import expect

    from dingdan.config import get_settings
    from dingdan.services.integrations import delivery
    from dingdan.services.jobs import worker

    monkeypatch.setenv("DINGDAN_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    problems: list[str] = []
    db = server["db"]
    worker.drain(db)  # the demo's events came before any endpoint
    try:
        with office.signed_in(server, 390, 844, "zh-TW", problems) as page:
            page.goto(server["url"] + "/settings/webhooks")
            page.fill("#wh-url", "http://127.0.0.1:9/hooks/a-rather-long-path/for-the-erp")
            page.check("input[name=events][value='order.created']")
            page.check("input[name=events][value='order.paid']")
            page.click("#webhook-form button[type=submit]")
            expect(page.locator("#new-secret")).to_have_value(re.compile(r"^whsec_"))
            assert _fits(page), "the secret box is wider than 390px"
            _shot(page, "phone-webhooks-secret")

            _new_order(db)
            worker.drain(db)
            delivery.send_due(db)  # nothing listens on port 9: a failed attempt is logged
            page.click("#webhook-secret ~ section a.button")  # the endpoint's deliveries
            expect(page.locator("table.rows tbody tr")).to_have_count(1)
            page.click("table.rows summary")
            expect(page.locator("table.rows ol li")).to_have_count(1)
            assert _fits(page), "the deliveries are wider than 390px"
            _shot(page, "phone-webhooks-deliveries")
            page.click("table.rows button[type=submit]")  # replay
            expect(page.locator(".flash.ok")).to_be_visible()
    finally:
        get_settings.cache_clear()
    assert problems == []
