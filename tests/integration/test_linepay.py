"""LINE Pay as the customer's e-wallet, against a local stand-in that checks the signature
headers and answers as LINE Pay's Online API v3 does: the customer sent to LINE Pay's page,
the payment confirmed once when they come back (however often they do), tampered or
unknown transactions and amounts that differ refused with the order unchanged, refunds
through the usual refund flow, and the worker completing a payment whose customer never
came back."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from dingdan.db.linepay_tables import LinePayExchange
from dingdan.db.order_tables import Order, OrderEvent, Payment
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import InvalidTransition, ProviderUnavailable
from dingdan.services.jobs import worker
from dingdan.services.orders import capture as orders
from dingdan.services.orders import edits
from dingdan.services.payments import intents, linepay, linepay_settings
from dingdan.services.payments.providers import PROVIDERS
from tests.builders import order_body
from tests.helpers import ADMIN, form_action_allows, location, product, receive, run_threads
from tests.linepay_fake import FakeLinePay


@pytest.fixture
def fake():
    f = FakeLinePay().start()
    yield f
    f.stop()


@pytest.fixture
def order(db, fake):
    linepay_settings.put_settings(
        db,
        ADMIN,
        {"channel_id": fake.channel_id, "channel_secret": fake.secret, "api_base": fake.url},
    )
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 20})
    placed, _ = orders.place_order(db, ADMIN, order_body(payment_method="e_wallet"))
    return placed  # total 760.00 TWD


def _row(db, number):
    return db.read(lambda c: c.execute(select(Order).where(Order.number == number)).one())


def _payments(db, kind="payment"):
    return db.read(
        lambda c: c.execute(select(Payment).where(Payment.kind == kind).order_by(Payment.id)).all()
    )


def _intents(db):
    return db.read(
        lambda c: c.execute(
            select(PaymentAttempt)
            .where(PaymentAttempt.provider == "linepay")
            .order_by(PaymentAttempt.id)
        ).all()
    )


def _exchanges(db, operation=None):
    stmt = select(LinePayExchange).order_by(LinePayExchange.id)
    if operation:
        stmt = stmt.where(LinePayExchange.operation == operation)
    return db.read(lambda c: c.execute(stmt).all())


def _start(client, token):
    r = client.get(f"/pay/{token}/linepay", follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _tid(fake, location):
    token = parse_qs(urlsplit(location).query)["transactionReserveId"][0]
    tid = token.removesuffix("-token")
    assert tid in fake.transactions
    return tid


def _back(client, token, tid, order_id):
    q = {"transactionId": tid, "orderId": order_id}
    return client.get(f"/pay/{token}/linepay/confirm", params=q)


def _state(r):
    return r.text.split('data-state="', 1)[1].split('"', 1)[0]


def test_customer_pays_with_linepay_and_the_order_is_paid(client, db, fake, order):
    token = order["tracking_token"]
    location = _start(client, token)
    assert location.startswith(fake.url + "/web/payment/")
    sent = json.loads(fake.calls("/v3/payments/request")[0].body)
    intent = _intents(db)[0]
    assert sent["amount"] == 760 and sent["currency"] == "TWD"
    assert sent["orderId"] == intent.idempotency_key
    assert sent["redirectUrls"]["confirmUrl"].endswith(f"/pay/{token}/linepay/confirm")
    assert sent["redirectUrls"]["cancelUrl"].endswith(f"/pay/{token}/linepay/cancel")
    tid = _tid(fake, location)
    assert intent.status == "pending" and intent.reference == tid
    assert _row(db, order["number"]).paid_minor == 0  # nothing paid before the customer's OK

    fake.approve(tid)
    r = _back(client, token, tid, intent.idempotency_key)
    assert r.status_code == 200 and _state(r) == "paid"
    row = _row(db, order["number"])
    assert (row.paid_minor, row.financial_status) == (76000, "paid")
    (payment,) = _payments(db)
    assert (payment.provider, payment.method, payment.reference) == ("linepay", "e_wallet", tid)
    assert payment.amount_minor == 76000
    assert _intents(db)[0].status == "succeeded"
    kept = _exchanges(db)
    assert [(e.operation, e.outcome) for e in kept] == [
        ("request", "ok"),
        ("check", "ok"),
        ("confirm", "ok"),
    ]
    assert all(e.response_body and e.return_code for e in kept)
    assert json.loads(kept[2].request_body) == {"amount": 760, "currency": "TWD"}
    assert [e.return_code for e in kept] == ["0000", "0110", "0000"]


def test_starting_again_sends_the_customer_to_the_same_page(client, db, fake, order):
    token = order["tracking_token"]
    assert _start(client, token) == _start(client, token)
    assert len(fake.calls("/v3/payments/request")) == 1
    assert len(_intents(db)) == 1


def test_a_replayed_confirm_or_a_second_return_pays_once(client, db, fake, order):
    token = order["tracking_token"]
    tid = _tid(fake, _start(client, token))
    key = _intents(db)[0].idempotency_key
    fake.approve(tid)
    assert _state(_back(client, token, tid, key)) == "paid"
    calls = len(fake.received)
    for _ in range(2):
        r = _back(client, token, tid, key)
        assert r.status_code == 200 and _state(r) == "paid"
    assert len(fake.received) == calls  # answered from our record, LINE Pay not asked
    assert len(_payments(db)) == 1
    assert _row(db, order["number"]).paid_minor == 76000


def test_returns_at_the_same_time_record_one_payment(db, fake, order):
    token = order["tracking_token"]
    tid = _tid(fake, linepay.start_linepay(db, token))
    key = _intents(db)[0].idempotency_key
    fake.approve(tid)
    states = []

    def back(_):
        states.append(linepay.confirm_linepay(db, token, tid, key).state)

    assert run_threads(4, back) == []
    assert states == ["paid"] * 4
    assert len(_payments(db)) == 1
    assert _row(db, order["number"]).paid_minor == 76000
    assert len(fake.calls("/confirm")) >= 1
    assert fake.transactions[tid].status == "confirmed"


def test_unknown_or_tampered_transactions_are_refused_and_kept(client, db, fake, order):
    token = order["tracking_token"]
    tid = _tid(fake, _start(client, token))
    key = _intents(db)[0].idempotency_key
    fake.approve(tid)
    other, _ = orders.place_order(db, ADMIN, order_body(payment_method="e_wallet"))
    before = len(fake.received)
    tampered = [
        (token, "2026120799999999999", key),  # no such transaction
        (token, tid, "another-order-id"),  # not the orderId it was requested with
        (other["tracking_token"], tid, key),  # another order's link
        ("no-such-token", tid, key),
    ]
    for link, t, k in tampered:
        r = _back(client, link, t, k)
        assert r.status_code == 404 and _state(r) == "not_found"
    assert len(fake.received) == before  # nothing asked of LINE Pay
    refused = _exchanges(db, "return")
    assert len(refused) == 4 and {e.outcome for e in refused} == {"refused"}
    assert "transactionId=2026120799999999999" in refused[0].request_body
    assert refused[1].error == "orderId is not the transaction's"
    assert _row(db, order["number"]).paid_minor == 0
    assert _payments(db) == [] and _intents(db)[0].status == "pending"
    assert _state(_back(client, token, tid, key)) == "paid"  # the real return still pays


def test_a_confirm_answer_for_another_amount_is_not_recorded_and_waits_for_staff(
    client, db, fake, order
):
    token = order["tracking_token"]
    tid = _tid(fake, _start(client, token))
    fake.approve(tid)
    fake.pay_info_amount = 1
    r = _back(client, token, tid, _intents(db)[0].idempotency_key)
    assert _state(r) == "attention"
    intent = _intents(db)[0]
    assert intent.status == "attention" and "amount_mismatch" in intent.error
    assert intent.provider_reference == tid  # for staff: LINE Pay's transaction
    assert _row(db, order["number"]).paid_minor == 0 and _payments(db) == []
    events = db.read(
        lambda c: (
            c.execute(select(OrderEvent.kind).where(OrderEvent.order_id == intent.order_id))
            .scalars()
            .all()
        )
    )
    assert "payment_unrecorded" in events
    # Asked again, it stays as it is: nothing recorded, LINE Pay not asked.
    calls = len(fake.received)
    assert _state(_back(client, token, tid, intent.idempotency_key)) == "attention"
    assert len(fake.received) == calls


def test_line_pay_refuses_to_confirm_an_amount_other_than_requested(client, db, fake, order):
    token = order["tracking_token"]
    tid = _tid(fake, _start(client, token))
    fake.approve(tid)
    fake.transactions[tid].amount = 700  # LINE Pay holds another amount than the intent's
    r = _back(client, token, tid, _intents(db)[0].idempotency_key)
    assert _state(r) == "failed"
    assert _exchanges(db, "confirm")[0].return_code == "1153"
    assert _intents(db)[0].status == "failed"
    assert _row(db, order["number"]).paid_minor == 0 and _payments(db) == []


def test_an_order_that_owes_less_than_approved_is_not_confirmed(client, db, fake, order):
    token = order["tracking_token"]
    tid = _tid(fake, _start(client, token))
    fake.approve(tid)
    edits.edit_order(db, ADMIN, order["number"], {"lines": [{"sku": "TEA-001", "quantity": 1}]})
    total = _row(db, order["number"]).total_minor
    assert total < 76000
    r = _back(client, token, tid, _intents(db)[0].idempotency_key)
    assert _state(r) == "amount_changed"
    assert fake.calls("/confirm") == []  # nothing charged
    intent = _intents(db)[0]
    assert intent.status == "failed" and "amount_mismatch" in intent.error
    assert _exchanges(db, "return")[0].outcome == "refused"
    row = _row(db, order["number"])
    assert (row.paid_minor, row.total_minor) == (0, total)
    # A new start asks for what is due now.
    _start(client, token)
    assert json.loads(fake.calls("/v3/payments/request")[-1].body)["amount"] == total // 100


def test_cancel_frees_the_balance_for_another_try(client, db, fake, order):
    token = order["tracking_token"]
    first = _tid(fake, _start(client, token))
    fake.cancel(first)
    r = client.get(f"/pay/{token}/linepay/cancel", params={"transactionId": first})
    assert r.status_code == 200 and _state(r) == "cancelled"
    assert _intents(db)[0].status == "failed"
    second = _tid(fake, _start(client, token))
    assert second != first
    fake.approve(second)
    assert _state(_back(client, token, second, _intents(db)[1].idempotency_key)) == "paid"
    assert _row(db, order["number"]).paid_minor == 76000


def test_refunds_go_through_the_refund_flow(api, client, db, fake, order):
    token = order["tracking_token"]
    tid = _tid(fake, _start(client, token))
    fake.approve(tid)
    _back(client, token, tid, _intents(db)[0].idempotency_key)
    number = order["number"]
    r = api.post(
        f"/api/v1/orders/{number}/refunds",
        json={"amount": "100.00", "reason": "Damaged box"},
        role="finance",
    )
    assert r.status_code == 201, r.text
    assert fake.transactions[tid].refunded == 100
    (sent,) = fake.calls(f"/v3/payments/{tid}/refund")
    assert json.loads(sent.body) == {"refundAmount": 100}
    (refund,) = _payments(db, "refund")
    assert refund.amount_minor == 10000 and refund.provider == "linepay"
    assert _row(db, number).refunded_minor == 10000
    (kept,) = _exchanges(db, "refund")
    assert kept.outcome == "ok" and kept.transaction_id == tid
    # More than is left: refused here, LINE Pay not asked.
    r = api.post(
        f"/api/v1/orders/{number}/refunds",
        json={"amount": "700.00", "reason": "Too much"},
        role="finance",
    )
    assert r.status_code == 422
    assert len(fake.calls("/refund")) == 1


def test_a_refund_asked_again_with_its_key_refunds_once(client, db, fake, order):
    token = order["tracking_token"]
    tid = _tid(fake, _start(client, token))
    fake.approve(tid)
    _back(client, token, tid, _intents(db)[0].idempotency_key)
    gateway = PROVIDERS["linepay"]
    first = gateway.refund(tid, 20000, "TWD", idempotency_key="ref_same", db=db)
    again = gateway.refund(tid, 20000, "TWD", idempotency_key="ref_same", db=db)
    assert first.ok and again.ok and first.reference == again.reference
    assert fake.transactions[tid].refunded == 200
    assert len(fake.calls("/refund")) == 1
    refused = gateway.refund("2026120799999999999", 100, "TWD", idempotency_key="ref_other", db=db)
    assert not refused.ok and "1150" in refused.message


def _paid(client, db, fake, order):
    token = order["tracking_token"]
    tid = _tid(fake, _start(client, token))
    fake.approve(tid)
    _back(client, token, tid, _intents(db)[0].idempotency_key)
    return tid


def _long_ago(db):
    """The refund intent and its exchanges as if a worker round had passed."""
    _make_stale(db)
    db.write(
        lambda c: c.execute(update(LinePayExchange).values(at=utcnow() - timedelta(minutes=5)))
    )


@pytest.mark.parametrize("lost", ["dropped", "lost"])
def test_a_refund_without_an_answer_is_looked_up_at_line_pay_never_sent_blindly(
    api, client, db, fake, order, lost
):
    tid = _paid(client, db, fake, order)
    number = order["number"]
    fake.refund_answer = lost  # LINE Pay made the refund (dropped) or never got it (lost)
    r = api.post(
        f"/api/v1/orders/{number}/refunds",
        json={"amount": "100.00", "reason": "Damaged box"},
        role="finance",
    )
    assert r.status_code == 503, r.text
    (kept,) = _exchanges(db, "refund")
    assert kept.outcome == "pending"  # not "retry": it may have been made
    fake.refund_answer = "answer"
    worker.recover_payment_intents(db)  # moments later: not asked yet
    details = [c for c in fake.received if c.path.startswith("/v3/payments?")]
    assert len(fake.calls("/refund")) == 1 and details == []
    _long_ago(db)
    worker.recover_payment_intents(db)
    # Refunded once at LINE Pay and recorded once, whichever happened.
    assert fake.transactions[tid].refunded == 100
    assert _row(db, number).refunded_minor == 10000
    (refund,) = _payments(db, "refund")
    assert [i.status for i in _intents(db) if i.kind == "refund"] == ["succeeded"]
    (rid, _amount) = fake.transactions[tid].refunds[0]
    assert refund.reference == str(rid)
    (asked,) = _exchanges(db, "details")
    assert asked.outcome == "ok" and asked.url.endswith(f"/v3/payments?transactionId={tid}")
    if lost == "dropped":
        assert len(fake.calls("/refund")) == 1
        assert [x.outcome for x in _exchanges(db, "refund")] == ["pending"]
    else:  # LINE Pay lists no refund: sent again, once
        assert len(fake.calls("/refund")) == 2
        assert [x.outcome for x in _exchanges(db, "refund")] == ["retry", "ok"]


def test_workers_at_once_resend_a_refund_line_pay_never_got_once(api, client, db, fake, order):
    tid = _paid(client, db, fake, order)
    fake.refund_answer = "lost"
    r = api.post(
        f"/api/v1/orders/{order['number']}/refunds",
        json={"amount": "100.00", "reason": "Damaged box"},
        role="finance",
    )
    assert r.status_code == 503, r.text
    fake.refund_answer = "answer"
    _long_ago(db)
    assert run_threads(6, lambda _i: worker.recover_payment_intents(db)) == []
    assert len(fake.calls("/refund")) == 2  # the request's, and one worker's again
    assert fake.transactions[tid].refunded == 100
    assert _row(db, order["number"]).refunded_minor == 10000
    assert len(_payments(db, "refund")) == 1


def _make_stale(db):
    db.write(
        lambda c: c.execute(
            update(PaymentAttempt).values(updated_at=utcnow() - timedelta(minutes=5))
        )
    )


def test_the_worker_completes_a_payment_whose_customer_never_came_back(client, db, fake, order):
    token = order["tracking_token"]
    tid = _tid(fake, _start(client, token))
    _make_stale(db)
    worker.recover_payment_intents(db)  # the customer has not approved: left pending
    assert _intents(db)[0].status == "pending" and fake.calls("/confirm") == []
    fake.approve(tid)  # approved on LINE Pay, then the browser was closed
    _make_stale(db)
    assert worker.recover_payment_intents(db) == 1
    assert _intents(db)[0].status == "succeeded"
    assert _row(db, order["number"]).paid_minor == 76000
    # The customer's late return finds it paid.
    assert _state(_back(client, token, tid, _intents(db)[0].idempotency_key)) == "paid"
    assert len(_payments(db)) == 1


def test_the_worker_fails_a_payment_line_pay_says_was_cancelled(client, db, fake, order):
    tid = _tid(fake, _start(client, order["tracking_token"]))
    fake.cancel(tid)
    _make_stale(db)
    worker.recover_payment_intents(db)
    assert _intents(db)[0].status == "failed"
    assert _row(db, order["number"]).paid_minor == 0


def test_line_pay_down_leaves_nothing_changed(client, db, fake, order):
    token = order["tracking_token"]
    fake.mode = "down"
    r = client.get(f"/pay/{token}/linepay", follow_redirects=False)
    assert r.status_code == 503 and _state(r) == "error"
    assert _intents(db)[0].status == "failed"  # no page was given: nothing can be paid
    assert _exchanges(db)[0].outcome == "retry" and _exchanges(db)[0].http_status == 503
    fake.mode = "up"
    tid = _tid(fake, _start(client, token))
    fake.approve(tid)
    fake.mode = "down"
    key = _intents(db)[1].idempotency_key
    assert _state(_back(client, token, tid, key)) == "waiting"
    assert _row(db, order["number"]).paid_minor == 0
    fake.mode = "up"
    assert _state(_back(client, token, tid, key)) == "paid"


def test_a_wrong_signature_is_refused_by_line_pay(client, db, fake, order):
    linepay_settings.put_settings(
        db, ADMIN, {"channel_id": fake.channel_id, "channel_secret": "wrong", "api_base": fake.url}
    )
    r = client.get(f"/pay/{order['tracking_token']}/linepay", follow_redirects=False)
    assert r.status_code == 409 and "1106" in r.text
    assert _exchanges(db)[0].return_code == "1106"
    assert _intents(db)[0].status == "failed"


def test_nothing_due_and_unknown_links(client, db, fake, order, api):
    r = client.get("/pay/no-such-token/linepay", follow_redirects=False)
    assert r.status_code == 404
    token = order["tracking_token"]
    tid = _tid(fake, _start(client, token))
    fake.approve(tid)
    _back(client, token, tid, _intents(db)[0].idempotency_key)
    r = client.get(f"/pay/{token}/linepay", follow_redirects=False)
    assert r.status_code == 409 and _state(r) == "error"
    assert client.get(f"/pay/{token}/linepay/cancel").status_code == 404


@pytest.mark.parametrize("token", ["", "short", "x" * 65, "x" * 40])
def test_line_pay_and_ecpay_find_the_order_of_a_link_alike(db, order, token):
    from dingdan.domain.shared.errors import NotFound
    from dingdan.services.payments import ecpay

    refused = []
    for start in (lambda: linepay.start_linepay(db, token), lambda: ecpay.pay_view(db, token)):
        with pytest.raises(NotFound) as exc:
            start()
        refused.append(exc.value.detail)
    assert refused == ["No order has this link."] * 2
    assert _intents(db) == []


def test_the_secret_is_never_shown(db, fake, order):
    shown = linepay_settings.get_settings_view(db)
    assert shown["channel_secret"] == "••••" and fake.secret not in json.dumps(shown)
    assert shown["configured"] is True
    linepay_settings.put_settings(
        db, ADMIN, {"channel_id": "1", "channel_secret": "••••", "api_base": fake.url}
    )
    assert db.read(linepay_settings.channel_secret) == fake.secret


def test_line_pay_not_answering_keeps_the_intent_pending(db, fake, order):
    tid = _tid(fake, linepay.start_linepay(db, order["tracking_token"]))
    fake.approve(tid)
    fake.mode = "down"
    (intent,) = db.read(lambda c: [intents.by_id(c, str(_intents(db)[0].id))[0]])
    with pytest.raises(ProviderUnavailable):
        intents.ask(db, intent)
    assert _intents(db)[0].status == "pending"
    assert _exchanges(db, "check")[0].outcome == "retry"


@pytest.fixture
def other_db(template, tmp_path):
    """A second shop's database in the same process, from the same template."""
    import shutil
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from dingdan.db.engine import Database
    from tests import conftest

    if conftest.BACKEND == "sqlite":
        shutil.copy(template, tmp_path / "other.db")
        url = f"sqlite:///{tmp_path / 'other.db'}"
    else:
        name = f"dd_t_{uuid.uuid4().hex[:12]}"
        admin = conftest._pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        admin.dispose()
        url = make_url(conftest.PG_URL).set(database=name).render_as_string(hide_password=False)
    other = Database(url)
    yield other
    other.dispose()
    if conftest.BACKEND != "sqlite":
        conftest._drop(name)


def test_the_provider_keeps_its_exchanges_in_the_database_it_is_asked_for(
    db, fake, order, other_db
):
    tid = _tid(fake, linepay.start_linepay(db, order["tracking_token"]))
    fake.approve(tid)
    # Another shop in the same process starts a LINE Pay payment meanwhile.
    channel = {"channel_id": fake.channel_id, "channel_secret": fake.secret, "api_base": fake.url}
    linepay_settings.put_settings(other_db, ADMIN, channel)
    product(other_db, "TEA-001", price="350.00")
    location(other_db, "TPE")
    receive(other_db, "TPE", {"TEA-001": 20})
    theirs, _ = orders.place_order(other_db, ADMIN, order_body(payment_method="e_wallet"))
    linepay.start_linepay(other_db, theirs["tracking_token"])
    # Our worker completes our customer's payment: every exchange is ours, none theirs.
    _make_stale(db)
    assert worker.recover_payment_intents(db) == 1
    assert _intents(db)[0].status == "succeeded"
    assert [(x.operation, x.intent_id) for x in _exchanges(db)] == [
        ("request", _intents(db)[0].id),
        ("check", _intents(db)[0].id),
        ("confirm", _intents(db)[0].id),
    ]
    assert [x.operation for x in _exchanges(other_db)] == ["request"]


def test_the_channel_is_set_through_the_api(api, db):
    r = api.request(
        "PUT",
        "/api/v1/settings/linepay",
        json={
            "channel_id": "1656",
            "channel_secret": "s3cret",
            "api_base": "https://api-pay.line.me",
        },
        role="manager",
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "channel_id": "1656",
        "channel_secret": "••••",
        "api_base": "https://api-pay.line.me",
        "configured": True,
    }
    assert db.read(linepay_settings.channel_secret) == "s3cret"
    r = api.request("PUT", "/api/v1/settings/linepay", json={"channel_id": "1656"}, role="manager")
    assert r.json()["api_base"] == "https://sandbox-api-pay.line.me"  # the default again
    assert db.read(linepay_settings.channel_secret) == "s3cret"  # kept
    assert api.get("/api/v1/settings/linepay", role="warehouse").status_code == 403
    bad = api.request(
        "PUT", "/api/v1/settings/linepay", json={"api_base": "ftp://x"}, role="manager"
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "api_base"


def test_pay_links_are_rate_limited_and_the_button_needs_its_form_token(app, client, order):
    from dingdan.web.pages.orders.tracking import RateLimit

    app.state.track_limiter = RateLimit(limit=2)
    token = order["tracking_token"]
    assert client.post(f"/pay/{token}/linepay", follow_redirects=False).status_code == 403
    assert client.get(f"/pay/{token}/linepay/cancel").status_code == 404
    assert client.get(f"/pay/{token}/linepay/confirm").status_code == 404
    r = client.get(f"/pay/{token}/linepay", follow_redirects=False)
    assert r.status_code == 429 and r.headers["retry-after"] == "60"


def test_starts_at_the_same_time_make_one_request(db, fake, order):
    token = order["tracking_token"]
    urls, refused = [], []

    def start(_):
        try:
            urls.append(linepay.start_linepay(db, token))
        except InvalidTransition:
            refused.append(1)  # "being started": the customer clicks again

    assert run_threads(4, start) == []
    assert len(fake.calls("/v3/payments/request")) == 1
    assert len(_intents(db)) == 1
    assert len(set(urls)) == 1 and len(urls) + len(refused) == 4


def test_the_pay_page_offers_line_pay_and_its_button_goes_there(client, db, fake, order):
    from tests.pages.conftest import csrf_of

    token = order["tracking_token"]
    page = client.get(f"/pay/{token}")
    assert page.status_code == 200 and 'id="pay-linepay"' in page.text
    csp = page.headers["content-security-policy"]
    action = re.search(
        r'<form method="post" action="([^"]+)"[^>]*>\s*<input[^>]*>\s*'
        r'<button type="submit" id="pay-linepay"',
        page.text,
    )
    assert action and action[1] == f"/pay/{token}/linepay"
    assert form_action_allows(csp, action[1])
    r = client.post(action[1], data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    # A redirect to LINE Pay answering the button's form would be checked against the pay
    # page's form-action, which does not name LINE Pay: a page with a link instead.
    url = _intents(db)[0].details["payment_url"]
    assert url.startswith(fake.url + "/web/payment/") and not form_action_allows(csp, url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    link = re.search(r'<a href="([^"]+)" id="checkout-link"[^>]*data-autofollow', r.text)
    assert link and html.unescape(link[1]) == url
    actions = re.findall(r'<form[^>]* action="([^"]+)"', r.text)
    assert all(form_action_allows(r.headers["content-security-policy"], a) for a in actions)
    assert '<script src="/static/autosubmit.js"' in r.text
    # Not configured: not offered.
    linepay_settings.put_settings(
        db, ADMIN, {"channel_id": "", "channel_secret": "", "api_base": fake.url}
    )
    assert 'id="pay-linepay"' not in client.get(f"/pay/{token}").text
