"""Authorizations, captures, voids and COD remittances."""

from __future__ import annotations

import pytest

from tests.helpers import location, product, receive
from tests.integration.test_orders_api import order_body


@pytest.fixture
def order(api, db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 20})
    return api.post("/api/v1/orders", json=order_body(payment_method="card")).json()["number"]


def test_an_authorization_counts_only_when_captured(api, order):
    a = api.post(
        f"/api/v1/orders/{order}/authorizations", json={"amount": "760.00"}, role="finance"
    )
    assert a.status_code == 201 and a.json()["status"] == "authorized"
    assert api.get(f"/api/v1/orders/{order}").json()["paid"] == "0.00"
    c = api.post(f"/api/v1/payments/{a.json()['id']}/capture", json={}, role="finance")
    assert c.status_code == 201, c.text
    o = api.get(f"/api/v1/orders/{order}").json()
    assert o["paid"] == "760.00" and o["financial_status"] == "paid"
    again = api.post(f"/api/v1/payments/{a.json()['id']}/capture", json={}, role="finance")
    assert again.status_code == 409
    kinds = [p["kind"] for p in api.get(f"/api/v1/orders/{order}/payments").json()["items"]]
    assert kinds == ["authorization", "payment"]


def test_a_voided_authorization_cannot_be_captured(api, order):
    a = api.post(
        f"/api/v1/orders/{order}/authorizations", json={"amount": "100.00"}, role="finance"
    ).json()
    v = api.post(f"/api/v1/payments/{a['id']}/void", role="finance")
    assert v.status_code == 200 and v.json()["status"] == "voided"
    assert (
        api.post(f"/api/v1/payments/{a['id']}/capture", json={}, role="finance").status_code == 409
    )
    assert api.get(f"/api/v1/orders/{order}").json()["paid"] == "0.00"
    assert (
        api.post(
            f"/api/v1/orders/{order}/authorizations", json={"amount": "900.00"}, role="finance"
        ).status_code
        == 422
    )


def test_a_cod_order_ships_unpaid_and_is_settled_by_the_carriers_remittance(api, db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 20})
    numbers = [
        api.post("/api/v1/orders", json=order_body(payment_method="cod")).json()["number"]
        for _ in range(2)
    ]
    for n in numbers:
        s = api.post(f"/api/v1/orders/{n}/shipments", json={"carrier": "tcat"}, role="warehouse")
        assert s.status_code == 201
        api.post(f"/api/v1/shipments/{s.json()['id']}/delivered", role="warehouse")
        assert api.get(f"/api/v1/orders/{n}").json()["status"] == "open"
    bad = api.post(
        "/api/v1/cod-remittances",
        role="finance",
        json={
            "carrier": "tcat",
            "reference": "TCAT-2026-11-01",
            "orders": [
                {"number": numbers[0], "amount": "760.00"},
                {"number": numbers[1], "amount": "999.00"},
            ],
        },
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "orders[1].amount"
    assert api.get(f"/api/v1/orders/{numbers[0]}").json()["paid"] == "0.00"
    ok = api.post(
        "/api/v1/cod-remittances",
        role="finance",
        json={
            "carrier": "tcat",
            "reference": "TCAT-2026-11-01",
            "orders": [{"number": n, "amount": "760.00"} for n in numbers],
        },
    )
    assert ok.status_code == 201, ok.text
    for n in numbers:
        o = api.get(f"/api/v1/orders/{n}").json()
        assert o["financial_status"] == "paid" and o["status"] == "completed"


def test_payments_are_for_finance(api, order):
    r = api.post(f"/api/v1/orders/{order}/payments", json={"amount": "1.00"}, role="warehouse")
    assert r.status_code == 403
    r = api.post(
        f"/api/v1/orders/{order}/authorizations", json={"amount": "1.00"}, role="customer_service"
    )
    assert r.status_code == 403


def test_one_cod_settlement_records_the_payment_and_refuses_more_than_is_owed(api, db):
    """transactions.settle_cod is the one COD settlement: remittances, ECPay's payout report
    and delivery runs record their money through it."""
    from sqlalchemy import select

    from dingdan.db.order_tables import Order, OrderEvent, Payment
    from dingdan.domain.shared.errors import ValidationFailed
    from dingdan.services.payments import transactions
    from tests.helpers import ADMIN

    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 20})
    number = api.post("/api/v1/orders", json=order_body(payment_method="cod")).json()["number"]

    def settle(amount: int):
        def work(conn):
            order = conn.execute(select(Order).where(Order.number == number)).one()
            transactions.settle_cod(conn, ADMIN, order, amount, "RUN-7")

        return db.write(work)

    with pytest.raises(ValidationFailed) as refused:
        settle(76001)
    assert refused.value.errors[0].code == "exceeds_balance"
    settle(76000)
    o = api.get(f"/api/v1/orders/{number}").json()
    assert o["paid"] == "760.00" and o["financial_status"] == "paid"
    (paid,) = db.read(lambda c: c.execute(select(Payment)).all())
    assert (paid.kind, paid.method, paid.provider, paid.reference, paid.amount_minor) == (
        "payment",
        "cod",
        "manual",
        "RUN-7",
        76000,
    )
    kinds = db.read(lambda c: c.execute(select(OrderEvent.kind)).scalars().all())
    assert kinds.count("paid") == 1
