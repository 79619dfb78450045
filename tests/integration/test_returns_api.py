"""The contract's returns through HTTP: request, approve, reject, receive, refund; the policy
and its refusals; exchanges; store credit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dingdan.db.order_tables import Shipment
from dingdan.db.return_tables import QuarantinedUnit
from dingdan.db.types import utcnow
from dingdan.services.inventory import stock as inventory
from tests.builders import RETURNS_SHOP, order_body, shipped_order

stocked = RETURNS_SHOP.fixture()


def request(api, n, lines, role="customer_service", **extra):
    return api.post(f"/api/v1/orders/{n}/returns", json={"lines": lines, **extra}, role=role)


def line(sku="TEA-001", quantity=1, reason="defective"):
    return {"sku": sku, "quantity": quantity, "reason": reason}


def test_a_return_is_requested_approved_received_and_refunded_as_the_contract_says(api, stocked):
    n = shipped_order(api)
    r = request(api, n, [line(quantity=2, reason="damaged")])
    assert r.status_code == 201, r.text
    ret = r.json()
    assert ret["status"] == "requested" and ret["order"] == n and isinstance(ret["id"], str)
    assert (
        ret["lines"][0] | {"sku": "TEA-001", "quantity": 2, "reason": "damaged"} == ret["lines"][0]
    )
    rid = ret["id"]
    r = api.post(f"/api/v1/returns/{rid}/approve", role="customer_service")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = api.post(
        f"/api/v1/returns/{rid}/receive",
        role="warehouse",
        json={
            "location": "KHH",
            "lines": [
                {"sku": "TEA-001", "quantity": 1, "condition": "resellable"},
                {"sku": "TEA-001", "quantity": 1, "condition": "damaged"},
            ],
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received" and r.json()["location"] == "KHH"
    assert (
        r.json()["lines"][0] | {"received": 2, "resellable": 1, "damaged": 1}
        == r.json()["lines"][0]
    )
    stock = api.get("/api/v1/inventory/TEA-001").json()
    khh = [loc for loc in stock["locations"] if loc["location"] == "KHH"][0]
    assert khh["on_hand"] == 1  # the damaged unit is not on hand
    o = api.get(f"/api/v1/orders/{n}").json()
    assert o["lines"][0]["returned"] == 2
    r = api.post(f"/api/v1/returns/{rid}/refund", role="finance")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "refunded"
    assert r.json()["refund"] == {"amount": "700.00", "to": "original"}
    o = api.get(f"/api/v1/orders/{n}").json()
    assert o["refunded"] == "700.00" and o["financial_status"] == "partially_refunded"
    again = api.post(f"/api/v1/returns/{rid}/refund", role="finance")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert inventory.verify(stocked) == []
    held = stocked.read(lambda c: c.execute(select(QuarantinedUnit.quantity)).scalars().all())
    assert held == [1]
    kinds = [e["kind"] for e in api.get(f"/api/v1/orders/{n}/events").json()["items"]]
    for kind in (
        "return_requested",
        "return_approved",
        "return_received",
        "return_quarantined",
        "refunded",
        "return_refunded",
    ):
        assert kind in kinds


def test_more_than_shipped_minus_earlier_returns_is_refused(api, stocked):
    n = shipped_order(api)
    r = request(api, n, [line(quantity=3)])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].quantity"
    first = request(api, n, [line(quantity=2)]).json()["id"]
    r = request(api, n, [line(quantity=1)])
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    api.post(f"/api/v1/returns/{first}/reject", json={"reason": "no photos"})
    assert request(api, n, [line(quantity=2)]).status_code == 201


def test_an_unshipped_line_or_a_sku_not_on_the_order_cannot_be_returned(api, stocked):
    o = api.post("/api/v1/orders", json=order_body()).json()
    assert request(api, o["number"], [line()]).status_code == 422
    n = shipped_order(api)
    r = request(api, n, [line(sku="POT-001")])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].sku"
    assert request(api, "DD999999", [line()]).status_code == 404


def test_steps_out_of_order_are_invalid_transitions(api, stocked):
    n = shipped_order(api)
    rid = request(api, n, [line(quantity=2)]).json()["id"]
    recv = {
        "location": "TPE",
        "lines": [{"sku": "TEA-001", "quantity": 1, "condition": "resellable"}],
    }
    r = api.post(f"/api/v1/returns/{rid}/receive", json=recv, role="warehouse")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert api.post(f"/api/v1/returns/{rid}/refund", role="finance").status_code == 409
    api.post(f"/api/v1/returns/{rid}/approve")
    assert api.post(f"/api/v1/returns/{rid}/approve").status_code == 409
    assert (
        api.post(f"/api/v1/returns/{rid}/receive", json=recv, role="warehouse").status_code == 200
    )
    assert (
        api.post(f"/api/v1/returns/{rid}/receive", json=recv, role="warehouse").status_code == 409
    )
    assert api.post(f"/api/v1/returns/{rid}/reject", json={"reason": "x"}).status_code == 409
    assert api.post("/api/v1/returns/999/approve").status_code == 404


def test_receiving_more_than_requested_is_refused_and_fewer_is_accepted(api, stocked):
    n = shipped_order(api)
    rid = request(api, n, [line(quantity=1)]).json()["id"]
    api.post(f"/api/v1/returns/{rid}/approve")
    r = api.post(
        f"/api/v1/returns/{rid}/receive",
        role="warehouse",
        json={
            "location": "TPE",
            "lines": [{"sku": "TEA-001", "quantity": 2, "condition": "damaged"}],
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].quantity"
    r = api.post(
        f"/api/v1/returns/{rid}/receive",
        role="warehouse",
        json={
            "location": "NOPE",
            "lines": [{"sku": "TEA-001", "quantity": 1, "condition": "damaged"}],
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "location"
    assert api.get(f"/api/v1/returns/{rid}").json()["status"] == "approved"
    # Two units asked for, one arrives: the rest are not coming.
    rid2 = request(api, n, [line(quantity=1)]).json()["id"]
    api.post(f"/api/v1/returns/{rid2}/approve")
    assert api.get(f"/api/v1/orders/{n}").json()["lines"][0]["returned"] == 0


def test_the_refund_amount_may_be_given_and_never_exceeds_paid_minus_refunded(api, stocked):
    n = shipped_order(api)
    rid = request(api, n, [line(quantity=1)]).json()["id"]
    api.post(f"/api/v1/returns/{rid}/approve")
    api.post(
        f"/api/v1/returns/{rid}/receive",
        role="warehouse",
        json={
            "location": "TPE",
            "lines": [{"sku": "TEA-001", "quantity": 1, "condition": "resellable"}],
        },
    )
    assert api.post(f"/api/v1/returns/{rid}/refund", role="customer_service").status_code == 403
    r = api.post(f"/api/v1/returns/{rid}/refund", json={"amount": "800.00"}, role="finance")
    assert r.status_code == 422
    r = api.post(f"/api/v1/returns/{rid}/refund", json={"amount": 410}, role="finance")
    assert r.status_code == 422
    # Beyond the returned goods (350.00 and half the shipping) only a manager, with a reason,
    # and never beyond what was paid (760.00).
    r = api.post(
        f"/api/v1/returns/{rid}/refund",
        role="manager",
        json={"amount": "800.00", "reason": "goodwill"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "exceeds_refundable"
    r = api.post(
        f"/api/v1/returns/{rid}/refund",
        role="manager",
        json={"amount": "410.00", "reason": "shipping back too"},
    )
    assert r.status_code == 200 and r.json()["refund"]["amount"] == "410.00"
    assert api.get(f"/api/v1/orders/{n}").json()["refunded"] == "410.00"


def test_permissions_follow_the_roles(api, stocked):
    n = shipped_order(api)
    assert request(api, n, [line()], role="warehouse").status_code == 403
    assert request(api, n, [line()], role="viewer").status_code == 403
    rid = request(api, n, [line()]).json()["id"]
    assert api.post(f"/api/v1/returns/{rid}/approve", role="finance").status_code == 403
    api.post(f"/api/v1/returns/{rid}/approve")
    r = api.post(
        f"/api/v1/returns/{rid}/receive",
        role="customer_service",
        json={
            "location": "TPE",
            "lines": [{"sku": "TEA-001", "quantity": 1, "condition": "damaged"}],
        },
    )
    assert r.status_code == 403
    assert api.get(f"/api/v1/returns/{rid}", role="viewer").status_code == 200


def test_the_queue_filters_by_status_and_order_and_pages_by_cursor(api, stocked):
    a = shipped_order(api)
    b = shipped_order(api)
    ra = request(api, a, [line()]).json()["id"]
    rb = request(api, b, [line()]).json()["id"]
    api.post(f"/api/v1/returns/{ra}/approve")
    items = api.get("/api/v1/returns").json()["items"]
    assert [r["id"] for r in items] == [rb, ra]
    assert [r["id"] for r in api.get("/api/v1/returns?status=approved").json()["items"]] == [ra]
    assert [r["id"] for r in api.get(f"/api/v1/returns?order={b}").json()["items"]] == [rb]
    page = api.get("/api/v1/returns?limit=1").json()
    nxt = api.get(f"/api/v1/returns?limit=1&cursor={page['next_cursor']}").json()
    assert [r["id"] for r in nxt["items"]] == [ra] and nxt["next_cursor"] is None
    assert api.get("/api/v1/returns?status=nope").status_code == 422
    assert api.get("/api/v1/returns?limit=0").status_code == 422


def test_strict_input_is_refused_with_every_bad_field(api, stocked):
    n = shipped_order(api)
    r = request(api, n, [{"sku": "TEA-001", "quantity": "1", "reason": "damaged"}])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].quantity"
    r = request(api, n, [line(reason="because")])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].reason"
    r = request(api, n, [line()], colour="red")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "colour"


# --- policy ---------------------------------------------------------------------------------


def _age_deliveries(db, days):
    db.write(
        lambda c: c.execute(update(Shipment).values(delivered_at=utcnow() - timedelta(days=days)))
    )


def test_the_default_policy_is_seven_days_and_can_be_changed_by_a_manager(api, stocked):
    p = api.get("/api/v1/settings/return-policy", role="viewer").json()
    assert p["window_days"] == 7 and "changed_mind" in p["reasons"]
    body = {
        "window_days": 14,
        "non_returnable_skus": ["POT-001"],
        "non_returnable_categories": ["clearance"],
        "reasons": [*p["reasons"], "gift"],
    }
    assert (
        api.request(
            "PUT", "/api/v1/settings/return-policy", json=body, role="customer_service"
        ).status_code
        == 403
    )
    r = api.request("PUT", "/api/v1/settings/return-policy", json=body, role="manager")
    assert r.status_code == 200 and r.json()["window_days"] == 14
    assert api.get("/api/v1/settings/return-policy").json()["reasons"][-1] == "gift"
    bad = api.request(
        "PUT", "/api/v1/settings/return-policy", role="manager", json={"reasons": ["Not A Code"]}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reasons[0]"


def test_requests_outside_the_policy_are_refused_naming_the_rule(api, stocked):
    api.request(
        "PUT",
        "/api/v1/settings/return-policy",
        role="manager",
        json={"non_returnable_skus": ["POT-001"], "non_returnable_categories": ["clearance"]},
    )
    n = shipped_order(
        api,
        [
            {"sku": "TEA-001", "quantity": 1},
            {"sku": "CUP-001", "quantity": 1},
            {"sku": "POT-001", "quantity": 1},
        ],
    )
    r = request(api, n, [line("CUP-001")])
    assert r.status_code == 422 and "non_returnable_category" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "lines[0].sku"
    r = request(api, n, [line("POT-001")])
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "non_returnable_sku"
    assert r.json()["errors"][0]["message"] == "POT-001 cannot be returned"
    _age_deliveries(stocked, 8)
    r = request(api, n, [line("TEA-001")])
    assert r.status_code == 422 and "return_window" in r.json()["detail"]
    _age_deliveries(stocked, 6)
    assert request(api, n, [line("TEA-001")]).status_code == 201


def test_an_undelivered_order_is_inside_the_window(api, stocked):
    n = shipped_order(api, deliver=False)
    assert request(api, n, [line()]).status_code == 201


def test_a_manager_may_override_the_policy_with_a_reason_that_is_recorded(api, stocked):
    n = shipped_order(api)
    _age_deliveries(stocked, 30)
    r = request(
        api, n, [line()], role="customer_service", override=True, override_reason="loyal customer"
    )
    assert r.status_code == 403
    r = request(api, n, [line()], role="manager", override=True)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "override_reason"
    r = request(api, n, [line()], role="manager", override=True, override_reason="loyal customer")
    assert r.status_code == 201, r.text
    assert r.json()["override"]["rules"] == ["return_window"]
    assert r.json()["override"]["reason"] == "loyal customer"
    events = api.get(f"/api/v1/orders/{n}/events").json()["items"]
    assert any(
        e["kind"] == "return_policy_overridden" and "loyal customer" in e["message"] for e in events
    )


# --- stock and backorders -----------------------------------------------------------------


def _received(api, n, sku, qty, condition="resellable", loc="TPE"):
    rid = request(api, n, [line(sku, qty)]).json()["id"]
    api.post(f"/api/v1/returns/{rid}/approve")
    r = api.post(
        f"/api/v1/returns/{rid}/receive",
        role="warehouse",
        json={"location": loc, "lines": [{"sku": sku, "quantity": qty, "condition": condition}]},
    )
    assert r.status_code == 200, r.text
    return rid


def test_resellable_units_go_to_waiting_backorders(api, stocked):
    n = shipped_order(api, [{"sku": "TEA-002", "quantity": 5}])
    waiting = api.post("/api/v1/orders", json=order_body([{"sku": "TEA-002", "quantity": 2}]))
    w = waiting.json()
    assert w["lines"][0]["backordered"] == 2
    _received(api, n, "TEA-002", 1, loc="KHH")
    w = api.get(f"/api/v1/orders/{w['number']}").json()
    assert w["lines"][0]["backordered"] == 1 and w["allocations"] == [
        {"location": "KHH", "sku": "TEA-002", "quantity": 1}
    ]
    _received(api, n, "TEA-002", 1, condition="damaged")
    w = api.get(f"/api/v1/orders/{w['number']}").json()
    assert w["lines"][0]["backordered"] == 1
    assert inventory.verify(stocked) == []


# --- store credit and exchanges ------------------------------------------------------------


def test_a_refund_to_store_credit_grows_refunded_and_the_customers_credit(api, stocked):
    n = shipped_order(api)
    rid = _received(api, n, "TEA-001", 1)
    r = api.post(f"/api/v1/returns/{rid}/refund", json={"to": "store_credit"}, role="finance")
    assert r.status_code == 200 and r.json()["refund"] == {"amount": "350.00", "to": "store_credit"}
    assert api.get(f"/api/v1/orders/{n}").json()["refunded"] == "350.00"
    pays = api.get(f"/api/v1/orders/{n}/payments").json()["items"]
    assert pays[-1]["kind"] == "refund" and pays[-1]["method"] == "store_credit"
    cid = _customer_id(stocked, n)
    credit = api.get(f"/api/v1/customers/{cid}/store-credit").json()
    assert credit["balances"] == [{"currency": "TWD", "balance": "350.00"}]
    assert credit["entries"][0]["kind"] == "earn"
    assert api.get("/api/v1/customers/999/store-credit").status_code == 404


def _customer_id(db, number):
    from dingdan.db.order_tables import Order

    return db.read(
        lambda c: c.execute(select(Order.customer_id).where(Order.number == number)).scalar_one()
    )


def test_an_exchange_for_a_dearer_item_leaves_the_difference_due(api, stocked):
    n = shipped_order(api)
    rid = _received(api, n, "TEA-001", 2)
    r = api.post(
        f"/api/v1/returns/{rid}/exchange", json={"lines": [{"sku": "POT-001", "quantity": 1}]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "exchanged"
    new = api.get(f"/api/v1/orders/{r.json()['replacement_order']}").json()
    assert new["channel"] == "web" and new["shipping_address"]["city"] == "台北市"
    assert new["total"] == "900.00" and new["paid"] == "700.00"
    assert new["balance_due"] == "200.00" and new["financial_status"] == "partially_paid"
    assert new["allocations"] == [{"location": "TPE", "sku": "POT-001", "quantity": 1}]
    pays = api.get(f"/api/v1/orders/{new['number']}/payments").json()["items"]
    assert pays[0]["reference"] == f"exchange:{rid}"
    assert api.get(f"/api/v1/orders/{n}").json()["refunded"] == "0.00"
    assert api.post(f"/api/v1/returns/{rid}/refund", role="finance").status_code == 409
    assert inventory.verify(stocked) == []


def test_an_exchange_for_a_cheaper_item_refunds_the_difference(api, stocked):
    n = shipped_order(api)
    rid = _received(api, n, "TEA-001", 1)
    r = api.post(
        f"/api/v1/returns/{rid}/exchange",
        json={"lines": [{"sku": "TEA-002", "quantity": 1}]},
        role="customer_service",
    )
    assert r.status_code == 403  # the difference is a refund: finance, manager or admin
    r = api.post(
        f"/api/v1/returns/{rid}/exchange",
        json={"lines": [{"sku": "TEA-002", "quantity": 1}]},
        role="manager",
    )
    assert r.status_code == 200, r.text
    new = api.get(f"/api/v1/orders/{r.json()['replacement_order']}").json()
    assert new["paid"] == "120.00" and new["financial_status"] == "paid"
    assert api.get(f"/api/v1/orders/{n}").json()["refunded"] == "230.00"


def test_an_exchange_without_stock_changes_nothing(api, stocked):
    n = shipped_order(api)
    rid = _received(api, n, "TEA-001", 1)
    r = api.post(
        f"/api/v1/returns/{rid}/exchange", json={"lines": [{"sku": "POT-001", "quantity": 50}]}
    )
    assert r.status_code == 409 and r.json()["code"] == "insufficient_stock"
    assert api.get(f"/api/v1/returns/{rid}").json()["status"] == "received"
    assert len(api.get("/api/v1/orders").json()["items"]) == 1


def test_store_credit_is_spent_by_the_function_the_payments_use_never_below_zero(api, stocked):
    from dingdan.domain.shared.errors import ValidationFailed
    from dingdan.services.payments import store_credit

    n = shipped_order(api)
    rid = _received(api, n, "TEA-001", 1)
    api.post(f"/api/v1/returns/{rid}/refund", json={"to": "store_credit"}, role="finance")
    cid = _customer_id(stocked, n)
    stocked.write(lambda c: store_credit.spend_store_credit(c, cid, "TWD", 30000, "order:DD9"))
    with pytest.raises(ValidationFailed) as err:
        stocked.write(lambda c: store_credit.spend_store_credit(c, cid, "TWD", 5001, "order:X"))
    assert err.value.errors[0].field == "amount"
    with pytest.raises(ValidationFailed):
        stocked.write(lambda c: store_credit.spend_store_credit(c, cid, "HKD", 1, "order:Y"))
    credit = api.get(f"/api/v1/customers/{cid}/store-credit").json()
    assert credit["balances"] == [{"currency": "TWD", "balance": "50.00"}]
    assert [(e["kind"], e["amount"], e["reference"]) for e in credit["entries"]] == [
        ("spend", "300.00", "order:DD9"),
        ("earn", "350.00", f"return:{rid}"),
    ]


def test_store_credit_pays_a_later_order_in_full(api, stocked):
    n = shipped_order(api)
    rid = _received(api, n, "TEA-001", 1)
    api.post(f"/api/v1/returns/{rid}/refund", json={"to": "store_credit"}, role="finance")
    cid = _customer_id(stocked, n)
    later = api.post(
        "/api/v1/orders",
        json=order_body(lines=[{"sku": "TEA-001", "quantity": 1}], shipping_price="0"),
    ).json()["number"]
    too_much = api.post(
        f"/api/v1/orders/{later}/payments",
        role="finance",
        json={"amount": "350.01", "method": "store_credit"},
    )
    assert too_much.status_code == 422
    ok = api.post(
        f"/api/v1/orders/{later}/payments",
        role="finance",
        json={"amount": "350.00", "method": "store_credit"},
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["method"] == "store_credit"
    o = api.get(f"/api/v1/orders/{later}").json()
    assert o["financial_status"] == "paid"
    credit = api.get(f"/api/v1/customers/{cid}/store-credit").json()
    assert credit["balances"] == [{"currency": "TWD", "balance": "0.00"}]
    again = api.post(
        f"/api/v1/orders/{later}/refunds",
        role="finance",
        json={"amount": "1.00", "reason": "goodwill"},
    )
    assert again.status_code == 201
