"""``GET /api/v1/customers?q=`` and the order's ``customer.id`` (shared/CONTRACT.md,
"Routing, pickup, risk, personal data"): one phone matcher for the customers and the orders,
the contract's list conventions, and emails and phones masked for warehouse and viewer."""

from __future__ import annotations

import pytest

from tests.builders import TEA_SHOP, Buyer, order_body, post_order

stocked = TEA_SHOP.fixture()

CHEN = Buyer("chen@example.com", "陳家豪", "+886912345678")
LI = Buyer("li@example.com", "李娜", "+8613812345678")
HO = Buyer("ho@example.com", "何美玲", "+85291234567")


@pytest.fixture
def placed(stocked, api):
    return {
        b.name: post_order(api, order_body([{"sku": "TEA-001", "quantity": 1}], buyer=b))
        for b in (CHEN, LI, HO)
    }


@pytest.mark.parametrize("q", ["0912-345-678", "0912345678", "+886912345678", "+886 912 345 678"])
def test_a_phone_as_people_type_it_finds_the_customer_and_their_orders_alike(placed, api, q):
    r = api.get("/api/v1/customers", params={"q": q})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [c["name"] for c in items] == ["陳家豪"]
    assert items[0]["id"] == placed["陳家豪"]["customer"]["id"]
    assert items[0]["phone"] == "+886912345678" and items[0]["orders"] == 1
    orders = api.get("/api/v1/orders", params={"q": q}).json()["items"]
    assert [o["customer"]["id"] for o in orders] == [items[0]["id"]]


@pytest.mark.parametrize("q", ["ＣＨＥＮ＠ｅｘａｍｐｌｅ", "Ｃｈｅｎ", "chen@EXAMPLE.com"])
def test_a_full_width_or_otherwise_cased_email_finds_the_customer_and_orders(placed, api, q):
    """Emails and the term are compared after NFKC and case folding."""
    items = api.get("/api/v1/customers", params={"q": q}).json()["items"]
    assert [c["name"] for c in items] == ["陳家豪"]
    orders = api.get("/api/v1/orders", params={"q": q}).json()["items"]
    assert [o["customer"]["id"] for o in orders] == [items[0]["id"]]


@pytest.mark.parametrize("q", ["ann lin", "ＡＮＮ", "Ann Ｌｉｎ"])
def test_a_name_typed_full_width_or_half_width_finds_the_customer_written_either_way(
    stocked, api, q
):
    """Names are stored as typed and compared after NFKC and case folding."""
    ann = Buyer("ann@example.com", "ＡＮＮ ＬＩＮ", "+886911111111")
    wide = post_order(api, order_body([{"sku": "TEA-001", "quantity": 1}], buyer=ann))
    post_order(api, order_body([{"sku": "TEA-001", "quantity": 1}], buyer=CHEN))
    items = api.get("/api/v1/customers", params={"q": q}).json()["items"]
    assert [c["id"] for c in items] == [wide["customer"]["id"]]
    assert items[0]["name"] == "ＡＮＮ ＬＩＮ"  # kept as it was typed


def test_the_orders_customer_carries_its_id_in_every_answer(placed, api):
    order = placed["李娜"]
    assert order["customer"]["id"].isdecimal()
    again = api.get(f"/api/v1/orders/{order['number']}").json()
    assert again["customer"] == {**order["customer"], "id": order["customer"]["id"]}
    assert again["customer"]["email"] == "li@example.com"


def test_the_list_is_newest_first_and_paged_as_every_list(placed, api):
    first = api.get("/api/v1/customers", params={"limit": 2}).json()
    assert [c["name"] for c in first["items"]] == ["何美玲", "李娜"]
    assert first["next_cursor"]
    rest = api.get("/api/v1/customers", params={"limit": 2, "cursor": first["next_cursor"]})
    assert [c["name"] for c in rest.json()["items"]] == ["陳家豪"]
    assert rest.json()["next_cursor"] is None
    for bad in (0, 201):
        r = api.get("/api/v1/customers", params={"limit": bad})
        assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert api.get("/api/v1/customers", params={"q": "李"}).json()["items"][0]["name"] == "李娜"
    assert api.get("/api/v1/customers", params={"q": "nobody"}).json()["items"] == []


@pytest.mark.parametrize("role", ["warehouse", "viewer"])
def test_warehouse_and_viewer_see_emails_and_phones_masked(placed, api, role):
    items = api.get("/api/v1/customers", params={"q": "0912345678"}, role=role).json()["items"]
    assert items[0]["email"] == "c***@example.com"
    assert items[0]["phone"] == "+886******678"
    full = api.get("/api/v1/customers", params={"q": "0912345678"}, role="customer_service")
    assert full.json()["items"][0]["email"] == "chen@example.com"


def test_the_customers_page_finds_a_phone_as_people_type_it(placed, app):
    from fastapi.testclient import TestClient

    from dingdan.services.access import accounts
    from tests.builders import ADMIN
    from tests.pages.conftest import Browser

    accounts.create_user(
        placed and app.state.db,
        ADMIN,
        email="cs@example.com",
        role="customer_service",
        password="correct-horse-battery",
    )
    with TestClient(app) as client:
        b = Browser(client)
        assert b.sign_in("cs@example.com").status_code == 303
        for q in ("0912-345-678", "0912345678", "+886912345678"):
            html = b.get("/customers", params={"q": q}).text
            assert "陳家豪" in html and "李娜" not in html, q
