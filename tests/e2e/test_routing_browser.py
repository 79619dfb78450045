"""Routing in a real browser at 390×844: the settings page's regions of a location, and the
order page's allocation panel moving an order to another location; nothing wider than the
screen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_back_office_browser import (  # noqa: F401 - the fixture
    ARGS,
    CHROMIUM,
    _fits,
    _new_order,
    _shot,
    server,
    signed_in,
)

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt install chromium)"
    ),
    pytest.mark.serial,
]


def test_regions_and_a_move_on_a_phone(server: Any) -> None:  # noqa: F811
    from dingdan.services.inventory import locations

    db = server["db"]
    codes = [loc["code"] for loc in locations.list_locations(db, limit=10).items]
    order = _new_order(db)
    problems: list[str] = []
    with signed_in(server, 390, 844, "zh-TW", problems) as page:
        page.goto(f"{server['url']}/settings")
        first = codes[0]
        page.fill(f"#regions-{first}", "TW-TPE, TW-NWT")
        page.click(f"#regions-{first}-form button[type=submit]")
        page.wait_for_url(f"{server['url']}/settings")
        assert locations.get_location(db, first)["regions"] == ["TW-TPE", "TW-NWT"]
        assert _fits(page)
        _shot(page, "phone-routing-settings")
        page.goto(f"{server['url']}/orders/{order['number']}")
        page.click("#move-allocation summary")
        here = order["allocations"][0]["location"]
        other = next(c for c in codes if c != here)
        page.select_option("#move-from", here)
        page.select_option("#move-to", other)
        page.click("#move-form button[type=submit]")
        page.wait_for_load_state()
        assert _fits(page)
        _shot(page, "phone-routing-order")
    assert problems == []
