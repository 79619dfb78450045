"""Pickup instead of delivery (shared/CONTRACT.md, "Pickup"), and what the capture keeps for
the risk rules (client IP, billing address): stored and answered on both databases, with
coded errors that change nothing."""

from __future__ import annotations

from tests.builders import TEA_SHOP, order_body

stocked = TEA_SHOP.fixture()

CVS = {"type": "cvs_pickup", "brand": "7-ELEVEN", "store_id": "131386", "store_name": "建盛門市"}
PICKUP_ADDRESS = {"name": "王小明", "phone": "0912345678", "country": "TW"}


def test_a_convenience_store_pickup_needs_only_name_phone_and_country(api, stocked):
    r = api.post("/api/v1/orders", json=order_body(delivery=CVS, shipping_address=PICKUP_ADDRESS))
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["delivery"] == CVS
    assert o["shipping_address"]["phone"] == "+886912345678"
    assert o["risk"] is None and o["hold"] is None
    again = api.get(f"/api/v1/orders/{o['number']}").json()
    assert again["delivery"] == CVS and again["hold"] is None
    listed = api.get("/api/v1/orders").json()["items"][0]
    assert listed["number"] == o["number"]


def test_a_pickup_without_a_phone_or_with_a_bad_store_is_refused_whole(api, stocked):
    r = api.post(
        "/api/v1/orders",
        json=order_body(
            delivery=dict(CVS, brand="Lawson", store_id="12 34"),
            shipping_address={"name": "王小明", "country": "TW"},
        ),
    )
    assert r.status_code == 422
    fields = {e["field"]: e["code"] for e in r.json()["errors"]}
    assert fields == {
        "delivery.brand": "not_one_of",
        "delivery.store_id": "invalid",
        "shipping_address.phone": "required",
    }
    # Without a delivery the address is required whole, as before.
    r = api.post("/api/v1/orders", json=order_body(shipping_address=PICKUP_ADDRESS))
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"shipping_address.line1"}
    assert api.get("/api/v1/orders").json()["items"] == []
    assert api.get("/api/v1/inventory/TEA-001").json()["reserved"] == 0


def test_a_store_pickup_names_an_active_location(api, stocked):
    bad = order_body(
        delivery={"type": "store_pickup", "location": "NOPE"}, shipping_address=PICKUP_ADDRESS
    )
    r = api.post("/api/v1/orders", json=bad)
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("delivery.location", "unknown_location")
    ]
    good = dict(bad, delivery={"type": "store_pickup", "location": "TPE"})
    r = api.post("/api/v1/orders", json=good)
    assert r.status_code == 201, r.text
    assert r.json()["delivery"] == {"type": "store_pickup", "location": "TPE"}


def test_client_ip_and_billing_address_are_checked_and_kept(api, stocked, db):
    from sqlalchemy import select

    from dingdan.db.order_tables import Order

    r = api.post(
        "/api/v1/orders",
        json=order_body(client_ip="999.1.1.1", billing_address={"name": "x", "country": "ZZ"}),
    )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert "client_ip" in fields and "billing_address.country" in fields
    billing = {
        "name": "Jane Doe",
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "62701",
        "region": "IL",
        "country": "US",
    }
    r = api.post(
        "/api/v1/orders", json=order_body(client_ip=" 2001:DB8::1 ", billing_address=billing)
    )
    assert r.status_code == 201, r.text
    row = db.read(
        lambda c: c.execute(
            select(Order.client_ip, Order.billing_address).where(Order.number == r.json()["number"])
        ).one()
    )
    assert row.client_ip == "2001:db8::1"
    assert row.billing_address["country"] == "US" and row.billing_address["city"] == "Springfield"
