"""Customer messages by email against a real SMTP server (aiosmtpd): every kind in every
language, their MIME structure and headers, the tracking links; retries then dead; the
message log; templates checked at save time, previewed, reset."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from dingdan.config import get_settings
from dingdan.db.message_tables import Message
from dingdan.db.order_tables import Order
from dingdan.db.types import utcnow
from dingdan.services.jobs import outbox, worker
from dingdan.services.messaging import outbound, sending, templating
from tests.builders import TEA_SHOP, Buyer, order_body, post_order

PUBLIC = "https://shop.example.com"
stocked = TEA_SHOP.fixture()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _configure(monkeypatch: pytest.MonkeyPatch, url: str | None) -> None:
    if url:
        monkeypatch.setenv("DINGDAN_SMTP_URL", url)
    else:
        monkeypatch.delenv("DINGDAN_SMTP_URL", raising=False)
    monkeypatch.setenv("DINGDAN_MAIL_FROM", "店 Dingdan <shop@example.com>")
    monkeypatch.setenv("DINGDAN_PUBLIC_URL", PUBLIC)
    get_settings.cache_clear()


@pytest.fixture
def inbox(
    smtp_server: tuple[Controller, Inbox], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Inbox]:
    controller, box = smtp_server
    box.messages.clear()
    _configure(monkeypatch, f"smtp://{controller.hostname}:{controller.port}")
    yield box
    get_settings.cache_clear()


def _parsed(envelope: Any) -> Any:
    return email.message_from_bytes(envelope.original_content, policy=email.policy.default)


def _send(db: Any) -> sending.Sent:
    # Everything due, however slow the machine: the worker's 5-second budget per round is
    # not what these tests are about.
    return sending.send_due(db, outbox.worker_name(), budget=600)


def _order_row(db: Any, number: str) -> Any:
    return db.read(lambda c: c.execute(select(Order).where(Order.number == number)).one())


def _rows(db: Any, **where: Any) -> list[Any]:
    stmt = select(Message).order_by(Message.id).filter_by(**where)
    return db.read(lambda c: list(c.execute(stmt).all()))


LOCALES = {"TW": "zh-Hant", "CN": "zh-Hans", "US": "en"}
POSTAL = {
    "TW": {},
    "CN": {"postal_code": "200000", "city": "上海市", "region": "上海"},
    "US": {"postal_code": "94105", "city": "San Francisco", "region": "CA"},
}


def test_every_message_in_every_language_is_sent_as_text_and_html_with_its_links(
    api: Any, stocked: Any, inbox: Inbox
) -> None:
    r = api.request(
        "PUT", "/api/v1/settings/shop", json={"name": "茶舖", "email": "hi@example.com"}
    )
    assert r.status_code == 200, r.text
    orders = {}
    for country in LOCALES:
        buyer = Buyer(f"buyer-{country.lower()}@example.com", "王小明")
        body = order_body(buyer=buyer, shipping_address=buyer.address(country=country))
        body["shipping_address"] |= POSTAL[country]
        orders[country] = _order_row(db := api.db, post_order(api, body)["number"])

    def queue_all(conn: Any) -> None:
        for order in orders.values():
            for kind in templating.KINDS:
                payload = {"amount": "10.00", "reason": "test", "return_id": "7"}
                assert outbound.queue(conn, f"test-{kind}", kind, order, payload)

    db.write(queue_all)
    tally = _send(db)
    every = len(templating.KINDS) * len(LOCALES)
    assert (tally.sent, tally.failed) == (every, 0)
    assert len(inbox.messages) == every
    for envelope in inbox.messages:
        msg = _parsed(envelope)
        country = envelope.rcpt_tos[0].split("@")[0][-2:].upper()
        order = orders[country]
        raw_headers = envelope.original_content.split(b"\r\n\r\n", 1)[0]
        assert order.number in str(msg["Subject"])
        assert raw_headers.isascii()  # every non-ASCII header is RFC 2047-encoded
        if LOCALES[country] != "en":
            assert b"=?utf-8?" in raw_headers.lower()
        assert msg["From"].addresses[0].addr_spec == "shop@example.com"
        assert msg["Message-ID"].startswith("<")
        assert msg.get_content_type() == "multipart/alternative"
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        link = f"{PUBLIC}/track/{order.tracking_token}"
        assert link in text and f'href="{link}' in html
        assert "茶舖" in text and "茶舖" in html
        assert 'name="viewport"' in html
    rows = _rows(db)
    assert {r.status for r in rows} == {"sent"} and {r.locale for r in rows} == set(
        LOCALES.values()
    )


def test_an_order_placed_and_shipped_mails_its_customer_once_through_the_worker(
    api: Any, stocked: Any, inbox: Inbox
) -> None:
    bank = {"name": "茶舖", "bank_name": "台灣銀行", "bank_code": "004", "account_number": "123"}
    assert api.request("PUT", "/api/v1/settings/shop", json=bank).status_code == 200
    order = post_order(api)
    worker.run_frequent(api.db)
    worker.run_frequent(api.db)  # nothing new: the event was consumed once
    assert len(inbox.messages) == 1
    msg = _parsed(inbox.messages[0])
    assert str(msg["Subject"]) == f"訂單 {order['number']} 已成立"
    text = msg.get_body(("plain",)).get_content()
    assert "銀行轉帳" in text and "帳號：123" in text and "台灣銀行（004）" in text

    r = api.post(
        f"/api/v1/orders/{order['number']}/payments",
        json={"amount": order["total"]},
        role="finance",
    )
    assert r.status_code == 201, r.text
    r = api.post(
        f"/api/v1/orders/{order['number']}/shipments",
        json={"carrier": "tcat", "tracking_number": "123456789012"},
        role="warehouse",
    )
    assert r.status_code == 201, r.text
    worker.run_frequent(api.db)
    kinds = [r.kind for r in _rows(api.db, order_number=order["number"])]
    assert kinds == ["order_confirmation", "payment_received", "shipped"]
    shipped = _parsed(inbox.messages[-1])
    text = shipped.get_body(("plain",)).get_content()
    assert "123456789012" in text and f"{PUBLIC}/track/" in text
    page = api.get(f"/api/v1/messages?order={order['number']}&status=sent").json()
    assert [m["kind"] for m in page["items"]] == [
        "shipped",
        "payment_received",
        "order_confirmation",
    ]


def test_a_consumer_run_twice_for_one_event_writes_one_message(
    api: Any, stocked: Any, inbox: Inbox
) -> None:
    number = post_order(api)["number"]
    event = outbox.Claimed(999, "order.created", {"number": number}, 0, utcnow())
    outbound.on_event(api.db, event)
    outbound.on_event(api.db, event)
    assert len(_rows(api.db, source="event:999")) == 1


def test_a_down_mail_server_is_retried_then_dead_and_listed_then_retried_by_hand(
    api: Any, stocked: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, f"smtp://127.0.0.1:{_free_port()}")
    number = post_order(api)["number"]
    worker.drain(api.db)
    first = _send(api.db)
    assert (first.sent, first.failed) == (0, 1)
    [row] = _rows(api.db)
    assert row.status == "pending" and row.attempts == 1 and "Connection" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
    for _ in range(20):
        api.db.write(lambda c: c.execute(update(Message).values(next_attempt_at=utcnow())))
        _send(api.db)
        if _rows(api.db)[0].status == "dead":
            break
    [row] = _rows(api.db)
    assert row.status == "dead" and row.attempts == 10 and row.sent_at is None
    dead = api.get("/api/v1/messages?status=dead").json()["items"]
    assert [(m["order"], m["kind"]) for m in dead] == [(number, "order_confirmation")]
    r = api.post(f"/api/v1/messages/{row.id}/retry")
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["attempts"] == 0
    assert api.post(f"/api/v1/messages/{row.id}/retry").status_code == 409
    get_settings.cache_clear()


def test_without_a_mail_server_messages_are_kept_not_configured_never_called_sent(
    api: Any, stocked: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, None)
    post_order(api)
    result = worker.run_frequent(api.db)
    assert result["messages"].not_configured == 1 and result["messages"].sent == 0
    assert [r.status for r in _rows(api.db)] == ["not_configured"]
    get_settings.cache_clear()


def test_a_reminder_goes_once_to_an_unpaid_bank_transfer_a_day_before_it_is_cancelled(
    api: Any, stocked: Any, inbox: Inbox
) -> None:
    due = post_order(api)["number"]
    fresh = post_order(api)["number"]
    api.db.write(
        lambda c: c.execute(
            update(Order)
            .where(Order.number == due)
            .values(created_at=utcnow() - timedelta(hours=50))
        )
    )
    assert outbound.queue_payment_reminders(api.db, 72) == [due]
    assert outbound.queue_payment_reminders(api.db, 72) == []
    [row] = _rows(api.db, kind="payment_reminder")
    assert row.order_number == due and fresh not in row.subject
    assert "帳號" in row.text_body


def test_templates_are_checked_when_saved_previewed_with_an_order_and_reset(
    api: Any, stocked: Any, inbox: Inbox
) -> None:
    number = post_order(api)["number"]
    url = "/api/v1/message-templates/order_confirmation/zh-Hant"
    default = api.get(url).json()
    assert default["is_default"] and "{{ order.number }}" in default["subject"]
    bad = {
        "subject": "{{ ''.__class__ }}",
        "text": "{{ order.items() }}",
        "html": "<p>{% if %}</p>",
    }
    r = api.request("PUT", url, json=bad)
    assert r.status_code == 422
    fields = {e["field"]: e["code"] for e in r.json()["errors"]}
    assert fields == {
        "subject": "template_not_allowed",
        "text": "template_unknown_variable",
        "html": "template_syntax",
    }
    for escape in ("{{ order|attr('__class__') }}", "{% set x = 1 %}", "{{ cycler.__init__ }}"):
        body = {"subject": escape, "text": default["text"], "html": default["html"]}
        r = api.request("PUT", url, json=body)
        assert r.status_code == 422, escape
    mine = {
        "subject": "您的訂單 {{ order.number }}",
        "text": "總計 {{ order.total }}",
        "html": "<b>{{ shop.name }}</b>",
    }
    r = api.request("PUT", url, json=mine)
    assert r.status_code == 200 and not r.json()["is_default"]
    p = api.post(url + "/preview", json={"order": number}).json()
    assert (
        p["subject"] == f"您的訂單 {number}"
        and "760.00" in p["text"]
        and "<b>Dingdan</b>" in p["html"]
    )
    draft = api.post(
        url + "/preview", json={"order": number, "subject": "{{ nope }}", "text": "x", "html": "x"}
    )
    assert draft.status_code == 422
    assert api.post(url + "/preview", json={"order": "NOPE"}).status_code == 422
    r = api.post(url + "/test", json={"to": "me@example.com"})
    assert r.status_code == 202 and r.json()["subject"] == f"您的訂單 {number}"
    _send(api.db)
    assert inbox.messages[-1].rcpt_tos == ["me@example.com"]
    r = api.request("DELETE", url)
    assert r.status_code == 200 and r.json()["is_default"]
    assert api.get("/api/v1/message-templates/nope/en").status_code == 404


def test_an_order_carries_the_language_of_its_messages_given_or_from_its_country(
    api: Any, stocked: Any, inbox: Inbox
) -> None:
    assert post_order(api)["locale"] == "zh-Hant"  # shipped to TW
    sg = order_body(
        shipping_address=order_body()["shipping_address"]
        | {"country": "SG", "postal_code": "018956"}
    )
    assert post_order(api, sg)["locale"] == "zh-Hans"
    english = post_order(api, order_body(locale="en"))
    assert english["locale"] == "en"
    assert api.get(f"/api/v1/orders/{english['number']}").json()["locale"] == "en"
    r = api.post("/api/v1/orders", json=order_body(locale="fr"))
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["locale"]
    worker.run_frequent(api.db)
    [row] = _rows(api.db, order_number=english["number"])
    assert row.locale == "en" and row.subject == f"Order {english['number']} confirmed"


def test_store_credit_issued_for_a_return_is_an_event_of_its_order(api: Any, stocked: Any) -> None:
    from dingdan.db.tables import OutboxMessage
    from dingdan.services.payments import store_credit

    number = post_order(api)["number"]
    order = _order_row(api.db, number)
    api.db.write(lambda c: store_credit.earn(c, order.customer_id, "TWD", 5000, "manual"))
    events = api.db.read(
        lambda c: [
            r.payload
            for r in c.execute(
                select(OutboxMessage).where(OutboxMessage.topic == "store_credit.issued")
            )
        ]
    )
    assert events == [
        {
            "number": None,
            "customer_id": str(order.customer_id),
            "currency": "TWD",
            "amount": "50.00",
            "reference": "manual",
        }
    ]


def test_one_orders_messages_go_in_the_order_they_were_written(api: Any, stocked: Any) -> None:
    number = post_order(api)["number"]
    worker.drain(api.db)  # the confirmation
    order = _order_row(api.db, number)
    api.db.write(lambda c: outbound.queue(c, "test:later", "payment_received", order, {}))
    confirmation, later = _rows(api.db)
    waiting = utcnow() + timedelta(minutes=5)  # the first is waiting for a retry
    api.db.write(
        lambda c: c.execute(
            update(Message).where(Message.id == confirmation.id).values(next_attempt_at=waiting)
        )
    )

    class Recorder:
        channel = "email"

        def __init__(self) -> None:
            self.sent: list[str] = []

        def send(self, message: Any) -> sending.Outcome:
            self.sent.append(message.kind)
            return sending.Outcome()

    recorder = Recorder()
    me = outbox.worker_name()
    assert sending.send_due(api.db, me, senders={"email": recorder}).sent == 0
    api.db.write(lambda c: c.execute(update(Message).values(next_attempt_at=utcnow())))
    assert sending.send_due(api.db, me, senders={"email": recorder}).sent == 2
    assert recorder.sent == ["order_confirmation", "payment_received"]


def test_a_return_refunded_to_store_credit_tells_the_customer_each_step(api: Any, db: Any) -> None:
    from tests.builders import RETURNS_SHOP, shipped_order

    RETURNS_SHOP.build(db)
    number = shipped_order(api)
    rid = api.post(
        f"/api/v1/orders/{number}/returns",
        json={"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "defective"}]},
        role="customer_service",
    ).json()["id"]
    assert api.post(f"/api/v1/returns/{rid}/approve").status_code == 200
    received = {
        "location": "TPE",
        "lines": [{"sku": "TEA-001", "quantity": 1, "condition": "resellable"}],
    }
    assert (
        api.post(f"/api/v1/returns/{rid}/receive", role="warehouse", json=received).status_code
        == 200
    )
    r = api.post(f"/api/v1/returns/{rid}/refund", json={"to": "store_credit"}, role="finance")
    assert r.status_code == 200, r.text
    worker.drain(db)
    rows = _rows(db, order_number=number)
    kinds = [r.kind for r in rows]
    assert kinds[-4:] == [
        "return_approved",
        "return_received",
        "refund_issued",
        "store_credit_issued",
    ]
    credit = rows[-1]
    assert "350.00 TWD" in credit.subject and number in credit.subject


def test_a_sent_purchase_order_mails_its_pdf_attached_once_the_worker_made_it(
    api: Any, stocked: Any, inbox: Inbox, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dingdan.db.document_tables import Document
    from dingdan.services.shared import documents

    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    db = api.db
    for code in ("ALISHAN", "BETA"):
        supplier = {"code": code, "name": "阿里山茶業", "lead_time_days": 7, "currency": "TWD",
                    "email": f"orders@{code.lower()}.example"}  # fmt: skip
        assert api.post("/api/v1/suppliers", json=supplier).status_code == 201
    pos = []
    for code in ("ALISHAN", "BETA"):
        line = {"sku": "TEA-001", "quantity": 10, "unit_cost": "100.00"}
        po = api.post("/api/v1/purchase-orders", json={"supplier": code, "location": "TPE",
                                                       "lines": [line]}).json()  # fmt: skip
        assert api.post(f"/api/v1/purchase-orders/{po['id']}/send").status_code == 200
        pos.append(po["number"])
    worker.drain(db)
    worker.drain(db)  # at least once: the same message, the same one document
    assert len(_rows(db, kind="purchase_order")) == 2
    assert _send(db).sent == 0 and inbox.messages == []  # the PDFs are not made yet
    # BETA's PDF cannot be made: its message is dead, said why; ALISHAN's goes with its PDF.
    db.write(lambda c: c.execute(update(Document).where(Document.subject == pos[1])
                                 .values(status="failed", html=None)))  # fmt: skip
    assert documents.render_pending(db, render=lambda html: b"%PDF-1.7 " + pos[0].encode()) == 1
    tally = _send(db)
    assert (tally.sent, tally.failed) == (1, 1)
    assert _send(db).sent == 0
    assert len(inbox.messages) == 1 and inbox.messages[0].rcpt_tos == ["orders@alishan.example"]
    mail = _parsed(inbox.messages[0])
    assert mail.get_content_type() == "multipart/mixed"
    files = [
        (p.get_filename(), p.get_content_type(), p.get_content()) for p in mail.iter_attachments()
    ]
    assert files == [(f"{pos[0]}.pdf", "application/pdf", b"%PDF-1.7 " + pos[0].encode())]
    assert pos[0] in mail.get_body(("plain",)).get_content()
    dead = _rows(db, kind="purchase_order", recipient="orders@beta.example")
    assert dead[0].status == "dead" and dead[0].last_error.startswith("attachment:")
