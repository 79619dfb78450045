"""Each role's permissions: the defaults of a shop of three (the packer does not set prices,
customer service records the bank transfers it is told of), and an admin's changes in
settings, stored as differences from the role table."""

from __future__ import annotations

from sqlalchemy import select

from dingdan.db.tables import Setting
from dingdan.services.catalog import products
from dingdan.services.orders import queries

PATCH_PRICE = {"price": "399.00"}


def test_warehouse_may_not_change_a_price_by_default_but_edits_the_rest(shop, api, db):
    r = api.patch(
        "/api/v1/products/TEA-001", role="warehouse", json={**PATCH_PRICE, "currency": "TWD"}
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert products.get_product(db, "TEA-001")["price"] == "350.00"
    ok = api.patch(
        "/api/v1/products/TEA-001",
        role="warehouse",
        json={"barcode": "4710000000999", "price": "350.00", "currency": "TWD"},
    )
    assert ok.status_code == 200, ok.text  # the same price sent again is not a change
    new = api.post(
        "/api/v1/products",
        role="warehouse",
        json={"sku": "NEW-1", "name": "x", "price": "1.00", "currency": "TWD"},
    )
    assert new.status_code == 403
    assert (
        api.patch(
            "/api/v1/products/TEA-001", role="manager", json={**PATCH_PRICE, "currency": "TWD"}
        ).status_code
        == 200
    )


def test_the_product_page_shows_the_price_read_only_to_warehouse(shop, browser, db):
    wh = browser("warehouse")
    html = wh.get("/products/TEA-001").text
    assert 'id="price"' in html and "readonly" in html.split('id="price"')[1].split(">")[0]
    assert 'href="/products/new"' not in wh.get("/products").text
    r = wh.post(
        "/products/TEA-001",
        {
            "name": "凍頂烏龍茶",
            "price": "1.00",
            "currency": "TWD",
            "tax_class": "standard",
            "active": "1",
        },
    )
    assert r.status_code == 403
    assert products.get_product(db, "TEA-001")["price"] == "350.00"


def test_customer_service_records_a_bank_transfer_but_not_a_refund(shop, api, browser, db):
    number = shop["order"]["number"]
    cs = browser("customer_service")
    assert 'id="payment-form"' in cs.get(f"/orders/{number}").text
    r = cs.post(f"/orders/{number}/payments", {"amount": "760.00", "method": "bank_transfer"})
    assert r.status_code == 303
    assert queries.get_order(db, number)["financial_status"] == "paid"
    refund = api.post(
        f"/api/v1/orders/{number}/refunds",
        role="customer_service",
        json={"amount": "1.00", "reason": "x"},
    )
    assert refund.status_code == 403


def _stored(db):
    return db.read(
        lambda c: c.execute(select(Setting.value).where(Setting.key == "role_permissions")).scalar()
    )


def test_an_admin_changes_a_roles_permissions_stored_as_differences(shop, api, browser, db):
    admin = browser("admin")
    page = admin.get("/settings/permissions")
    assert page.status_code == 200 and 'id="role-warehouse"' in page.text
    wh_defaults = [
        "read",
        "manage_catalog",
        "manage_stock",
        "fulfil",
        "receive_returns",
        "manage_purchasing",
    ]
    r = admin.post(
        "/settings/permissions", {"role": "warehouse", "actions": [*wh_defaults, "pricing"]}
    )
    assert r.status_code == 303
    cs_without_payments = ["read", "manage_orders", "manage_returns", "export_customers"]
    admin.post(
        "/settings/permissions", {"role": "customer_service", "actions": cs_without_payments}
    )
    assert _stored(db) == {
        "warehouse": {"pricing": True},
        "customer_service": {"record_payments": False},
    }
    assert (
        api.patch(
            "/api/v1/products/TEA-001", role="warehouse", json={**PATCH_PRICE, "currency": "TWD"}
        ).status_code
        == 200
    )
    number = shop["order"]["number"]
    cs = browser("customer_service")
    assert 'id="payment-form"' not in cs.get(f"/orders/{number}").text
    assert cs.post(f"/orders/{number}/payments", {"amount": "1.00"}).status_code == 403
    assert (
        api.post(
            f"/api/v1/orders/{number}/payments", role="customer_service", json={"amount": "1.00"}
        ).status_code
        == 403
    )
    shown = admin.get("/settings/permissions").text
    assert shown.count('class="badge s-pending">') >= 2  # changed roles are marked
    admin.post("/settings/permissions", {"role": "warehouse", "do": "reset"})
    admin.post("/settings/permissions", {"role": "customer_service", "do": "reset"})
    assert _stored(db) is None  # back to the table: nothing stored
    assert (
        api.patch(
            "/api/v1/products/TEA-001", role="warehouse", json={"price": "1.00", "currency": "TWD"}
        ).status_code
        == 403
    )


def test_no_setting_takes_reading_or_the_admins_user_management_away(shop, browser, db):
    admin = browser("admin")
    admin.post("/settings/permissions", {"role": "admin", "actions": ["manage_orders"]})
    admin.post("/settings/permissions", {"role": "viewer", "actions": []})
    assert admin.get("/settings/permissions").status_code == 200
    assert browser("viewer").get("/orders").status_code == 200
    # Every permission but the kept ones (and the one asked for) is stored as taken away.
    from dingdan.domain.access.roles import Action

    taken = {a.value for a in Action} - {"read", "manage_users", "manage_orders"}
    assert set(_stored(db)["admin"]) == taken


def test_only_an_admin_sets_permissions_and_bad_input_changes_nothing(shop, browser, db):
    assert browser("manager").get("/settings/permissions").status_code == 403
    manager = browser("manager")
    r = manager.post("/settings/permissions", {"role": "manager", "actions": ["manage_users"]})
    assert r.status_code == 403
    admin = browser("admin")
    bad = admin.post("/settings/permissions", {"role": "boss", "actions": ["read"]})
    assert bad.status_code == 422
    bad = admin.post("/settings/permissions", {"role": "viewer", "actions": ["fly"]})
    assert bad.status_code == 422
    assert _stored(db) is None
