"""Live pages in a real browser (Debian Chromium): two screens, one on the dashboard and one
on the order list; an order placed through the API shows on both without a reload, through
the real worker loop (outbox → live_changes) and the /live stream. When the server goes away
each screen says so and offers the refresh."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.builders import Buyer, address, lines, order_body
from tests.e2e.test_back_office_browser import ARGS, CHROMIUM, _free_port

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt install chromium)"
    ),
    pytest.mark.serial,
]


@pytest.fixture
def live_server(db_url: str) -> Iterator[dict[str, Any]]:
    """The app as ``dingdan serve`` runs it (its HTTP protocol) with the worker's outbox loop
    at its usual pace; the slower rounds (reminders, forecasts) are left out."""
    import uvicorn

    from dingdan.app import create_app
    from dingdan.cli.serving import HTTP_PROTOCOL
    from dingdan.config import Settings
    from dingdan.db.engine import Database
    from dingdan.services import demo
    from dingdan.services.access import accounts
    from dingdan.services.jobs.worker import WorkerThread, run_frequent
    from dingdan.services.shared.common import SYSTEM

    db = Database(db_url)
    creds = demo.load(db, SYSTEM)
    token, _ = accounts.create_token(db, SYSTEM, "shop-front", "admin")
    run_frequent(db)  # the demo's own events, before any screen opens
    app = create_app(Settings(database_url=db_url, run_worker=False), db=db)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", http=HTTP_PROTOCOL)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    loop = WorkerThread(db, 72, interval=24 * 3600, outbox_interval=1.0)
    loop.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "server": server, "token": token, **creds}
    loop.stop()
    server.should_exit = True
    thread.join(10)
    db.dispose()


def _screen(browser: Any, server: dict[str, Any], path: str, problems: list[str]) -> Any:
    """A browser context of its own (another device), signed in, on ``path``."""
    base = server["url"]
    page = browser.new_context(locale="zh-TW").new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/login")
    page.fill("#email", server["admin_email"])
    page.fill("#password", server["password"])
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/")
    if path != "/":
        page.goto(f"{base}{path}")
    page.evaluate("window.__sameDocument = true")  # gone if the page ever reloads
    return page


def test_an_order_from_the_api_shows_on_other_screens_without_a_reload(live_server):
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            dashboard = _screen(browser, live_server, "/", problems)
            orders = _screen(browser, live_server, "/orders", problems)
            for page in (dashboard, orders):
                expect(page.locator("#live[data-state=on] .live-on")).to_be_visible()
            today = dashboard.locator("#orders-today .tile-value")
            before = int(today.inner_text().replace(",", ""))

            answer = httpx.post(
                f"{live_server['url']}/api/v1/orders",
                headers={"Authorization": f"Bearer {live_server['token']}"},
                json=order_body(
                    lines(("TEA-OOLONG-150", 1)),
                    buyer=Buyer("live@example.com", "即時 顧客", "0911000222"),
                    shipping_address=address(
                        name="即時 顧客", line1="忠孝東路一段1號", postal_code="100", phone=None
                    ),
                ),
                timeout=30,
            )
            assert answer.status_code == 201, answer.text
            number = answer.json()["number"]

            expect(today).to_have_text(str(before + 1))
            expect(orders.locator("#results")).to_contain_text(number)
            for page in (dashboard, orders):
                assert page.evaluate("window.__sameDocument") is True
            assert problems == []

            # The server goes away: the screens say so and offer the refresh.
            live_server["server"].should_exit = True
            for page in (dashboard, orders):
                expect(page.locator("#live[data-state=off] .live-off")).to_be_visible()
        finally:
            browser.close()
