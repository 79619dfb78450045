"""Purchase orders through the API on both databases: draft → sent → partially received →
received, closed short, the cancel rules, over-receipt refused; after every step the
ledger is exact (on hand, available, on order) and `inventory verify` finds nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dingdan.db.tables import Product, StockMovement
from dingdan.services.inventory import stock as inventory
from tests.builders import location, order_body, post_order, product, receive


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))


@pytest.fixture
def shop(db):
    product(db, "TEA-001", price="350.00")
    product(db, "CUP-001", price="120.00")
    location(db, "TPE")
    location(db, "KHH", priority=1)
    return db


def _supplier(api: Any, code: str = "ALISHAN", **over: Any) -> dict[str, Any]:
    body = {
        "code": code,
        "name": "阿里山茶業",
        "lead_time_days": 7,
        "currency": "TWD",
        "email": "orders@alishan.example",
        **over,
    }
    r = api.post("/api/v1/suppliers", json=body, role="warehouse")
    assert r.status_code == 201, r.text
    return dict(r.json())


def _po(api: Any, lines: list[dict[str, Any]] | None = None, **over: Any) -> dict[str, Any]:
    body = {
        "supplier": "ALISHAN",
        "location": "TPE",
        "lines": lines
        or [
            {"sku": "TEA-001", "quantity": 10, "unit_cost": "100.00"},
            {"sku": "CUP-001", "quantity": 5, "unit_cost": "40.00"},
        ],
        **over,
    }
    r = api.post("/api/v1/purchase-orders", json=body, role="warehouse")
    assert r.status_code == 201, r.text
    return dict(r.json())


def _stock(api: Any, sku: str) -> tuple[int, int, int]:
    s = api.get(f"/api/v1/inventory/{sku}").json()
    assert s["available"] == s["on_hand"] - s["reserved"]
    return s["on_hand"], s["available"], s["on_order"]


def _receive(api: Any, po: dict[str, Any], *pairs: tuple[str, int]) -> Any:
    return api.post(
        f"/api/v1/purchase-orders/{po['id']}/receipts",
        role="warehouse",
        json={"lines": [{"sku": s, "quantity": q} for s, q in pairs]},
    )


def test_a_po_goes_from_draft_to_received_and_the_ledger_is_exact_at_every_step(api, shop):
    _supplier(api)
    po = _po(api)
    assert (
        po["status"] == "draft"
        and po["number"].startswith("PO-")
        and po["number"].endswith("-0001")
    )
    assert po["lines"] == [
        {"sku": "TEA-001", "quantity": 10, "received": 0, "unit_cost": "100.00"},
        {"sku": "CUP-001", "quantity": 5, "received": 0, "unit_cost": "40.00"},
    ]
    assert _stock(api, "TEA-001") == (0, 0, 0)  # a draft is not on order
    sent = api.post(f"/api/v1/purchase-orders/{po['id']}/send", role="warehouse")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert _stock(api, "TEA-001") == (0, 0, 10)
    assert _stock(api, "CUP-001") == (0, 0, 5)

    r = _receive(api, po, ("TEA-001", 4))
    assert r.status_code == 201, r.text
    assert r.json()["purchase_order"]["status"] == "partially_received"
    assert _stock(api, "TEA-001") == (4, 4, 6)
    assert _stock(api, "CUP-001") == (0, 0, 5)

    r = _receive(api, po, ("TEA-001", 6), ("CUP-001", 5))
    assert r.status_code == 201, r.text
    got = api.get(f"/api/v1/purchase-orders/{po['id']}").json()
    assert got["status"] == "received"
    assert [(ln["sku"], ln["received"]) for ln in got["lines"]] == [("TEA-001", 10), ("CUP-001", 5)]
    assert len(got["receipts"]) == 2
    assert _stock(api, "TEA-001") == (10, 10, 0)
    assert _stock(api, "CUP-001") == (5, 5, 0)
    moves = api.db.read(
        lambda c: c.execute(
            select(StockMovement.on_hand_delta, StockMovement.reason, StockMovement.reference)
            .where(StockMovement.kind == "receipt")
            .order_by(StockMovement.id)
        ).all()
    )
    assert [tuple(m) for m in moves] == [
        (4, "purchase_order", po["number"]),
        (6, "purchase_order", po["number"]),
        (5, "purchase_order", po["number"]),
    ]
    assert inventory.verify(api.db) == []
    # Received in full: nothing more may arrive, and it cannot be cancelled or closed.
    again = _receive(api, po, ("TEA-001", 1))
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    for action in ("cancel", "close"):
        r = api.post(f"/api/v1/purchase-orders/{po['id']}/{action}", role="warehouse")
        assert r.status_code == 409 and r.json()["code"] == "invalid_transition"


def test_closing_a_po_received_short_takes_what_is_missing_off_order(api, shop):
    _supplier(api)
    po = _po(api)
    api.post(f"/api/v1/purchase-orders/{po['id']}/send", role="warehouse")
    assert _receive(api, po, ("TEA-001", 7)).status_code == 201
    assert _stock(api, "TEA-001") == (7, 7, 3)
    closed = api.post(f"/api/v1/purchase-orders/{po['id']}/close", role="warehouse")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert _stock(api, "TEA-001") == (7, 7, 0)
    assert _stock(api, "CUP-001") == (0, 0, 0)
    r = _receive(api, po, ("TEA-001", 1))
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert inventory.verify(api.db) == []


def test_a_po_is_cancelled_only_before_anything_arrived(api, shop):
    _supplier(api)
    draft = _po(api)
    r = api.post(f"/api/v1/purchase-orders/{draft['id']}/cancel", role="warehouse")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = _receive(api, draft, ("TEA-001", 1))
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = api.post(f"/api/v1/purchase-orders/{draft['id']}/send", role="warehouse")
    assert r.status_code == 409

    sent = _po(api)
    api.post(f"/api/v1/purchase-orders/{sent['id']}/send", role="warehouse")
    assert _stock(api, "TEA-001") == (0, 0, 10)
    r = api.post(f"/api/v1/purchase-orders/{sent['id']}/cancel", role="warehouse")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert _stock(api, "TEA-001") == (0, 0, 0)

    partly = _po(api)
    api.post(f"/api/v1/purchase-orders/{partly['id']}/send", role="warehouse")
    assert _receive(api, partly, ("CUP-001", 1)).status_code == 201
    r = api.post(f"/api/v1/purchase-orders/{partly['id']}/cancel", role="warehouse")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert api.get(f"/api/v1/purchase-orders/{partly['id']}").json()["status"] == (
        "partially_received"
    )


def test_a_draft_cannot_receive(api, shop):
    _supplier(api)
    po = _po(api)
    r = _receive(api, po, ("TEA-001", 1))
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert _stock(api, "TEA-001") == (0, 0, 0)


def test_receiving_more_than_ordered_minus_received_is_422_and_changes_nothing(api, shop):
    _supplier(api)
    po = _po(api)
    api.post(f"/api/v1/purchase-orders/{po['id']}/send", role="warehouse")
    assert _receive(api, po, ("TEA-001", 8)).status_code == 201
    r = _receive(api, po, ("CUP-001", 1), ("TEA-001", 3))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"] == [
        {
            "field": "lines[1].quantity",
            "code": "exceeds_outstanding",
            "message": "is more than ordered minus received (2)",
        }
    ]
    not_on_po = _receive(api, po, ("NOPE-1", 1))
    assert not_on_po.status_code == 422
    assert not_on_po.json()["errors"][0]["code"] == "not_on_purchase_order"
    assert _stock(api, "TEA-001") == (8, 8, 2)
    assert _stock(api, "CUP-001") == (0, 0, 5)  # the refused receipt moved nothing
    assert inventory.verify(api.db) == []


def test_a_backorder_is_allocated_when_the_po_arrives(api, shop, db):
    product(db, "PRE-001", price="500.00", allow_backorder=True)
    _supplier(api)
    order = post_order(api, order_body([{"sku": "PRE-001", "quantity": 3, "unit_price": "500.00"}]))
    assert api.get("/api/v1/inventory/PRE-001").json()["backordered"] == 3
    po = _po(api, [{"sku": "PRE-001", "quantity": 5, "unit_cost": "200.00"}])
    api.post(f"/api/v1/purchase-orders/{po['id']}/send", role="warehouse")
    assert _receive(api, po, ("PRE-001", 5)).status_code == 201
    stock = api.get("/api/v1/inventory/PRE-001").json()
    assert (
        stock["on_hand"],
        stock["reserved"],
        stock["available"],
        stock["backordered"],
        stock["on_order"],
    ) == (5, 3, 2, 0, 0)
    got = api.get(f"/api/v1/orders/{order['number']}").json()
    assert [ln["backordered"] for ln in got["lines"]] == [0]
    assert inventory.verify(db) == []


def test_receipts_land_at_the_po_location_only(api, shop):
    _supplier(api)
    po = _po(api, location="KHH")
    api.post(f"/api/v1/purchase-orders/{po['id']}/send", role="warehouse")
    _receive(api, po, ("TEA-001", 10))
    levels = {
        loc["location"]: loc["on_hand"]
        for loc in api.get("/api/v1/inventory/TEA-001").json()["locations"]
    }
    assert levels == {"KHH": 10}


def test_po_numbers_are_gapless_even_after_a_refused_po(api, shop):
    _supplier(api)
    first = _po(api)
    bad = api.post(
        "/api/v1/purchase-orders",
        role="warehouse",
        json={
            "supplier": "ALISHAN",
            "location": "TPE",
            "lines": [{"sku": "NOPE", "quantity": 1, "unit_cost": "1.00"}],
        },
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "unknown_sku"
    second = _po(api)
    n1, n2 = int(first["number"].rsplit("-", 1)[1]), int(second["number"].rsplit("-", 1)[1])
    assert n2 == n1 + 1


def test_moving_average_cost_with_landed_cost_is_computed_as_by_hand(api, shop, db):
    """10 TEA-001 at 100.00 and 5 CUP-001 at 40.00 (value 1000 + 200 = 1200) with freight
    90.00 and duty 30.00: 120.00 spread by value, 10% of each unit's cost. TEA lands at
    110.00, CUP at 44.00. TEA: 20 on hand at 95.00 (set by an earlier PO without extras),
    then 10 arrive at 110.00: (20 × 95 + 10 × 110) / 30 = 3000 / 30 = 100.00."""
    _supplier(api)
    first = _po(api, [{"sku": "TEA-001", "quantity": 20, "unit_cost": "95.00"}])
    api.post(f"/api/v1/purchase-orders/{first['id']}/send", role="warehouse")
    _receive(api, first, ("TEA-001", 20))
    assert api.get("/api/v1/products/TEA-001").json()["cost"] == "95.00"
    po = _po(api, freight="90.00", duty="30.00")
    api.post(f"/api/v1/purchase-orders/{po['id']}/send", role="warehouse")
    _receive(api, po, ("TEA-001", 10), ("CUP-001", 5))
    tea = api.get("/api/v1/products/TEA-001").json()
    cup = api.get("/api/v1/products/CUP-001").json()
    assert (tea["cost"], tea["cost_currency"]) == ("100.00", "TWD")
    assert cup["cost"] == "44.00"
    micros = db.read(
        lambda c: c.execute(select(Product.cost_micros).where(Product.sku == "TEA-001")).scalar()
    )
    assert micros == 100_000_000


def test_purchasing_needs_the_warehouse_manager_or_admin_role(api, shop):
    body = {"code": "X", "name": "X", "lead_time_days": 1, "currency": "TWD"}
    for role in ("customer_service", "finance", "viewer"):
        r = api.post("/api/v1/suppliers", json=body, role=role)
        assert r.status_code == 403, role
    assert api.post("/api/v1/suppliers", json=body, role="manager").status_code == 201
    assert api.get("/api/v1/suppliers", role="viewer").json()["items"][0]["code"] == "X"


def test_a_duplicate_supplier_code_is_409_and_input_is_strict(api, shop):
    _supplier(api)
    dup = api.post(
        "/api/v1/suppliers",
        json={"code": "ALISHAN", "name": "x", "lead_time_days": 1, "currency": "TWD"},
    )
    assert dup.status_code == 409 and dup.json()["code"] == "conflict"
    bad = api.post(
        "/api/v1/purchase-orders",
        json={
            "supplier": "ALISHAN",
            "location": "TPE",
            "lines": [{"sku": "TEA-001", "quantity": "3", "unit_cost": 1.5}],
        },
    )
    assert bad.status_code == 422
    unknown = api.post(
        "/api/v1/purchase-orders",
        json={
            "supplier": "NOBODY",
            "location": "TPE",
            "lines": [{"sku": "TEA-001", "quantity": 3, "unit_cost": "1.00"}],
        },
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {
        "field": "supplier",
        "code": "unknown_supplier",
        "message": "no supplier with code 'NOBODY'",
    }
    assert api.get("/api/v1/purchase-orders/999999").status_code == 404


def test_the_product_takes_a_reorder_point_and_a_preferred_supplier(api, shop):
    _supplier(api)
    r = api.patch("/api/v1/products/TEA-001", json={"reorder_point": 12, "supplier": "ALISHAN"})
    assert r.status_code == 200, r.text
    assert (r.json()["reorder_point"], r.json()["supplier"]) == (12, "ALISHAN")
    links = api.get("/api/v1/suppliers/ALISHAN/products").json()["items"]
    assert [(ln["sku"], ln["preferred"]) for ln in links] == [("TEA-001", True)]
    r = api.patch("/api/v1/products/TEA-001", json={"reorder_point": None, "supplier": None})
    assert (r.json()["reorder_point"], r.json()["supplier"]) == (None, None)
    bad = api.patch("/api/v1/products/TEA-001", json={"supplier": "NOBODY"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "supplier"
    neg = api.patch("/api/v1/products/TEA-001", json={"reorder_point": -1})
    assert neg.status_code == 422


def test_lists_of_suppliers_and_purchase_orders(api, shop):
    _supplier(api)
    _supplier(api, "BETA", currency="USD")
    a, b = _po(api), _po(api)
    api.post(f"/api/v1/purchase-orders/{b['id']}/send", role="warehouse")
    codes = [s["code"] for s in api.get("/api/v1/suppliers?limit=1").json()["items"]]
    assert codes == ["ALISHAN"]
    page = api.get("/api/v1/purchase-orders").json()
    assert [p["number"] for p in page["items"]] == [b["number"], a["number"]]
    sent = api.get("/api/v1/purchase-orders?status=sent").json()["items"]
    assert [p["number"] for p in sent] == [b["number"]]
    assert api.get(f"/api/v1/purchase-orders/{a['number']}").json()["id"] == a["id"]


def test_sending_records_the_event_for_the_supplier_email(api, shop, db):
    from dingdan.db.tables import OutboxMessage

    _supplier(api)
    po = _po(api)
    api.post(f"/api/v1/purchase-orders/{po['id']}/send", role="warehouse")
    events = db.read(
        lambda c: c.execute(
            select(OutboxMessage.topic, OutboxMessage.payload).where(
                OutboxMessage.topic == "purchase_order.sent"
            )
        ).all()
    )
    assert [(t, p["number"]) for t, p in events] == [("purchase_order.sent", po["number"])]
    receive(db, "TPE", {"TEA-001": 1})  # an ordinary receipt still works beside POs


def test_a_sent_po_becomes_a_pdf_and_an_email_in_the_suppliers_language(api, shop, db):
    from dingdan.db.message_tables import Message
    from dingdan.services.jobs import worker
    from dingdan.services.shared import documents

    _supplier(api, language="zh-Hant")
    r = api.request(
        "PUT", "/api/v1/suppliers/ALISHAN/products/TEA-001", json={"supplier_sku": "AL-OOLONG-150"}
    )
    assert r.status_code == 200, r.text
    po = _po(api, notes="請附出貨單")
    api.post(f"/api/v1/purchase-orders/{po['id']}/send", role="warehouse")
    worker.drain(db)
    worker.drain(db)  # a second run adds nothing
    mails = db.read(
        lambda c: c.execute(
            select(
                Message.recipient,
                Message.subject,
                Message.text_body,
                Message.html_body,
                Message.locale,
            )
        ).all()
    )
    assert len(mails) == 1
    recipient, subject, text, html, locale = mails[0]
    assert (recipient, locale) == ("orders@alishan.example", "zh-Hant")
    assert po["number"] in subject and "採購單" in subject
    assert "AL-OOLONG-150" in text and "TEA-001" in text and "1200.00 TWD" in text
    assert "請附出貨單" in html
    assert documents.pdf_state(db, "purchase_order", po["number"])["pending"]
    assert documents.render_pending(db, render=lambda html: b"%PDF-1.7 " + html.encode()) == 1
    pdf = documents.latest_pdf(db, "purchase_order", po["number"])
    assert pdf["data"].startswith(b"%PDF") and b"AL-OOLONG-150" in pdf["data"]
