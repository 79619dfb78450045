"""The contract's order flows through HTTP."""

from __future__ import annotations

from dingdan.services.inventory import stock as inventory
from tests.builders import TEA_SHOP, order_body, receive

stocked = TEA_SHOP.fixture()


def test_an_order_is_placed_reserved_and_totalled_with_taiwan_tax_included(api, stocked):
    r = api.post("/api/v1/orders", json=order_body())
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["number"].startswith("DD") and o["status"] == "open"
    assert o["financial_status"] == "pending" and o["fulfillment_status"] == "unfulfilled"
    assert (o["subtotal"], o["shipping_total"], o["total"]) == ("700.00", "60.00", "760.00")
    assert o["tax_total"] == "36.19"  # 5% contained in 700 (33.33) and 60 (2.86)
    assert o["allocations"] == [{"location": "TPE", "sku": "TEA-001", "quantity": 2}]
    assert o["lines"][0] | {"allocated": 2, "backordered": 0, "shipped": 0} == o["lines"][0]
    assert o["customer"]["name"] == "王小明"
    stock = api.get("/api/v1/inventory/TEA-001").json()
    assert stock["reserved"] == 2 and stock["available"] == 6
    assert api.get(f"/api/v1/orders/{o['number']}").json()["number"] == o["number"]


def test_the_customers_note_is_in_the_order_as_captured_read_and_listed(api, stocked):
    noted = api.post("/api/v1/orders", json=order_body(note="  請下午送達，謝謝 ")).json()
    plain = api.post("/api/v1/orders", json=order_body()).json()
    assert noted["note"] == "請下午送達，謝謝" and plain["note"] is None
    assert api.get(f"/api/v1/orders/{noted['number']}").json()["note"] == "請下午送達，謝謝"
    listed = {o["number"]: o["note"] for o in api.get("/api/v1/orders").json()["items"]}
    assert listed == {noted["number"]: "請下午送達，謝謝", plain["number"]: None}


def test_one_location_fills_the_whole_order_where_it_can_else_the_order_is_split(api, stocked):
    r = api.post("/api/v1/orders", json=order_body(lines=[{"sku": "TEA-001", "quantity": 4}]))
    assert r.json()["allocations"] == [{"location": "KHH", "sku": "TEA-001", "quantity": 4}]
    r = api.post("/api/v1/orders", json=order_body(lines=[{"sku": "TEA-001", "quantity": 4}]))
    assert r.json()["allocations"] == [
        {"location": "TPE", "sku": "TEA-001", "quantity": 3},
        {"location": "KHH", "sku": "TEA-001", "quantity": 1},
    ]


def test_an_order_without_enough_stock_is_refused_and_changes_nothing(api, stocked):
    r = api.post("/api/v1/orders", json=order_body(lines=[{"sku": "TEA-001", "quantity": 9}]))
    assert r.status_code == 409 and r.json()["code"] == "insufficient_stock"
    assert r.json()["errors"][0]["field"] == "lines[0].quantity"
    assert api.get("/api/v1/orders").json()["items"] == []
    assert api.get("/api/v1/inventory/TEA-001").json()["reserved"] == 0


def test_a_product_that_allows_backorder_keeps_the_rest_backordered_until_stock_arrives(
    api, stocked
):
    o = api.post(
        "/api/v1/orders", json=order_body(lines=[{"sku": "TEA-002", "quantity": 3}])
    ).json()
    assert o["lines"][0]["allocated"] == 1 and o["lines"][0]["backordered"] == 2
    assert api.get("/api/v1/inventory/TEA-002").json()["backordered"] == 2
    api.post(
        "/api/v1/inventory/receipts",
        json={"location": "KHH", "lines": [{"sku": "TEA-002", "quantity": 5}]},
    )
    o = api.get(f"/api/v1/orders/{o['number']}").json()
    assert o["lines"][0]["backordered"] == 0 and o["lines"][0]["allocated"] == 3
    assert {(a["location"], a["quantity"]) for a in o["allocations"]} == {("TPE", 1), ("KHH", 2)}
    stock = api.get("/api/v1/inventory/TEA-002").json()
    assert stock["backordered"] == 0 and stock["reserved"] == 3 and stock["on_hand"] == 6
    assert inventory.verify(stocked) == []
    # The ledger names the order by its number, the backorder's reservation as the first.
    ledger = api.get("/api/v1/inventory/TEA-002/movements?limit=200").json()["items"]
    reservations = [m for m in ledger if m["kind"] == "reservation"]
    assert len(reservations) == 2
    assert {m["reference"] for m in reservations} == {o["number"]}


def test_idempotency_key_replays_the_same_order_and_refuses_another_body(api, stocked):
    h = {"Idempotency-Key": "k-1"}
    first = api.post("/api/v1/orders", json=order_body(), headers=h)
    again = api.post("/api/v1/orders", json=order_body(), headers=h)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert api.get("/api/v1/inventory/TEA-001").json()["reserved"] == 2
    other = api.post("/api/v1/orders", json=order_body(shipping_price="0"), headers=h)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"


def test_a_failed_request_does_not_use_up_its_idempotency_key(api, stocked):
    h = {"Idempotency-Key": "k-2"}
    bad = api.post(
        "/api/v1/orders", json=order_body(lines=[{"sku": "TEA-001", "quantity": 99}]), headers=h
    )
    assert bad.status_code == 409
    ok = api.post(
        "/api/v1/orders", json=order_body(lines=[{"sku": "TEA-001", "quantity": 99}]), headers=h
    )
    assert ok.status_code == 409 and ok.json()["code"] == "insufficient_stock"
    receive(stocked, "TPE", {"TEA-001": 100})
    assert (
        api.post(
            "/api/v1/orders", json=order_body(lines=[{"sku": "TEA-001", "quantity": 99}]), headers=h
        ).status_code
        == 201
    )


def test_the_same_channel_external_id_answers_the_existing_order_unchanged(api, stocked):
    first = api.post("/api/v1/orders", json=order_body(external_id="SHOP-1")).json()
    again = api.post(
        "/api/v1/orders",
        json=order_body(external_id="SHOP-1", lines=[{"sku": "TEA-001", "quantity": 1}]),
    )
    assert again.status_code == 200 and again.json()["number"] == first["number"]
    assert again.json()["lines"][0]["quantity"] == 2


def test_payment_ship_deliver_completes_the_order(api, stocked):
    o = api.post("/api/v1/orders", json=order_body()).json()
    n = o["number"]
    r = api.post(f"/api/v1/orders/{n}/shipments", json={"carrier": "tcat"}, role="warehouse")
    assert r.status_code == 409 and r.json()["code"] == "payment_required"
    assert (
        api.post(
            f"/api/v1/orders/{n}/payments", json={"amount": "800.00"}, role="finance"
        ).status_code
        == 422
    )
    r = api.post(f"/api/v1/orders/{n}/payments", json={"amount": "500.00"}, role="finance")
    assert r.status_code == 201
    assert api.get(f"/api/v1/orders/{n}").json()["financial_status"] == "partially_paid"
    api.post(
        f"/api/v1/orders/{n}/payments", json={"amount": "260", "reference": "ATM-1"}, role="finance"
    )
    assert api.get(f"/api/v1/orders/{n}").json()["financial_status"] == "paid"
    s = api.post(
        f"/api/v1/orders/{n}/shipments",
        json={"carrier": "ups", "tracking_number": "1Z5R89390357567127"},
        role="warehouse",
    )
    assert s.status_code == 201, s.text
    ship = s.json()
    assert ship["status"] == "shipped" and ship["location"] == "TPE"
    assert ship["lines"] == [{"sku": "TEA-001", "quantity": 2}]
    o = api.get(f"/api/v1/orders/{n}").json()
    assert o["fulfillment_status"] == "fulfilled" and o["allocations"] == []
    assert o["status"] == "open"
    stock = api.get("/api/v1/inventory/TEA-001").json()
    assert stock["on_hand"] == 6 and stock["reserved"] == 0
    d = api.post(f"/api/v1/shipments/{ship['id']}/delivered", role="warehouse")
    assert d.status_code == 200 and d.json()["status"] == "delivered"
    assert api.get(f"/api/v1/orders/{n}").json()["status"] == "completed"
    again = api.post(f"/api/v1/shipments/{ship['id']}/delivered", role="warehouse")
    assert again.status_code == 409
    kinds = [e["kind"] for e in api.get(f"/api/v1/orders/{n}/events").json()["items"]]
    assert kinds == ["created", "allocated", "paid", "paid", "shipped", "delivered"]
    assert inventory.verify(stocked) == []


def test_refunds_follow_the_contract(api, stocked):
    n = api.post("/api/v1/orders", json=order_body()).json()["number"]
    api.post(f"/api/v1/orders/{n}/payments", json={"amount": "760.00"}, role="finance")
    assert (
        api.post(
            f"/api/v1/orders/{n}/refunds", json={"amount": "800.00", "reason": "x"}, role="finance"
        ).status_code
        == 422
    )
    api.post(
        f"/api/v1/orders/{n}/refunds",
        json={"amount": "60.00", "reason": "shipping"},
        role="finance",
    )
    o = api.get(f"/api/v1/orders/{n}").json()
    assert o["refunded"] == "60.00" and o["financial_status"] == "partially_refunded"
    api.post(
        f"/api/v1/orders/{n}/refunds", json={"amount": "700.00", "reason": "all"}, role="finance"
    )
    assert api.get(f"/api/v1/orders/{n}").json()["financial_status"] == "refunded"
    assert (
        api.post(
            f"/api/v1/orders/{n}/refunds", json={"amount": "0.00", "reason": "x"}, role="finance"
        ).status_code
        == 422
    )


def test_cancel_releases_stock_and_refuses_a_shipped_order(api, stocked):
    n = api.post("/api/v1/orders", json=order_body()).json()["number"]
    r = api.post(f"/api/v1/orders/{n}/cancel", json={"reason": "customer asked"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["allocations"] == []
    assert api.get("/api/v1/inventory/TEA-001").json()["reserved"] == 0
    assert api.post(f"/api/v1/orders/{n}/cancel", json={"reason": "again"}).status_code == 409
    m = api.post("/api/v1/orders", json=order_body(payment_method="cod")).json()["number"]
    assert (
        api.post(
            f"/api/v1/orders/{m}/shipments", json={"carrier": "hct"}, role="warehouse"
        ).status_code
        == 201
    )
    r = api.post(f"/api/v1/orders/{m}/cancel", json={"reason": "late"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"


def test_list_filters_and_searches_newest_first(api, stocked):
    a = api.post("/api/v1/orders", json=order_body()).json()["number"]
    b = api.post(
        "/api/v1/orders",
        json=order_body(customer={"email": "lin@example.com", "name": "林美玲"}, channel="phone"),
    ).json()["number"]
    items = api.get("/api/v1/orders").json()["items"]
    assert [o["number"] for o in items] == [b, a]
    assert [o["number"] for o in api.get("/api/v1/orders?q=美玲").json()["items"]] == [b]
    assert [o["number"] for o in api.get("/api/v1/orders?q=A@EXAMPLE").json()["items"]] == [a]
    assert [o["number"] for o in api.get("/api/v1/orders?channel=phone").json()["items"]] == [b]
    page = api.get("/api/v1/orders?limit=1").json()
    nxt = api.get(f"/api/v1/orders?limit=1&cursor={page['next_cursor']}").json()
    assert [o["number"] for o in nxt["items"]] == [a] and nxt["next_cursor"] is None
    assert api.get("/api/v1/orders?status=nope").status_code == 422


def test_a_whole_email_finds_that_customers_orders_and_a_fragment_any(api, stocked):
    a = api.post("/api/v1/orders", json=order_body()).json()["number"]
    aa = api.post(
        "/api/v1/orders", json=order_body(customer={"email": "aa@example.com", "name": "陳美玲"})
    ).json()["number"]
    phone_only = api.post(
        "/api/v1/orders", json=order_body(customer={"name": "王小明", "phone": "+886912345678"})
    ).json()["number"]

    def found(q):
        return [o["number"] for o in api.get("/api/v1/orders", params={"q": q}).json()["items"]]

    # A whole address: that customer's orders that carry it, in any case, not aa@...
    assert found("A@Example.com") == [a]
    assert found(" aa@example.com ") == [aa]
    assert found("nobody@example.com") == []
    # A fragment stays a substring search over every order's text.
    assert found("a@example") == [aa, a]
    assert found("@example.com") == [aa, a]
    assert phone_only not in found("a@example.com")
    # With other filters and paging as usual.
    assert found("a@example.com") == [a]
    page = api.get("/api/v1/orders", params={"q": "a@example", "limit": 1}).json()
    assert [o["number"] for o in page["items"]] == [aa] and page["next_cursor"]


def test_bad_fields_are_all_named_and_nothing_is_stored(api, stocked):
    body = order_body(
        channel="fax",
        currency="XYZ",
        payment_method="iou",
        customer={"email": "not-an-email", "phone": "12"},
        lines=[{"sku": "TEA-001", "quantity": 0}, {"sku": "NOPE", "quantity": 1}],
    )
    body["shipping_address"] = {**body["shipping_address"], "postal_code": "ABC", "country": "TW"}
    r = api.post("/api/v1/orders", json=body)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"lines[0].quantity"} <= fields
    r = api.post(
        "/api/v1/orders", json=order_body(channel="fax", payment_method="iou", currency="XYZ")
    )
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"channel", "payment_method", "currency"} <= fields
    r = api.post(
        "/api/v1/orders",
        json=order_body(
            customer={"email": "bad"},
            shipping_address={**order_body()["shipping_address"], "postal_code": "ABC"},
        ),
    )
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"customer.email", "shipping_address.postal_code"} <= fields
    r = api.post("/api/v1/orders", json=order_body(lines=[{"sku": "NOPE", "quantity": 1}]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].sku"
    r = api.post(
        "/api/v1/orders",
        json=order_body(lines=[{"sku": "TEA-001", "quantity": 1, "unit_price": "1.234"}]),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].unit_price"
    assert api.get("/api/v1/orders").json()["items"] == []
    assert api.get("/api/v1/inventory/TEA-001").json()["reserved"] == 0
