"""Payment providers are asked outside any transaction, once per intent, with the intent's
own idempotency key; a crash between the answer and the record, or a provider that does not
answer, is settled by the worker asking again with the same key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from dingdan.db.order_tables import Order, Payment
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import PaymentRequired, ProviderUnavailable, ValidationFailed
from dingdan.services.jobs import worker
from dingdan.services.orders import capture as orders
from dingdan.services.payments import records, transactions
from dingdan.services.payments.providers import PROVIDERS
from tests.helpers import ADMIN, RecordingProvider, location, product, receive, run_threads
from tests.integration.test_orders_api import order_body


@pytest.fixture
def gateway():
    g = RecordingProvider("counting")
    PROVIDERS[g.code] = g
    yield g
    del PROVIDERS[g.code]


@pytest.fixture
def number(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 20})
    order, _ = orders.place_order(db, ADMIN, order_body(payment_method="card"))
    return order["number"]  # total 760.00


class _Locked(Exception):
    """What a driver raises for a transient failure, on either database."""

    sqlstate = "40001"

    def __str__(self) -> str:
        return "database is locked"


def _fail_once(monkeypatch, module, name):
    real = getattr(module, name)
    failed = []

    def flaky(*args, **kwargs):
        if not failed:
            failed.append(1)
            raise OperationalError("UPDATE orders ...", {}, _Locked())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, flaky)
    return failed


def _money(db, number):
    return db.read(
        lambda c: c.execute(
            select(Order.paid_minor, Order.refunded_minor).where(Order.number == number)
        ).one()
    )


def _payments(db, kind="payment"):
    return db.read(lambda c: c.execute(select(Payment).where(Payment.kind == kind)).all())


def _intents(db):
    return db.read(lambda c: c.execute(select(PaymentAttempt).order_by(PaymentAttempt.id)).all())


def _age_intents(db, minutes=2):
    db.write(
        lambda c: c.execute(
            update(PaymentAttempt).values(updated_at=utcnow() - timedelta(minutes=minutes))
        )
    )


def test_the_provider_is_asked_once_when_the_recording_transaction_is_run_again(
    db, number, gateway, monkeypatch
):
    failed = _fail_once(monkeypatch, transactions, "take")
    paid = transactions.record_payment(
        db, ADMIN, number, {"amount": "100.00", "provider": "counting"}
    )
    assert failed == [1]  # the transaction that records did run twice
    assert len(gateway.keys("authorize")) == 1 and len(gateway.keys("capture")) == 1
    assert paid["provider"] == "counting" and paid["order"]["paid"] == "100.00"
    (intent,) = _intents(db)
    assert intent.status == "succeeded" and intent.payment_id == int(paid["id"])
    assert gateway.keys("authorize") == [intent.idempotency_key]


def test_a_refund_asks_the_provider_once_when_its_transaction_is_run_again(
    db, number, gateway, monkeypatch
):
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00", "provider": "counting"})
    failed = _fail_once(monkeypatch, records, "refresh_order")
    refund = transactions.refund(db, ADMIN, number, {"amount": "60.00", "reason": "late"})
    assert failed == [1]
    assert len(gateway.keys("refund")) == 1
    assert refund["provider"] == "counting" and refund["order"]["refunded"] == "60.00"
    assert _money(db, number) == (76000, 6000)


def test_a_crash_between_the_answer_and_the_record_is_settled_by_the_worker_once(
    db, number, gateway, monkeypatch
):
    def crash(*args, **kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(transactions, "_record", crash)
    with pytest.raises(RuntimeError):
        transactions.record_payment(db, ADMIN, number, {"amount": "760.00", "provider": "counting"})
    monkeypatch.undo()
    assert _money(db, number) == (0, 0) and _payments(db) == []
    (intent,) = _intents(db)
    assert intent.status == "pending"
    # Nothing else can take the balance the pending intent holds.
    with pytest.raises(ValidationFailed):
        transactions.record_payment(db, ADMIN, number, {"amount": "1.00"})

    assert worker.recover_payment_intents(db) == 0  # not a minute old: maybe still running
    _age_intents(db)
    assert worker.recover_payment_intents(db) == 1
    assert gateway.keys("authorize") == [intent.idempotency_key] * 2  # the same key again
    (payment,) = _payments(db)
    assert payment.amount_minor == 76000 and payment.provider == "counting"
    assert _money(db, number) == (76000, 0)
    _age_intents(db)
    assert worker.recover_payment_intents(db) == 0
    assert len(_payments(db)) == 1


def test_workers_settling_one_intent_at_once_record_it_once(db, number, gateway, monkeypatch):
    monkeypatch.setattr(transactions, "_record", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        transactions.record_payment(db, ADMIN, number, {"amount": "500.00", "provider": "counting"})
    monkeypatch.undo()
    _age_intents(db)
    assert run_threads(4, lambda _i: worker.recover_payment_intents(db), timeout=60) == []
    assert len(_payments(db)) == 1 and _money(db, number) == (50000, 0)
    assert _intents(db)[0].status == "succeeded"


def _unanswered_refund(db, number, gateway):
    """A paid order and a refund the provider never answered, a minute ago."""
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00", "provider": "counting"})
    gateway.down = True
    with pytest.raises(ProviderUnavailable):
        transactions.refund(db, ADMIN, number, {"amount": "60.00", "reason": "late"})
    gateway.down = False
    _age_intents(db)
    assert len(gateway.keys("refund")) == 1


def test_a_worker_asks_about_a_stale_intent_while_another_is_asking_it_is_passed_over(
    db, number, gateway
):
    _unanswered_refund(db, number, gateway)
    other: list[int] = []

    def second_worker() -> None:  # while the first worker's refund call is out
        import threading

        t = threading.Thread(target=lambda: other.append(worker.recover_payment_intents(db)))
        t.start()
        t.join(60)
        assert not t.is_alive()

    gateway.during = second_worker
    assert worker.recover_payment_intents(db) == 1
    assert other == [0]
    assert len(gateway.keys("refund")) == 2  # the request's, and the first worker's: not three
    assert _money(db, number) == (76000, 6000) and len(_payments(db, "refund")) == 1


def test_workers_at_once_ask_the_provider_about_a_stale_intent_once(db, number, gateway):
    _unanswered_refund(db, number, gateway)
    settled: list[int] = []
    assert run_threads(6, lambda _i: settled.append(worker.recover_payment_intents(db))) == []
    assert sorted(settled) == [0, 0, 0, 0, 0, 1]
    keys = gateway.keys("refund")
    assert len(keys) == 2 and keys[0] == keys[1]
    assert _money(db, number) == (76000, 6000) and len(_payments(db, "refund")) == 1
    assert [i.status for i in _intents(db)] == ["succeeded", "succeeded"]


def test_a_provider_that_does_not_answer_is_503_and_nothing_is_paid(api, db, number, gateway):
    gateway.down = True
    r = api.post(
        f"/api/v1/orders/{number}/payments",
        json={"amount": "760.00", "provider": "counting"},
        role="finance",
    )
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "provider_unavailable"
    assert api.get(f"/api/v1/orders/{number}").json()["paid"] == "0.00"
    assert api.get(f"/api/v1/orders/{number}/payments").json()["items"] == []
    assert [i.status for i in _intents(db)] == ["pending"]

    _age_intents(db)
    assert worker.recover_payment_intents(db) == 0  # still down: kept, asked again later
    assert [i.status for i in _intents(db)] == ["pending"]
    assert worker.recover_payment_intents(db) == 0  # asked a minute later, not every round
    asked = len(gateway.calls)
    gateway.down = False
    _age_intents(db)
    assert worker.recover_payment_intents(db) == 1 and len(gateway.calls) > asked
    assert api.get(f"/api/v1/orders/{number}").json()["financial_status"] == "paid"


def test_a_declined_payment_is_payment_required_and_its_intent_failed(db, number, gateway):
    gateway.decline = True
    with pytest.raises(PaymentRequired):
        transactions.record_payment(db, ADMIN, number, {"amount": "760.00", "provider": "counting"})
    (intent,) = _intents(db)
    assert intent.status == "failed" and "declined" in intent.error
    assert _money(db, number) == (0, 0)
    gateway.decline = False
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00", "provider": "counting"})
    assert _money(db, number) == (76000, 0)


def test_an_unknown_provider_code_is_422_on_the_provider_field(api, db, number):
    for path in ("payments", "authorizations"):
        r = api.post(
            f"/api/v1/orders/{number}/{path}",
            json={"amount": "100.00", "provider": "paypall"},
            role="finance",
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "validation_error"
        assert [e["field"] for e in r.json()["errors"]] == ["provider"]
    assert api.get(f"/api/v1/orders/{number}").json()["paid"] == "0.00"
    assert (
        db.read(lambda c: c.execute(select(func.count()).select_from(PaymentAttempt)).scalar()) == 0
    )


def test_the_manual_provider_gives_the_same_reference_for_the_same_key(db):
    manual = PROVIDERS["manual"]
    a = manual.authorize("DD1", 100, "TWD", None, idempotency_key="k1", db=db)
    b = manual.authorize("DD1", 100, "TWD", None, idempotency_key="k1", db=db)
    c = manual.authorize("DD1", 100, "TWD", None, idempotency_key="k2", db=db)
    assert a.reference == b.reference != c.reference
    bank = manual.authorize("DD1", 100, "TWD", "BANK-1", idempotency_key="k3", db=db)
    assert bank.reference == "BANK-1"


def test_providers_that_take_payments_whole_share_one_capture(db):
    """Manual and ECPay payments are taken when made: their capture is one piece of code,
    answering the reference ``authorize`` gave, whatever the key."""
    manual, ecpay = PROVIDERS["manual"], PROVIDERS["ecpay"]
    assert type(manual).capture is type(ecpay).capture
    for p in (manual, ecpay):
        answer = p.capture("ref-1", 100, "TWD", idempotency_key="k1", db=db)
        assert answer.ok and answer.reference == "ref-1"


def test_provider_unavailable_is_a_domain_error_with_its_code():
    assert ProviderUnavailable(detail="x").code == "provider_unavailable"


@pytest.fixture
def returned(api, db, gateway):
    """A received return of an order paid through the counting gateway: (order, return id)."""
    from tests.integration.test_refund_concurrency import _received_return

    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    o = api.post("/api/v1/orders", json=order_body()).json()
    n = o["number"]
    paid = api.post(
        f"/api/v1/orders/{n}/payments",
        role="finance",
        json={"amount": o["total"], "provider": "counting"},
    )
    assert paid.status_code == 201, paid.text
    s = api.post(f"/api/v1/orders/{n}/shipments", json={"carrier": "tcat"}, role="warehouse")
    api.post(f"/api/v1/shipments/{s.json()['id']}/delivered", role="warehouse")
    return n, _received_return(api, n)


def test_a_returns_refund_asks_the_provider_once_when_its_transaction_runs_again(
    api, db, gateway, returned, monkeypatch
):
    from dingdan.services.after_sales import return_settlement

    n, rid = returned
    failed = _fail_once(monkeypatch, return_settlement, "move_status")
    r = return_settlement.refund_return(db, ADMIN, rid, {})
    assert failed == [1] and r["status"] == "refunded"
    assert len(gateway.keys("refund")) == 1
    assert _money(db, n)[1] == 35000 and len(_payments(db, "refund")) == 1


def test_a_crash_before_a_returns_refund_is_recorded_is_settled_by_the_worker(
    api, db, gateway, returned, monkeypatch
):
    from dingdan.services.after_sales import return_settlement

    n, rid = returned
    monkeypatch.setattr(transactions, "_record", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        return_settlement.refund_return(db, ADMIN, rid, {})
    monkeypatch.undo()
    assert api.get(f"/api/v1/returns/{rid}").json()["status"] == "received"
    again = api.post(f"/api/v1/returns/{rid}/refund", json={})
    assert again.status_code == 409  # being refunded: not asked twice
    assert len(gateway.keys("refund")) == 1

    _age_intents(db)
    assert worker.recover_payment_intents(db) == 1
    keys = gateway.keys("refund")
    assert len(keys) == 2 and keys[0] == keys[1]
    assert api.get(f"/api/v1/returns/{rid}").json()["status"] == "refunded"
    assert _money(db, n)[1] == 35000 and len(_payments(db, "refund")) == 1
