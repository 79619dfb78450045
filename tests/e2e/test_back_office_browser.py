"""The back office in a real browser (Debian Chromium through Playwright) against a real
server: sign in, record a payment, build a pick list, pack with one wrong scan refused,
ship, and see the shipment on the tracking page; at 1366×768 and at 390×844.

Screenshots go to test-artifacts/ (gitignored). Never `playwright install`: the browser is
the one apt installed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.builders import Buyer, address, lines, order_body

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt install chromium)"
    ),
    pytest.mark.serial,  # a browser and a server: alone, after the parallel run
]


@contextmanager
def signed_in(
    server: Any, width: int, height: int, locale: str, problems: list[str]
) -> Iterator[Any]:
    """A Chromium page of that size and locale, signed in as the demo admin; console errors
    go to ``problems``; the browser is closed afterwards whatever happens."""
    from playwright.sync_api import sync_playwright

    base = server["url"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, locale=locale)
            page.on(
                "console",
                lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None,
            )
            page.goto(f"{base}/login")
            page.fill("#email", server["admin_email"])
            page.fill("#password", server["password"])
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_url(f"{base}/")
            yield page
        finally:
            browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(db_url: str) -> Iterator[dict[str, Any]]:
    import uvicorn

    from dingdan.app import create_app
    from dingdan.config import Settings
    from dingdan.db.engine import Database
    from dingdan.services import demo
    from dingdan.services.shared.common import SYSTEM

    db = Database(db_url)
    creds = demo.load(db, SYSTEM)
    app = create_app(Settings(database_url=db_url, run_worker=False), db=db)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "db": db, **creds}
    srv.should_exit = True
    thread.join(10)
    db.dispose()


def _new_order(db: Any) -> dict[str, Any]:
    from dingdan.services.orders import capture
    from dingdan.services.shared.common import SYSTEM

    order, _ = capture.place_order(
        db,
        SYSTEM,
        order_body(
            lines(("TEA-OOLONG-150", 2), ("CAKE-PINE-10", 1)),
            buyer=Buyer("e2e@example.com", "測試 顧客", "0911000111"),
            shipping_address=address(
                name="測試 顧客", line1="忠孝東路一段1號", postal_code="100", phone=None
            ),
        ),
    )
    return order


# Demo barcodes: "4710000" + the product's position in demo.PRODUCTS, from 1.
OOLONG, PINEAPPLE, NOT_IN_ORDER = "4710000000001", "4710000000004", "4710000000007"


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # caret="initial": hiding the caret would inject a <style>, which our CSP refuses.
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")
    if name.startswith("phone"):  # what the phone shows without scrolling, at full scale
        page.screenshot(path=str(ARTIFACTS / f"{name}-screen.png"), caret="initial")


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def _scan(page: Any, code: str) -> None:
    """Type a code and Enter, as a USB scanner does; wait until htmx swapped the panel."""
    page.fill("#code", code)
    with page.expect_response(lambda r: r.url.endswith("/scan")):
        page.press("#code", "Enter")
    # A locator assertion, not wait_for_function: evaluating a string is refused by our CSP.
    from playwright.sync_api import expect

    expect(page.locator("#code")).to_have_value("")


@pytest.mark.parametrize(
    ("label", "width", "height"), [("desktop", 1366, 768), ("phone", 390, 844)]
)
def test_a_day_in_the_back_office(server, label, width, height):
    from playwright.sync_api import expect, sync_playwright

    order = _new_order(server["db"])
    number, base = order["number"], server["url"]
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(
            viewport={"width": width, "height": height},
            locale="zh-TW",
            is_mobile=label == "phone",
            has_touch=label == "phone",
        )
        page.on(
            "console",
            lambda m: (
                problems.append(f"{page.url}: {m.text} {m.location}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        try:
            _flow(page, expect, base, number, server, label)
        finally:
            browser.close()
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []


def _flow(page: Any, expect: Any, base: str, number: str, server: Any, label: str) -> None:
    # Sign in (the browser asks for Traditional Chinese).
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/login")
    _shot(page, f"{label}-01-login")
    page.fill("#email", server["admin_email"])
    page.fill("#password", server["password"])
    page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(f"{base}/")
    expect(page.locator("h1")).to_contain_text("今天")
    assert _fits(page)
    _shot(page, f"{label}-02-dashboard")

    # Record the payment.
    page.goto(f"{base}/orders/{number}")
    expect(page.locator("#pay-amount")).to_have_value(server_total(server, number))
    page.click("#payment-form button[type=submit]")
    expect(page.locator(".flash.ok")).to_contain_text("已記錄付款")
    expect(page.locator(".badges")).to_contain_text("已付款")
    assert _fits(page)
    _shot(page, f"{label}-03-order-paid")

    # The pick list of the Taipei warehouse holds the order.
    page.goto(f"{base}/warehouse?location=TPE")
    expect(page.locator(".picklist")).to_contain_text("TEA-OOLONG-150")
    expect(page.locator(".picklist")).to_contain_text(number)
    assert _fits(page)
    _shot(page, f"{label}-04-pick-list")
    page.click("text=全部標記為已揀貨")
    expect(page.locator(".flash.ok")).to_contain_text("標記為揀貨完成")

    # Pack: a wrong scan is refused, then the right ones.
    page.goto(f"{base}/warehouse/pack/{number}?location=TPE")
    _scan(page, NOT_IN_ORDER)
    expect(page.locator(".scan-refused")).to_be_visible()
    _shot(page, f"{label}-05-pack-refused")
    for code in (OOLONG, OOLONG, PINEAPPLE):
        _scan(page, code)
    expect(page.locator("#pack-panel")).to_contain_text("所有商品都已掃描")
    assert _fits(page)
    _shot(page, f"{label}-06-pack-complete")
    page.click("#confirm-pack")
    expect(page.locator("#ship-form")).to_be_visible()

    # Ship with a carrier and a tracking number.
    tracking = f"HCT{number[-6:]}{'1' if label == 'desktop' else '2'}"
    page.select_option("#ship-carrier", "hct")
    page.fill("#ship-tracking", tracking)
    page.click("#ship-form button[type=submit]")
    expect(page.locator(".flash.ok")).to_contain_text("已建立出貨")
    expect(page.locator(".badges")).to_contain_text("已出貨")
    assert _fits(page)
    _shot(page, f"{label}-07-shipped")

    # The customer's tracking page shows the shipment and nothing private.
    page.click("a[href^='/track/']")
    expect(page.locator(".track")).to_contain_text(tracking)
    expect(page.locator(".track")).to_contain_text("新竹物流")
    html = page.content()
    assert "e2e@example.com" not in html and "0911000111" not in html
    assert "忠孝東路" not in html
    assert _fits(page)
    _shot(page, f"{label}-08-tracking")


def server_total(server: Any, number: str) -> str:
    from dingdan.services.orders import queries

    return str(queries.get_order(server["db"], number)["balance_due"])


PAGES = [
    "/",
    "/orders",
    "/warehouse",
    "/inventory",
    "/inventory/TEA-OOLONG-150",
    "/products",
    "/products/TEA-OOLONG-150",
    "/customers",
    "/customers/1",
    "/audit",
    "/settings",
    "/settings/users",
    "/account",
]


@pytest.mark.parametrize(
    ("label", "width", "height", "locale"),
    [("phone", 390, 844, "zh-CN"), ("desktop", 1366, 768, "en-US")],
)
def test_every_page_fits_the_screen_without_script_errors(server, label, width, height, locale):
    base = server["url"]
    problems: list[str] = []
    with signed_in(server, width, height, locale, problems) as page:
        order = page.locator("a[href^='/orders/DD']").first
        for path in PAGES:
            page.goto(base + path)
            assert page.locator("h1").count() >= 1, path
            _shot(page, f"pages-{label}{path.replace('/', '-') if path != '/' else '-home'}")
            assert _fits(page), f"{path} is wider than {width}px"
        page.goto(base + "/orders")
        order = page.locator("a[href^='/orders/DD']").first
        order.click()
        assert _fits(page)
        _shot(page, f"pages-{label}-order")
        if label == "phone":
            page.click("label.navbutton")
            _shot(page, f"pages-{label}-menu-open")
    assert problems == []
