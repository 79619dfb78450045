"""Store and point-of-sale orders come first in the pick queue (a priority per channel, set on
the channel); orders of one priority stay oldest first, and allocation is untouched."""

from __future__ import annotations

from tests.builders import Shop, lines, order_body, pay, post_order

stocked = Shop(
    products={"TEA-001": {"price": "350.00"}},
    locations={"TPE": 0},
    stock={"TPE": {"TEA-001": 50}},
).fixture()


def placed(api, channel):
    o = post_order(api, order_body(lines(("TEA-001", 1)), channel=channel))
    pay(api, o)
    return o["number"]


def queue(api):
    return api.get("/api/v1/locations/TPE/pick-list").json()["orders"]


def test_store_and_pos_orders_are_picked_before_older_web_orders(api, stocked):
    r = api.post("/api/v1/channels", json={"code": "pos", "name": "POS"})
    assert r.status_code == 201, r.text
    assert r.json()["pick_priority"] == 0
    web1, web2 = placed(api, "web"), placed(api, "web")
    store = placed(api, "store")
    pos = placed(api, "pos")
    phone = placed(api, "phone")
    assert queue(api) == [store, pos, web1, web2, phone]
    channels = {c["code"]: c["pick_priority"] for c in api.get("/api/v1/channels").json()["items"]}
    assert channels["store"] == 0 and channels["web"] == 10 and channels["pos"] == 0


def test_a_channels_priority_is_a_setting(api, stocked):
    web, store = placed(api, "web"), placed(api, "store")
    phone = placed(api, "phone")
    r = api.patch("/api/v1/channels/phone", json={"pick_priority": 1})
    assert r.status_code == 200, r.text
    assert r.json()["pick_priority"] == 1 and r.json()["name"] == "Phone"
    assert queue(api) == [store, phone, web]
    bad = api.patch("/api/v1/channels/phone", json={"pick_priority": 100})
    assert bad.status_code == 422
    assert (
        api.patch("/api/v1/channels/phone", json={"pick_priority": 5}, role="warehouse").status_code
        == 403
    )
    # null: back to the default
    assert (
        api.patch("/api/v1/channels/phone", json={"pick_priority": None}).json()["pick_priority"]
        == 10
    )
    assert queue(api) == [store, web, phone]
    assert api.get("/api/v1/locations/TPE/pick-list?limit=1").json()["orders"] == [store]


def test_the_channel_settings_page_sets_the_pick_priority(api, stocked, client):
    from dingdan.services.access import accounts
    from tests.builders import ADMIN
    from tests.pages.conftest import PASSWORD, Browser

    accounts.create_user(api.db, ADMIN, email="boss@example.com", role="manager", password=PASSWORD)
    b = Browser(client)
    assert b.sign_in("boss@example.com").status_code == 303
    form = {"do": "rename", "name": "Phone", "pick_priority": "3"}
    assert b.post("/settings/channels/phone", form).status_code == 303
    assert api.get("/api/v1/channels").json()["items"][2]["pick_priority"] == 3
    refused = b.post("/settings/channels/phone", form | {"pick_priority": "²"})
    assert refused.status_code == 422
    assert b.post("/settings/channels/phone", form | {"pick_priority": ""}).status_code == 303
    assert api.get("/api/v1/channels").json()["items"][2]["pick_priority"] == 10
