"""Replays say so (shared/CONTRACT.md): every answer that replays an earlier request carries
``Idempotent-Replayed: true``; an order sent again with the same channel and external id but
another body is answered as before (200, the order unchanged) and the difference is recorded
in the order's events and shown to staff on the order page."""

from __future__ import annotations

from typing import Any

from dingdan.services.inventory import stock
from tests.builders import Shop, order_body

stocked = Shop(
    products={"TEA-001": "350.00", "MUG-01": "500.00"},
    locations={"TPE": 0},
    stock={"TPE": {"TEA-001": 10, "MUG-01": 5}},
).fixture()


def _replays(api: Any, number: str) -> list[dict[str, Any]]:
    items = api.get(f"/api/v1/orders/{number}/events").json()["items"]
    return [e for e in items if e["kind"] == "replay_differs"]


def test_an_idempotency_key_replay_says_so_and_a_new_order_does_not(api, stocked):
    body = order_body()
    first = api.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    for _ in range(2):  # the route's answer and the short path's (the token is cached)
        again = api.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k-1"})
        assert again.status_code == 200
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["number"] == first.json()["number"]


def test_the_same_external_id_and_body_says_so_and_records_nothing(api, stocked):
    body = order_body(external_id="SHOP-1")
    first = api.post("/api/v1/orders", json=body)
    again = api.post("/api/v1/orders", json=body)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _replays(api, first.json()["number"]) == []


def test_a_different_body_is_not_applied_but_recorded_once(api, stocked):
    first = api.post("/api/v1/orders", json=order_body(external_id="SHOP-2")).json()
    n = first["number"]
    changed = order_body(
        [
            {"sku": "TEA-001", "quantity": 3, "unit_price": "300.00"},
            {"sku": "MUG-01", "quantity": 1},
        ],
        external_id="SHOP-2",
        shipping_price="0.00",
    )
    for _ in range(2):  # a channel retrying the same body records it once
        r = api.post("/api/v1/orders", json=changed)
        assert r.status_code == 200 and r.headers["Idempotent-Replayed"] == "true"
        assert r.json() == first  # the order as it was
    assert stock.stock_of(stocked, "MUG-01")["reserved"] == 0
    (recorded,) = _replays(api, n)
    assert recorded["data"] == {
        "channel": "web",
        "external_id": "SHOP-2",
        "lines": [
            {"sku": "TEA-001", "order": 2, "sent": 3},
            {"sku": "MUG-01", "order": 0, "sent": 1},
        ],
        "prices": [{"sku": "TEA-001", "order": "350.00", "sent": "300.00"}],
        "fields": [{"field": "shipping_price", "order": "60.00", "sent": "0.00"}],
    }
    # Another change is recorded again.
    other = order_body(external_id="SHOP-2", payment_method="card")
    assert api.post("/api/v1/orders", json=other).status_code == 200
    assert [e["data"]["fields"] for e in _replays(api, n)] == [
        [{"field": "shipping_price", "order": "60.00", "sent": "0.00"}],
        [{"field": "payment_method", "order": "bank_transfer", "sent": "card"}],
    ]
