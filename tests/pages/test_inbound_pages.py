"""The inbound log page: a delivery that needs attention shown with why, a SKU alias saved
from the page, then retried into an order; for admin, manager and customer service only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from dingdan.services.catalog import channels_and_taxes
from tests.builders import ADMIN

SECRET = "page-test-secret"


def _deliver(client: Any, sku: str = "SHOP-TEA", zip_code: str = "110") -> None:
    order = {
        "id": 9001,
        "currency": "TWD",
        "email": "lin@example.com",
        "financial_status": "paid",
        "shipping_address": {
            "name": "林小姐",
            "address1": "信義路五段7號",
            "city": "台北市",
            "zip": zip_code,
            "country_code": "TW",
        },
        "line_items": [{"sku": sku, "quantity": 1, "price": "350.00"}],
        "shipping_lines": [{"price": "60.00"}],
    }
    raw = json.dumps(order).encode()
    mac = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    r = client.post(
        "/hooks/myshop",
        content=raw,
        headers={
            "X-Shopify-Hmac-Sha256": mac,
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": "p1",
        },
    )
    assert r.status_code == 200, r.text


def test_needs_attention_alias_and_retry_from_the_page(shop, browser, db):
    channels_and_taxes.create_channel(
        db,
        ADMIN,
        {"code": "myshop", "name": "My shop", "kind": "shopify", "webhook_secret": SECRET},
    )
    cs = browser("customer_service")
    _deliver(cs.client)
    assert 'href="/inbound"' in cs.get("/").text
    page = cs.get("/inbound?status=needs_attention").text
    assert "Unknown SKU" in page and "SHOP-TEA" in page and "/retry" in page
    r = cs.post(
        "/inbound/aliases", {"channel": "myshop", "channel_sku": "SHOP-TEA", "sku": "TEA-001"}
    )
    assert r.status_code == 303
    assert "SKU alias is saved" in cs.get("/inbound").text
    delivery_id = page.split('id="inbound-')[1].split('"')[0]
    r = cs.post(f"/inbound/{delivery_id}/retry")
    assert r.status_code == 303
    after = cs.get("/inbound").text
    assert "is accepted" in after and "Accepted" in after and 'href="/orders/' in after
    assert browser("warehouse").get("/inbound").status_code == 403


def test_a_bad_address_is_edited_on_the_page_and_the_delivery_retried(shop, browser, db):
    channels_and_taxes.create_channel(
        db,
        ADMIN,
        {"code": "myshop", "name": "My shop", "kind": "shopify", "webhook_secret": SECRET},
    )
    cs = browser("manager")
    _deliver(cs.client, sku="TEA-001", zip_code="ABCDEFG")
    page = cs.get("/inbound?status=needs_attention").text
    assert "Bad address" in page and "Edit the address" in page
    delivery_id = page.split('id="inbound-')[1].split('"')[0]
    form = {
        "name": "林小姐",
        "line1": "信義路五段7號",
        "city": "台北市",
        "postal_code": "110",
        "country": "TW",
    }
    assert cs.post(f"/inbound/{delivery_id}/address", form).status_code == 303
    after = cs.get("/inbound").text
    assert "is accepted" in after and 'href="/orders/' in after


def test_a_webhook_channel_is_created_on_the_settings_page(shop, browser, db):
    admin = browser("admin")
    page = admin.get("/settings/channels").text
    assert 'name="kind"' in page and 'name="webhook_secret"' in page
    r = admin.post("/settings/channels", {"code": "woo2", "name": "Woo", "kind": "woocommerce"})
    assert r.status_code == 422 and 'id="ch-secret-error"' in r.text
    r = admin.post(
        "/settings/channels",
        {"code": "woo2", "name": "Woo", "kind": "woocommerce", "webhook_secret": SECRET},
    )
    assert r.status_code == 303
    listed = channels_and_taxes.list_channels(db)["items"]
    assert {"code": "woo2", "kind": "woocommerce"}.items() <= next(
        c for c in listed if c["code"] == "woo2"
    ).items()
