"""A cycle count on a phone (390 px, Traditional Chinese): the sheet made for a location, a
unit scanned into the count field, a line's quantity typed, the printable sheet, posted;
every page within the width and without script errors."""

from __future__ import annotations

import re

import pytest

from tests.e2e import test_back_office_browser as office
from tests.e2e.test_back_office_browser import CHROMIUM, _fits, _shot

server = office.server

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing"),
    pytest.mark.serial,
]


def test_a_count_on_a_phone(server):
    from playwright.sync_api import expect

    problems: list[str] = []
    with office.signed_in(server, 390, 844, "zh-TW", problems) as page:
        base = server["url"]
        page.goto(base + "/cycle-counts")
        assert _fits(page)
        page.click("#make-sheet")
        expect(page).to_have_url(re.compile(r".*/cycle-counts/[0-9]+$"))
        expect(page.locator("#code")).to_be_focused()
        _shot(page, "phone-cycle-count")
        assert _fits(page)
        first = page.locator(".count-lines tbody tr").first
        sku = first.locator("td").first.locator("a").inner_text()
        page.fill("#code", sku)
        page.press("#code", "Enter")
        expect(page.locator(".flash.ok")).to_contain_text(sku)
        expect(first.locator("input[name=counted]")).to_have_value("1")
        assert _fits(page)
        url = page.url
        page.goto(url + "/print")
        expect(page.locator("h1")).to_contain_text("盤點單")
        assert _fits(page)
        page.goto(url)
        page.click("#post-count")
        expect(page.locator(".flash")).to_be_visible()
        assert _fits(page)
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
