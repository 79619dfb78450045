"""Money and stock that could leak (issue 19, points 1 and 5): reshipments limited to what
shipped, return refunds capped at the returned goods' value, authorizations within the
total, no stock into a deactivated location, one product per barcode."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from dingdan.db.tables import Product
from dingdan.domain.shared.errors import Conflict, ValidationFailed
from dingdan.services.after_sales import disputes
from dingdan.services.inventory import stock as inventory
from tests.builders import ADMIN, RETURNS_SHOP, order_body, post_order, shipped_order
from tests.helpers import run_threads

stocked = RETURNS_SHOP.fixture()


def dispute(api, n):
    r = api.post(f"/api/v1/orders/{n}/disputes", json={"type": "lost"}, role="customer_service")
    assert r.status_code == 201, r.text
    return r.json()["id"]


def reship(api, n, lines=None):
    body = {"status": "resolved", "resolution": "reshipment"}
    if lines is not None:
        body["lines"] = lines
    return api.post(f"/api/v1/disputes/{dispute(api, n)}/transition", json=body)


def fields(r):
    return [(e["field"], e["code"]) for e in r.json()["errors"]]


def returned_and_received(api, n, sku="TEA-001", quantity=1):
    r = api.post(
        f"/api/v1/orders/{n}/returns",
        role="customer_service",
        json={"lines": [{"sku": sku, "quantity": quantity, "reason": "defective"}]},
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert api.post(f"/api/v1/returns/{rid}/approve").status_code == 200
    r = api.post(
        f"/api/v1/returns/{rid}/receive",
        role="warehouse",
        json={
            "location": "TPE",
            "lines": [{"sku": sku, "quantity": quantity, "condition": "resellable"}],
        },
    )
    assert r.status_code == 200, r.text
    return rid


# ---- 1. reshipments ----------------------------------------------------------------------


def test_a_reshipment_sends_only_what_the_order_shipped(api, stocked):
    n = shipped_order(api)  # 2 × TEA-001
    r = reship(api, n, [{"sku": "POT-001", "quantity": 5}])
    assert r.status_code == 422 and fields(r) == [("lines[0].sku", "not_on_order")]
    r = reship(api, n, [{"sku": "TEA-001", "quantity": 3}])
    assert r.status_code == 422 and fields(r) == [("lines[0].quantity", "exceeds_reshippable")]
    orders_before = len(api.get("/api/v1/orders").json()["items"])
    assert orders_before == 1  # nothing refused left an order behind
    assert inventory.verify(stocked) == []


def test_what_was_reshipped_is_not_reshipped_again(api, stocked):
    n = shipped_order(api)
    first = reship(api, n, [{"sku": "TEA-001", "quantity": 1}])
    assert first.status_code == 200, first.text
    again = reship(api, n, [{"sku": "TEA-001", "quantity": 2}])
    assert again.status_code == 422 and fields(again) == [
        ("lines[0].quantity", "exceeds_reshippable")
    ]
    rest = reship(api, n)  # the one unit left
    assert rest.status_code == 200, rest.text
    new = api.get(f"/api/v1/orders/{rest.json()['replacement_order']}").json()
    assert [(ln["sku"], ln["quantity"]) for ln in new["lines"]] == [("TEA-001", 1)]
    none_left = reship(api, n)
    assert none_left.status_code == 422 and fields(none_left) == [("lines", "nothing_to_reship")]


def test_two_reshipments_resolved_at_once_send_the_shipped_units_once(api, stocked):
    n = shipped_order(api)  # 2 × TEA-001
    ids = [dispute(api, n) for _ in range(4)]
    body = {"status": "resolved", "resolution": "reshipment"}

    def resolve(i):
        disputes.transition(stocked, ADMIN, ids[i], body)

    errors = run_threads(4, resolve)
    assert len(errors) == 3, errors
    assert all(isinstance(e, ValidationFailed) for e in errors), errors
    assert {e.errors[0].code for e in errors} == {"nothing_to_reship"}
    orders = api.get("/api/v1/orders").json()["items"]
    assert len(orders) == 2  # the original and one replacement of 2 units
    assert sum(ln["quantity"] for o in orders for ln in o["lines"] if o["number"] != n) == 2
    assert inventory.verify(stocked) == []


def test_units_refunded_on_a_return_are_not_reshipped(api, stocked):
    n = shipped_order(api)
    rid = returned_and_received(api, n)
    assert api.post(f"/api/v1/returns/{rid}/refund", role="finance").status_code == 200
    r = reship(api, n, [{"sku": "TEA-001", "quantity": 2}])
    assert r.status_code == 422 and fields(r) == [("lines[0].quantity", "exceeds_reshippable")]
    assert reship(api, n, [{"sku": "TEA-001", "quantity": 1}]).status_code == 200


def test_an_order_refunded_in_full_has_nothing_to_reship(api, stocked):
    n = shipped_order(api)
    o = api.get(f"/api/v1/orders/{n}").json()
    r = api.post(
        f"/api/v1/orders/{n}/refunds",
        role="finance",
        json={"amount": o["paid"], "reason": "lost in transit"},
    )
    assert r.status_code == 201, r.text
    r = reship(api, n)
    assert r.status_code == 422 and fields(r) == [("lines", "nothing_to_reship")]


# ---- 5. return refunds, authorizations, locations, barcodes ------------------------------


def test_a_return_refund_is_capped_at_the_returned_goods_and_their_share_of_shipping(api, stocked):
    n = shipped_order(api)  # 2 × 350.00 + 60.00 shipping, prices include tax
    rid = returned_and_received(api, n)
    # 350.00 of goods and half the shipping (they are half the goods' value): 380.00
    r = api.post(f"/api/v1/returns/{rid}/refund", role="finance", json={"amount": "380.01"})
    assert r.status_code == 422 and fields(r) == [("amount", "exceeds_return_value")]
    assert "380.00" in r.json()["errors"][0]["message"]
    r = api.post(
        f"/api/v1/returns/{rid}/refund",
        role="finance",
        json={"amount": "700.00", "reason": "goodwill"},
    )
    assert r.status_code == 403
    assert api.get(f"/api/v1/orders/{n}").json()["refunded"] == "0.00"
    r = api.post(f"/api/v1/returns/{rid}/refund", role="finance", json={"amount": "380.00"})
    assert r.status_code == 200, r.text
    assert api.get(f"/api/v1/orders/{n}").json()["refunded"] == "380.00"


def test_a_manager_may_refund_more_than_the_returned_goods_with_a_reason(api, stocked):
    n = shipped_order(api)
    rid = returned_and_received(api, n)
    r = api.post(f"/api/v1/returns/{rid}/refund", role="manager", json={"amount": "700.00"})
    assert r.status_code == 422 and fields(r) == [("amount", "exceeds_return_value")]
    r = api.post(
        f"/api/v1/returns/{rid}/refund",
        role="manager",
        json={"amount": "700.00", "reason": "both cups arrived broken"},
    )
    assert r.status_code == 200, r.text
    assert api.get(f"/api/v1/orders/{n}").json()["refunded"] == "700.00"


def test_a_policy_without_shipping_refunds_caps_at_the_goods(api, stocked):
    r = api.request("PUT", "/api/v1/settings/return-policy", json={"refund_shipping": "none"})
    assert r.status_code == 200 and r.json()["refund_shipping"] == "none", r.text
    n = shipped_order(api)
    rid = returned_and_received(api, n)
    r = api.post(f"/api/v1/returns/{rid}/refund", role="finance", json={"amount": "350.01"})
    assert r.status_code == 422 and fields(r) == [("amount", "exceeds_return_value")]
    bad = api.request("PUT", "/api/v1/settings/return-policy", json={"refund_shipping": "half"})
    assert bad.status_code == 422


def test_two_authorizations_beyond_the_order_total_are_refused(api, stocked):
    o = post_order(api, order_body())  # 760.00
    url = f"/api/v1/orders/{o['number']}/authorizations"
    first = api.post(url, role="finance", json={"amount": "500.00"})
    assert first.status_code == 201, first.text
    second = api.post(url, role="finance", json={"amount": "500.00"})
    assert second.status_code == 422
    assert fields(second) == [("amount", "exceeds_open_authorizations")]
    assert api.post(url, role="finance", json={"amount": "260.00"}).status_code == 201
    void = api.post(f"/api/v1/payments/{first.json()['id']}/void", role="finance")
    assert void.status_code == 200, void.text
    assert api.post(url, role="finance", json={"amount": "500.00"}).status_code == 201


def test_stock_is_not_received_into_a_deactivated_location(api, stocked):
    assert api.patch("/api/v1/locations/KHH", json={"active": False}).status_code == 200
    r = api.post(
        "/api/v1/inventory/receipts",
        role="warehouse",
        json={"location": "KHH", "lines": [{"sku": "TEA-001", "quantity": 5}]},
    )
    assert r.status_code == 422 and fields(r) == [("location", "inactive_location")]
    r = api.post(
        "/api/v1/inventory/transfers",
        role="warehouse",
        json={
            "from_location": "TPE",
            "to_location": "KHH",
            "lines": [{"sku": "TEA-001", "quantity": 1}],
        },
    )
    assert r.status_code == 422 and fields(r) == [("to_location", "inactive_location")]
    khh = [
        x
        for x in api.get("/api/v1/inventory/TEA-001").json()["locations"]
        if x["location"] == "KHH"
    ]
    assert khh == [] or khh[0]["on_hand"] == 0


def test_two_products_cannot_share_a_barcode(api, stocked):
    body = {
        "sku": "MUG-001",
        "name": "Mug",
        "price": "200.00",
        "currency": "TWD",
        "barcode": "4710000000017",
    }
    assert api.post("/api/v1/products", json=body).status_code == 201
    r = api.post("/api/v1/products", json=body | {"sku": "MUG-002"})
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert fields(r) == [("barcode", "barcode_taken")]
    r = api.patch("/api/v1/products/TEA-001", json={"barcode": "4710000000017", "price": "350.00"})
    assert r.status_code == 409 and fields(r) == [("barcode", "barcode_taken")]
    # The product keeps its own barcode, and products without one are many.
    assert (
        api.patch(
            "/api/v1/products/MUG-001", json={"barcode": "4710000000017", "price": "350.00"}
        ).status_code
        == 200
    )
    assert api.get("/api/v1/products/TEA-001").json()["barcode"] is None


def test_the_database_holds_one_product_per_barcode(db):
    def add(sku):
        return lambda c: c.execute(
            insert(Product).values(
                sku=sku, name=sku, price_minor=100, currency="TWD", barcode="X-1"
            )
        )

    db.write(add("A"))
    with pytest.raises(Conflict) as caught:
        db.write(add("B"))
    assert [(e.field, e.code) for e in caught.value.errors] == [("barcode", "barcode_taken")]


def test_an_import_refuses_a_barcode_another_product_holds(stocked):
    from dingdan.services.catalog import imports
    from tests.builders import product

    product(stocked, "MUG-001", barcode="4710000000017")
    rows = [
        {
            "sku": "MUG-002",
            "name": "Mug 2",
            "price": "200",
            "currency": "TWD",
            "barcode": "4710000000017",
        },
        {
            "sku": "MUG-003",
            "name": "Mug 3",
            "price": "200",
            "currency": "TWD",
            "barcode": "4710000000031",
        },
        {
            "sku": "MUG-004",
            "name": "Mug 4",
            "price": "200",
            "currency": "TWD",
            "barcode": "4710000000031",
        },
        {
            "sku": "MUG-001",
            "name": "Mug 1",
            "price": "210",
            "currency": "TWD",
            "barcode": "4710000000017",
        },
    ]
    result = imports.import_products(stocked, ADMIN, rows)
    assert [(e.row, e.code) for e in result.errors] == [(2, "barcode_taken"), (4, "barcode_taken")]
    assert result.created == 0
    result = imports.import_products(stocked, ADMIN, rows, skip_bad=True)
    assert (result.created, result.updated, result.skipped) == (1, 1, 2)


def test_migration_0014_leaves_a_shared_barcode_on_the_oldest_product(db_url):
    from alembic import command
    from sqlalchemy import create_engine, select

    from dingdan import bootstrap
    from dingdan.db.tables import AuditEntry

    config = bootstrap.alembic_config(db_url)
    command.downgrade(config, "0013")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for sku, barcode in (("A", "X-1"), ("B", "X-1"), ("C", ""), ("D", ""), ("E", "X-2")):
            conn.execute(
                insert(Product).values(
                    sku=sku, name=sku, price_minor=100, currency="TWD", barcode=barcode
                )
            )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        codes = {s: b for s, b in conn.execute(select(Product.sku, Product.barcode))}
        cleared = conn.execute(
            select(AuditEntry.entity_id, AuditEntry.action, AuditEntry.before)
        ).all()
    engine.dispose()
    assert codes == {"A": "X-1", "B": None, "C": None, "D": None, "E": "X-2"}
    assert [tuple(r) for r in cleared] == [("B", "barcode_cleared", {"barcode": "X-1"})]
