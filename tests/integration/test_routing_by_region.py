"""Routing by region (issue 25, contract "Routing, pickup, risk, personal data"): locations
serve regions; an order is filled first from the locations serving its address, then from
all; backorders are filled from serving locations first; a manager moves an allocation;
orders to the same address waiting at one location are offered to ship together."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dingdan.db.order_tables import Allocation, OrderEvent
from dingdan.db.tables import AuditEntry, StockLevel
from dingdan.domain.shared.errors import InsufficientStock, InvalidTransition, ValidationFailed
from dingdan.services.fulfilment import picking
from dingdan.services.inventory import locations
from dingdan.services.inventory import stock as inventory
from dingdan.services.orders import allocation_move, capture, routing
from tests.builders import ADMIN, address, order_body, product, receive
from tests.helpers import run_threads

HK_ADDRESS = address(
    name="陳大文", line1="彌敦道100號", city="九龍", region=None, postal_code=None, country="HK",
    phone="+85291234567",
)  # fmt: skip
KHH_ADDRESS = address(
    line1="中正四路211號", city="Kaohsiung City", region=None, postal_code="80047"
)


def _loc(db, code, priority, regions, country="TW"):
    body = {"code": code, "name": f"Warehouse {code}", "country": country, "priority": priority}
    return locations.create_location(db, ADMIN, {**body, "regions": regions})


@pytest.fixture
def shop(db):
    """TPE (priority 0) serves Taipei, KHH (1) serves Kaohsiung, HK (2) serves Hong Kong, and
    MAIN (3) everywhere; TEA-001 everywhere, TEA-002 only in TPE and HK."""
    product(db, "TEA-001", price="350.00")
    product(db, "TEA-002", price="120.00", allow_backorder=True)
    _loc(db, "TPE", 0, ["TW-TPE", "TW-NWT"])
    _loc(db, "KHH", 1, ["TW-KHH"])
    _loc(db, "HK", 2, ["HK"], country="HK")
    _loc(db, "MAIN", 3, [])
    receive(db, "TPE", {"TEA-001": 10, "TEA-002": 5})
    receive(db, "KHH", {"TEA-001": 10})
    receive(db, "HK", {"TEA-001": 10, "TEA-002": 5})
    receive(db, "MAIN", {"TEA-001": 10})
    return db


def _place(db, lines, addr=None, **over):
    body = order_body(lines, **over)
    if addr is not None:
        body["shipping_address"] = addr
    view, created = capture.place_order(db, ADMIN, body)
    assert created
    return view


def _route_event(db, number):
    def work(c):
        return c.execute(
            select(OrderEvent.message, OrderEvent.data)
            .where(OrderEvent.kind == "allocated")
            .where(OrderEvent.order_id.in_(_order_ids(c, number)))
        ).one()

    return db.read(work)


def _order_ids(c, number):
    from dingdan.db.order_tables import Order

    return select(Order.id).where(Order.number == number)


def _where(view):
    return sorted({(a["location"], a["sku"], a["quantity"]) for a in view["allocations"]})


def _consistent(db):
    levels = db.read(
        lambda c: {
            (p, loc): (oh, rs)
            for p, loc, oh, rs in c.execute(
                select(
                    StockLevel.product_id,
                    StockLevel.location_id,
                    StockLevel.on_hand,
                    StockLevel.reserved,
                )
            )
        }
    )
    held = db.read(
        lambda c: {
            (p, loc): int(q)
            for p, loc, q in c.execute(
                select(
                    Allocation.product_id, Allocation.location_id, func.sum(Allocation.quantity)
                ).group_by(Allocation.product_id, Allocation.location_id)
            )
        }
    )
    for key, (on_hand, reserved) in levels.items():
        assert 0 <= reserved <= on_hand
        assert reserved == held.get(key, 0), key
    assert inventory.verify(db) == []


# ---- locations' regions ------------------------------------------------------------------


def test_a_location_keeps_its_regions_and_refuses_codes_iso_does_not_know(api):
    r = api.post(
        "/api/v1/locations",
        json={"code": "TPE", "name": "Taipei", "country": "TW", "regions": ["tw-tpe", "HK"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["regions"] == ["TW-TPE", "HK"]
    assert api.get("/api/v1/locations/TPE").json()["regions"] == ["TW-TPE", "HK"]
    r = api.patch("/api/v1/locations/TPE", json={"regions": ["TW-KHH", "XX", "TW-ZZZ"]})
    assert r.status_code == 422
    errors = {(e["field"], e["code"]) for e in r.json()["errors"]}
    assert errors == {("regions[1]", "invalid_region"), ("regions[2]", "invalid_region")}
    assert api.get("/api/v1/locations/TPE").json()["regions"] == ["TW-TPE", "HK"]
    r = api.patch("/api/v1/locations/TPE", json={"regions": []})
    assert r.status_code == 200 and r.json()["regions"] == []
    r = api.post("/api/v1/locations", json={"code": "B", "name": "B", "country": "TW"})
    assert r.json()["regions"] == []


# ---- capture -----------------------------------------------------------------------------


def test_a_hong_kong_order_is_filled_from_hong_kong_while_taipei_holds_it_too(shop):
    view = _place(shop, [{"sku": "TEA-001", "quantity": 2}, {"sku": "TEA-002", "quantity": 1}],
                  HK_ADDRESS)  # fmt: skip
    assert _where(view) == [("HK", "TEA-001", 2), ("HK", "TEA-002", 1)]
    message, data = _route_event(shop, view["number"])
    assert message == "Filled from HK: serves HK and holds everything"
    assert data["route"] == "one_serving" and data["locations"] == ["HK"]
    assert data["serving"] == ["HK", "MAIN"]


def test_taipei_order_goes_to_taipei_by_its_city(shop):
    view = _place(shop, [{"sku": "TEA-001", "quantity": 1}])  # 台北市, 110
    assert _where(view) == [("TPE", "TEA-001", 1)]
    assert _route_event(shop, view["number"])[0] == (
        "Filled from TPE: serves TW-TPE and holds everything"
    )


def test_a_kaohsiung_order_is_known_by_its_postal_code_alone(shop):
    view = _place(shop, [{"sku": "TEA-001", "quantity": 3}], KHH_ADDRESS)
    assert _where(view) == [("KHH", "TEA-001", 3)]


def test_when_no_serving_location_has_stock_all_locations_are_tried(shop):
    # TEA-002 is in TPE and HK only; KHH and MAIN serve Kaohsiung
    view = _place(shop, [{"sku": "TEA-002", "quantity": 2}], KHH_ADDRESS)
    assert _where(view) == [("TPE", "TEA-002", 2)]
    message, data = _route_event(shop, view["number"])
    assert message == "No serving location had stock: filled from TPE"
    assert data["route"] == "fallback"


def test_serving_locations_split_before_any_other_is_used(shop):
    # Kaohsiung: KHH (10) and MAIN (10) serve it; 15 needs both, TPE is not touched
    view = _place(shop, [{"sku": "TEA-001", "quantity": 15}], KHH_ADDRESS)
    assert _where(view) == [("KHH", "TEA-001", 10), ("MAIN", "TEA-001", 5)]
    message, data = _route_event(shop, view["number"])
    assert message == "Split: no serving location holds it all; filled from KHH, MAIN"
    assert data["route"] == "split_serving"


def test_serving_locations_short_then_the_rest_fill_it_serving_ones_first(shop):
    view = _place(shop, [{"sku": "TEA-001", "quantity": 25}], KHH_ADDRESS)
    assert _where(view) == [("KHH", "TEA-001", 10), ("MAIN", "TEA-001", 10), ("TPE", "TEA-001", 5)]
    message, _ = _route_event(shop, view["number"])
    assert message == "The serving locations could not fill it: filled from KHH, MAIN, TPE"


def test_without_regions_the_core_rule_is_unchanged(db):
    product(db, "TEA-001")
    _loc(db, "A", 0, [])
    _loc(db, "B", 1, [])
    receive(db, "A", {"TEA-001": 1})
    receive(db, "B", {"TEA-001": 5})
    view = _place(db, [{"sku": "TEA-001", "quantity": 3}])
    assert _where(view) == [("B", "TEA-001", 3)]
    view = _place(db, [{"sku": "TEA-001", "quantity": 3}])
    assert _where(view) == [("A", "TEA-001", 1), ("B", "TEA-001", 2)]


def test_the_one_call_and_the_statement_paths_route_alike(shop, db_url):
    if shop.engine.dialect.name != "postgresql":
        pytest.skip("the one-call path is PostgreSQL's")

    def both(c):
        data = capture.capture_input.validate(
            order_body([{"sku": "TEA-001", "quantity": 2}], shipping_address=HK_ADDRESS),
            {"web"},
        )
        a = capture._create(c, ADMIN, data, "DD", one_call=True)[1]()
        b = capture._create(c, ADMIN, data, "DD", one_call=False)[1]()
        return a, b

    a, b = shop.write(both)
    assert (
        a["allocations"]
        == b["allocations"]
        == [{"location": "HK", "sku": "TEA-001", "quantity": 2}]
    )


def test_the_event_loop_capture_routes_as_the_threaded_one(shop):
    if shop.engine.dialect.name != "postgresql":
        pytest.skip("the event-loop capture is PostgreSQL's")
    import asyncio

    body = order_body([{"sku": "TEA-001", "quantity": 2}], shipping_address=HK_ADDRESS)
    view, _ = asyncio.run(capture.place_order_async(shop, ADMIN, body))
    assert _where(view) == [("HK", "TEA-001", 2)]
    message, data = _route_event(shop, view["number"])
    assert message == "Filled from HK: serves HK and holds everything"


@pytest.mark.xdist_group("threads")
def test_buyers_racing_for_a_serving_location_running_low_fall_back_never_oversold(db):
    product(db, "HOT", price="199.00")
    _loc(db, "HK", 0, ["HK"], country="HK")
    _loc(db, "TPE", 1, ["TW"])
    receive(db, "HK", {"HOT": 5})
    receive(db, "TPE", {"HOT": 7})
    placed: list[dict] = []
    refused: list[int] = []

    def buy(i):
        body = order_body(
            [{"sku": "HOT", "quantity": 1}],
            customer={"email": f"b{i}@example.com", "name": f"Buyer {i}"},
            shipping_address=HK_ADDRESS,
        )
        try:
            placed.append(capture.place_order(db, ADMIN, body)[0])
        except InsufficientStock:
            refused.append(i)

    assert run_threads(16, buy, timeout=60) == []
    assert len(placed) == 12 and len(refused) == 4
    where = sorted(a["location"] for v in placed for a in v["allocations"])
    assert where == ["HK"] * 5 + ["TPE"] * 7
    for v in placed:
        message, data = _route_event(db, v["number"])
        if v["allocations"][0]["location"] == "HK":
            assert data["route"] == "one_serving"
        else:
            assert message == "No serving location had stock: filled from TPE"
    _consistent(db)


# ---- backorders --------------------------------------------------------------------------


def test_stock_arriving_goes_to_the_orders_it_serves_first_then_oldest(shop):
    def tea2(addr):
        return _place(shop, [{"sku": "TEA-002", "quantity": 6}], addr)

    # take all TEA-002 first: 5 in TPE, 5 in HK
    _place(shop, [{"sku": "TEA-002", "quantity": 5}])
    _place(shop, [{"sku": "TEA-002", "quantity": 5}], HK_ADDRESS)
    old_tw = tea2(None)
    new_hk = tea2(HK_ADDRESS)
    assert old_tw["lines"][0]["backordered"] == 6 and new_hk["lines"][0]["backordered"] == 6
    receive(shop, "HK", {"TEA-002": 4})  # HK serves the newer order: it goes first
    hk = capture.get_order(shop, new_hk["number"])
    tw = capture.get_order(shop, old_tw["number"])
    assert hk["lines"][0]["backordered"] == 2 and tw["lines"][0]["backordered"] == 6
    receive(shop, "HK", {"TEA-002": 3})  # 2 more for it, and what is left to the older one
    hk = capture.get_order(shop, new_hk["number"])
    tw = capture.get_order(shop, old_tw["number"])
    assert hk["lines"][0]["backordered"] == 0 and tw["lines"][0]["backordered"] == 5
    receive(shop, "TPE", {"TEA-002": 5})
    assert capture.get_order(shop, old_tw["number"])["lines"][0]["backordered"] == 0
    _consistent(shop)


# ---- moving an allocation ----------------------------------------------------------------


def test_a_manager_moves_an_allocation_and_the_ledger_follows(shop, api):
    view = _place(shop, [{"sku": "TEA-001", "quantity": 2}, {"sku": "TEA-002", "quantity": 1}])
    n = view["number"]
    r = api.post(f"/api/v1/orders/{n}/allocation/move", json={"from": "TPE", "to": "HK"},
                 role="manager")  # fmt: skip
    assert r.status_code == 200, r.text
    assert _where(r.json()) == [("HK", "TEA-001", 2), ("HK", "TEA-002", 1)]
    r = api.post(
        f"/api/v1/orders/{n}/allocation/move",
        json={"from": "HK", "to": "MAIN", "lines": [{"sku": "TEA-001", "quantity": 1}]},
        role="manager",
    )
    assert r.status_code == 200, r.text
    assert _where(r.json()) == [("HK", "TEA-001", 1), ("HK", "TEA-002", 1), ("MAIN", "TEA-001", 1)]
    _consistent(shop)
    events = shop.read(
        lambda c: (
            c.execute(
                select(OrderEvent.message)
                .where(OrderEvent.kind == "allocation_moved")
                .order_by(OrderEvent.id)
            )
            .scalars()
            .all()
        )
    )
    assert events == [
        "Allocation moved from TPE to HK: 2 × TEA-001, 1 × TEA-002",
        "Allocation moved from HK to MAIN: 1 × TEA-001",
    ]
    audited = shop.read(
        lambda c: c.execute(
            select(func.count()).where(AuditEntry.action == "move_allocation")
        ).scalar_one()
    )
    assert audited == 2


def test_moves_that_cannot_be_made_change_nothing(shop, api):
    n = _place(shop, [{"sku": "TEA-002", "quantity": 1}])["number"]
    before = _where(capture.get_order(shop, n))
    move = f"/api/v1/orders/{n}/allocation/move"
    r = api.post(move, json={"from": "TPE", "to": "KHH"}, role="manager")  # no TEA-002 at KHH
    assert r.status_code == 409 and r.json()["code"] == "insufficient_stock"
    r = api.post(move, json={"from": "TPE", "to": "TPE"}, role="manager")
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "same_as_from"
    r = api.post(move, json={"from": "TPE", "to": "NOPE"}, role="manager")
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "unknown_location"
    r = api.post(move, json={"from": "KHH", "to": "HK"}, role="manager")
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "nothing_allocated"
    r = api.post(move, json={"from": "TPE", "to": "HK", "lines": [{"sku": "TEA-002",
                 "quantity": 2}]}, role="manager")  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "more_than_allocated"
    r = api.post(move, json={"from": "TPE", "to": "HK"}, role="warehouse")
    assert r.status_code == 403
    assert _where(capture.get_order(shop, n)) == before
    _consistent(shop)


def test_an_allocation_cannot_move_once_picking_began(shop, api):
    view = _place(shop, [{"sku": "TEA-001", "quantity": 1}], payment_method="cod")
    n = view["number"]
    picking.mark_picked(shop, ADMIN, "TPE", [n])
    with pytest.raises(InvalidTransition):
        allocation_move.move_allocation(shop, ADMIN, n, {"from": "TPE", "to": "HK"})
    with pytest.raises(ValidationFailed):
        allocation_move.move_allocation(shop, ADMIN, n, {"from": "TPE"})
    assert _where(capture.get_order(shop, n)) == [("TPE", "TEA-001", 1)]


# ---- shipping together -------------------------------------------------------------------


def test_orders_to_one_address_waiting_at_one_location_are_offered_together(shop):
    first = _place(shop, [{"sku": "TEA-001", "quantity": 1}])
    second = _place(shop, [{"sku": "TEA-002", "quantity": 1}])
    elsewhere = _place(shop, [{"sku": "TEA-001", "quantity": 1}], KHH_ADDRESS)
    hk = _place(shop, [{"sku": "TEA-001", "quantity": 1}], HK_ADDRESS)
    together = routing.ship_together(shop, first["number"])
    assert together == [{"location": "TPE", "orders": [second["number"]]}]
    groups = routing.ship_together_at(shop, "TPE")
    assert groups == [{"orders": sorted([first["number"], second["number"]]),
                       "name": "王小明", "city": "台北市"}]  # fmt: skip
    assert routing.ship_together(shop, elsewhere["number"]) == []
    assert routing.ship_together(shop, hk["number"]) == []
