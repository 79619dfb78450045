"""The returns pages in a real browser at phone and desktop width: the queue, a return with
the receive screen, and the order page's request form fit the screen without script errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import test_back_office_browser as office
from tests.e2e.test_back_office_browser import CHROMIUM, _fits, _new_order, _shot

server = office.server  # the same fixture: a demo shop behind a real server

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing"),
    pytest.mark.serial,  # a browser and a server: alone, after the parallel run
]


def _approved_return(db: Any) -> tuple[str, str]:
    from dingdan.services.after_sales import returns
    from dingdan.services.fulfilment import shipments
    from dingdan.services.orders import queries
    from dingdan.services.payments import transactions
    from dingdan.services.shared.common import SYSTEM

    number = _new_order(db)["number"]
    due = queries.get_order(db, number)["balance_due"]
    transactions.record_payment(db, SYSTEM, number, {"amount": due})
    for loc in {a["location"] for a in queries.get_order(db, number)["allocations"]}:
        shipments.create_shipment(db, SYSTEM, number, {"carrier": "hct", "location": loc})
    body = {
        "lines": [
            {"sku": "TEA-OOLONG-150", "quantity": 1, "reason": "not_as_described"},
            {"sku": "CAKE-PINE-10", "quantity": 1, "reason": "damaged"},
        ]
    }
    rid = returns.request_return(db, SYSTEM, number, body)["id"]
    returns.approve_return(db, SYSTEM, rid)
    return number, rid


@pytest.mark.parametrize(
    ("label", "width", "height", "locale"),
    [("phone", 390, 844, "zh-TW"), ("desktop", 1366, 768, "zh-CN")],
)
def test_the_returns_pages_fit_the_screen(server, label, width, height, locale):
    from playwright.sync_api import expect

    number, rid = _approved_return(server["db"])
    base = server["url"]
    problems: list[str] = []
    with office.signed_in(server, width, height, locale, problems) as page:
        for path, name in [
            ("/returns", "queue"),
            (f"/returns/{rid}", "return"),
            (f"/orders/{number}#returns", "order-returns"),
        ]:
            page.goto(base + path)
            assert _fits(page), f"{path} is wider than {width}px"
            _shot(page, f"returns-{label}-{name}")
        page.goto(f"{base}/returns/{rid}")
        page.fill("#resellable-1", "0")
        page.fill("#damaged-1", "1")
        page.click("#receive-form button[type=submit]")
        expect(page.locator(".flash.ok")).to_be_visible()
        expect(page.locator("#return-refund-form")).to_be_visible()
        assert _fits(page)
        _shot(page, f"returns-{label}-received")
        from dingdan.services.reports import return_rates

        returned = return_rates.return_rates(server["db"])["returned"]
        assert returned >= 2  # this return's two units (the demo may hold others)
        page.goto(f"{base}/reports/returns")
        expect(page.locator(".tile-value").nth(1)).to_have_text(str(returned))
        assert _fits(page)
        _shot(page, f"returns-{label}-report")
        page.goto(f"{base}/orders/{number}")
        assert _fits(page)
        _shot(page, f"returns-{label}-order-after")
    assert problems == []
