"""Settings → Sales channels: each channel's buffer and SKU subset, set on the page as the
API sets them, refused beside the field (issue 21, part 7)."""

from __future__ import annotations

from dingdan.services.catalog import channel_stock


def test_a_channels_buffer_and_skus_are_set_on_the_channels_page(shop, browser, db):
    del shop
    b = browser("manager")
    page = b.get("/settings/channels").text
    assert 'action="/settings/channels/web/stock"' in page
    r = b.post(
        "/settings/channels/web/stock",
        {"buffer": "20", "buffer_kind": "percent", "skus": "TEA-001, MUG-001", "locations": ""},
    )
    assert r.status_code == 303, r.text
    assert channel_stock.get_rule(db, "web") | {"updated_at": None} == {
        "channel": "web",
        "buffer_kind": "percent",
        "buffer": 20,
        "skus": ["MUG-001", "TEA-001"],
        "locations": None,
        "updated_at": None,
    }
    numbers = channel_stock.channel_stock(db, "web")["items"]
    # TEA-001: 20 less the 2 of the shop's order = 18, 80 % of it 14.4 → 14.
    assert {i["sku"]: i["may_sell"] for i in numbers} == {"MUG-001": 4, "TEA-001": 14}
    assert "buffer 20%" in b.get("/settings/channels").text


def test_a_refused_rule_comes_back_beside_its_field_and_changes_nothing(shop, browser, db):
    del shop
    b = browser("manager")
    r = b.post(
        "/settings/channels/web/stock",
        {"buffer": "150", "buffer_kind": "percent", "skus": "NOPE-9", "locations": ""},
    )
    assert r.status_code == 422
    assert "must be at most 100" in r.text and 'value="150"' in r.text
    assert channel_stock.get_rule(db, "web")["buffer"] == 0
    r = b.post("/settings/channels/web/stock", {"buffer": "1", "skus": "NOPE-9"})
    assert r.status_code == 422 and "NOPE-9" in r.text
    assert (
        browser("warehouse").post("/settings/channels/web/stock", {"buffer": "1"}).status_code
        == 403
    )
