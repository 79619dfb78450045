"""Stock for channels: the buffer and SKU subset of each channel, what it may sell with a
strong ETag (304 while nothing changed, a new tag after a sale), and the
``inventory.changed`` webhook carrying the same numbers (issue 21, part 7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from dingdan.config import get_settings
from dingdan.db.types import utcnow
from dingdan.services.integrations import delivery
from dingdan.services.inventory import channel_feed
from dingdan.services.jobs import worker
from tests.builders import TEA_SHOP, location, post_order, product, receive
from tests.integration.webhook_receiver import Receiver

stocked = TEA_SHOP.fixture()  # TEA-001: TPE 3, KHH 5; TEA-002: TPE 1


def _channel(api: Any, code: str = "shopee") -> None:
    r = api.post("/api/v1/channels", json={"code": code, "name": "Shopee"})
    assert r.status_code == 201, r.text


def _rule(api: Any, code: str, role: str = "admin", **body: Any) -> Any:
    return api.request("PUT", f"/api/v1/channels/{code}/stock-rule", json=body, role=role)


def _stock(api: Any, code: str, **kw: Any) -> Any:
    return api.get(f"/api/v1/channels/{code}/stock", **kw)


def _numbers(r: Any) -> dict[str, tuple[int, int]]:
    assert r.status_code == 200, r.text
    return {i["sku"]: (i["available"], i["may_sell"]) for i in r.json()["items"]}


def test_without_a_rule_a_channel_sells_all_that_is_available(api, stocked):
    assert _numbers(_stock(api, "web")) == {"TEA-001": (8, 8), "TEA-002": (1, 1)}
    rule = api.get("/api/v1/channels/web/stock-rule").json()
    assert rule == {
        "channel": "web",
        "buffer_kind": "units",
        "buffer": 0,
        "skus": None,
        "locations": None,
        "updated_at": None,
    }


def test_buffer_in_units_and_percent_floor_zero_and_subset(api, stocked):
    _channel(api)
    r = _rule(api, "shopee", buffer_kind="units", buffer=2)
    assert r.status_code == 200, r.text
    assert _numbers(_stock(api, "shopee")) == {"TEA-001": (8, 6), "TEA-002": (1, 0)}
    _rule(api, "shopee", buffer_kind="percent", buffer=30)  # 8 × 0.7 = 5.6 → 5
    assert _numbers(_stock(api, "shopee")) == {"TEA-001": (8, 5), "TEA-002": (1, 0)}
    _rule(api, "shopee", skus=["TEA-002"], locations=["TPE"])
    assert _numbers(_stock(api, "shopee")) == {"TEA-002": (1, 1)}
    _rule(api, "shopee", locations=["KHH"])  # KHH holds only TEA-001
    assert _numbers(_stock(api, "shopee")) == {"TEA-001": (5, 5), "TEA-002": (0, 0)}
    # Another channel is not touched by shopee's rule.
    assert _numbers(_stock(api, "web")) == {"TEA-001": (8, 8), "TEA-002": (1, 1)}


def test_a_rule_is_refused_whole_with_coded_fields(api, stocked):
    _channel(api)
    r = _rule(api, "shopee", buffer_kind="percent", buffer=101)
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("buffer", "not_at_most")]
    r = _rule(api, "shopee", skus=["NOPE-1"], locations=["XXX"])
    assert r.status_code == 422
    assert {(e["field"], e["code"]) for e in r.json()["errors"]} == {
        ("skus[0]", "unknown_sku"),
        ("locations[0]", "unknown_location"),
    }
    assert _rule(api, "nosuch", buffer=1).status_code == 404
    assert _stock(api, "nosuch").status_code == 404
    # Channels are for manager and admin; reading stock for every role.
    assert _rule(api, "shopee", buffer=1, role="warehouse").status_code == 403
    assert _rule(api, "shopee", buffer=1, role="manager").status_code == 200
    assert _stock(api, "shopee", role="warehouse").status_code == 200
    audit = api.get("/api/v1/audit?resource=channel_stock_rule:shopee").json()
    assert [i["action"] for i in audit["items"]] == ["set"]


def test_etag_answers_304_until_a_sale_changes_the_numbers(api, stocked):
    first = _stock(api, "web")
    tag = first.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    again = _stock(api, "web", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["etag"] == tag and again.content == b""
    post_order(api)  # two TEA-001 reserved
    after = _stock(api, "web", headers={"If-None-Match": tag})
    assert after.status_code == 200 and after.headers["etag"] != tag
    assert _numbers(after) == {"TEA-001": (6, 6), "TEA-002": (1, 1)}


def test_the_stock_list_pages_by_sku(api, db):
    location(db, "TPE")
    for i in range(5):
        product(db, f"SKU-{i}")
    receive(db, "TPE", {f"SKU-{i}": i + 1 for i in range(5)})
    seen: list[str] = []
    cursor = None
    while True:
        url = "/api/v1/channels/web/stock?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url).json()
        seen += [i["sku"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"SKU-{i}" for i in range(5)]
    # Outside 1..200 the limit is refused as every list's is: 422 out_of_range on limit.
    for bad in (0, 201):
        errors = api.get(f"/api/v1/channels/web/stock?limit={bad}").json()["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("limit", "out_of_range")]


@pytest.fixture
def private_ok(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DINGDAN_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _round(db: Any) -> int:
    """One worker round, as if a few seconds passed (PostgreSQL's lag)."""
    return channel_feed.emit_changes(db, now=utcnow() + timedelta(seconds=10))


def test_inventory_changed_is_delivered_with_each_channels_numbers(api, stocked, private_ok):
    _channel(api)
    _rule(api, "shopee", buffer_kind="percent", buffer=50, skus=["TEA-001"])
    assert _round(api.db) == 0  # the first round starts at the end of the ledger
    with Receiver() as receiver:
        hook = api.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["inventory.changed"]}
        ).json()
        post_order(api)  # TEA-001: 8 → 6 available
        post_order(api, lines=[{"sku": "TEA-001", "quantity": 1, "unit_price": "350.00"}])
        assert _round(api.db) == 1  # two orders of one SKU: one event
        assert _round(api.db) == 0  # told once
        worker.drain(api.db)
        assert delivery.send_due(api.db)["delivered"] == 1
        [got] = receiver.received
    payload = Webhook(hook["secret"]).verify(got.raw, got.headers)
    assert payload["type"] == "inventory.changed"
    data = payload["data"]
    assert data["sku"] == "TEA-001" and data["available"] == 5
    by_channel = {c["channel"]: (c["available"], c["may_sell"]) for c in data["channels"]}
    assert by_channel["shopee"] == (5, 2)  # 50 % of 5 = 2.5 → 2
    assert by_channel["web"] == (5, 5)
    # The same numbers as the channel's stock list.
    assert _numbers(_stock(api, "shopee")) == {"TEA-001": (5, 2)}


def test_a_change_that_nets_to_nothing_tells_nothing(api, stocked):
    _round(api.db)

    def adjust(delta: int) -> None:
        body = {"location": "TPE", "sku": "TEA-002", "reason": "count", "delta": delta}
        assert api.post("/api/v1/inventory/adjustments", json=body).status_code == 201

    adjust(4)
    adjust(-4)
    assert _round(api.db) == 0
    adjust(2)
    assert _round(api.db) == 1
