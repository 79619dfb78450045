"""Each role sees the actions it may take, and a forged request for another gets 403."""

from __future__ import annotations

import pytest

from dingdan.services.orders import queries
from dingdan.services.payments import transactions
from tests.builders import ADMIN

ACTION_FORMS = {
    "payment-form": "finance",  # and customer service (it records the bank transfers)
    "ship-form": "warehouse",
    "cancel-form": "customer_service",
    "note-form": "customer_service",
}
# role → the forms of the order page it may use on the shop's unpaid bank-transfer order
# (shipping is not offered before it is paid: the reason is shown instead, see
# test_staff_back_office.py).
ALLOWED = {
    "admin": {"payment-form", "cancel-form", "note-form"},
    "manager": {"payment-form", "cancel-form", "note-form"},
    "customer_service": {"payment-form", "cancel-form", "note-form"},
    "warehouse": set(),
    "finance": {"payment-form"},
    "viewer": set(),
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_the_order_page_shows_only_the_actions_of_the_role(shop, browser, role):
    html = browser(role).get(f"/orders/{shop['order']['number']}").text
    for form_id in ACTION_FORMS:
        assert (f'id="{form_id}"' in html) == (form_id in ALLOWED[role]), form_id


@pytest.mark.parametrize("role", ["admin", "manager", "warehouse"])
def test_a_paid_order_offers_shipping_to_the_roles_that_fulfil(shop, browser, db, role):
    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": shop["order"]["total"]})
    assert 'id="ship-form"' in browser(role).get(f"/orders/{number}").text


def test_warehouse_cannot_record_a_payment_and_a_forged_post_gets_403(shop, browser, db):
    number = shop["order"]["number"]
    wh = browser("warehouse")
    assert f'action="/orders/{number}/payments"' not in wh.get(f"/orders/{number}").text
    r = wh.post(f"/orders/{number}/payments", {"amount": "760.00"})
    assert r.status_code == 403
    assert queries.get_order(db, number)["paid"] == "0.00"


def test_finance_records_a_payment(shop, browser, db):
    number = shop["order"]["number"]
    r = browser("finance").post(f"/orders/{number}/payments", {"amount": "760.00"})
    assert r.status_code == 303 and r.headers["location"] == f"/orders/{number}"
    order = queries.get_order(db, number)
    assert order["paid"] == "760.00" and order["financial_status"] == "paid"


@pytest.mark.parametrize(
    ("role", "path", "data"),
    [
        ("finance", "/orders/{n}/cancel", {"reason": "forged"}),
        ("finance", "/orders/{n}/shipments", {"carrier": "tcat", "location": "TPE"}),
        ("warehouse", "/orders/{n}/notes", {"note": "forged"}),
        ("customer_service", "/orders/{n}/refunds", {"amount": "1.00", "reason": "forged"}),
        (
            "customer_service",
            "/inventory/receive",
            {"location": "TPE", "sku": "TEA-001", "quantity": "5"},
        ),
        ("viewer", "/orders/{n}/notes", {"note": "forged"}),
        ("viewer", "/products", {"sku": "NEW-1", "name": "x", "price": "1", "currency": "TWD"}),
        (
            "viewer",
            "/inventory/adjust",
            {"location": "TPE", "sku": "TEA-001", "delta": "-1", "reason": "lost"},
        ),
        ("warehouse", "/settings/locations", {"code": "X", "name": "x", "country": "TW"}),
        (
            "manager",
            "/settings/users",
            {"email": "new@example.com", "role": "admin", "password": "long-enough-pw"},
        ),
        ("finance", "/warehouse/TPE/picked", {"orders": "{n}"}),
    ],
)
def test_a_forged_request_for_an_action_of_another_role_gets_403(shop, browser, role, path, data):
    n = shop["order"]["number"]
    data = {k: v.replace("{n}", n) for k, v in data.items()}
    r = browser(role).post(path.replace("{n}", n), data)
    assert r.status_code == 403, r.text
    assert "Not allowed" in r.text


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("viewer", "/warehouse", 403),
        ("warehouse", "/warehouse", 200),
        ("viewer", "/audit", 403),
        ("customer_service", "/audit", 403),
        ("manager", "/audit", 200),
        ("admin", "/audit", 200),
        ("viewer", "/settings", 403),
        ("manager", "/settings", 200),
        ("manager", "/settings/users", 403),
        ("admin", "/settings/users", 200),
        ("viewer", "/products/new", 403),
        ("warehouse", "/products/new", 403),  # a new product's price needs `pricing`
        ("manager", "/products/new", 200),
    ],
)
def test_roles_decide_the_pages(shop, browser, role, path, status):
    assert browser(role).get(path).status_code == status


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_the_menu_shows_only_the_pages_of_the_role(shop, browser, role):
    html = browser(role).get("/").text
    assert 'href="/warehouse"' not in html and 'href="/audit"' not in html
    assert 'href="/settings"' not in html
    assert 'href="/orders"' in html and 'href="/inventory"' in html


def test_warehouse_picks_packs_with_a_wrong_scan_refused_and_ships(shop, browser, db):
    n = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, n, {"amount": "760.00"})
    wh = browser("warehouse")
    html = wh.get("/warehouse?location=TPE").text
    assert "TEA-001" in html and n in html
    assert wh.post("/warehouse/TPE/picked", {"orders": n}).status_code == 303
    r = wh.post(f"/warehouse/pack/{n}/scan", {"location": "TPE", "code": "MUG-001"})
    assert "Refused" in r.text and "MUG-001 is not in this order." in r.text
    assert r.text.count('name="scans"') == 0
    r = wh.post(f"/warehouse/pack/{n}/scan", {"location": "TPE", "code": "4710000000017"})
    assert "1 / 2" in r.text
    r = wh.post(
        f"/warehouse/pack/{n}/scan",
        {"location": "TPE", "code": "TEA-001", "scans": "4710000000017"},
    )
    assert "Every item is scanned." in r.text
    r = wh.post(f"/warehouse/pack/{n}", {"location": "TPE", "scans": ["4710000000017", "TEA-001"]})
    assert r.status_code == 303
    assert 'id="ship-form"' in wh.get(f"/warehouse/pack/{n}?location=TPE").text
    r = wh.post(
        f"/orders/{n}/shipments",
        {"location": "TPE", "carrier": "hct", "tracking_number": "HCT12345678"},
    )
    assert r.status_code == 303
    assert queries.get_order(db, n)["fulfillment_status"] == "fulfilled"
    shipped = queries.shipments_of(db, n)["items"][0]
    r = wh.post(f"/shipments/{shipped['id']}/delivered", {"order": n})
    assert r.status_code == 303
    assert queries.get_order(db, n)["status"] == "completed"


def test_a_refused_action_shows_a_readable_message_not_an_error_page(shop, browser, db):
    n = shop["order"]["number"]
    wh = browser("warehouse")
    r = wh.post(
        f"/orders/{n}/shipments", {"location": "TPE", "carrier": "tcat"}, follow_redirects=True
    )
    assert r.status_code == 200
    assert "The order is not paid in full" in r.text
    fin = browser("finance")
    r = fin.post(f"/orders/{n}/payments", {"amount": "9999.00"})
    assert r.status_code == 422 and "is more than the balance due (760.00)" in r.text
    r = fin.post(f"/orders/{n}/payments", {"amount": "abc"})
    assert r.status_code == 422 and "must be a decimal string such as" in r.text


def test_customer_service_cancels_and_adds_a_note(shop, browser, db):
    n = shop["order"]["number"]
    cs = browser("customer_service")
    assert cs.post(f"/orders/{n}/notes", {"note": "客人來電詢問"}).status_code == 303
    assert cs.post(f"/orders/{n}/cancel", {"reason": "客人取消"}).status_code == 303
    assert queries.get_order(db, n)["status"] == "cancelled"
    html = cs.get(f"/orders/{n}").text
    assert "客人來電詢問" in html and 'id="cancel-form"' not in html


def test_warehouse_receives_adjusts_and_transfers_stock(shop, browser, db):
    from dingdan.services.inventory import stock as inventory

    wh = browser("warehouse")
    assert (
        wh.post(
            "/inventory/receive", {"location": "TXG", "sku": "MUG-001", "quantity": "7"}
        ).status_code
        == 303
    )
    wh.post(
        "/inventory/adjust",
        {"location": "TXG", "sku": "MUG-001", "delta": "-2", "reason": "damaged"},
    )
    wh.post(
        "/inventory/transfer",
        {"from_location": "TXG", "to_location": "TPE", "sku": "MUG-001", "quantity": "3"},
    )
    stock = inventory.stock_of(db, "MUG-001")
    assert {loc["location"]: loc["on_hand"] for loc in stock["locations"]} == {"TPE": 8, "TXG": 2}
    r = wh.post(
        "/inventory/adjust",
        {"location": "TXG", "sku": "MUG-001", "delta": "x", "reason": "lost"},
        follow_redirects=True,
    )
    assert "must be a whole number" in r.text
    html = wh.get("/inventory/MUG-001").text
    assert "Transfer in" in html and "damaged" in html


def test_a_manager_creates_a_product_and_warehouse_edits_all_but_its_price(shop, browser, db):
    from dingdan.services.catalog import products

    mgr = browser("manager")
    r = mgr.post(
        "/products",
        {
            "sku": "SOAP-1",
            "name": "手工皂",
            "price": "180",
            "currency": "TWD",
            "low_stock_threshold": "5",
            "active": "1",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/products/SOAP-1"
    wh = browser("warehouse")
    r = wh.post(
        "/products/SOAP-1",
        {"name": "苦茶油手工皂", "price": "180.00", "currency": "TWD", "active": ["0", "1"]},
    )
    assert r.status_code == 303
    p = products.get_product(db, "SOAP-1")
    assert (p["name"], p["price"], p["active"]) == ("苦茶油手工皂", "180.00", True)
    r = mgr.post("/products", {"sku": "SOAP-1", "name": "dup", "price": "1", "currency": "TWD"})
    assert r.status_code == 409 and "This conflicts with data already stored." in r.text


def test_admin_creates_a_user_and_sets_a_role(shop, browser, db):
    from dingdan.services.access import accounts

    admin = browser("admin")
    r = admin.post(
        "/settings/users",
        {
            "email": "new@example.com",
            "role": "finance",
            "password": "a-long-password",
            "name": "新同事",
        },
    )
    assert r.status_code == 303
    uid = next(u["id"] for u in accounts.list_users(db) if u["email"] == "new@example.com")
    r = admin.post(f"/settings/users/{uid}", {"do": "role", "role": "manager"})
    assert r.status_code == 303
    assert next(u for u in accounts.list_users(db) if u["id"] == uid)["role"] == "manager"
    r = admin.post("/settings/users", {"email": "bad", "role": "finance", "password": "short"})
    assert r.status_code == 422 and "Please correct the fields below." in r.text
