"""Every write to an order lands in the audit log with who, what, before and after."""

from __future__ import annotations

from sqlalchemy import select

from dingdan.db.tables import AuditEntry
from tests.builders import location, order_body, product, receive


def _audit(db, entity_type):
    return db.read(
        lambda c: c.execute(
            select(AuditEntry).where(AuditEntry.entity_type == entity_type).order_by(AuditEntry.id)
        ).all()
    )


def test_payments_shipments_edits_and_cancels_are_audited_with_before_and_after(api, db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    n = api.post("/api/v1/orders", json=order_body()).json()["number"]
    api.patch(f"/api/v1/orders/{n}", json={"lines": [{"sku": "TEA-001", "quantity": 3}]})
    api.post(f"/api/v1/orders/{n}/payments", json={"amount": "1110.00"}, role="finance")
    s = api.post(f"/api/v1/orders/{n}/shipments", json={"carrier": "tcat"}, role="warehouse")
    api.post(f"/api/v1/shipments/{s.json()['id']}/delivered", role="warehouse")
    api.post(
        f"/api/v1/orders/{n}/refunds", json={"amount": "10.00", "reason": "late"}, role="finance"
    )
    m = api.post("/api/v1/orders", json=order_body()).json()["number"]
    api.post(f"/api/v1/orders/{m}/cancel", json={"reason": "duplicate"})

    rows = _audit(db, "order")
    assert [(r.entity_id, r.action) for r in rows] == [
        (n, "edit"),
        (n, "payment"),
        (n, "ship"),
        (n, "refund"),
        (m, "cancel"),
    ]
    payment = rows[1]
    assert payment.actor == "token:test-finance"
    assert payment.before["paid"] == "0.00" and payment.after["paid"] == "1110.00"
    assert payment.before["financial_status"] == "pending"
    assert payment.after["financial_status"] == "paid"
    assert rows[0].before["total"] == "760.00" and rows[0].after["total"] == "1110.00"
    assert rows[4].after["status"] == "cancelled" and rows[4].after["reason"] == "duplicate"
    delivered = _audit(db, "shipment")
    assert [(r.action, r.before["status"], r.after["status"]) for r in delivered] == [
        ("deliver", "shipped", "delivered")
    ]


def test_the_audit_trail_is_read_through_the_api_by_resource_actor_action_and_day(api, db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    n = api.post("/api/v1/orders", json=order_body()).json()["number"]
    m = api.post("/api/v1/orders", json=order_body()).json()["number"]
    api.post(f"/api/v1/orders/{n}/payments", json={"amount": "760.00"}, role="finance")
    api.post(f"/api/v1/orders/{m}/cancel", json={"reason": "duplicate"})

    r = api.get(f"/api/v1/audit?resource=order:{n}", role="manager")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(e["resource"], e["action"], e["actor"]) for e in items] == [
        (f"order:{n}", "payment", "token:test-finance")
    ]
    assert items[0]["after"]["paid"] == "760.00" and items[0]["at"].endswith("Z")
    both = api.get("/api/v1/audit?resource=order").json()["items"]
    assert [e["resource"] for e in both] == [f"order:{m}", f"order:{n}"]  # newest first
    assert [e["action"] for e in api.get("/api/v1/audit?action=cancel").json()["items"]] == [
        "cancel"
    ]
    mine = api.get("/api/v1/audit?actor=test-finance").json()["items"]
    assert {e["actor"] for e in mine} == {"token:test-finance"}
    first = api.get("/api/v1/audit?resource=order&limit=1").json()
    rest = api.get(f"/api/v1/audit?resource=order&limit=1&cursor={first['next_cursor']}")
    assert [e["resource"] for e in rest.json()["items"]] == [f"order:{n}"]
    assert api.get("/api/v1/audit?from=2000-01-01&to=2000-01-31").json()["items"] == []

    for query, field in [
        ("from=yesterday", "from"),
        ("resource=a:b:c", "resource"),
        ("from=2026-12-07&to=2026-12-01", "to"),
        ("limit=0", "limit"),
    ]:
        bad = api.get(f"/api/v1/audit?{query}")
        assert bad.status_code == 422, query
        assert [e["field"] for e in bad.json()["errors"]] == [field], bad.text
    for role in ("warehouse", "customer_service", "viewer"):
        assert api.get("/api/v1/audit", role=role).status_code == 403
