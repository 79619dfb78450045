"""Inbound channel webhooks (issue 21): each kind's signature rules, dedupe under concurrent
duplicates, the mapping of the channels' sample payloads, and unknown SKU → needs attention
→ alias → retry → order."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from dingdan.db.inbound_tables import InboundDelivery
from dingdan.db.order_tables import Order
from dingdan.db.tables import OutboxMessage
from dingdan.domain.shared import standard_webhooks
from dingdan.services.integrations import inbound
from tests.builders import ADMIN, location, order_body, product, receive
from tests.helpers import missing_shared_data, run_threads, shared_external

SECRET = "hush-hush-secret"
WHSEC = "whsec_" + base64.b64encode(b"k" * 24).decode()


def sample(path: str) -> dict[str, Any]:
    f = shared_external() / path
    if not f.exists():
        missing_shared_data(f"{f} is missing")
    return dict(json.loads(f.read_text()))


def shopify_order() -> dict[str, Any]:
    return dict(sample("shopify/order.json")["order"])


def woo_order() -> dict[str, Any]:
    o = sample("woocommerce/order_create_response_example.json")
    o["line_items"][0]["sku"] = "WOO-SINGLE"  # the sample's first line has no SKU
    return o


@pytest.fixture
def shop(api: Any, db: Any) -> Any:
    for sku in ("IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK", "WOO-SINGLE", "BAR-003"):
        product(db, sku, price="150.00", currency="USD")
    product(db, "TEA-001", price="350.00")
    location(db, "US1", country="US")
    receive(
        db,
        "US1",
        {
            "IPOD2008GREEN": 5,
            "IPOD2008RED": 5,
            "IPOD2008BLACK": 5,
            "WOO-SINGLE": 5,
            "BAR-003": 5,
            "TEA-001": 10,
        },
    )
    for code, kind, secret in (
        ("shop", "shopify", SECRET),
        ("woo", "woocommerce", SECRET),
        ("std", "standard", WHSEC),
    ):
        r = api.post(
            "/api/v1/channels",
            json={"code": code, "name": code, "kind": kind, "webhook_secret": secret},
        )
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == kind and "webhook_secret" not in r.json()
    return api


def b64mac(secret: str, raw: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def shopify(
    client: Any, body: Any, topic: str = "orders/create", wid: str = "w1", sig: str | None = "good"
) -> Any:
    raw = json.dumps(body).encode()
    h = {"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": wid, "Content-Type": "application/json"}
    if sig is not None:
        h["X-Shopify-Hmac-Sha256"] = b64mac(SECRET, raw) if sig == "good" else sig
    return client.post("/hooks/shop", content=raw, headers=h)


def woo(
    client: Any, body: Any, topic: str = "order.created", wid: str = "d1", sig: str | None = "good"
) -> Any:
    raw = json.dumps(body).encode()
    h = {
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Delivery-ID": wid,
        "Content-Type": "application/json",
    }
    if sig is not None:
        h["X-WC-Webhook-Signature"] = b64mac(SECRET, raw) if sig == "good" else sig
    return client.post("/hooks/woo", content=raw, headers=h)


def std(
    client: Any,
    data: Any,
    wid: str = "msg_1",
    at: float | None = None,
    secret: str = WHSEC,
    kind: str = "order.created",
) -> Any:
    raw = json.dumps({"type": kind, "data": data}).encode()
    h = standard_webhooks.headers([secret], wid, int(at or time.time()), raw)
    return client.post("/hooks/std", content=raw, headers=h)


def deliveries(db: Any) -> int:
    with db.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(InboundDelivery)).scalar_one())


def orders(db: Any) -> int:
    with db.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(Order)).scalar_one())


def test_each_kind_refuses_bad_missing_and_stale_signatures_storing_nothing(shop: Any) -> None:
    c, db = shop.client, shop.db
    o = shopify_order()
    assert shopify(c, o, sig="AAAA").status_code == 401
    assert shopify(c, o, sig=None).status_code == 401
    assert woo(c, woo_order(), sig=b64mac("other", b"x")).status_code == 401
    assert woo(c, woo_order(), sig=None).status_code == 401
    assert (
        std(c, order_body(), secret="whsec_" + base64.b64encode(b"z" * 24).decode()).status_code
        == 401
    )
    assert std(c, order_body(), at=time.time() - 6 * 60).status_code == 401
    assert c.post("/hooks/std", content=b"{}").status_code == 401
    assert deliveries(db) == 0 and orders(db) == 0
    # WooCommerce's first ping is a form body and answers 200, storing nothing.
    ping = c.post(
        "/hooks/woo",
        content=b"webhook_id=12",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert ping.status_code == 200 and deliveries(db) == 0
    # The good ones.
    assert shopify(c, o).status_code == 200
    assert woo(c, woo_order()).status_code == 200
    body = order_body(
        lines=[{"sku": "TEA-001", "quantity": 1, "unit_price": "350.00"}], external_id="S-1"
    )
    assert std(c, body).status_code == 200
    items = shop.get("/api/v1/inbound").json()["items"]
    assert sorted((i["channel"], i["status"]) for i in items) == [
        ("shop", "accepted"),
        ("std", "accepted"),
        ("woo", "needs_attention"),  # "Bar3"
    ]
    assert orders(db) == 2


def test_shopify_sample_is_mapped_field_by_field(shop: Any) -> None:
    o = shopify_order()
    assert shopify(shop.client, o).status_code == 200
    [d] = shop.get("/api/v1/inbound?channel=shop").json()["items"]
    assert (d["topic"], d["external_id"], d["status"]) == ("orders/create", "450789469", "accepted")
    got = shop.get(f"/api/v1/orders/{d['order']}").json()
    assert got["channel"] == "shop" and got["external_id"] == "450789469"
    assert got["currency"] == "USD"
    assert [(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in got["lines"]] == [
        (li["sku"], li["quantity"], li["price"]) for li in o["line_items"]
    ]
    assert got["shipping_total"] == "0.00"
    assert got["customer"]["email"] == o["email"]
    a, s = got["shipping_address"], o["shipping_address"]
    assert (a["name"], a["line1"], a["city"], a["postal_code"], a["country"]) == (
        s["name"],
        s["address1"],
        s["city"],
        s["zip"],
        s["country_code"],
    )
    assert a["region"] == s["province_code"]
    # "authorized" is not paid: no payment.
    assert got["paid"] == "0.00"


def test_woocommerce_sample_paid_and_unknown_sku_alias_retry(shop: Any) -> None:
    o = woo_order()  # its second line is "Bar3", a SKU Dingdan does not know
    r = woo(shop.client, o)
    assert r.status_code == 200
    [d] = shop.get("/api/v1/inbound?status=needs_attention").json()["items"]
    assert d["reason"].startswith("unknown_sku") and "Bar3" in d["reason"]
    assert d["order"] is None and d["external_id"] == "727" and orders(shop.db) == 0
    told = shop.db.read(
        lambda c: (
            c.execute(
                select(OutboxMessage.payload).where(
                    OutboxMessage.topic == "inbound.needs_attention"
                )
            )
            .scalars()
            .all()
        )
    )  # staff hear of it through the outbox
    assert [(t["channel"], t["external_id"]) for t in told] == [("woo", "727")]
    assert told[0]["reason"] == d["reason"]
    a = shop.request(
        "PUT", "/api/v1/channels/woo/sku-aliases", json={"channel_sku": "Bar3", "sku": "BAR-003"}
    )
    assert a.status_code == 200, a.text
    r = shop.post(f"/api/v1/inbound/{d['id']}/retry")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["reason"] is None
    got = shop.get(f"/api/v1/orders/{r.json()['order']}").json()
    assert got["channel"] == "woo" and got["external_id"] == "727"
    assert [(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in got["lines"]] == [
        ("WOO-SINGLE", 2, "3.00"),
        ("BAR-003", 1, "12.00"),
    ]
    assert got["shipping_total"] == o["shipping_total"]
    b, a2 = o["billing"], got["shipping_address"]
    assert got["customer"]["email"] == b["email"]
    assert (a2["line1"], a2["city"], a2["postal_code"], a2["country"], a2["region"]) == (
        "969 Market",
        "San Francisco",
        "94103",
        "US",
        "CA",
    )
    # date_paid is set: paid in full.
    assert got["paid"] == got["total"]
    # A retry of an accepted delivery is refused.
    assert shop.post(f"/api/v1/inbound/{d['id']}/retry").status_code == 409


def test_two_identical_deliveries_at_once_make_one_order(shop: Any) -> None:
    o = shopify_order()
    codes: list[int] = []
    errors = run_threads(2, lambda i: codes.append(shopify(shop.client, o, wid="same").status_code))
    assert not errors and codes == [200, 200]
    assert orders(shop.db) == 1 and deliveries(shop.db) == 1
    # Seen before: 200, nothing new.
    assert shopify(shop.client, o, wid="same").status_code == 200
    assert deliveries(shop.db) == 1
    # Another delivery of the same order: logged as a duplicate, still one order.
    assert shopify(shop.client, o, wid="other").status_code == 200
    assert orders(shop.db) == 1
    statuses = {i["status"] for i in shop.get("/api/v1/inbound?channel=shop").json()["items"]}
    assert statuses == {"accepted", "duplicate"}


def test_updated_edits_cancelled_cancels_and_shipped_needs_attention(shop: Any) -> None:
    o = shopify_order()
    assert shopify(shop.client, o, wid="c").status_code == 200
    o["line_items"] = o["line_items"][:1]
    o["line_items"][0]["quantity"] = 2
    assert shopify(shop.client, o, topic="orders/updated", wid="u").status_code == 200
    number = shop.get("/api/v1/inbound?channel=shop").json()["items"][0]["order"]
    got = shop.get(f"/api/v1/orders/{number}").json()
    live = [(ln["sku"], ln["quantity"]) for ln in got["lines"] if ln["quantity"]]
    assert live == [("IPOD2008GREEN", 2)]
    assert shopify(shop.client, o, topic="orders/cancelled", wid="x").status_code == 200
    assert shop.get(f"/api/v1/orders/{number}").json()["status"] == "cancelled"
    # An update of an order that cannot be edited any more is kept for attention.
    assert shopify(shop.client, o, topic="orders/updated", wid="u2").status_code == 200
    items = shop.get("/api/v1/inbound?status=needs_attention").json()["items"]
    assert [i["reason"].split(":")[0] for i in items] == ["shipped_already"]


def test_bad_address_is_kept_and_raw_bodies_are_purged_after_30_days(shop: Any) -> None:
    o = shopify_order()
    o["shipping_address"]["country_code"] = "ZZ"
    assert shopify(shop.client, o).status_code == 200
    [d] = shop.get("/api/v1/inbound?status=needs_attention").json()["items"]
    assert d["reason"].startswith("bad_address")
    bad = shop.request(
        "PUT",
        f"/api/v1/inbound/{d['id']}/address",
        json={"name": "Bob", "line1": "1 Main St", "city": "Louisville", "country": "ZZ"},
    )
    assert bad.status_code == 422
    fixed = {
        "name": "Bob Norman",
        "line1": "Chestnut Street 92",
        "city": "Louisville",
        "region": "KY",
        "postal_code": "40202",
        "country": "US",
    }
    r = shop.request("PUT", f"/api/v1/inbound/{d['id']}/address", json=fixed)
    assert r.status_code == 200, r.text
    r = shop.post(f"/api/v1/inbound/{d['id']}/retry")
    assert r.json()["status"] == "accepted", r.text
    got = shop.get(f"/api/v1/orders/{r.json()['order']}").json()
    assert got["shipping_address"]["country"] == "US"
    assert got["shipping_address"]["line1"] == "Chestnut Street 92"
    assert inbound.purge_raw_bodies(shop.db, days=30) == 0
    assert inbound.purge_raw_bodies(shop.db, days=-1) == 1
    assert ADMIN


def test_channel_kinds_need_a_secret_and_refused_stock_is_kept(shop: Any) -> None:
    r = shop.post("/api/v1/channels", json={"code": "nosecret", "name": "x", "kind": "shopify"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "webhook_secret"
    r = shop.post(
        "/api/v1/channels",
        json={
            "code": "badstd",
            "name": "x",
            "kind": "standard",
            "webhook_secret": "not-a-whsec-secret",
        },
    )
    assert r.status_code == 422
    assert (
        shop.post("/api/v1/channels", json={"code": "plain", "name": "x"}).json()["kind"]
        == "manual"
    )
    assert shop.client.post("/hooks/plain", content=b"{}").status_code == 404
    body = order_body(
        lines=[{"sku": "TEA-001", "quantity": 500, "unit_price": "350.00"}], external_id="S-2"
    )
    assert std(shop.client, body, wid="big").status_code == 200
    [d] = shop.get("/api/v1/inbound?channel=std").json()["items"]
    assert (d["status"], d["reason"], d["order"]) == ("needs_attention", "refused_stock", None)


def test_the_invoice_choice_in_note_attributes_and_meta_is_captured(shop: Any) -> None:
    from dingdan.db.order_tables import OrderEvent
    from dingdan.services.orders.invoice_choice import current_request

    o = shopify_order()
    o["note_attributes"] = [
        {"name": "統一編號", "value": "04595257"},
        {"name": "公司抬頭", "value": "甲公司"},
    ]
    assert shopify(shop.client, o).status_code == 200
    w = woo_order()
    w["line_items"] = w["line_items"][:1]
    w["meta_data"] = [
        {"id": 1, "key": "_wooecpay_invoice_type", "value": "c"},
        {"id": 2, "key": "_wooecpay_invoice_customer_identifier", "value": "04595258"},
    ]
    assert woo(shop.client, w).status_code == 200
    numbers = {d["channel"]: d["order"] for d in shop.get("/api/v1/inbound").json()["items"]}

    def request_of(number: str) -> tuple[Any, Any]:
        return shop.db.read(
            lambda c: (
                current_request(
                    c, c.execute(select(Order.id).where(Order.number == number)).scalar_one()
                ),
                c.execute(
                    select(OrderEvent.message)
                    .join(Order, Order.id == OrderEvent.order_id)
                    .where(Order.number == number, OrderEvent.kind == "customer_note")
                ).scalar(),
            )
        )

    asked, _ = request_of(numbers["shop"])
    assert asked == {"type": "b2b", "buyer_ubn": "04595257", "buyer_name": "甲公司"}
    # A UBN failing its check does not hold the order: printed, and the reason noted.
    asked, note = request_of(numbers["woo"])
    assert asked == {"type": "b2c"} and "buyer_ubn invalid_ubn" in (note or "")
