"""Editing before shipment and cancelling by line, with stock re-reserved atomically."""

from __future__ import annotations

from dingdan.services.inventory import stock
from tests.builders import Shop, order_body, post_order

stocked = Shop(
    products={"TEA-001": "350.00", "MUG-01": "500.00"},
    locations={"TPE": 0, "KHH": 1},
    stock={"TPE": {"TEA-001": 3, "MUG-01": 1}, "KHH": {"TEA-001": 5}},
).fixture()


def _place(api, **over):
    return post_order(api, **over)["number"]


def test_raising_a_quantity_reserves_more_and_recomputes_totals(api, stocked):
    n = _place(api)
    r = api.patch(f"/api/v1/orders/{n}", json={"lines": [{"sku": "TEA-001", "quantity": 5}]})
    assert r.status_code == 200, r.text
    o = r.json()
    assert o["lines"][0]["quantity"] == 5 and o["lines"][0]["allocated"] == 5
    assert o["subtotal"] == "1750.00" and o["total"] == "1810.00"
    assert sorted((a["location"], a["quantity"]) for a in o["allocations"]) == [
        ("KHH", 3),
        ("TPE", 2),
    ]  # the added units come whole from one location
    assert stock.stock_of(stocked, "TEA-001")["reserved"] == 5
    kinds = [e["kind"] for e in api.get(f"/api/v1/orders/{n}/events").json()["items"]]
    assert kinds[-1] == "edited"
    assert stock.verify(stocked) == []


def test_an_edit_needing_stock_that_is_not_there_is_refused_whole(api, stocked):
    n = _place(api)
    r = api.patch(
        f"/api/v1/orders/{n}",
        json={
            "lines": [{"sku": "TEA-001", "quantity": 1}, {"sku": "MUG-01", "quantity": 2}],
            "shipping_price": "0",
        },
    )
    assert r.status_code == 409 and r.json()["code"] == "insufficient_stock"
    o = api.get(f"/api/v1/orders/{n}").json()
    assert [(ln["sku"], ln["quantity"]) for ln in o["lines"]] == [("TEA-001", 2)]
    assert o["total"] == "760.00"
    assert stock.stock_of(stocked, "TEA-001")["reserved"] == 2
    assert stock.stock_of(stocked, "MUG-01")["reserved"] == 0


def test_lines_are_added_removed_and_the_address_changed(api, stocked):
    n = _place(api)
    new_address = {
        **order_body()["shipping_address"],
        "line1": "中正路 1 號",
        "city": "高雄市",
        "postal_code": "800",
    }
    r = api.patch(
        f"/api/v1/orders/{n}",
        json={
            "lines": [{"sku": "TEA-001", "quantity": 0}, {"sku": "MUG-01", "quantity": 1}],
            "shipping_address": new_address,
        },
    )
    assert r.status_code == 200, r.text
    o = r.json()
    assert [(ln["sku"], ln["quantity"]) for ln in o["lines"]] == [("MUG-01", 1)]
    assert o["shipping_address"]["city"] == "高雄市" and o["total"] == "560.00"
    assert stock.stock_of(stocked, "TEA-001")["reserved"] == 0
    assert stock.stock_of(stocked, "MUG-01")["reserved"] == 1


def test_a_shipped_order_cannot_drop_below_what_shipped(api, stocked):
    n = _place(api, payment_method="cod")
    api.post(
        f"/api/v1/orders/{n}/shipments",
        json={"carrier": "tcat", "lines": [{"sku": "TEA-001", "quantity": 1}]},
    )
    r = api.patch(f"/api/v1/orders/{n}", json={"lines": [{"sku": "TEA-001", "quantity": 0}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].quantity"


def test_cancelling_part_of_a_line_releases_stock_and_lowers_the_total(api, stocked):
    n = _place(api)
    r = api.post(
        f"/api/v1/orders/{n}/lines/TEA-001/cancel",
        json={"quantity": 1, "reason": "out of gift boxes"},
    )
    assert r.status_code == 200, r.text
    o = r.json()
    assert o["lines"][0]["cancelled"] == 1 and o["lines"][0]["allocated"] == 1
    assert o["total"] == "410.00" and o["status"] == "open"
    r = api.post(f"/api/v1/orders/{n}/lines/TEA-001/cancel", json={"reason": "all"})
    assert r.json()["status"] == "cancelled"
    assert stock.stock_of(stocked, "TEA-001")["reserved"] == 0
    again = api.post(f"/api/v1/orders/{n}/lines/TEA-001/cancel", json={"reason": "x"})
    assert again.status_code == 409
    assert stock.verify(stocked) == []


def test_editing_is_for_order_roles_only(api, stocked):
    n = _place(api)
    r = api.patch(
        f"/api/v1/orders/{n}", role="warehouse", json={"lines": [{"sku": "TEA-001", "quantity": 1}]}
    )
    assert r.status_code == 403
