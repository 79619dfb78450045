"""Nothing personal or secret in the logs (issue 26, part 6): a realistic run through the
API, the back office and the worker (orders captured and refused, searches, a reveal, an
export, a webhook endpoint failing, messages to an SMTP server that is down, signed
deliveries refused), every record of every logger captured at DEBUG for Dingdan's own
loggers (INFO for the rest: SQLAlchemy's statement log is a debugging switch, off in
production), then scanned for the demo customers' emails and phones and the secrets of
the settings."""

from __future__ import annotations

import logging
import re
import socket
from typing import Any
from urllib.parse import quote

import pytest

from dingdan.config import get_settings
from dingdan.services.jobs import worker
from dingdan.services.messaging import channels
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from tests.builders import ADMIN, TEA_SHOP, Buyer, order_body
from tests.integration.webhook_receiver import Receiver
from tests.pages.conftest import PASSWORD, Browser

stocked = TEA_SHOP.fixture()

BUYERS = [
    Buyer("mei.logscan@example.com", "陳美玲", phone="+886987654321"),
    Buyer("ho.logscan@example.hk", "何家明", phone="+85291234567"),
]
SMTP_PASSWORD = "Sm7p-pa55w0rd-logscan"
LINE_TOKEN = "line-token-logscan-0123456789"
SMS_TOKEN = "twilio-token-logscan-9876543210"
CHANNEL_SECRET = "whsec_bG9nc2Nhbi1jaGFubmVsLXNlY3JldC0xMjM0NQ=="
CARRIER_SECRET = "whsec_bG9nc2Nhbi1jYXJyaWVyLXNlY3JldC02Nzg5MA=="


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def environment(monkeypatch):
    monkeypatch.setenv("DINGDAN_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv(
        "DINGDAN_SMTP_URL", f"smtp://shop:{SMTP_PASSWORD}@127.0.0.1:{_closed_port()}"
    )
    monkeypatch.setenv("DINGDAN_MAIL_FROM", "shop@example.com")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def everything_logged(caplog):
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="dingdan")
    return caplog


def _forbidden() -> list[re.Pattern[str]]:
    words = [
        SMTP_PASSWORD,
        LINE_TOKEN,
        SMS_TOKEN,
        CHANNEL_SECRET,
        CARRIER_SECRET,
        CHANNEL_SECRET[6:20],
        CARRIER_SECRET[6:20],
    ]
    out = [re.compile(re.escape(w)) for w in words]
    for b in BUYERS:
        out.append(re.compile(re.escape(str(b.email))))
        out.append(re.compile(re.escape(quote(str(b.email)))))
        national = str(b.phone)[4:]
        out.append(re.compile(r"[\s\-.]?".join(national)))
    return out


def _text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.args)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


def _scenario(api: Any, app: Any, db: Any, receiver: Receiver) -> None:
    from dingdan.services.access import accounts

    # The seller's secrets, entered once.
    assert (
        api.post(
            "/api/v1/webhooks", json={"url": receiver.url + "/hook", "events": ["*"]}
        ).status_code
        == 201
    )
    assert (
        api.post(
            "/api/v1/channels",
            json={
                "code": "myshop",
                "name": "My shop",
                "kind": "standard",
                "webhook_secret": CHANNEL_SECRET,
            },
        ).status_code
        == 201
    )
    assert (
        api.post(
            "/api/v1/carriers/tcat/webhook-secret", json={"secret": CARRIER_SECRET}
        ).status_code
        < 300
    )
    channels.put_providers(
        db,
        ADMIN,
        {
            "line": {"channel_access_token": LINE_TOKEN},
            "sms": {"account_sid": "AC1", "auth_token": SMS_TOKEN, "from_number": "+886900000000"},
        },
    )
    # Orders: captured, refused, paid.
    numbers = []
    for b in BUYERS:
        r = api.post("/api/v1/orders", json=order_body(buyer=b))
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
        bad = order_body(buyer=b, lines=[{"sku": "NOPE", "quantity": 1}])
        assert api.post("/api/v1/orders", json=bad).status_code == 422
        bad_email = order_body(customer={**b.customer(), "email": str(b.email) + "@@"})
        assert api.post("/api/v1/orders", json=bad_email).status_code == 422
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=BUYERS[0]))
    transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    # Signed deliveries refused: a channel's and a carrier's.
    body = order_body(buyer=BUYERS[1])
    assert app_post(api, "/hooks/myshop", body) >= 400
    assert (
        app_post(api, "/hooks/carriers/tcat", {"tracking_number": "1", "email": BUYERS[1].email})
        >= 400
    )
    # The back office: searches, the order and customer pages, a reveal, an export.
    for role in ("manager", "warehouse"):
        accounts.create_user(db, ADMIN, email=f"{role}@example.com", role=role, password=PASSWORD)
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        for role in ("manager", "warehouse"):
            b = Browser(client)
            client.cookies.clear()
            assert b.sign_in(f"{role}@example.com").status_code == 303
            for b_ in BUYERS:
                assert b.get("/orders", params={"q": b_.email}).status_code == 200
                assert b.get("/customers", params={"q": str(b_.phone)[4:]}).status_code == 200
            assert b.get(f"/orders/{numbers[0]}").status_code == 200
            assert b.get("/exports/orders.csv").status_code == 200
        assert b.post(f"/orders/{numbers[0]}/reveal", {"reason": "call"}).status_code == 200
        assert b.get("/orders/DD999999").status_code == 404
    # The worker: the outbox, webhooks to a failing receiver, messages to a dead SMTP.
    worker.run_once(db, 48)
    worker.run_once(db, 48)
    assert receiver.received  # the endpoint was called (and answered 500)


def app_post(api: Any, url: str, body: dict[str, Any]) -> int:
    r = api.client.post(
        url,
        json=body,
        headers={"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,bad"},
    )
    return int(r.status_code)


def test_a_whole_run_logs_no_email_phone_or_secret(
    api, app, db, stocked, environment, everything_logged
):
    with Receiver(lambda req, n: (500, "down")) as receiver:
        _scenario(api, app, db, receiver)
    # The test's own client logs the URLs it asks for (httpx, host "testserver"): that is
    # the caller's log, not Dingdan's (`dingdan serve` keeps no access log).
    records = [
        r
        for r in everything_logged.records
        if not (r.name == "httpx" and "//testserver/" in r.getMessage())
    ]
    assert any(r.name.startswith("dingdan") for r in records)  # the scan saw something
    assert any(r.name == "httpx" and "/hook" in r.getMessage() for r in records)
    leaks = [
        (r.name, r.levelname, p.pattern, _text(r)[:300])
        for r in records
        for p in _forbidden()
        if p.search(_text(r))
    ]
    assert leaks == [], "\n".join(map(str, leaks))
