"""Settings → Customer messages: the shop's details, a message's wording edited with the
errors beside the field, previewed with a real order in a sandboxed frame, reset, test
sent; the log, and an order's messages on its page."""

from __future__ import annotations

from dingdan.services.jobs import worker


def test_a_bad_template_is_refused_beside_its_field_and_a_good_one_previewed_and_saved(
    shop, browser
):
    number = shop["order"]["number"]
    manager = browser("manager")
    page = manager.get("/settings/messages", headers={"Accept-Language": "zh-TW"}).text
    assert 'href="/settings/messages/shipped/en"' in page
    url = "/settings/messages/order_confirmation/en"
    assert "{{ order.number }}" in manager.get(url).text
    r = manager.post(
        url, {"subject": "{{ ''.__class__ }}", "text": "x", "html": "x", "action": "save"}
    )
    assert r.status_code == 400
    assert 'id="t-subject-error"' in r.text and "may not use" in r.text
    r = manager.post(
        url,
        {
            "subject": "Hi {{ order.number }}",
            "text": "t",
            "html": "<b>h</b>",
            "order": number,
            "action": "preview",
        },
    )
    assert r.status_code == 200 and f"Preview: Hi {number}" in r.text
    assert 'sandbox=""' in r.text and "&lt;b&gt;h&lt;/b&gt;" in r.text  # srcdoc, escaped
    r = manager.post(
        url, {"subject": "Hi {{ order.number }}", "text": "t", "html": "<b>h</b>", "action": "save"}
    )
    assert r.status_code == 303
    assert "Reset to the default wording" in manager.get(url).text
    assert manager.post(url + "/reset").status_code == 303
    assert "Reset to the default wording" not in manager.get(url).text
    r = manager.post(url + "/test", {"to": "not an address"})
    assert r.status_code == 400 and 'id="test-to-error"' in r.text
    assert manager.post(url + "/test", {"to": "me@example.com"}).status_code == 303


def test_the_shop_details_are_saved_and_an_orders_messages_are_on_its_page(shop, browser, db):
    manager = browser("manager")
    r = manager.post("/settings/messages/shop", {"name": "茶舖", "logo_url": "ftp://x"})
    assert r.status_code == 400 and 'id="shop-logo_url-error"' in r.text
    assert manager.post("/settings/messages/shop", {"name": "茶舖"}).status_code == 303
    worker.run_frequent(db)  # no mail server: kept, not sent
    number = shop["order"]["number"]
    assert f'hx-get="/orders/{number}/messages"' in manager.get(f"/orders/{number}").text
    panel = manager.get(f"/orders/{number}/messages", headers={"HX-Request": "true"}).text
    assert f"訂單 {number} 已成立" in panel and "Not sent: no mail server set" in panel
    assert "Send again" in panel
    assert "茶舖" in manager.get("/settings/messages").text


def test_the_messages_settings_are_for_those_who_manage_settings(shop, browser):
    assert browser("admin").get("/settings/messages").status_code == 200
    for role in ("warehouse", "viewer", "customer_service"):
        assert browser(role).get("/settings/messages").status_code == 403
