"""Prices below the product's price need the ``pricing`` permission (admin and manager by
default), at capture and in edits; every such price is in the order's events with who set
it (shared/CONTRACT.md, "Permissions"). An order whose total is 0 is paid (the contract)."""

from __future__ import annotations

from typing import Any

from dingdan.services.inventory import stock
from tests.builders import OMIT, Shop, order_body, post_order

stocked = Shop(
    products={"TEA-001": "350.00", "MUG-01": "500.00"},
    locations={"TPE": 0},
    stock={"TPE": {"TEA-001": 10, "MUG-01": 5}},
).fixture()


def _events(api: Any, number: str, kind: str) -> list[dict[str, Any]]:
    items = api.get(f"/api/v1/orders/{number}/events").json()["items"]
    return [e for e in items if e["kind"] == kind]


def _orders(api: Any) -> list[dict[str, Any]]:
    return list(api.get("/api/v1/orders").json()["items"])


def test_customer_service_cannot_capture_below_the_products_price(api, stocked):
    for price in ("0.00", "349.99"):
        body = order_body([{"sku": "TEA-001", "quantity": 1, "unit_price": price}])
        r = api.post("/api/v1/orders", json=body, role="customer_service")
        assert r.status_code == 403, r.text
        problem = r.json()
        assert problem["code"] == "forbidden"
        assert [(e["field"], e["code"]) for e in problem["errors"]] == [
            ("lines[0].unit_price", "below_list_price")
        ]
    assert _orders(api) == []
    assert stock.stock_of(stocked, "TEA-001")["reserved"] == 0
    # At the product's price or above: placed, and nothing to record.
    body = order_body(
        [
            {"sku": "TEA-001", "quantity": 1, "unit_price": "350.00"},
            {"sku": "MUG-01", "quantity": 1, "unit_price": "520.00"},
        ]
    )
    r = api.post("/api/v1/orders", json=body, role="customer_service")
    assert r.status_code == 201, r.text
    assert _events(api, r.json()["number"], "priced_below_list") == []


def test_a_manager_may_and_the_price_is_in_the_events_with_who_set_it(api, stocked):
    body = order_body(
        [
            {"sku": "TEA-001", "quantity": 2, "unit_price": "300.00"},
            {"sku": "MUG-01", "quantity": 1},
        ]
    )
    r = api.post("/api/v1/orders", json=body, role="manager")
    assert r.status_code == 201, r.text
    (recorded,) = _events(api, r.json()["number"], "priced_below_list")
    assert "manager" in recorded["actor"]
    assert recorded["data"]["lines"] == [
        {"sku": "TEA-001", "unit_price": "300.00", "list_price": "350.00", "list_currency": "TWD"}
    ]


def test_a_zero_total_needs_the_permission_and_is_paid_when_made(api, stocked):
    free = order_body([{"sku": "TEA-001", "quantity": 1, "unit_price": "0"}], shipping_price=OMIT)
    refused = api.post("/api/v1/orders", json=free, role="customer_service")
    assert refused.status_code == 403
    made = api.post("/api/v1/orders", json=free, role="manager")
    assert made.status_code == 201, made.text
    order = made.json()
    assert order["total"] == "0.00" and order["financial_status"] == "paid"
    assert len(_events(api, order["number"], "priced_below_list")) == 1


def test_customer_service_cannot_edit_a_price_below_the_products(api, stocked):
    n = post_order(api)["number"]  # TEA-001 at its price, 350.00
    for lines in (
        [{"sku": "TEA-001", "quantity": 2, "unit_price": "0"}],
        [{"sku": "MUG-01", "quantity": 1, "unit_price": "1.00"}],  # a new line
    ):
        r = api.patch(f"/api/v1/orders/{n}", json={"lines": lines}, role="customer_service")
        assert r.status_code == 403, r.text
        assert r.json()["errors"][0]["code"] == "below_list_price"
    order = api.get(f"/api/v1/orders/{n}").json()
    assert [(ln["sku"], ln["unit_price"]) for ln in order["lines"]] == [("TEA-001", "350.00")]
    assert stock.stock_of(stocked, "MUG-01")["reserved"] == 0
    assert _events(api, n, "edited") == []


def test_a_manager_edits_a_price_down_and_others_may_keep_it(api, stocked):
    n = post_order(api)["number"]
    lower = [{"sku": "TEA-001", "quantity": 2, "unit_price": "100.00"}]
    r = api.patch(f"/api/v1/orders/{n}", json={"lines": lower}, role="manager")
    assert r.status_code == 200, r.text
    (recorded,) = _events(api, n, "priced_below_list")
    assert "manager" in recorded["actor"]
    assert recorded["data"]["lines"][0]["unit_price"] == "100.00"
    # Customer service changes the quantity and sends the price the line already has.
    again = [{"sku": "TEA-001", "quantity": 3, "unit_price": "100.00"}]
    r = api.patch(f"/api/v1/orders/{n}", json={"lines": again}, role="customer_service")
    assert r.status_code == 200, r.text
    assert len(_events(api, n, "priced_below_list")) == 1
