"""The notifications page (newest first, unread marked, mark read), the navigation's badge,
the preferences on /account, and the API (a token's list is empty: tokens have no user)."""

from __future__ import annotations

from typing import Any

from dingdan.db.engine import Database
from dingdan.services.jobs import worker
from dingdan.services.messaging import notifications
from dingdan.services.orders import capture
from tests.builders import ADMIN, WANG, order_body


def test_list_badge_mark_read_and_zh_hant(db: Database, shop: dict[str, Any], browser: Any) -> None:
    second, _ = capture.place_order(db, ADMIN, order_body(buyer=WANG))
    worker.drain(db)
    manager = browser("manager")
    page = manager.get("/notifications").text
    first_number, second_number = shop["order"]["number"], second["number"]
    assert page.index(second_number) < page.index(first_number)  # newest first
    assert f'href="/orders/{second_number}"' in page
    assert page.count('class="unread"') == 2
    assert 'hx-get="/notifications/badge"' in manager.get("/").text
    assert ">2</span>" in manager.get("/notifications/badge").text

    assert manager.post("/notifications/read", {"id": "9" * 40}).status_code == 303
    assert manager.get("/notifications?unread=x").status_code in (200, 422)
    r = manager.post("/notifications/read", {"all": "1"})
    assert r.status_code == 303
    assert "badge" not in manager.get("/notifications/badge").text
    assert 'class="unread"' not in manager.get("/notifications").text

    # The warehouse hears of no new order by default.
    assert "No notifications." in browser("warehouse").get("/notifications").text

    # In Traditional Chinese.
    manager.post("/language", {"language": "zh_Hant", "next": "/notifications"})
    page = manager.get("/notifications").text
    assert f"新訂單 {second_number}" in page and "全部標為已讀" not in page
    assert "通知" in page


def test_preferences_on_account_page(db: Database, shop: dict[str, Any], browser: Any) -> None:
    warehouse = browser("warehouse")
    assert 'hx-get="/account/notifications"' in warehouse.get("/account").text
    fragment = warehouse.get("/account/notifications", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment
    assert 'name="in_app:low_stock" value="1"' in fragment and "checked" in fragment
    r = warehouse.post("/account/notifications", {"in_app:new_order": "1", "email:new_order": "1"})
    assert r.status_code == 303
    prefs = {p["kind"]: p for p in notifications.preferences(db, 0, "warehouse")}
    assert prefs["low_stock"]["in_app"]  # user 0: the role's default, untouched
    capture.place_order(db, ADMIN, order_body(buyer=WANG))
    worker.drain(db)
    page = warehouse.get("/notifications").text
    assert "New order" in page


def test_api_token_has_no_user(api: Any, shop: dict[str, Any]) -> None:
    worker.drain(api.db)
    r = api.get("/api/v1/notifications?unread=true", role="manager")
    assert r.status_code == 200
    assert r.json() == {"user": False, "unread": 0, "items": []}
    r = api.post("/api/v1/notifications/read", json={"all": True}, role="manager")
    assert r.status_code == 200 and r.json() == {"marked": 0}
    r = api.post("/api/v1/notifications/read", json={"ids": "x"}, role="manager")
    assert r.status_code == 422
    r = api.post("/api/v1/notifications/read", json={"ids": [2**70]}, role="manager")
    assert r.status_code == 422
