"""Routing by region in the back office: a location's regions on the settings page, the
order page's allocation panel (moving it, orders to ship together) and the warehouse's list
of orders to ship together."""

from __future__ import annotations

from sqlalchemy import select

from dingdan.db.order_tables import OrderEvent
from dingdan.services.inventory import locations
from dingdan.services.orders import capture
from tests.builders import ADMIN, LIN, order_body


def test_an_admin_sets_the_regions_a_location_serves(shop, browser, db):
    admin = browser("admin")
    r = admin.post("/settings/locations/TPE/regions", {"regions": "tw-tpe、TW-NWT, HK"})
    assert r.status_code == 303, r.text
    assert locations.get_location(db, "TPE")["regions"] == ["TW-TPE", "TW-NWT", "HK"]
    page = admin.get("/settings").text
    assert 'value="TW-TPE, TW-NWT, HK"' in page
    r = admin.post("/settings/locations/TPE/regions", {"regions": "TW-TPE 台北"})
    assert r.status_code == 422
    assert "台北" in r.text and 'aria-invalid="true"' in r.text
    assert locations.get_location(db, "TPE")["regions"] == ["TW-TPE", "TW-NWT", "HK"]
    r = admin.post(
        "/settings/locations",
        {"code": "HKG", "name": "香港倉", "country": "HK", "priority": "2", "regions": "HK"},
    )
    assert r.status_code == 303, r.text
    assert locations.get_location(db, "HKG")["regions"] == ["HK"]
    assert (
        browser("warehouse").post("/settings/locations/TPE/regions", {"regions": ""}).status_code
        == 403
    )


def test_a_manager_moves_an_order_to_another_location_from_its_page(shop, browser, db):
    from tests.builders import receive

    receive(db, "TXG", {"TEA-001": 5})
    n = shop["order"]["number"]  # 2 × TEA-001 at TPE
    manager = browser("manager")
    page = manager.get(f"/orders/{n}").text
    assert 'id="move-form"' in page
    r = manager.post(f"/orders/{n}/allocation/move", {"from": "TPE", "to": "TXG"})
    assert r.status_code == 303, r.text
    order = capture.get_order(db, n)
    assert order["allocations"] == [{"location": "TXG", "sku": "TEA-001", "quantity": 2}]
    page = manager.get(f"/orders/{n}", headers={"Accept-Language": "en"}).text
    assert "Allocation moved from TPE to TXG: 2 × TEA-001." in page
    r = manager.post(f"/orders/{n}/allocation/move", {"from": "TXG", "to": "TXG"})
    assert r.status_code == 422 and 'id="move-form"' in r.text
    assert 'id="move-form"' not in browser("warehouse").get(f"/orders/{n}").text
    assert (
        browser("warehouse")
        .post(f"/orders/{n}/allocation/move", {"from": "TXG", "to": "TPE"})
        .status_code
        == 403
    )
    kinds = db.read(lambda c: c.execute(select(OrderEvent.kind)).scalars().all())
    assert kinds.count("allocation_moved") == 1


def test_orders_to_one_address_are_offered_to_ship_together(shop, browser, db):
    first = shop["order"]["number"]
    second, _ = capture.place_order(
        db, ADMIN, order_body([{"sku": "MUG-001", "quantity": 1}], buyer=LIN,
                              payment_method="cod"),
    )  # fmt: skip
    page = browser("manager").get(f"/orders/{first}").text
    assert 'id="ship-together-TPE"' in page and second["number"] in page
    r = browser("warehouse").get("/warehouse?location=TPE")
    assert r.status_code == 200
    assert 'id="ship-together"' in r.text
    assert first in r.text and second["number"] in r.text
