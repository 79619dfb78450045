"""Store pickup: an order collected at a store is allocated there, gets a pickup code when
packed there (the ready-for-pickup message and the tracking page show it), and is handed over
against that code only: a wrong code changes nothing, the right one ships and delivers at
once, a second hand-over is refused (threads included)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dingdan.db.label_tables import StorePickup
from dingdan.db.message_tables import Message
from dingdan.db.order_tables import Order
from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import InvalidTransition
from dingdan.services.fulfilment import pickup, pickup_handover
from dingdan.services.jobs import worker
from dingdan.services.shared.common import Actor
from tests.builders import Shop, lines, order_body, pay, post_order
from tests.helpers import run_threads
from tests.pages.conftest import PASSWORD, Browser

CLERK = Actor("test:clerk", Role.WAREHOUSE)

stocked = Shop(
    products={"TEA-001": {"price": "350.00", "name": "凍頂烏龍茶 150g"}},
    locations={"TPE": 0, "XINYI": 5},
    stock={"TPE": {"TEA-001": 50}, "XINYI": {"TEA-001": 10}},
).fixture()

AT_XINYI = {"type": "store_pickup", "location": "XINYI"}


def pickup_order(api, quantity=2, *, paid=True, **over):
    body = order_body(
        lines(("TEA-001", quantity)),
        delivery=AT_XINYI,
        shipping_address={"name": "王小明", "phone": "+886912345678", "country": "TW"},
        **over,
    )
    o = post_order(api, body)
    if paid:
        pay(api, o)
    return o


def pack(api, number, quantity=2, location="XINYI"):
    return api.post(
        f"/api/v1/orders/{number}/pack",
        json={"location": location, "scans": ["TEA-001"] * quantity},
        role="warehouse",
    )


def code_of(db, number):
    return db.read(
        lambda conn: conn.execute(
            select(StorePickup.code)
            .join(Order, Order.id == StorePickup.order_id)
            .where(Order.number == number)
        ).scalar()
    )


def hand_over(api, number, code, role="warehouse"):
    return api.post(f"/api/v1/orders/{number}/pickup", json={"code": code}, role=role)


def shipped(api, number):
    return api.get(f"/api/v1/orders/{number}/shipments").json()["items"]


def kinds(api, number):
    return [e["kind"] for e in api.get(f"/api/v1/orders/{number}/events").json()["items"]]


def test_a_pickup_order_is_allocated_at_its_store_before_a_preferred_warehouse(api, stocked):
    o = pickup_order(api)
    held = api.get("/api/v1/locations/XINYI/pick-list").json()["orders"]
    assert held == [o["number"]]
    assert api.get("/api/v1/locations/TPE/pick-list").json()["orders"] == []
    # An order without pickup still goes to the preferred warehouse.
    other = post_order(api, order_body(lines(("TEA-001", 1))))
    pay(api, other)
    assert api.get("/api/v1/locations/TPE/pick-list").json()["orders"] == [other["number"]]


def test_packed_at_its_store_the_order_gets_a_code_and_the_customer_hears_it(api, stocked):
    o = pickup_order(api)
    n = o["number"]
    assert code_of(api.db, n) is None
    assert pack(api, n).status_code == 201
    code = code_of(api.db, n)
    assert code and len(code) == 6 and set(code) <= set(pickup.ALPHABET)
    assert "ready_for_pickup" in kinds(api, n)
    worker.drain_outbox(api.db)
    rows = api.db.read(
        lambda conn: conn.execute(
            select(Message).where(Message.order_number == n, Message.kind == "ready_for_pickup")
        ).all()
    )
    assert len(rows) == 1 and code in rows[0].text_body and code in rows[0].html_body
    assert "Warehouse XINYI" in rows[0].text_body  # where to collect it
    # The tracking page shows the code to the customer.
    token = api.db.read(
        lambda conn: conn.execute(select(Order.tracking_token).where(Order.number == n)).scalar()
    )
    page = api.client.get(f"/track/{token}")
    assert page.status_code == 200 and code in page.text


def test_a_wrong_code_changes_nothing_and_the_right_one_hands_over_once(api, stocked):
    n = pickup_order(api)["number"]
    early = hand_over(api, n, "AAAAAA")
    assert early.status_code == 409  # not packed yet: nothing to hand over
    assert pack(api, n).status_code == 201
    code = code_of(api.db, n)
    wrong = hand_over(api, n, "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY")
    assert wrong.status_code == 422
    assert [(e["field"], e["code"]) for e in wrong.json()["errors"]] == [
        ("code", "wrong_pickup_code")
    ]
    order = api.get(f"/api/v1/orders/{n}").json()
    assert order["fulfillment_status"] == "unfulfilled" and shipped(api, n) == []
    assert hand_over(api, n, code, role="viewer").status_code == 403
    # Typed as people type it: lower case, with a space.
    r = hand_over(api, n, f"{code[:3].lower()} {code[3:].lower()}")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "handed_over" and r.json()["location"]["code"] == "XINYI"
    order = api.get(f"/api/v1/orders/{n}").json()
    assert order["fulfillment_status"] == "fulfilled" and order["status"] == "completed"
    [shipment] = shipped(api, n)
    assert shipment["carrier"] == "store_pickup" and shipment["status"] == "delivered"
    assert "delivered" in kinds(api, n)
    audit = api.get(f"/api/v1/audit?resource=order:{n}").json()["items"]
    assert "hand_over" in [a["action"] for a in audit]
    again = hand_over(api, n, code)
    assert again.status_code == 409
    # The "shipped" of a hand-over is not sent to the customer; "delivered" is.
    worker.drain_outbox(api.db)
    sent = api.db.read(
        lambda conn: conn.execute(select(Message.kind).where(Message.order_number == n)).scalars()
    )
    assert "shipped" not in set(sent)


def test_two_clerks_scanning_the_same_code_hand_over_once(api, stocked, db):
    n = pickup_order(api)["number"]
    assert pack(api, n).status_code == 201
    code = code_of(db, n)
    done: list[str] = []

    def one(i: int) -> None:
        try:
            done.append(pickup_handover.hand_over(db, CLERK, n, code)["status"])
        except InvalidTransition:
            done.append("refused")

    assert run_threads(2, one) == []
    assert sorted(done) == ["handed_over", "refused"]
    assert len(shipped(api, n)) == 1


def test_a_code_is_unique_among_open_pickups_and_may_come_back_once_closed(
    api, stocked, monkeypatch
):
    drawn = iter(["AAAAAA", "AAAAAA", "CCCCCC", "AAAAAA"])
    monkeypatch.setattr(pickup, "new_code", lambda: next(drawn))
    first, second = pickup_order(api, 1)["number"], pickup_order(api, 1)["number"]
    assert pack(api, first, 1).status_code == 201
    assert pack(api, second, 1).status_code == 201
    assert (code_of(api.db, first), code_of(api.db, second)) == ("AAAAAA", "CCCCCC")
    assert hand_over(api, first, "AAAAAA").status_code == 200
    third = pickup_order(api, 1)["number"]
    assert pack(api, third, 1).status_code == 201
    assert code_of(api.db, third) == "AAAAAA"


def test_the_counter_page_hands_over_by_the_scanned_code(api, stocked, client):
    from dingdan.services.access import accounts
    from tests.builders import ADMIN

    n = pickup_order(api)["number"]
    assert pack(api, n).status_code == 201
    code = code_of(api.db, n)
    accounts.create_user(
        api.db, ADMIN, email="shop@example.com", role="warehouse", password=PASSWORD
    )
    b = Browser(client)
    assert b.sign_in("shop@example.com").status_code == 303
    page = b.get("/pickup?location=XINYI")
    assert page.status_code == 200 and n in page.text and code not in page.text
    other = "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"
    wrong = b.post("/pickup", {"location": "XINYI", "code": other})
    assert wrong.status_code == 422
    r = b.post("/pickup", {"location": "XINYI", "code": code})
    assert r.status_code == 303
    assert api.get(f"/api/v1/orders/{n}").json()["status"] == "completed"
    after = b.get("/pickup?location=XINYI").text
    assert f"Order {n} handed over." in after and f'href="/orders/{n}"' not in after


@pytest.mark.parametrize("typed", ["²", "x" * 41, "   ", "ＡＢ"])
def test_nonsense_codes_are_wrong_codes(api, stocked, typed):
    n = pickup_order(api)["number"]
    assert pack(api, n).status_code == 201
    assert hand_over(api, n, typed).status_code == 422
    assert shipped(api, n) == []
