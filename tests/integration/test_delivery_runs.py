"""Own delivery: runs per driver and day, stops in address order, planning by area, proof of
delivery on the phone, the day's cash reconciled and closed into COD payments, and what a
driver may see and do (only their own runs)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dingdan.db.delivery_tables import DeliveryStop
from dingdan.db.order_tables import Order, OrderEvent, Payment, Shipment
from dingdan.services.access import accounts
from tests.builders import ADMIN, address, order_body, post_order
from tests.helpers import location, product, receive

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SIGNATURE = b"\x89PNG\r\n\x1a\n" + b"\x01" * 80
DAY = "2026-12-08"


@pytest.fixture(autouse=True)
def uploads_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "uploads"
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(path))
    return path


@pytest.fixture
def shop(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 100})
    return db


def driver(api: Any, email: str) -> dict[str, str]:
    """A driver user and an API token acting as them (a token named after their email)."""
    accounts.create_user(
        api.db, ADMIN, email=email, role="driver", password="long passphrase 1", name=email[:2]
    )
    secret, _ = accounts.create_token(api.db, ADMIN, email, "driver")
    return {"Authorization": f"Bearer {secret}"}


def shipped(
    api: Any, postal: str, line1: str, *, cod: bool = False, carrier: str = "own_delivery"
) -> str:
    body = order_body(
        shipping_address=address(postal_code=postal, line1=line1),
        payment_method="cod" if cod else "bank_transfer",
    )
    o = post_order(api, body)
    if not cod:
        r = api.post(
            f"/api/v1/orders/{o['number']}/payments", json={"amount": o["total"]}, role="finance"
        )
        assert r.status_code == 201, r.text
    r = api.post(f"/api/v1/orders/{o['number']}/shipments", json={"carrier": carrier})
    assert r.status_code == 201, r.text
    return str(o["number"])


def new_run(api: Any, email: str, orders: list[str], day: str = DAY) -> dict[str, Any]:
    r = api.post("/api/v1/delivery-runs", json={"driver": email, "date": day, "orders": orders})
    assert r.status_code == 201, r.text
    return dict(r.json())


def deliver(
    client: Any, headers: dict[str, str], run: dict[str, Any], stop: dict[str, Any], **data: Any
) -> Any:
    files = {
        "photo": ("door.png", PNG, "image/png"),
        "signature": ("s.png", SIGNATURE, "image/png"),
    }
    return client.post(
        f"/api/v1/delivery-runs/{run['id']}/stops/{stop['id']}/deliver",
        headers=headers,
        files=files,
        data=data,
    )


def test_a_run_holds_its_stops_by_postal_code_then_street(api, shop):
    driver(api, "d1@example.com")
    far = shipped(api, "110", "信義路五段12號")
    near = shipped(api, "110", "信義路五段7號", cod=True)
    first = shipped(api, "100", "忠孝東路一段1號")
    run = new_run(api, "d1@example.com", [far, near, first])
    assert [s["order"] for s in run["stops"]] == [first, near, far]
    assert [s["position"] for s in run["stops"]] == [1, 2, 3]
    cod = run["stops"][1]
    assert cod["cod_due"] == "760.00" and run["stops"][0]["cod_due"] == "0.00"
    assert run["counts"] == {"pending": 3, "delivered": 0, "failed": 0}
    assert run["driver"]["email"] == "d1@example.com" and run["status"] == "open"
    again = api.get(f"/api/v1/delivery-runs/{run['id']}")
    assert again.status_code == 200 and again.json()["stops"] == run["stops"]
    # One run per driver and day.
    twice = api.post("/api/v1/delivery-runs", json={"driver": "d1@example.com", "date": DAY})
    assert twice.status_code == 409


def test_assignment_is_refused_for_what_is_not_own_delivery_or_already_on_a_run(api, shop):
    driver(api, "d1@example.com")
    driver(api, "d2@example.com")
    tcat = shipped(api, "100", "忠孝東路一段1號", carrier="tcat")
    mine = shipped(api, "100", "忠孝東路一段2號")
    new_run(api, "d1@example.com", [mine])
    r = api.post(
        "/api/v1/delivery-runs", json={"driver": "d2@example.com", "date": DAY, "orders": [mine]}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "on_another_run"
    r = api.post(
        "/api/v1/delivery-runs", json={"driver": "d2@example.com", "date": DAY, "orders": [tcat]}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "not_own_delivery"
    r = api.post("/api/v1/delivery-runs", json={"driver": "a@example.com", "date": DAY})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "not_a_driver"
    r = api.post("/api/v1/delivery-runs", json={"driver": "d2@example.com", "date": "2026-13-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "date"
    # Nothing of the refused requests was stored.
    assert (
        api.get("/api/v1/delivery-runs").json()["items"][0]["driver"]["email"] == "d1@example.com"
    )
    assert len(api.get("/api/v1/delivery-runs").json()["items"]) == 1


def test_planning_groups_waiting_shipments_by_area_and_suggests_the_run_going_there(api, shop):
    driver(api, "d1@example.com")
    driver(api, "d2@example.com")
    xinyi = shipped(api, "110", "信義路五段7號")
    run1 = new_run(api, "d1@example.com", [xinyi])
    run2 = new_run(api, "d2@example.com", [])
    also_xinyi = shipped(api, "11049", "松仁路100號")
    zhongzheng = shipped(api, "100", "忠孝東路一段1號")
    plan = api.get(f"/api/v1/delivery-planning?date={DAY}").json()
    by_key = {a["key"]: a for a in plan["areas"]}
    assert set(by_key) == {"TW:110", "TW:100"}
    assert [o["order"] for o in by_key["TW:110"]["orders"]] == [also_xinyi]
    assert by_key["TW:110"]["suggested_run"] == run1["id"]
    assert by_key["TW:100"]["suggested_run"] is None
    r = api.post(f"/api/v1/delivery-runs/{run2['id']}/areas", json={"area": "TW:100"})
    assert r.status_code == 200 and [s["order"] for s in r.json()["stops"]] == [zhongzheng]
    r = api.post(f"/api/v1/delivery-runs/{run1['id']}/orders", json={"orders": [also_xinyi]})
    assert [s["order"] for s in r.json()["stops"]] == [xinyi, also_xinyi]
    assert api.get(f"/api/v1/delivery-planning?date={DAY}").json()["areas"] == []
    # Taken off again, it waits for a run once more.
    r = api.request("DELETE", f"/api/v1/delivery-runs/{run1['id']}/orders/{also_xinyi}")
    assert r.status_code == 200 and [s["order"] for s in r.json()["stops"]] == [xinyi]
    assert api.get(f"/api/v1/delivery-planning?date={DAY}").json()["areas"][0]["key"] == "TW:110"


def test_proof_of_delivery_is_stored_and_the_shipment_delivered(api, client, shop, db, uploads_dir):
    headers = driver(api, "d1@example.com")
    number = shipped(api, "100", "忠孝東路一段1號")
    run = new_run(api, "d1@example.com", [number])
    stop = run["stops"][0]
    refused = client.post(
        f"/api/v1/delivery-runs/{run['id']}/stops/{stop['id']}/deliver",
        headers=headers,
        data={"note": "x"},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "proof_required"
    r = deliver(client, headers, run, stop)
    assert r.status_code == 200, r.text
    done = r.json()["stops"][0]
    assert done["status"] == "delivered" and done["photo"] and done["signature"]
    assert done["done_by"] == "token:d1@example.com"
    row = db.read(lambda c: c.execute(select(DeliveryStop)).one())
    assert (uploads_dir / row.photo_path).read_bytes() == PNG
    assert row.photo_sha256 == hashlib.sha256(PNG).hexdigest()
    assert (uploads_dir / row.signature_path).read_bytes() == SIGNATURE
    status = db.read(lambda c: c.execute(select(Shipment.status, Shipment.delivered_at)).one())
    assert status.status == "delivered" and status.delivered_at is not None
    order = api.get(f"/api/v1/orders/{number}").json()
    assert order["status"] == "completed"  # paid and delivered
    events = db.read(
        lambda c: (
            c.execute(select(OrderEvent.data).where(OrderEvent.kind == "delivered")).scalars().all()
        )
    )
    assert events[0]["photo_sha256"] == row.photo_sha256
    photo = client.get(
        f"/api/v1/delivery-runs/{run['id']}/stops/{stop['id']}/photo", headers=headers
    )
    assert photo.status_code == 200 and photo.content == PNG
    assert deliver(client, headers, run, stop).status_code == 409  # once


def test_a_failed_stop_keeps_its_reason_and_the_shipment_may_go_on_another_run(api, shop):
    headers = driver(api, "d1@example.com")
    driver(api, "d2@example.com")
    number = shipped(api, "100", "忠孝東路一段1號")
    run = new_run(api, "d1@example.com", [number])
    stop = run["stops"][0]
    url = f"/api/v1/delivery-runs/{run['id']}/stops/{stop['id']}/fail"
    assert api.client.post(url, headers=headers, json={"reason": "other"}).status_code == 422
    r = api.client.post(url, headers=headers, json={"reason": "not_home", "note": "鄰居不在"})
    assert r.status_code == 200 and r.json()["stops"][0]["fail_reason"] == "not_home"
    assert r.json()["counts"] == {"pending": 0, "delivered": 0, "failed": 1}
    tomorrow = new_run(api, "d2@example.com", [number], day="2026-12-09")
    assert tomorrow["stops"][0]["order"] == number


def test_the_days_cash_is_reconciled_and_closing_records_the_cod_payments(api, client, shop, db):
    headers = driver(api, "d1@example.com")
    a = shipped(api, "100", "忠孝東路一段1號", cod=True)
    b = shipped(api, "110", "信義路五段7號", cod=True)
    paid = shipped(api, "110", "信義路五段9號")
    run = new_run(api, "d1@example.com", [a, b, paid])
    stops = {s["order"]: s for s in run["stops"]}
    close = f"/api/v1/delivery-runs/{run['id']}/close"
    assert api.post(close, json={}, role="finance").status_code == 409  # stops pending
    too_much = deliver(client, headers, run, stops[a], cod_collected="800.00")
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["code"] == "more_than_due"
    assert deliver(client, headers, run, stops[a]).status_code == 200
    assert deliver(client, headers, run, stops[b], cod_collected="700.00").status_code == 200
    assert deliver(client, headers, run, stops[paid]).status_code == 200
    assert api.post(close, json={}, role="finance").status_code == 409  # no cash handed in
    r = client.post(
        f"/api/v1/delivery-runs/{run['id']}/cash", headers=headers, json={"amount": "1400.00"}
    )
    assert r.status_code == 200, r.text
    cash = r.json()["cash"]
    assert cash["expected"] == "1520.00" and cash["collected"] == "1460.00"
    assert cash["handed_in"] == "1400.00" and cash["difference"] == "-60.00"
    assert cash["orders"] == [
        {"order": a, "expected": "760.00", "collected": "760.00", "difference": "0.00"},
        {"order": b, "expected": "760.00", "collected": "700.00", "difference": "-60.00"},
    ]
    # A driver may not close; finance must explain a difference.
    assert client.post(close, headers=headers, json={}).status_code == 403
    r = api.post(close, json={}, role="finance")
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "difference_needs_note"
    r = api.post(close, json={"note": "司機少交 60 元"}, role="finance")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed" and r.json()["closed_by"] == "token:test-finance"
    money = dict(db.read(lambda c: c.execute(select(Order.number, Order.paid_minor)).all()))
    assert money[a] == 76000 and money[b] == 70000
    refs = db.read(
        lambda c: c.execute(
            select(Payment.reference, Payment.method).where(Payment.method == "cod")
        ).all()
    )
    assert sorted(refs) == [(f"delivery-run-{run['id']}", "cod")] * 2
    assert api.get(f"/api/v1/orders/{a}").json()["status"] == "completed"
    # Closed: nothing changes any more.
    assert api.post(close, json={"note": "x"}, role="finance").status_code == 409
    assert (
        client.post(
            f"/api/v1/delivery-runs/{run['id']}/cash", headers=headers, json={"amount": "1.00"}
        ).status_code
        == 409
    )


def test_a_driver_sees_and_delivers_only_their_own_runs(api, client, shop):
    mine_h = driver(api, "d1@example.com")
    other_h = driver(api, "d2@example.com")
    mine = new_run(api, "d1@example.com", [shipped(api, "100", "忠孝東路一段1號")])
    theirs = new_run(api, "d2@example.com", [shipped(api, "110", "信義路五段7號")])
    listed = client.get("/api/v1/delivery-runs", headers=mine_h).json()["items"]
    assert [r["id"] for r in listed] == [mine["id"]]
    assert len(api.get("/api/v1/delivery-runs").json()["items"]) == 2  # the office sees all
    assert client.get(f"/api/v1/delivery-runs/{theirs['id']}", headers=mine_h).status_code == 404
    assert deliver(client, mine_h, theirs, theirs["stops"][0]).status_code == 404
    assert deliver(client, other_h, theirs, theirs["stops"][0]).status_code == 200
    own = client.get(f"/api/v1/delivery-runs/{mine['id']}", headers=mine_h).json()
    # Drivers see the address and its phone in full, as the warehouse does.
    assert own["stops"][0]["recipient"]["phone"] == "+886912345678"
    viewer = api.get(f"/api/v1/delivery-runs/{mine['id']}", role="viewer").json()
    assert viewer["stops"][0]["recipient"]["phone"] != "+886912345678"
    # A driver plans nothing, and the customer's email and phone stay masked for them.
    r = client.post(
        "/api/v1/delivery-runs",
        headers=mine_h,
        json={"driver": "d1@example.com", "date": "2026-12-09"},
    )
    assert r.status_code == 403
    order = client.get(f"/api/v1/orders/{mine['stops'][0]['order']}", headers=mine_h).json()
    assert order["customer"]["email"] == "a***@example.com"
    assert order["shipping_address"]["phone"] == "+886912345678"
    # The warehouse may plan but not deliver.
    assert (
        deliver(
            client, {"Authorization": f"Bearer {api.token('warehouse')}"}, mine, mine["stops"][0]
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("method", "url", "kw"),
    [
        ("GET", "/api/v1/delivery-runs/²", {}),
        ("GET", "/api/v1/delivery-runs/99999999999999999999999", {}),
        ("GET", "/api/v1/delivery-runs?date=2026-02-30", {}),
        ("GET", "/api/v1/delivery-runs?limit=0", {}),
        ("GET", "/api/v1/delivery-runs?cursor=%E2%80%AE", {}),
        ("GET", "/api/v1/delivery-planning?date=１２", {}),
        ("GET", "/api/v1/delivery-runs/1/stops/x/photo", {}),
        ("POST", "/api/v1/delivery-runs/1/cash", {"json": {"amount": "1e400"}}),
        ("POST", "/api/v1/delivery-runs/1/stops/²/deliver", {"data": {"cod_collected": "inf"}}),
        ("POST", "/api/v1/delivery-runs", {"json": {"driver": "\x00", "date": "2026-12-08"}}),
        ("POST", "/api/v1/delivery-runs", {"json": {"driver": "d@x", "date": 20261208}}),
        ("DELETE", "/api/v1/delivery-runs/1/orders/DD001001", {}),
    ],
)
def test_odd_input_is_answered_4xx(api, shop, method, url, kw):
    r = api.request(method, url, **kw)
    assert 400 <= r.status_code < 500, r.text


def test_odd_amounts_on_a_real_stop_are_422_and_change_nothing(api, client, shop, db):
    headers = driver(api, "d1@example.com")
    run = new_run(api, "d1@example.com", [shipped(api, "100", "忠孝東路一段1號", cod=True)])
    stop = run["stops"][0]
    for amount in ("1e400", "-1", "nan", "1.001", "²"):
        r = deliver(client, headers, run, stop, cod_collected=amount)
        assert r.status_code == 422, (amount, r.text)
    cash = client.post(
        f"/api/v1/delivery-runs/{run['id']}/cash",
        headers=headers,
        json={"amount": "99999999999999999999"},
    )
    assert cash.status_code == 422
    row = db.read(lambda c: c.execute(select(DeliveryStop)).one())
    assert row.status == "pending" and row.photo_path is None
