"""ECPay payments end to end against a local stand-in of ECPay: the customer's pay page
starts the checkout (the form the browser posts, signed), ECPay's callbacks record the
payment once (replayed, tampered, a different amount: refused and kept, the order
unchanged), an ATM account is shown and its payment marks the order paid, an expired
account cancels the order, a card payment is refunded through DoAction."""

from __future__ import annotations

import html
import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from dingdan.config import get_settings
from dingdan.db.ecpay_tables import PaymentExchange
from dingdan.db.order_tables import Order, OrderEvent, Payment
from dingdan.db.payment_tables import PaymentAttempt
from dingdan.domain.payments import ecpay as ec
from dingdan.services.jobs import worker
from dingdan.services.orders import queries
from dingdan.services.orders import risk as order_risk
from dingdan.services.payments import ecpay, intent_review, intents
from tests.builders import TEA_SHOP, order_body, post_order
from tests.ecpay_payment_fake import FakeEcpayPayments
from tests.helpers import ADMIN, form_action_allows

stocked = TEA_SHOP.fixture()


@pytest.fixture
def fake(client: Any) -> Any:
    def deliver(url: str, body: bytes) -> str:
        path = urllib.parse.urlsplit(url).path
        r = client.post(
            path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        return r.text

    f = FakeEcpayPayments(deliver=deliver).start()
    yield f
    f.stop()


@pytest.fixture
def ecpay_on(monkeypatch: Any, fake: Any, db: Any) -> Any:
    monkeypatch.setenv("DINGDAN_ECPAY_MODE", "stage")
    monkeypatch.setenv("DINGDAN_ECPAY_URL", fake.url)
    get_settings.cache_clear()
    yield fake
    get_settings.cache_clear()


def _order(api: Any, **over: Any) -> dict[str, Any]:
    return post_order(api, order_body(**over))


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found[1]


def _checkout(client: Any, fake: Any, token: str, choice: str) -> str:
    """The customer on the pay page chooses ``choice``; the browser posts the form it gets
    to ECPay (the stand-in). Returns the MerchantTradeNo."""
    page = client.get(f"/pay/{token}")
    assert page.status_code == 200
    r = client.post(f"/pay/{token}/ecpay", data={"csrf_token": _csrf(page.text), "choice": choice})
    assert r.status_code == 200, r.text
    action = re.search(r'<form method="post" action="([^"]+)" id="checkout-form"', r.text)
    assert action and html.unescape(action[1]) == fake.url + ec.CHECKOUT_PATH
    # The browser posts it only if the page's policy names ECPay's origin.
    assert form_action_allows(r.headers["content-security-policy"], html.unescape(action[1]))
    assert "x-dingdan-form-action" not in r.headers
    form = r.text[action.end() : r.text.index("</form>", action.end())]
    fields = {
        html.unescape(k): html.unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    }
    answer = httpx.post(action[1], data=fields)  # the browser
    assert answer.status_code == 200 and "ECPay checkout" in answer.text, answer.text
    return fields["MerchantTradeNo"]


def _exchanges(db: Any, reference: str) -> list[Any]:
    return db.read(
        lambda c: c.execute(
            select(PaymentExchange)
            .where(PaymentExchange.reference == reference)
            .order_by(PaymentExchange.id)
        ).all()
    )


def test_the_checkout_form_is_signed_with_the_documented_fields(api, client, db, stocked, ecpay_on):
    o = _order(api)
    trade = _checkout(client, ecpay_on, o["tracking_token"], "card")
    form = ecpay_on.trades[trade].form
    assert ec.is_signed(form, ec.STAGE_HASH_KEY, ec.STAGE_HASH_IV)
    assert form["TotalAmount"] == "760" and form["ChoosePayment"] == "Credit"
    assert form["MerchantID"] == "3002607" and form["PaymentType"] == "aio"
    assert form["ReturnURL"].endswith("/hooks/ecpay/result")
    assert form["ItemName"] == "Product TEA-001 x 2"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d", form["MerchantTradeDate"])
    assert ecpay_on.refused == []
    kept = _exchanges(db, trade)
    assert [(x.operation, x.direction) for x in kept] == [("checkout", "out")]
    assert "CheckMacValue=" in kept[0].request_body


def test_a_card_payment_is_recorded_once_and_replays_change_nothing(
    api, client, db, stocked, ecpay_on
):
    o = _order(api)
    trade = _checkout(client, ecpay_on, o["tracking_token"], "card")
    assert ecpay_on.pay(trade) == "1|OK"
    after = queries.get_order(db, o["number"])
    assert after["financial_status"] == "paid" and after["paid"] == "760.00"
    pays = api.get(f"/api/v1/orders/{o['number']}/payments").json()["items"]
    assert [(p["provider"], p["reference"]) for p in pays] == [
        ("ecpay", ecpay_on.trades[trade].trade_no)
    ]
    # ECPay posts the same result again: accepted, one payment still.
    assert ecpay_on.pay(trade) == "1|OK"
    assert len(api.get(f"/api/v1/orders/{o['number']}/payments").json()["items"]) == 1
    # The same MerchantTradeNo with other content (another TradeNo) is refused.
    assert ecpay_on.pay(trade, TradeNo="2412999999999999") == "0|error"
    assert queries.get_order(db, o["number"])["paid"] == "760.00"
    outcomes = [x.outcome for x in _exchanges(db, trade) if x.direction == "in"]
    assert outcomes == ["ok", "ok", "refused"]
    page = client.get(f"/pay/{o['tracking_token']}")
    assert 'id="pay-paid"' in page.text and "pay-ecpay-card" not in page.text


def test_tampered_and_different_amount_callbacks_are_refused_and_kept(
    api, client, db, stocked, ecpay_on
):
    o = _order(api)
    trade = _checkout(client, ecpay_on, o["tracking_token"], "card")
    good = ecpay_on.signed(ecpay_on.result_fields(trade))
    url = ecpay_on.trades[trade].form["ReturnURL"]
    # A field changed after signing: the CheckMacValue no longer matches.
    assert ecpay_on.post(url, {**good, "TradeAmt": "1"}) == "0|error"
    # Signed, but for less than was asked.
    assert ecpay_on.pay(trade, TradeAmt="700") == "0|error"
    # No CheckMacValue at all.
    bare = {k: v for k, v in good.items() if k != "CheckMacValue"}
    assert ecpay_on.post(url, bare) == "0|error"
    # Signed with other keys.
    other = FakeEcpayPayments(hash_key="A" * 16, hash_iv="B" * 16)
    assert ecpay_on.post(url, other.signed(bare)) == "0|error"
    after = queries.get_order(db, o["number"])
    assert after["paid"] == "0.00" and after["financial_status"] == o["financial_status"]
    kept = [x for x in _exchanges(db, trade) if x.direction == "in"]
    assert [x.outcome for x in kept] == ["refused"] * 4
    assert "CheckMacValue" in kept[0].error and "TradeAmt" in kept[1].error
    assert all(x.response_body == "0|error" for x in kept)


def _ecpay_intents(db: Any) -> list[Any]:
    return db.read(
        lambda c: c.execute(
            select(PaymentAttempt)
            .where(PaymentAttempt.provider == "ecpay")
            .order_by(PaymentAttempt.id)
        ).all()
    )


def _unrecorded_events(db: Any, number: str) -> list[Any]:
    return db.read(
        lambda c: c.execute(
            select(OrderEvent)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(Order.number == number, OrderEvent.kind == "payment_unrecorded")
        ).all()
    )


def test_money_ecpay_took_for_another_amount_waits_for_staff_and_is_recorded_again(
    api, client, db, stocked, ecpay_on
):
    o = _order(api)
    trade = _checkout(client, ecpay_on, o["tracking_token"], "card")
    # ECPay says it took 700 of the 760 asked: refused, and kept for staff, once however
    # often ECPay posts it.
    assert ecpay_on.pay(trade, TradeAmt="700") == "0|error"
    assert ecpay_on.pay(trade, TradeAmt="700") == "0|error"
    assert queries.get_order(db, o["number"])["paid"] == "0.00"
    (kept,) = _ecpay_intents(db)
    assert (kept.status, kept.kind, kept.amount_minor) == ("attention", "payment", 70000)
    assert kept.reference == trade
    assert kept.provider_reference == ecpay_on.trades[trade].trade_no
    assert "TradeAmt 700" in kept.error
    assert len(_unrecorded_events(db, o["number"])) == 1
    # Staff record it: the kept result answers for ECPay, the 700 is paid once.
    intent_review.record_again(db, ADMIN, str(kept.id))
    assert queries.get_order(db, o["number"])["paid"] == "700.00"
    assert [i.status for i in _ecpay_intents(db)] == ["succeeded"]


def test_a_payment_staff_recorded_from_a_kept_result_is_refunded_through_do_action(
    api, client, db, stocked, ecpay_on
):
    o = _order(api)
    trade = _checkout(client, ecpay_on, o["tracking_token"], "card")
    assert ecpay_on.pay(trade, TradeAmt="700", card4no="4321") == "0|error"
    (kept,) = _ecpay_intents(db)
    intent_review.record_again(db, ADMIN, str(kept.id))
    assert queries.get_order(db, o["number"])["paid"] == "700.00"
    # The payment is ECPay's card payment, as if the callback had recorded it.
    card = db.read(lambda c: _card_of(c, o["number"]))
    assert (card.card_bin, card.card_last4) == ("431195", "4321")
    # ECPay posting the same result again (it was answered 0|error) is taken, once.
    assert ecpay_on.pay(trade, TradeAmt="700", card4no="4321") == "1|OK"
    assert ecpay_on.pay(trade, TradeAmt="760", card4no="4321") == "0|error"
    assert queries.get_order(db, o["number"])["paid"] == "700.00"
    assert len(api.get(f"/api/v1/orders/{o['number']}/payments").json()["items"]) == 1
    # A refund of it goes back to the card through DoAction, not as a bank transfer.
    r = api.post(
        f"/api/v1/orders/{o['number']}/refunds",
        json={"amount": "200.00", "reason": "damaged"},
        role="finance",
    )
    assert r.status_code == 201, r.text
    assert r.json()["reference"] == ecpay_on.trades[trade].trade_no
    (sent,) = ecpay_on.refunds
    assert sent["Action"] == "R" and sent["TotalAmount"] == "200"
    assert sent["TradeNo"] == ecpay_on.trades[trade].trade_no
    assert ecpay_on.trades[trade].refunded == 200
    assert queries.get_order(db, o["number"])["refunded"] == "200.00"


def test_a_checkout_asks_only_what_no_pending_intent_holds_and_a_second_tab_waits_for_staff(
    api, client, db, stocked, ecpay_on
):
    o = _order(api)
    token = o["tracking_token"]
    order = db.read(lambda c: c.execute(select(Order).where(Order.number == o["number"])).one())
    # A payment under way elsewhere (LINE Pay's, a card terminal's) holds 200 of the 760.
    db.write(
        lambda c: intents.open_intent(
            c, ADMIN, order, kind="payment", amount=20000, provider="manual", method="card"
        )
    )
    first = ecpay.start_checkout(db, token, "card")
    second = ecpay.start_checkout(db, token, "card")  # the same page in another tab
    assert first["fields"]["TotalAmount"] == second["fields"]["TotalAmount"] == "560"
    for c in (first, second):
        assert httpx.post(c["action"], data=c["fields"]).status_code == 200
    assert ecpay_on.pay(first["merchant_trade_no"]) == "1|OK"
    # Both tabs paid: the second payment does not fit, and is not lost.
    assert ecpay_on.pay(second["merchant_trade_no"]) == "0|error"
    assert queries.get_order(db, o["number"])["paid"] == "560.00"
    (kept,) = _ecpay_intents(db)
    assert (kept.status, kept.amount_minor) == ("attention", 56000)
    assert kept.reference == second["merchant_trade_no"] and "owes" in kept.error
    assert len(_unrecorded_events(db, o["number"])) == 1


def test_an_atm_account_is_shown_and_its_payment_marks_the_order_paid(
    api, client, db, stocked, ecpay_on
):
    o = _order(api)
    token = o["tracking_token"]
    trade = _checkout(client, ecpay_on, token, "atm")
    assert ecpay_on.give_info(trade) == "1|OK"
    account = "9103522850" + ecpay_on.trades[trade].trade_no[-4:]
    for path in (f"/pay/{token}", f"/track/{token}"):
        page = client.get(path)
        assert account in page.text and "812" in page.text, path
    # The same account again is fine; another account for the same attempt is not.
    assert ecpay_on.give_info(trade) == "1|OK"
    assert (
        ecpay_on.post(
            ecpay_on.trades[trade].form["PaymentInfoURL"],
            ecpay_on.signed(
                {
                    **ecpay_on.result_fields(trade),
                    "RtnCode": "2",
                    "BankCode": "812",
                    "vAccount": "1",
                }
            ),
        )
        == "0|error"
    )
    assert ecpay_on.pay(trade) == "1|OK"
    paid = queries.get_order(db, o["number"])
    assert paid["financial_status"] == "paid"
    pays = api.get(f"/api/v1/orders/{o['number']}/payments").json()["items"]
    assert [(p["provider"], p["method"]) for p in pays] == [("ecpay", "bank_transfer")]
    assert 'id="pay-paid"' in client.get(f"/pay/{token}").text
    assert 'id="track-pay"' not in client.get(f"/track/{token}").text


def test_an_expired_account_cancels_the_order_and_a_waiting_one_keeps_it(
    api, client, db, stocked, ecpay_on
):
    expired = _order(api)
    waiting = _order(api)
    t1 = _checkout(client, ecpay_on, expired["tracking_token"], "atm")
    t2 = _checkout(client, ecpay_on, waiting["tracking_token"], "cvs")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).astimezone(ec.TAIPEI)
    assert ecpay_on.give_info(t1, expire=yesterday.strftime("%Y/%m/%d")) == "1|OK"
    later = (datetime.now(UTC) + timedelta(days=2)).astimezone(ec.TAIPEI)
    assert ecpay_on.give_info(t2, expire=later.strftime("%Y/%m/%d %H:%M:%S")) == "1|OK"
    # Both orders are older than the bank-transfer hours: the ECPay deadline decides.
    _age(db, [expired["number"], waiting["number"]], hours=100)
    assert worker.cancel_unpaid_bank_transfers(db, 72) == [expired["number"]]
    gone = queries.get_order(db, expired["number"])
    assert gone["status"] == "cancelled" and "expired" in gone["cancel_reason"]
    assert queries.get_order(db, waiting["number"])["status"] == "open"
    page = client.get(f"/pay/{waiting['tracking_token']}")
    assert 'id="pay-code"' in page.text
    # Paying the cancelled order's account afterwards is refused, and kept.
    assert ecpay_on.pay(t1) == "0|error"
    assert queries.get_order(db, expired["number"])["paid"] == "0.00"


def test_orders_no_longer_open_never_crowd_out_an_expired_account_that_is_due(
    api, client, db, stocked, ecpay_on
):
    numbers = []
    for _ in range(3):
        o = _order(api)
        trade = _checkout(client, ecpay_on, o["tracking_token"], "atm")
        yesterday = (datetime.now(UTC) - timedelta(days=1)).astimezone(ec.TAIPEI)
        assert ecpay_on.give_info(trade, expire=yesterday.strftime("%Y/%m/%d")) == "1|OK"
        numbers.append(o["number"])
    # The two oldest were cancelled by hand: their expired accounts stay waiting.
    db.write(
        lambda c: c.execute(
            update(Order).where(Order.number.in_(numbers[:2])).values(status="cancelled")
        )
    )
    now = datetime.now(UTC)
    assert db.read(lambda c: ecpay.deadlines_passed(c, now, limit=2)) == [numbers[2]]


def _age(db: Any, numbers: list[str], hours: int) -> None:
    from dingdan.db.order_tables import Order

    db.write(
        lambda c: c.execute(
            update(Order)
            .where(Order.number.in_(numbers))
            .values(created_at=datetime.now(UTC) - timedelta(hours=hours))
        )
    )


def test_a_card_payment_is_refunded_through_do_action_once(api, client, db, stocked, ecpay_on):
    o = _order(api)
    trade = _checkout(client, ecpay_on, o["tracking_token"], "card")
    assert ecpay_on.pay(trade) == "1|OK"
    r = api.post(
        f"/api/v1/orders/{o['number']}/refunds",
        json={"amount": "200.00", "reason": "damaged"},
        role="finance",
    )
    assert r.status_code == 201, r.text
    assert queries.get_order(db, o["number"])["refunded"] == "200.00"
    sent = ecpay_on.refunds
    assert len(sent) == 1 and sent[0]["Action"] == "R" and sent[0]["TotalAmount"] == "200"
    assert sent[0]["TradeNo"] == ecpay_on.trades[trade].trade_no
    assert ec.is_signed(sent[0], ec.STAGE_HASH_KEY, ec.STAGE_HASH_IV)
    assert ecpay_on.trades[trade].refunded == 200
    # 100 more was refunded in ECPay's back office by hand: the 560 we still owe back is
    # more than is left at ECPay, which declines (409 payment_required): nothing is recorded.
    ecpay_on.trades[trade].refunded += 100
    r = api.post(
        f"/api/v1/orders/{o['number']}/refunds",
        json={"amount": "560.00", "reason": "all of it"},
        role="finance",
    )
    assert r.status_code == 409 and r.json()["code"] == "payment_required", r.text
    assert queries.get_order(db, o["number"])["refunded"] == "200.00"
    assert ecpay_on.trades[trade].refunded == 300 and len(ecpay_on.refunds) == 2
    kept = db.read(
        lambda c: (
            c.execute(
                select(PaymentExchange.outcome)
                .where(PaymentExchange.operation == "refund")
                .order_by(PaymentExchange.id)
            )
            .scalars()
            .all()
        )
    )
    assert kept == ["ok", "refused"]


def test_the_pay_page_is_in_traditional_chinese_and_fits_a_phone(api, client, stocked, ecpay_on):
    o = _order(api)
    page = client.get(f"/pay/{o['tracking_token']}", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200
    assert "信用卡" in page.text and "ATM" in page.text
    assert 'name="viewport"' in page.text
    assert client.get("/pay/" + "x" * 30).status_code == 404


def test_the_tracking_page_links_to_the_pay_page_while_something_is_due(api, client, stocked):
    o = _order(api)
    page = client.get(f"/track/{o['tracking_token']}")
    assert f'href="/pay/{o["tracking_token"]}"' in page.text
    # Without ECPay set up, the pay page says to contact the shop.
    assert "Contact the shop to pay" in client.get(f"/pay/{o['tracking_token']}").text


def test_the_confirmation_of_an_unpaid_order_links_to_the_pay_page(api, db, stocked):
    from dingdan.db.message_tables import Message

    unpaid = _order(api)
    cod = _order(api, payment_method="cod")
    worker.drain(db)
    bodies = dict(
        db.read(
            lambda c: c.execute(
                select(Message.order_number, Message.text_body).where(
                    Message.kind == "order_confirmation"
                )
            ).all()
        )
    )
    assert f"/pay/{unpaid['tracking_token']}" in bodies[unpaid["number"]]
    assert "/pay/" not in bodies[cod["number"]]


def test_the_same_result_posted_twice_at_once_records_one_payment(
    api, client, db, stocked, ecpay_on
):
    import threading

    o = _order(api)
    trade = _checkout(client, ecpay_on, o["tracking_token"], "card")
    body = urllib.parse.urlencode(ecpay_on.signed(ecpay_on.result_fields(trade))).encode()
    answers: list[str] = []
    start = threading.Barrier(2)

    def post() -> None:
        start.wait()
        answers.append(ecpay.receive(db, "result", body))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["1|OK", "1|OK"]
    assert queries.get_order(db, o["number"])["paid"] == "760.00"
    assert len(api.get(f"/api/v1/orders/{o['number']}/payments").json()["items"]) == 1


def test_a_callback_that_is_not_ecpay_s_is_refused_never_a_server_error(client, db, ecpay_on):
    for body in (b"", b"\xff\xfe", b"MerchantTradeNo=A%00B&RtnCode=1", b"RtnCode=" + b"9" * 500):
        r = client.post(
            "/hooks/ecpay/result",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert (r.status_code, r.text) == (200, "0|error")
    kept = db.read(lambda c: c.execute(select(PaymentExchange.outcome)).scalars().all())
    assert kept == ["refused"] * 4


def test_a_card_payment_keeps_the_card_and_the_same_card_twice_holds_the_second_order(
    api, client, db, stocked, ecpay_on
):
    order_risk.put_settings(db, ADMIN, {"rules": {"velocity_card": {"limit": 1, "points": 90}}})
    first, second, third = (_order(api) for _ in range(3))
    paid = []
    for o, card4no in ((first, "2222"), (second, "2222"), (third, "1111")):
        trade = _checkout(client, ecpay_on, o["tracking_token"], "card")
        assert ecpay_on.trades[trade].form["NeedExtraPaidInfo"] == "Y"
        assert ecpay_on.pay(trade, card4no=card4no) == "1|OK"
        paid.append(db.read(lambda c, n=o["number"]: _card_of(c, n)))
    # The digits kept apart; the fingerprint is a keyed hash, never the digits.
    assert [(p.card_bin, p.card_last4) for p in paid] == [
        ("431195", "2222"),
        ("431195", "2222"),
        ("431195", "1111"),
    ]
    assert paid[0].card_fingerprint == paid[1].card_fingerprint != paid[2].card_fingerprint
    assert "431195" not in paid[0].card_fingerprint and paid[0].card_country is None
    held = queries.get_order(db, second["number"])
    assert held["hold"] == "risk_review" and held["financial_status"] == "paid"
    assert [r["code"] for r in held["risk"]["reasons"]] == ["velocity_card"]
    assert queries.get_order(db, first["number"])["hold"] is None
    assert queries.get_order(db, third["number"])["hold"] is None
    shown = api.get(f"/api/v1/orders/{second['number']}/payments").json()["items"][0]["card"]
    assert shown == {"last4": "2222", "country": None, "fingerprint": paid[1].card_fingerprint}


def _card_of(conn: Any, number: str) -> Any:
    return conn.execute(
        select(Payment.card_bin, Payment.card_last4, Payment.card_fingerprint, Payment.card_country)
        .join(Order, Order.id == Payment.order_id)
        .where(Order.number == number)
    ).one()
