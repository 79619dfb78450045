"""Emails and phones masked by role in the order API, and every read of one order in the
audit trail (shared/CONTRACT.md, "Routing, pickup, risk, personal data"; issue 26)."""

from __future__ import annotations

import pytest

from tests.builders import TEA_SHOP, post_order

stocked = TEA_SHOP.fixture()

FULL = {"email": "a@example.com", "phone": "+886912345678"}
MASKED = {"email": "a***@example.com", "phone": "+886******678"}


@pytest.mark.parametrize(
    ("role", "customer", "address_phone"),
    [
        ("admin", FULL, FULL["phone"]),
        ("manager", FULL, FULL["phone"]),
        ("customer_service", FULL, FULL["phone"]),
        ("finance", FULL, FULL["phone"]),
        ("warehouse", MASKED, FULL["phone"]),  # labels need the address's phone
        ("viewer", MASKED, MASKED["phone"]),
    ],
)
def test_each_role_sees_the_order_as_the_contract_says(api, stocked, role, customer, address_phone):
    number = post_order(api)["number"]
    one = api.get(f"/api/v1/orders/{number}", role=role)
    assert one.status_code == 200, one.text
    listed = api.get("/api/v1/orders", role=role).json()["items"]
    # The search finds by the full value whatever the role sees.
    found = api.get("/api/v1/orders", params={"q": FULL["email"]}, role=role).json()["items"]
    for order in (one.json(), *listed, *found):
        assert {k: order["customer"][k] for k in ("email", "phone")} == customer
        assert order["customer"]["name"] == "王小明"
        assert order["shipping_address"]["phone"] == address_phone
        assert order["shipping_address"]["line1"] == "信義路五段7號"
    assert [o["number"] for o in found] == [number]


def test_every_read_of_one_order_is_audited_and_lists_are_not(api, stocked):
    number = post_order(api)["number"]
    api.get("/api/v1/orders", role="manager")
    api.get(f"/api/v1/orders/{number}", role="customer_service")
    api.get(f"/api/v1/orders/{number}", role="warehouse")
    trail = api.get("/api/v1/audit", params={"resource": f"order:{number}", "action": "view"})
    assert trail.status_code == 200, trail.text
    views = trail.json()["items"]
    assert [v["actor"].rpartition("test-")[2] for v in views] == ["warehouse", "customer_service"]
    assert {v["action"] for v in views} == {"view"}
    assert all(v["resource"] == f"order:{number}" for v in views)
    assert "a@example.com" not in trail.text  # ids only, never the data itself
