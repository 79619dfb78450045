"""Every field error of the API is {"field", "code", "message"} with a stable code
(shared/CONTRACT.md, "Errors carry codes per field"); numbers too large for the database are
422 too_large, never a 5xx."""

from __future__ import annotations

import pytest

from tests.helpers import location, product, receive
from tests.integration.test_orders_api import order_body


@pytest.fixture
def stocked(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 20})


def _field_errors(r, status=422, code="validation_error"):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code
    for e in body["errors"]:
        assert set(e) == {"field", "code", "message"}, e
    return {e["field"]: e for e in body["errors"]}


def test_a_bad_quantity_and_an_unknown_sku_of_an_order_are_coded(api, stocked):
    lines = [{"sku": "TEA-001", "quantity": 0}, {"sku": "NOPE-9", "quantity": 1}]
    errors = _field_errors(api.post("/api/v1/orders", json=order_body(lines=lines)))
    assert errors["lines[0].quantity"]["code"] == "too_small"
    assert errors["lines[0].quantity"]["message"] == "must be at least 1"
    fixed = [{"sku": "TEA-001", "quantity": 1}, {"sku": "NOPE-9", "quantity": 1}]
    errors = _field_errors(api.post("/api/v1/orders", json=order_body(lines=fixed)))
    assert errors["lines[1].sku"] == {
        "field": "lines[1].sku",
        "code": "unknown_sku",
        "message": "no product with SKU 'NOPE-9'",
    }


def test_an_order_short_of_stock_names_the_short_line_with_a_code(api, stocked):
    lines = [{"sku": "TEA-001", "quantity": 25}]
    errors = _field_errors(
        api.post("/api/v1/orders", json=order_body(lines=lines)), 409, "insufficient_stock"
    )
    assert errors["lines[0].quantity"]["code"] == "insufficient"
    assert errors["lines[0].quantity"]["message"] == "only 20 of TEA-001 available, 5 short"


def test_a_payment_over_the_balance_due_is_coded(api, stocked):
    number = api.post("/api/v1/orders", json=order_body()).json()["number"]
    r = api.post(f"/api/v1/orders/{number}/payments", json={"amount": "9999.00"}, role="finance")
    errors = _field_errors(r)
    assert errors["amount"]["code"] == "exceeds_balance"
    assert errors["amount"]["message"] == "is more than the balance due (760.00)"


def test_a_duplicate_product_is_a_conflict_and_a_bad_one_names_each_field(api, stocked):
    r = api.post(
        "/api/v1/products", json={"sku": "TEA-001", "name": "x", "price": "1", "currency": "TWD"}
    )
    assert _field_errors(r, 409, "conflict") == {}
    bad = {"sku": "-bad", "name": "x", "price": "1.234", "currency": "TWD"}
    errors = _field_errors(api.post("/api/v1/products", json=bad))
    assert errors["sku"]["code"] == "invalid_sku"
    assert errors["price"]["code"] == "too_many_decimals"
    assert errors["price"]["message"] == "TWD allows at most 2 decimal places"


def test_a_receipt_naming_a_sku_twice_or_an_unknown_location_is_coded(api, stocked):
    lines = [{"sku": "TEA-001", "quantity": 1}, {"sku": "TEA-001", "quantity": 2}]
    r = api.post("/api/v1/inventory/receipts", json={"location": "TPE", "lines": lines})
    assert _field_errors(r)["lines[1].sku"]["code"] == "duplicate_sku"
    one = [{"sku": "TEA-001", "quantity": 1}]
    r = api.post("/api/v1/inventory/receipts", json={"location": "NOWHERE", "lines": one})
    assert _field_errors(r)["location"]["code"] == "unknown_location"


def test_pydantics_errors_are_coded_too(api, stocked):
    r = api.post("/api/v1/locations", json={"code": "X1", "name": "x", "country": "TW", "oops": 1})
    assert _field_errors(r)["oops"]["code"] == "not_a_field"
    r = api.post(
        "/api/v1/locations", json={"code": "X1", "name": "x", "country": "TW", "priority": "a"}
    )
    assert _field_errors(r)["priority"]["code"] == "not_a_whole_number"
    r = api.post("/api/v1/locations", json={"name": "x", "country": "TW"})
    assert _field_errors(r)["code"]["code"] == "required"
    r = api.post(
        "/api/v1/locations",
        content=b'{"code": ',
        headers={"Content-Type": "application/json"},
    )
    assert _field_errors(r)["body"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/api/v1/inventory/receipts",
            {"location": "TPE", "lines": [{"sku": "TEA-001", "quantity": 10**30}]},
            "lines[0].quantity",
        ),
        (
            "/api/v1/products",
            {"sku": "BIG-1", "name": "x", "price": "1e30", "currency": "TWD"},
            "price",
        ),
        (
            "/api/v1/products",
            {"sku": "BIG-2", "name": "x", "price": "99999999999999999999.00", "currency": "TWD"},
            "price",
        ),
        (
            "/api/v1/orders",
            order_body(lines=[{"sku": "TEA-001", "quantity": 10**30}]),
            "lines[0].quantity",
        ),
        (
            "/api/v1/orders",
            order_body(
                lines=[{"sku": "TEA-001", "quantity": 1, "unit_price": "99999999999999999999.00"}]
            ),
            "lines[0].unit_price",
        ),
    ],
)
def test_a_number_too_large_for_the_database_is_422_too_large(api, stocked, url, body, field):
    errors = _field_errors(api.post(url, json=body))
    assert errors[field]["code"] == "too_large", errors


def test_openapi_documents_the_code_of_a_field_error(client):
    spec = client.get("/openapi.json").json()
    field_problem = spec["components"]["schemas"]["FieldProblem"]
    assert set(field_problem["required"]) == {"field", "code", "message"}
