"""The pack screen sounds: a refused scan and a good one each play a tone, made in the
browser with Web Audio, and they differ. AudioContext is replaced by a recorder before the
page loads (headless Chromium has no speakers to listen to)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_back_office_browser import (
    ARGS,
    CHROMIUM,
    NOT_IN_ORDER,
    OOLONG,
    _new_order,
    _scan,
    server,  # noqa: F401 - the fixture
)

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt install chromium)"
    ),
    pytest.mark.serial,
]

RECORDER = """
window.__tones = [];
function FakeAudioContext() {
  this.currentTime = 0; this.state = "running"; this.destination = {};
}
FakeAudioContext.prototype.createOscillator = function () {
  var o = {type: "sine", frequency: {value: 440, setValueAtTime: function (v) { this.value = v; }},
           connect: function () {}, stop: function () {},
           start: function () { window.__tones.push({freq: o.frequency.value, type: o.type}); }};
  return o;
};
FakeAudioContext.prototype.createGain = function () {
  return {gain: {setValueAtTime: function () {}, exponentialRampToValueAtTime: function () {}},
          connect: function () {}};
};
FakeAudioContext.prototype.resume = function () { return Promise.resolve(); };
window.AudioContext = FakeAudioContext;
window.webkitAudioContext = FakeAudioContext;
"""


def _ready_to_pack(db: Any) -> str:
    from dingdan.services.fulfilment import picking
    from dingdan.services.payments import transactions
    from dingdan.services.shared.common import SYSTEM

    order = _new_order(db)
    transactions.record_payment(db, SYSTEM, order["number"], {"amount": order["total"]})
    picking.mark_picked(db, SYSTEM, "TPE", [order["number"]])
    return str(order["number"])


def test_a_refused_scan_and_a_good_one_play_different_tones(server):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    number, base = _ready_to_pack(server["db"]), server["url"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(locale="zh-TW")
            page.add_init_script(RECORDER)
            page.goto(f"{base}/login")
            page.fill("#email", server["admin_email"])
            page.fill("#password", server["password"])
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/warehouse/pack/{number}?location=TPE")
            assert page.evaluate("window.__tones") == []  # nothing scanned, nothing heard
            _scan(page, NOT_IN_ORDER)
            # Sounded once htmx settled the answer (app.js marks it data-played).
            expect(page.locator(".scan-refused[data-played]")).to_have_count(1)
            refused = page.evaluate("window.__tones")
            _scan(page, OOLONG)
            expect(page.locator("#pack-panel .flash.ok[data-played]")).to_have_count(1)
            both = page.evaluate("window.__tones")
        finally:
            browser.close()
    assert len(refused) == 1 and len(both) == 2
    error, ok = both
    assert error["freq"] != ok["freq"] and error["freq"] < ok["freq"]
