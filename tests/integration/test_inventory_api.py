"""Receipts, adjustments, transfers, the stock query and the ledger through HTTP."""

from __future__ import annotations

from dingdan.services.inventory import stock as inventory
from tests.builders import location, product, receive


def _setup(db):
    product(db, "TEA-001")
    location(db, "TPE", priority=0)
    location(db, "KHH", priority=1)


def test_a_receipt_puts_stock_on_hand_and_writes_the_ledger(api, db):
    _setup(db)
    r = api.post(
        "/api/v1/inventory/receipts",
        json={
            "location": "TPE",
            "reference": "PO-1",
            "lines": [{"sku": "TEA-001", "quantity": 12}],
        },
    )
    assert r.status_code == 201, r.text
    stock = api.get("/api/v1/inventory/TEA-001").json()
    assert stock == {
        "sku": "TEA-001",
        "on_hand": 12,
        "reserved": 0,
        "available": 12,
        "backordered": 0,
        "on_order": 0,
        "locations": [{"location": "TPE", "on_hand": 12, "reserved": 0, "available": 12}],
    }
    ledger = api.get("/api/v1/inventory/TEA-001/movements").json()["items"]
    assert [(m["kind"], m["on_hand_delta"], m["reference"]) for m in ledger] == [
        ("receipt", 12, "PO-1")
    ]
    assert ledger[0]["actor"] == "token:test-admin"


def test_an_adjustment_below_what_is_reserved_is_insufficient_stock(api, db):
    _setup(db)
    receive(db, "TPE", {"TEA-001": 5})
    from dingdan.db import stock as stock_sql

    def reserve(conn):
        stock_sql.apply(conn, [stock_sql.Move(1, 1, "reservation", 0, 3)], actor="t")

    db.write(reserve)
    r = api.post(
        "/api/v1/inventory/adjustments",
        json={"location": "TPE", "sku": "TEA-001", "delta": -3, "reason": "damaged"},
    )
    assert r.status_code == 409 and r.json()["code"] == "insufficient_stock"
    ok = api.post(
        "/api/v1/inventory/adjustments",
        json={"location": "TPE", "sku": "TEA-001", "delta": -2, "reason": "damaged"},
    )
    assert ok.status_code == 201 and ok.json()["on_hand"] == 3
    assert ok.json()["reason_code"] == "damaged"
    assert inventory.verify(db) == []


def test_a_zero_delta_a_string_quantity_and_an_unknown_sku_are_422_naming_the_field(api, db):
    _setup(db)
    cases = [
        (
            "/api/v1/inventory/adjustments",
            {"location": "TPE", "sku": "TEA-001", "delta": 0, "reason": "x"},
            "delta",
        ),
        (
            "/api/v1/inventory/receipts",
            {"location": "TPE", "lines": [{"sku": "TEA-001", "quantity": "2"}]},
            "lines[0].quantity",
        ),
        (
            "/api/v1/inventory/receipts",
            {"location": "TPE", "lines": [{"sku": "TEA-001", "quantity": 2.0}]},
            "lines[0].quantity",
        ),
        (
            "/api/v1/inventory/receipts",
            {"location": "TPE", "lines": [{"sku": "TEA-001", "quantity": 0}]},
            "lines[0].quantity",
        ),
        (
            "/api/v1/inventory/receipts",
            {
                "location": "TPE",
                "lines": [{"sku": "TEA-001", "quantity": 1}, {"sku": "NOPE", "quantity": 1}],
            },
            "lines[1].sku",
        ),
        (
            "/api/v1/inventory/receipts",
            {"location": "NOPE", "lines": [{"sku": "TEA-001", "quantity": 1}]},
            "location",
        ),
    ]
    for url, body, field in cases:
        r = api.post(url, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
    assert api.get("/api/v1/inventory/TEA-001").json()["on_hand"] == 0
    assert api.get("/api/v1/inventory/TEA-001/movements").json()["items"] == []


def test_a_transfer_moves_both_sides_or_neither(api, db):
    _setup(db)
    product(db, "TEA-002")
    receive(db, "TPE", {"TEA-001": 10, "TEA-002": 1})
    r = api.post(
        "/api/v1/inventory/transfers",
        json={
            "from_location": "TPE",
            "to_location": "KHH",
            "lines": [{"sku": "TEA-001", "quantity": 4}, {"sku": "TEA-002", "quantity": 2}],
        },
    )
    assert r.status_code == 409 and r.json()["code"] == "insufficient_stock"
    assert api.get("/api/v1/inventory/TEA-001").json()["locations"] == [
        {"location": "TPE", "on_hand": 10, "reserved": 0, "available": 10}
    ]
    r = api.post(
        "/api/v1/inventory/transfers",
        json={
            "from_location": "TPE",
            "to_location": "KHH",
            "lines": [{"sku": "TEA-001", "quantity": 4}],
        },
    )
    assert r.status_code == 201, r.text
    locs = {
        x["location"]: x["on_hand"]
        for x in api.get("/api/v1/inventory/TEA-001").json()["locations"]
    }
    assert locs == {"TPE": 6, "KHH": 4}
    kinds = [m["kind"] for m in api.get("/api/v1/inventory/TEA-001/movements").json()["items"]]
    assert sorted(kinds) == ["receipt", "transfer_in", "transfer_out"]
    assert inventory.verify(db) == []


def test_levels_list_and_low_stock_filter(api, db):
    _setup(db)
    product(db, "TEA-002", low_stock_threshold=5)
    receive(db, "TPE", {"TEA-001": 10, "TEA-002": 3})
    items = api.get("/api/v1/inventory").json()["items"]
    assert [(i["sku"], i["available"]) for i in items] == [("TEA-001", 10), ("TEA-002", 3)]
    low = api.get("/api/v1/inventory?low_stock=true").json()["items"]
    assert [i["sku"] for i in low] == ["TEA-002"]


def test_verify_reports_a_level_that_drifted_from_the_ledger(db):
    from sqlalchemy import text

    _setup(db)
    receive(db, "TPE", {"TEA-001": 5})
    assert inventory.verify(db) == []
    db.write(lambda c: c.execute(text("UPDATE stock_levels SET on_hand = 7")))
    diffs = inventory.verify(db)
    assert diffs == [
        {
            "sku": "TEA-001",
            "location": "TPE",
            "level": {"on_hand": 7, "reserved": 0},
            "ledger": {"on_hand": 5, "reserved": 0},
        }
    ]
