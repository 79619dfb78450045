"""The return-rate report through HTTP: every role with a token reads it, a date range picks
the orders by the day they were placed, and bad dates are 422 problem+json naming the
field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from dingdan.db.order_tables import Order
from dingdan.services.after_sales import returns
from tests.builders import ADMIN, RETURNS_SHOP, shipped_order

stocked = RETURNS_SHOP.fixture()

URL = "/api/v1/reports/returns"


def _placed(db, number, when):
    stmt = update(Order).where(Order.number == number).values(created_at=when)
    db.write(lambda c: c.execute(stmt))


def _received(db, number, n):
    body = {"lines": [{"sku": "TEA-001", "quantity": n, "reason": "defective"}]}
    rid = returns.request_return(db, ADMIN, number, body)["id"]
    returns.approve_return(db, ADMIN, rid)
    lines = [{"sku": "TEA-001", "quantity": n, "condition": "resellable"}]
    returns.receive_return(db, ADMIN, rid, {"location": "TPE", "lines": lines})


@pytest.fixture
def two_months(api, stocked):  # noqa: F811
    """January: 2 shipped, 1 back. February (from 00:30 Taipei on the 1st): 2 shipped, 0."""
    jan = shipped_order(api, [{"sku": "TEA-001", "quantity": 2}])
    feb = shipped_order(api, [{"sku": "TEA-001", "quantity": 2}])
    _received(api.db, jan, 1)
    _placed(api.db, jan, datetime(2026, 1, 15, 4, 0, tzinfo=UTC))
    _placed(api.db, feb, datetime(2026, 1, 31, 16, 30, tzinfo=UTC))
    return jan, feb


def test_the_whole_report_and_a_range_of_order_dates(api, two_months):
    r = api.get(URL, role="viewer")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["shipped"], body["returned"], body["rate"]) == (4, 1, "25.0")
    assert body["from"] is None and body["to"] is None
    assert body["by_reason"] == [{"key": "defective", "returned": 1, "shipped": 4, "rate": "25.0"}]
    jan = api.get(URL, params={"from": "2026-01-01", "to": "2026-01-31"}, role="warehouse").json()
    assert (jan["from"], jan["to"], jan["shipped"], jan["returned"], jan["rate"]) == (
        "2026-01-01",
        "2026-01-31",
        2,
        1,
        "50.0",
    )
    assert jan["by_carrier"] == [{"key": "tcat", "returned": 1, "shipped": 2, "rate": "50.0"}]
    feb = api.get(URL, params={"from": "2026-02-01"}).json()
    assert (feb["shipped"], feb["returned"], feb["rate"]) == (2, 0, "0.0")
    none = api.get(URL, params={"to": "2025-12-31"}).json()
    assert (none["shipped"], none["rate"], none["by_sku"]) == (0, None, [])
    wide = api.get(URL, params={"from": "0001-01-01", "to": "9999-12-31"}).json()
    assert wide["shipped"] == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"to": "soon"}, "to"),
        ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),
    ],
)
def test_bad_dates_are_422_problems_naming_the_field(api, two_months, params, field):
    r = api.get(URL, params=params)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "validation_error"
    assert [e["field"] for e in problem["errors"]] == [field]


def test_a_request_without_a_valid_token_is_401(api, two_months):
    r = api.client.get(URL)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    r = api.client.get(URL, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


def test_the_openapi_document_describes_the_report_and_its_errors(api):
    op = api.client.get("/openapi.json").json()["paths"][URL]["get"]
    assert {p["name"] for p in op["parameters"]} == {"from", "to"}
    assert {"200", "401", "403", "422"} <= set(op["responses"])
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/ReturnRates")
