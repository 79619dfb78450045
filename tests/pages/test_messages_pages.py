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


def test_the_delivered_message_links_to_a_rating_given_once_and_shown_on_the_order(
    shop, browser, db
):
    import re

    from sqlalchemy import select

    from dingdan.db.message_tables import Message
    from dingdan.services.fulfilment import shipments
    from dingdan.services.payments import transactions
    from tests.builders import ADMIN

    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": shop["order"]["total"]})
    shipped = shipments.create_shipment(db, ADMIN, number, {"carrier": "tcat"})
    shipments.mark_delivered(db, ADMIN, shipped["id"])
    worker.run_frequent(db)
    html = db.read(
        lambda c: c.execute(
            select(Message.html_body).where(Message.kind == "delivered")
        ).scalar_one()
    )
    links = re.findall(r'href="(http[^"]+/rating\?sig=[0-9a-f]+(?:&amp;|&)score=(\d))"', html)
    assert [s for _, s in links] == ["1", "2", "3", "4", "5"]
    path = "/" + links[3][0].replace("&amp;", "&").split("/", 3)[3]

    customer = browser()
    page = customer.get(path)
    assert page.status_code == 200 and 'value="4" required checked' in page.text
    from tests.pages.conftest import csrf_of

    customer.csrf = csrf_of(page.text)
    assert "訂單" in page.text  # the order's language (shipped to TW)
    forged = path.replace("sig=", "sig=0")
    assert customer.get(forged).status_code == 404
    r = customer.client.post(path.split("?")[0], data={"csrf_token": "x", "rating": "4"})
    assert r.status_code == 403
    r = customer.post(
        path.split("?")[0], {"sig": path.split("sig=")[1].split("&")[0], "rating": "9"}
    )
    assert r.status_code == 422 and 'id="rating-error"' in r.text
    sig = path.split("sig=")[1].split("&")[0]
    r = customer.post(path.split("?")[0], {"sig": sig, "rating": "4", "comment": "很快，謝謝"})
    assert r.status_code == 303
    again = customer.post(path.split("?")[0], {"sig": sig, "rating": "1"})
    assert again.status_code == 409
    panel = browser("manager").get(f"/orders/{number}/messages").text
    assert "4/5" in panel and "很快，謝謝" in panel
    # The rating reaches the KPIs' rollups through its event (order.rated).
    from dingdan.services.reports import kpis

    assert kpis.kpis(db)["ratings"] == 0
    worker.drain(db)
    k = kpis.kpis(db)
    assert (k["ratings"], k["csat"], k["average_rating"]) == (1, 1.0, 4.0)


def test_the_line_and_sms_providers_are_set_up_from_the_page_secrets_not_shown(shop, browser):
    manager = browser("manager")
    form = {
        "line-channel_access_token": "line-secret",
        "sms-account_sid": "AC123",
        "sms-auth_token": "twilio-secret",
        "sms-from_number": "+15005550006",
    }
    assert manager.post("/settings/messages/providers", form).status_code == 303
    page = manager.get("/settings/messages").text
    assert "line-secret" not in page and "twilio-secret" not in page and "AC123" in page
    kept = {**form, "line-channel_access_token": "••••", "sms-auth_token": "••••"}
    assert manager.post("/settings/messages/providers", kept).status_code == 303
    from dingdan.services.messaging import channels

    db = manager.client.app.state.db
    saved = db.read(channels.load)
    assert saved["line"]["channel_access_token"] == "line-secret"
    assert saved["sms"]["auth_token"] == "twilio-secret"


def test_the_customer_page_sets_the_channel_the_customer_agreed_to(shop, browser):
    cid = shop["order"]["customer"]["id"]
    cs = browser("customer_service")
    assert f'hx-get="/customers/{cid}/message-channel"' in cs.get(f"/customers/{cid}").text
    r = cs.post(f"/customers/{cid}/message-channel", {"channel": "line", "line_user_id": "x"})
    assert r.status_code == 400 and 'id="mc-line-error"' in r.text
    line = "U" + "a" * 32
    r = cs.post(f"/customers/{cid}/message-channel", {"channel": "line", "line_user_id": line})
    assert r.status_code == 303
    assert line in cs.get(f"/customers/{cid}/message-channel").text
    viewer = browser("viewer").get(f"/customers/{cid}/message-channel").text
    assert "LINE" in viewer and line not in viewer and 'id="channel-form"' not in viewer


def test_the_tracking_page_offers_the_rating_once_delivered_and_then_shows_it(shop, browser, db):
    import re

    from dingdan.services.fulfilment import shipments
    from dingdan.services.payments import transactions
    from tests.builders import ADMIN
    from tests.pages.conftest import csrf_of

    order = shop["order"]
    url = f"/track/{order['tracking_token']}"
    customer = browser()
    zh = {"Accept-Language": "zh-TW"}
    transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    shipped = shipments.create_shipment(db, ADMIN, order["number"], {"carrier": "tcat"})
    assert 'id="rating"' not in customer.get(url, headers=zh).text  # not before delivery
    shipments.mark_delivered(db, ADMIN, shipped["id"])
    page = customer.get(url, headers=zh).text
    assert "這次購物還滿意嗎？" in page
    links = re.findall(r'href="(/track/[^"]+/rating\?sig=[0-9a-f]+&amp;score=(\d))"', page)
    assert [s for _, s in links] == ["1", "2", "3", "4", "5"]
    path = links[4][0].replace("&amp;", "&")
    rating = customer.get(path, headers=zh)
    assert rating.status_code == 200 and 'value="5" required checked' in rating.text
    customer.csrf = csrf_of(rating.text)
    sig = path.split("sig=")[1].split("&")[0]
    assert customer.post(path.split("?")[0], {"sig": sig, "rating": "5"}).status_code == 303
    after = customer.get(url, headers=zh).text
    assert "5" in re.search(r'id="rating">(.*?)</section>', after, re.S).group(1)
    assert "score=" not in after  # rated once: no more score links
