"""Cycle counts: the sheet lists the SKUs due by ABC class and last count date; counted
lines post counted - on_hand_at_count through the ledger, never below what is reserved."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from dingdan.db.cycle_count_tables import StockCountDate
from dingdan.db.order_tables import Order
from dingdan.db.tables import AuditEntry, Location, Product, Setting, StockMovement
from dingdan.domain.access.roles import Role
from dingdan.services.inventory import stock as inventory
from dingdan.services.purchasing import cycle_counts
from dingdan.services.shared.common import Actor
from tests.builders import ADMIN, Shop, order_body, post_order

SHOP = Shop(
    products={
        "TEA-001": "350.00",
        "CUP-001": "100.00",
        "POT-001": "50.00",
        "BAG-001": "25.00",
        "NEW-001": "10.00",
    },
    locations={"TPE": 0, "KHH": 1},
    stock={"TPE": {"TEA-001": 50, "CUP-001": 50, "POT-001": 50, "BAG-001": 50, "NEW-001": 5}},
)
stocked = SHOP.fixture()
URL = "/api/v1/cycle-counts"


def _ids(db, sku):
    def work(c):
        pid = c.execute(select(Product.id).where(Product.sku == sku)).scalar_one()
        lid = c.execute(select(Location.id).where(Location.code == "TPE")).scalar_one()
        return pid, lid

    return db.read(work)


def _counted(db, sku, days_ago):
    pid, lid = _ids(db, sku)
    at = datetime.now(UTC) - timedelta(days=days_ago)
    db.write(
        lambda c: c.execute(
            insert(StockCountDate).values(product_id=pid, location_id=lid, last_counted_at=at)
        )
    )


@pytest.fixture
def sales(api, stocked):
    """TEA 700 and CUP 200 (A), BAG 50 (B), POT 50 (C), NEW none (C), placed last week."""
    body = [
        {"sku": "TEA-001", "quantity": 2},
        {"sku": "CUP-001", "quantity": 2},
        {"sku": "POT-001", "quantity": 1},
        {"sku": "BAG-001", "quantity": 2},
    ]
    o = post_order(api, order_body(body))
    when = datetime.now(UTC) - timedelta(days=7)
    stmt = update(Order).where(Order.number == o["number"]).values(created_at=when)
    api.db.write(lambda c: c.execute(stmt))
    return o


def _level(api, sku):
    for lv in inventory.stock_of(api.db, sku)["locations"]:
        if lv["location"] == "TPE":
            return lv["on_hand"], lv["reserved"]
    raise AssertionError(sku)


def _movements(db, reference):
    stmt = select(StockMovement).where(StockMovement.reference == reference)
    return db.read(lambda c: c.execute(stmt.order_by(StockMovement.id)).all())


def test_the_sheet_lists_what_is_due_by_class_and_last_count(api, sales):
    _counted(api.db, "TEA-001", 10)  # A, every 30 days: not due
    _counted(api.db, "CUP-001", 40)  # A: due
    _counted(api.db, "BAG-001", 60)  # B, every 91 days: not due
    _counted(api.db, "POT-001", 400)  # C, every 365 days: due
    r = api.post(URL, json={"location": "TPE"}, role="manager")
    assert r.status_code == 201, r.text
    got = [(ln["sku"], ln["class"]) for ln in r.json()["lines"]]
    # A first; within C the never counted before the longest uncounted.
    assert got == [("CUP-001", "A"), ("NEW-001", "C"), ("POT-001", "C")]
    assert r.json()["status"] == "open"
    assert r.json()["lines"][0]["last_counted_at"] is not None
    xyz = {ln["sku"]: ln["xyz"] for ln in r.json()["lines"]}
    assert xyz["CUP-001"] in {"X", "Y", "Z"} and xyz["NEW-001"] is None
    kept = api.get(f"{URL}/{r.json()['id']}").json()
    assert {ln["sku"]: ln["xyz"] for ln in kept["lines"]} == xyz

    # B every 30 days from the settings: BAG is due as well.
    api.db.write(
        lambda c: c.execute(insert(Setting).values(key="cycle_count_intervals", value={"B": 30}))
    )
    again = api.post(URL, json={"location": "TPE"}).json()
    assert [ln["sku"] for ln in again["lines"]] == ["CUP-001", "BAG-001", "NEW-001", "POT-001"]

    nothing = api.post(URL, json={"location": "KHH"})
    assert nothing.status_code == 422
    assert nothing.json()["errors"][0]["code"] == "no_skus_due"
    chosen = api.post(URL, json={"location": "TPE", "skus": ["TEA-001"]}).json()
    assert [ln["sku"] for ln in chosen["lines"]] == ["TEA-001"]
    unknown = api.post(URL, json={"location": "TPE", "skus": ["NOPE"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "skus[0]"
    listed = api.get(URL, params={"location": "TPE"}, role="viewer").json()["items"]
    assert [i["id"] for i in listed] == [chosen["id"], again["id"], r.json()["id"]]


def test_counted_lines_post_their_differences_through_the_ledger(api, stocked):
    sheet = api.post(URL, json={"location": "TPE", "skus": ["TEA-001", "CUP-001", "POT-001"]})
    cid = sheet.json()["id"]
    a = api.post(f"{URL}/{cid}/lines", json={"sku": "TEA-001", "counted": 47}, role="warehouse")
    assert a.status_code == 200, a.text
    line = a.json()["lines"][0]
    assert (line["counted"], line["on_hand_at_count"], line["difference"]) == (47, 50, -3)
    assert line["counted_by"] == "token:test-warehouse"
    api.post(f"{URL}/{cid}/lines", json={"sku": "CUP-001", "counted": 51}, role="manager")
    api.post(f"{URL}/{cid}/lines", json={"sku": "CUP-001", "counted": 52}, role="manager")
    # POT-001 is not counted: posting leaves it alone.
    posted = api.post(f"{URL}/{cid}/post", role="warehouse")
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert body["status"] == "posted" and body["posted_by"] == "token:test-warehouse"
    assert [ln["posted_delta"] for ln in body["lines"]] == [-3, 2, None]
    assert _level(api, "TEA-001") == (47, 0)
    assert _level(api, "CUP-001") == (52, 0)
    assert _level(api, "POT-001") == (50, 0)
    moves = _movements(api.db, f"cycle-count:{cid}")
    assert sorted((m.kind, m.on_hand_delta, m.reason, m.actor) for m in moves) == [
        ("adjustment", -3, "cycle_count", "token:test-warehouse"),
        ("adjustment", 2, "cycle_count", "token:test-manager"),
    ]
    assert inventory.verify(api.db) == []
    dates = api.db.read(lambda c: c.execute(select(StockCountDate)).scalars().all())
    assert len(dates) == 2
    again = api.post(f"{URL}/{cid}/post")
    assert again.status_code == 409
    late = api.post(f"{URL}/{cid}/lines", json={"sku": "POT-001", "counted": 1})
    assert late.status_code == 409
    actions = api.db.read(
        lambda c: (
            c.execute(
                select(AuditEntry.action).where(
                    AuditEntry.entity_type == "cycle_count", AuditEntry.entity_id == cid
                )
            )
            .scalars()
            .all()
        )
    )
    assert sorted(actions) == ["create", "post_count"]


def test_stock_moving_after_the_count_is_kept(api, stocked):
    cid = api.post(URL, json={"location": "TPE", "skus": ["TEA-001"]}).json()["id"]
    api.post(f"{URL}/{cid}/lines", json={"sku": "TEA-001", "counted": 48})
    order = post_order(api, order_body([{"sku": "TEA-001", "quantity": 5}]))
    assert (order["status"], order["lines"][0]["allocated"]) == ("open", 5)
    damaged = {"sku": "TEA-001", "location": "TPE", "delta": -1, "reason": "damaged"}
    inventory.adjust(api.db, ADMIN, damaged)
    assert _level(api, "TEA-001") == (49, 5)
    r = api.post(f"{URL}/{cid}/post")
    assert r.status_code == 200, r.text
    # Found 48 when 50 were recorded; the damaged one left after the count: 47.
    assert _level(api, "TEA-001") == (47, 5)
    assert inventory.verify(api.db) == []


def test_a_count_below_what_is_reserved_is_refused_whole(api, stocked):
    cid = api.post(URL, json={"location": "TPE", "skus": ["CUP-001", "TEA-001"]}).json()["id"]
    post_order(api, order_body([{"sku": "TEA-001", "quantity": 45}]))
    api.post(f"{URL}/{cid}/lines", json={"sku": "CUP-001", "counted": 40})
    api.post(f"{URL}/{cid}/lines", json={"sku": "TEA-001", "counted": 40})
    r = api.post(f"{URL}/{cid}/post")
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["code"] == "below_reserved"
    assert _level(api, "TEA-001") == (50, 45)
    assert _level(api, "CUP-001") == (50, 0)
    assert _movements(api.db, f"cycle-count:{cid}") == []
    assert api.get(f"{URL}/{cid}").json()["status"] == "open"
    assert inventory.verify(api.db) == []
    # Recounted at 46: posted.
    api.post(f"{URL}/{cid}/lines", json={"sku": "TEA-001", "counted": 46})
    assert api.post(f"{URL}/{cid}/post").status_code == 200
    assert _level(api, "TEA-001") == (46, 45)


def test_warehouse_counts_and_a_viewer_may_not(api, stocked):
    r = api.post(URL, json={"location": "TPE", "skus": ["TEA-001"]}, role="warehouse")
    assert r.status_code == 201
    cid = r.json()["id"]
    assert api.post(URL, json={"location": "TPE"}, role="viewer").status_code == 403
    body = {"sku": "TEA-001", "counted": 3}
    assert api.post(f"{URL}/{cid}/lines", json=body, role="viewer").status_code == 403
    assert api.post(f"{URL}/{cid}/post", role="viewer").status_code == 403
    assert api.get(f"{URL}/{cid}", role="viewer").status_code == 200
    assert api.get(f"{URL}/nope").status_code == 404
    assert api.get(f"{URL}/999999").status_code == 404
    bad = api.post(f"{URL}/{cid}/lines", json={"sku": "CUP-001", "counted": 3})
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "not_on_count_sheet"
    none = api.post(f"{URL}/{cid}/post")
    assert none.status_code == 422 and none.json()["errors"][0]["code"] == "nothing_counted"


def test_two_counters_scanning_at_once_lose_no_unit_and_one_posting_wins(api, stocked):
    cid = api.post(URL, json={"location": "TPE", "skus": ["TEA-001"]}).json()["id"]

    def scan(name):
        actor = Actor(name, Role.WAREHOUSE)
        for _ in range(10):
            cycle_counts.record(api.db, actor, cid, {"sku": "TEA-001"}, scan=True)

    threads = [threading.Thread(target=scan, args=(f"counter-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert api.get(f"{URL}/{cid}").json()["lines"][0]["counted"] == 20

    answers = []

    def post():
        answers.append(api.post(f"{URL}/{cid}/post").status_code)

    posters = [threading.Thread(target=post) for _ in range(2)]
    for t in posters:
        t.start()
    for t in posters:
        t.join()
    assert sorted(answers) == [200, 409]
    assert _level(api, "TEA-001") == (20, 0)
    assert len(_movements(api.db, f"cycle-count:{cid}")) == 1
    assert inventory.verify(api.db) == []
