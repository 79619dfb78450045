"""The risk review queue, its actions and Settings → Risk in the back office."""

from __future__ import annotations

from dingdan.domain.orders.risk import DEFAULT_RULES
from dingdan.services.fulfilment import picking
from dingdan.services.orders import capture, queries
from dingdan.services.orders import risk as order_risk
from tests.builders import ADMIN, Buyer, order_body

SHADY = Buyer("shady@mailinator.com", "陳先生", "+886912000555")


def held(db, buyer: Buyer = SHADY) -> str:
    order_risk.add_block(db, ADMIN, {"kind": "email", "value": buyer.email})
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=buyer, payment_method="cod"))
    assert order["hold"] == "risk_review"
    return str(order["number"])


def test_the_queue_shows_held_orders_with_reasons_and_a_count_in_the_menu(shop, browser, db):
    number = held(db)
    admin = browser("admin")
    page = admin.get("/risk")
    assert page.status_code == 200
    assert f'id="review-{number}"' in page.text
    assert "On the block list" in page.text and "shady@mailinator.com" in page.text
    assert 'href="/risk"' in admin.get("/").text
    badge = admin.get("/risk/badge")
    assert 'id="risk-count"' in badge.text and ">1<" in badge.text


def test_the_queue_in_traditional_chinese(shop, browser, db):
    held(db)
    page = browser("manager").get("/risk", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200
    assert "風險審核" in page.text and "在黑名單上" in page.text
    settings = browser("admin").get("/settings/risk", headers={"Accept-Language": "zh-TW"})
    assert settings.status_code == 200 and "風險評分" in settings.text


def test_approving_from_the_queue_makes_the_order_pickable(shop, browser, db):
    number = held(db)
    r = browser("manager").post(f"/risk/{number}/approve", {"note": "called"})
    assert r.status_code == 303
    assert queries.get_order(db, number)["hold"] is None
    assert number in picking.pick_list(db, "TPE")["orders"]


def test_cancel_and_block_in_one_step(shop, browser, db):
    number = held(db)
    r = browser("admin").post(
        f"/risk/{number}/cancel", {"reason": "fraud", "block_phone": "1", "block_address": "1"}
    )
    assert r.status_code == 303
    assert queries.get_order(db, number)["status"] == "cancelled"
    kinds = sorted(b["kind"] for b in order_risk.list_blocks(db))
    assert kinds == ["address", "email", "phone"]  # the email was listed already
    # The next order to the same address by someone else is held.
    other = Buyer("new@example.com", "林小姐", "+886912000666")
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=other))
    assert order["hold"] == "risk_review"


def test_the_block_list_on_the_page(shop, browser, db):
    admin = browser("admin")
    r = admin.post("/risk/blocklist", {"kind": "phone", "value": "+886 912 000 777"})
    assert r.status_code == 303
    [entry] = order_risk.list_blocks(db)
    assert "+886 912 000 777" in admin.get("/risk").text
    bad = admin.post("/risk/blocklist", {"kind": "phone", "value": "nope"})
    assert bad.status_code == 422
    assert admin.post(f"/risk/blocklist/{entry['id']}/delete").status_code == 303
    assert order_risk.list_blocks(db) == []
    assert admin.post("/risk/blocklist/²/delete").status_code in (303, 404, 409)


def test_only_reviewers_see_the_queue(shop, browser, db):
    for role in ("warehouse", "customer_service", "viewer", "finance"):
        b = browser(role)
        assert b.get("/risk").status_code == 403
        assert 'href="/risk"' not in b.get("/").text
        assert b.post(f"/risk/{held_number(db)}/approve").status_code == 403


def held_number(db) -> str:
    rows = order_risk.review_queue(db)
    return rows[0]["number"] if rows else held(db)


def test_settings_page_saves_and_refuses_beside_the_field(shop, browser, db):
    admin = browser("admin")
    page = admin.get("/settings/risk")
    assert page.status_code == 200 and 'id="risk-form"' in page.text
    form = {"enabled": "1", "window_hours": "12", "medium": "30", "high": "70"}
    # What the browser sends: every rule's fields, ticked but for velocity_ip.
    rules = {**DEFAULT_RULES, "velocity_email": (40, 2), "cod_refusals": (50, 1)}
    for name, (points, limit) in rules.items():
        form[f"rules.{name}.points"] = str(points)
        if limit is not None:
            form[f"rules.{name}.limit"] = str(limit)
        if name != "velocity_ip":
            form[f"rules.{name}.enabled"] = "1"
    r = admin.post("/settings/risk", form)
    assert r.status_code == 303, r.text
    saved = order_risk.get_settings(db)
    assert (saved["window_hours"], saved["high"]) == (12, 70)
    assert saved["rules"]["velocity_email"] == {"points": 40, "limit": 2, "enabled": True}
    assert saved["rules"]["velocity_ip"]["enabled"] is False  # its box was not ticked
    bad = admin.post("/settings/risk", {**form, "high": "²"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert order_risk.get_settings(db)["high"] == 70
    assert browser("warehouse").get("/settings/risk").status_code == 403
