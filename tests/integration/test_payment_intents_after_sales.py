"""Authorizations, captures, voids, dispute refunds and exchange differences ask the payment
provider between two transactions, with the intent's own key: never inside a transaction
(no connection checked out, no write lock held at the call), never twice for one key unless
the worker asks again after a crash; a provider success the order refuses to record is kept
for staff ("attention"), never dropped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dingdan.db.order_tables import Order, OrderEvent, Payment
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.db.types import utcnow
from dingdan.services.after_sales import disputes, return_settlement
from dingdan.services.fulfilment import shipments
from dingdan.services.jobs import worker
from dingdan.services.payments import authorizations, transactions
from dingdan.services.payments.providers import PROVIDERS
from tests.builders import order_body
from tests.helpers import ADMIN, RecordingProvider, location, product, receive
from tests.integration.test_refund_concurrency import _received_return


@pytest.fixture
def gateway(db):
    g = RecordingProvider("outside", db)
    PROVIDERS[g.code] = g
    yield g
    del PROVIDERS[g.code]
    assert g.inside == [], f"provider called inside a transaction: {g.inside}"


@pytest.fixture
def order(api, db):
    product(db, "TEA-001", price="350.00")
    product(db, "TEA-002", price="100.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 20, "TEA-002": 20})
    return api.post("/api/v1/orders", json=order_body(payment_method="card")).json()["number"]


def _crash(monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("the process died between the answer and the record")

    monkeypatch.setattr(transactions, "_record", crash)


def _age(db):
    db.write(
        lambda c: c.execute(
            update(PaymentAttempt).values(updated_at=utcnow() - timedelta(minutes=2))
        )
    )


def _intents(db):
    return db.read(lambda c: c.execute(select(PaymentAttempt).order_by(PaymentAttempt.id)).all())


def _rows(db, kind):
    return db.read(lambda c: c.execute(select(Payment).where(Payment.kind == kind)).all())


def _money(db, number):
    return tuple(
        db.read(
            lambda c: c.execute(
                select(Order.paid_minor, Order.refunded_minor).where(Order.number == number)
            ).one()
        )
    )


def test_authorize_capture_and_void_ask_the_provider_outside_transactions_once_per_key(
    api, db, order, gateway
):
    a = api.post(
        f"/api/v1/orders/{order}/authorizations",
        role="finance",
        json={"amount": "500.00", "provider": "outside"},
    )
    assert a.status_code == 201 and a.json()["status"] == "authorized", a.text
    c = api.post(f"/api/v1/payments/{a.json()['id']}/capture", json={}, role="finance")
    assert c.status_code == 201 and c.json()["order"]["paid"] == "500.00", c.text
    b = api.post(
        f"/api/v1/orders/{order}/authorizations",
        role="finance",
        json={"amount": "260.00", "provider": "outside"},
    ).json()
    v = api.post(f"/api/v1/payments/{b['id']}/void", role="finance")
    assert v.status_code == 200 and v.json()["status"] == "voided", v.text
    assert [c for c, _ in gateway.calls] == ["authorize", "capture", "authorize", "void"]
    keys = [k for _, k in gateway.calls]
    assert len(set(keys)) == 4  # a key of its own for every call
    assert [i.idempotency_key for i in _intents(db)] == keys
    assert {i.status for i in _intents(db)} == {"succeeded"}
    assert _money(db, order) == (50000, 0)


def test_a_crash_between_a_capture_and_its_record_is_settled_by_the_worker_once(
    api, db, order, gateway, monkeypatch
):
    a = api.post(
        f"/api/v1/orders/{order}/authorizations",
        role="finance",
        json={"amount": "760.00", "provider": "outside"},
    ).json()
    _crash(monkeypatch)
    with pytest.raises(RuntimeError):
        authorizations.capture(db, ADMIN, a["id"], {})
    monkeypatch.undo()
    assert _money(db, order) == (0, 0) and _rows(db, "payment") == []
    # The authorization is being captured: neither a second capture nor a void meanwhile.
    for path in ("capture", "void"):
        r = api.post(f"/api/v1/payments/{a['id']}/{path}", json={}, role="finance")
        assert r.status_code == 409, r.text
    _age(db)
    assert worker.recover_payment_intents(db) == 1
    (key,) = set(gateway.keys("capture"))
    assert gateway.keys("capture") == [key, key]  # asked again with the same key
    assert _money(db, order) == (76000, 0) and len(_rows(db, "payment")) == 1
    (auth,) = _rows(db, "authorization")
    assert auth.status == "captured"
    _age(db)
    assert worker.recover_payment_intents(db) == 0 and len(_rows(db, "payment")) == 1


def test_a_crash_between_a_void_and_its_record_is_settled_by_the_worker(
    api, db, order, gateway, monkeypatch
):
    a = api.post(
        f"/api/v1/orders/{order}/authorizations",
        role="finance",
        json={"amount": "100.00", "provider": "outside"},
    ).json()
    _crash(monkeypatch)
    with pytest.raises(RuntimeError):
        authorizations.void(db, ADMIN, a["id"])
    monkeypatch.undo()
    assert _rows(db, "authorization")[0].status == "voiding"
    _age(db)
    assert worker.recover_payment_intents(db) == 1
    assert _rows(db, "authorization")[0].status == "voided"
    assert len(gateway.keys("void")) == 2 and len(set(gateway.keys("void"))) == 1


@pytest.fixture
def paid(api, db, order, gateway):
    r = api.post(
        f"/api/v1/orders/{order}/payments",
        role="finance",
        json={"amount": "760.00", "provider": "outside"},
    )
    assert r.status_code == 201, r.text
    return order


def _dispute(api, number):
    d = api.post(f"/api/v1/orders/{number}/disputes", json={"type": "lost"})
    assert d.status_code == 201, d.text
    return d.json()["id"]


def test_a_crash_before_a_dispute_refund_is_recorded_is_settled_by_the_worker_once(
    api, db, paid, gateway, monkeypatch
):
    did = _dispute(api, paid)
    _crash(monkeypatch)
    with pytest.raises(RuntimeError):
        disputes.transition(
            db, ADMIN, did, {"status": "resolved", "resolution": "refund", "amount": "200.00"}
        )
    monkeypatch.undo()
    assert api.get(f"/api/v1/disputes/{did}").json()["status"] == "open"
    assert _money(db, paid) == (76000, 0)
    # Not resolved another way while its refund is pending.
    r = api.post(f"/api/v1/disputes/{did}/transition", json={"status": "investigating"})
    assert r.status_code == 409, r.text
    _age(db)
    assert worker.recover_payment_intents(db) == 1
    d = api.get(f"/api/v1/disputes/{did}").json()
    assert d["status"] == "resolved" and d["resolution"] == "refund"
    assert _money(db, paid) == (76000, 20000) and len(_rows(db, "refund")) == 1
    assert len(gateway.keys("refund")) == 2 and len(set(gateway.keys("refund"))) == 1


def test_a_dispute_refund_asks_once_and_resolves_in_the_answer(api, db, paid, gateway):
    did = _dispute(api, paid)
    r = api.post(
        f"/api/v1/disputes/{did}/transition",
        json={
            "status": "resolved",
            "resolution": "refund",
            "amount": "200.00",
            "note": "parcel lost",
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "resolved", r.text
    assert len(gateway.keys("refund")) == 1 and _money(db, paid) == (76000, 20000)


def _delivered(api, number):
    s = api.post(f"/api/v1/orders/{number}/shipments", json={"carrier": "tcat"}, role="warehouse")
    assert s.status_code == 201, s.text
    api.post(f"/api/v1/shipments/{s.json()['id']}/delivered", role="warehouse")


def test_a_crash_before_an_exchange_difference_is_refunded_is_settled_by_the_worker(
    api, db, paid, gateway, monkeypatch
):
    _delivered(api, paid)
    rid = _received_return(api, paid)  # one TEA-001: 350.00 back
    _crash(monkeypatch)
    with pytest.raises(RuntimeError):
        return_settlement.exchange_return(
            db, ADMIN, rid, {"lines": [{"sku": "TEA-002", "quantity": 1}]}
        )
    monkeypatch.undo()
    # The exchange stands; its difference (250.00) is a pending refund.
    assert api.get(f"/api/v1/returns/{rid}").json()["status"] == "exchanged"
    assert _money(db, paid) == (76000, 0)
    assert [(i.purpose, i.status) for i in _intents(db)][-1] == ("exchange", "pending")
    _age(db)
    assert worker.recover_payment_intents(db) == 1
    assert _money(db, paid) == (76000, 25000) and len(_rows(db, "refund")) == 1
    assert len(gateway.keys("refund")) == 2 and len(set(gateway.keys("refund"))) == 1


def test_an_authorization_the_order_refuses_to_record_is_kept_for_staff(api, db, order, gateway):
    # While the provider holds the money, the order is cancelled.
    gateway.during = lambda: shipments.cancel_order(db, ADMIN, order, "customer asked")
    r = api.post(
        f"/api/v1/orders/{order}/authorizations",
        role="finance",
        json={"amount": "760.00", "provider": "outside"},
    )
    assert r.status_code == 409, r.text
    (intent,) = _intents(db)
    assert intent.status == "attention" and intent.provider_reference.startswith("authorize-")
    events = db.read(
        lambda c: c.execute(
            select(OrderEvent.kind, OrderEvent.data).where(OrderEvent.kind == "payment_unrecorded")
        ).all()
    )
    assert [(t, d["intent_id"]) for t, d in events] == [("payment_unrecorded", str(intent.id))]
    # The worker does not ask again about it, and it is listed for staff.
    _age(db)
    assert worker.recover_payment_intents(db) == 0
    listed = api.get("/api/v1/payment-intents?status=attention", role="finance")
    assert listed.status_code == 200, listed.text
    assert [(i["id"], i["order"], i["kind"]) for i in listed.json()["items"]] == [
        (str(intent.id), order, "authorization")
    ]


def test_a_dispute_changed_while_its_refund_was_made_keeps_the_refund_for_staff(
    api, db, paid, gateway
):
    did = _dispute(api, paid)
    gateway.during = lambda: db.write(
        lambda c: c.execute(
            update(__import__("dingdan.db.return_tables", fromlist=["Dispute"]).Dispute).values(
                status="investigating"
            )
        )
    )
    r = api.post(
        f"/api/v1/disputes/{did}/transition",
        json={"status": "resolved", "resolution": "refund", "amount": "100.00"},
    )
    assert r.status_code == 409, r.text
    assert [i.status for i in _intents(db)][-1] == "attention"
    assert _money(db, paid) == (76000, 0)


def test_staff_record_an_attention_intent_again_with_the_same_key_or_close_it(
    api, db, order, gateway
):
    gateway.during = lambda: shipments.cancel_order(db, ADMIN, order, "customer asked")
    api.post(
        f"/api/v1/orders/{order}/authorizations",
        role="finance",
        json={"amount": "760.00", "provider": "outside"},
    )
    (intent,) = _intents(db)
    # Still cancelled: recorded again it is refused again, and nothing moved twice.
    r = api.post(f"/api/v1/payment-intents/{intent.id}/record", role="finance")
    assert r.status_code == 409, r.text
    assert gateway.keys("authorize") == [intent.idempotency_key] * 2
    assert _rows(db, "authorization") == [] and _intents(db)[0].status == "attention"
    assert (
        api.post(
            f"/api/v1/payment-intents/{intent.id}/close", role="finance", json={"note": ""}
        ).status_code
        == 422
    )
    r = api.post(
        f"/api/v1/payment-intents/{intent.id}/close",
        role="finance",
        json={"note": "voided in the provider's dashboard"},
    )
    assert r.status_code == 200 and r.json()["status"] == "resolved", r.text
    assert (
        api.post(
            f"/api/v1/payment-intents/{intent.id}/close", role="finance", json={"note": "again"}
        ).status_code
        == 409
    )
    assert api.get("/api/v1/payment-intents?status=attention", role="finance").json()["items"] == []
    assert api.get("/api/v1/payment-intents", role="warehouse").status_code == 403
    assert api.get("/api/v1/payment-intents/x", role="finance").status_code in (404, 405)
