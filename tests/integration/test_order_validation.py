"""Every field rule of order capture: refused with 422 naming the field, nothing stored."""

from __future__ import annotations

import copy

import pytest

from tests.builders import Shop, order_body


def _with(path, value):
    body = copy.deepcopy(order_body())
    target = body
    keys = path.split(".")
    for k in keys[:-1]:
        target = target[int(k)] if k.isdigit() else target[k]
    last = keys[-1]
    if value is KeyError:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return body


CASES = [
    ("customer.email", "not-an-email", "customer.email"),
    ("customer.phone", "12", "customer.phone"),
    ("customer", {"name": "無聯絡方式"}, "customer"),
    ("shipping_address.country", "XX", "shipping_address.country"),
    ("shipping_address.postal_code", "ABCDE", "shipping_address.postal_code"),
    ("shipping_address.postal_code", None, "shipping_address.postal_code"),
    ("shipping_address.line1", "", "shipping_address.line1"),
    ("shipping_address", KeyError, "shipping_address"),
    ("currency", "XYZ", "currency"),
    ("currency", "twd", "currency"),
    ("channel", "fax", "channel"),
    ("payment_method", "iou", "payment_method"),
    ("shipping_price", "60.001", "shipping_price"),
    ("shipping_price", 60, "shipping_price"),
    ("shipping_price", "-1.00", "shipping_price"),
    ("lines.0.quantity", 0, "lines[0].quantity"),
    ("lines.0.quantity", "2", "lines[0].quantity"),
    ("lines.0.quantity", 2.0, "lines[0].quantity"),
    ("lines.0.unit_price", 350, "lines[0].unit_price"),
    ("lines.0.unit_price", "350.001", "lines[0].unit_price"),
    ("lines.0.sku", "NOPE", "lines[0].sku"),
    ("lines", [], "lines"),
    ("colour", "red", "colour"),
]


stocked = Shop(
    products={"TEA-001": "350.00", "USD-ONLY": {"price": "10.00", "currency": "USD"}},
    locations={"TPE": 0},
    stock={"TPE": {"TEA-001": 10, "USD-ONLY": 10}},
).fixture()


@pytest.mark.parametrize("path,value,field", CASES, ids=[f"{c[0]}={c[1]!r}" for c in CASES])
def test_a_bad_field_is_422_naming_it_and_stores_nothing(api, stocked, path, value, field):
    r = api.post("/api/v1/orders", json=_with(path, value))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "validation_error"
    assert field in [e["field"] for e in body["errors"]], body
    assert api.get("/api/v1/orders").json()["items"] == []
    assert api.get("/api/v1/inventory/TEA-001").json()["reserved"] == 0


def test_a_product_priced_in_another_currency_needs_a_unit_price(api, stocked):
    r = api.post("/api/v1/orders", json=order_body(lines=[{"sku": "USD-ONLY", "quantity": 1}]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].unit_price"
    ok = api.post(
        "/api/v1/orders",
        json=order_body(lines=[{"sku": "USD-ONLY", "quantity": 1, "unit_price": "320"}]),
    )
    assert ok.status_code == 201 and ok.json()["lines"][0]["unit_price"] == "320.00"


def test_a_local_phone_is_stored_in_e164_from_the_address_country(api, stocked):
    r = api.post(
        "/api/v1/orders",
        json=order_body(customer={"email": "a@example.com", "phone": "0912-345-678"}),
    )
    assert r.status_code == 201, r.text
    assert r.json()["customer"]["phone"] == "+886912345678"


def test_order_numbers_carry_the_configured_prefix(api, stocked):
    api.client.app.state.settings.order_number_prefix = "TW-"
    r = api.post("/api/v1/orders", json=order_body())
    assert r.json()["number"].startswith("TW-")
