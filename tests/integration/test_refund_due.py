"""Money owed back (issue 19, point 3): an order whose paid less refunded is more than it is
owed shows the difference as ``refund_due`` and is in the ``refund_due`` list."""

from __future__ import annotations

from dingdan.services.payments import refund_due
from tests.builders import ADMIN, TEA_SHOP, order_body, pay, post_order

stocked = TEA_SHOP.fixture()


def numbers(api, query):
    return [o["number"] for o in api.get(f"/api/v1/orders?{query}").json()["items"]]


def test_an_edit_below_what_was_paid_shows_the_difference_as_refund_due(api, stocked):
    o = post_order(api, order_body())  # 2 × 350.00 + 60.00 = 760.00
    assert o["refund_due"] == "0.00"
    pay(api, o)
    n = o["number"]
    r = api.patch(f"/api/v1/orders/{n}", json={"lines": [{"sku": "TEA-001", "quantity": 1}]})
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["total"] == "410.00" and edited["paid"] == "760.00"
    assert edited["balance_due"] == "0.00" and edited["refund_due"] == "350.00"
    assert numbers(api, "refund_due=true") == [n]
    r = api.post(
        f"/api/v1/orders/{n}/refunds", role="finance", json={"amount": "350.00", "reason": "edited"}
    )
    assert r.status_code == 201, r.text
    assert api.get(f"/api/v1/orders/{n}").json()["refund_due"] == "0.00"
    assert numbers(api, "refund_due=true") == []


def test_a_cancelled_paid_order_owes_back_everything_not_refunded(api, stocked):
    paid = post_order(api, order_body())
    pay(api, paid)
    unpaid = post_order(api, order_body())
    for o in (paid, unpaid):
        r = api.post(f"/api/v1/orders/{o['number']}/cancel", json={"reason": "customer asked"})
        assert r.status_code == 200, r.text
    assert api.get(f"/api/v1/orders/{paid['number']}").json()["refund_due"] == "760.00"
    assert api.get(f"/api/v1/orders/{unpaid['number']}").json()["refund_due"] == "0.00"
    assert numbers(api, "refund_due=true") == [paid["number"]]
    assert numbers(api, "refund_due=false") == [unpaid["number"], paid["number"]]
    queue = refund_due.queue(stocked)
    assert queue["count"] == 1 and queue["totals"] == [{"currency": "TWD", "amount": "760.00"}]
    assert [q["number"] for q in queue["orders"]] == [paid["number"]]


def test_refunding_the_difference_goes_through_the_refund_service(api, stocked):
    o = post_order(api, order_body())
    pay(api, o)
    n = o["number"]
    assert refund_due.refund_difference(stocked, ADMIN, n, "nothing owed yet") is None
    api.post(f"/api/v1/orders/{n}/cancel", json={"reason": "out of stock"})
    done = refund_due.refund_difference(stocked, ADMIN, n, "cancelled")
    assert done is not None and done["amount"] == "760.00"
    after = api.get(f"/api/v1/orders/{n}").json()
    assert after["refunded"] == "760.00" and after["refund_due"] == "0.00"
    assert after["financial_status"] == "refunded"
    pays = api.get(f"/api/v1/orders/{n}/payments").json()["items"]
    assert [p["kind"] for p in pays] == ["payment", "refund"]


def test_the_queue_and_the_filter_read_the_partial_index_not_every_order(db):
    """Both statements hold the index's own condition, so each database can answer them
    from the few orders that owe money (PostgreSQL asked with sequential scans off, as a
    table of a million orders would make it choose)."""
    from sqlalchemy import select, text

    from dingdan.db.order_tables import Order
    from dingdan.services.orders.queries import refund_due_clause

    queue_count = select(Order.id).where(refund_due_clause()).order_by(Order.id).limit(20)
    listed = select(Order.id).where(refund_due_clause()).order_by(Order.id.desc()).limit(51)
    for stmt in (queue_count, listed):
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))

        def plan(c, sql=sql):
            if db.is_sqlite:
                return str(c.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all())
            c.execute(text("SET LOCAL enable_seqscan = off"))
            return "\n".join(c.exec_driver_sql("EXPLAIN " + sql).scalars())

        assert "ix_orders_refund_due" in db.read(plan), db.read(plan)
