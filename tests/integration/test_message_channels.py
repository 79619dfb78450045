"""LINE and SMS behind the same Notifier as email: a customer's agreed channel decides how
their messages go; a local HTTP server plays LINE's Messaging API and Twilio, asserting the
exact requests (path, authentication, body, LINE's retry key)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from dingdan.db.message_tables import Message
from dingdan.services.jobs import outbox, worker
from dingdan.services.messaging import channels, sending
from tests.builders import TEA_SHOP, post_order

stocked = TEA_SHOP.fixture()
LINE_USER = "U" + "0123456789abcdef" * 2
SID = "AC" + "f" * 32


class Provider(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []
    answers: list[int] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Provider.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        status = Provider.answers.pop(0) if Provider.answers else 200
        answer = b'{"sentMessages": [{"id": "1"}]}' if "/v2/" in self.path else b'{"sid": "SM1"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[str]:
    Provider.seen, Provider.answers = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _set_up(api: Any, base: str) -> None:
    r = api.request(
        "PUT",
        "/api/v1/settings/message-providers",
        json={
            "line": {"channel_access_token": "line-token", "api_base": base},
            "sms": {
                "account_sid": SID,
                "auth_token": "twilio-secret",
                "from_number": "+15005550006",
                "api_base": base,
            },
        },
    )
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["line"]["channel_access_token"] == "••••" and shown["sms"]["configured"]


def _choose(api: Any, order: dict[str, Any], body: dict[str, Any]) -> None:
    url = f"/api/v1/customers/{order['customer']['id']}/message-channel"
    r = api.request("PUT", url, json=body)
    assert r.status_code == 200, r.text
    assert api.get(url).json()["channel"] == body["channel"]


def _send(db: Any) -> sending.Sent:
    return sending.send_due(db, outbox.worker_name())


def test_a_customer_on_line_gets_a_push_with_the_messages_retry_key(
    api: Any, stocked: Any, provider: str
) -> None:
    _set_up(api, provider)
    first = post_order(api)
    worker.drain(api.db)  # its confirmation went by email
    _choose(api, first, {"channel": "line", "line_user_id": LINE_USER})
    order = post_order(api)  # the same customer: the order after the choice goes by LINE
    worker.drain(api.db)
    row = api.db.read(
        lambda c: c.execute(select(Message).where(Message.order_number == order["number"])).one()
    )
    assert (row.channel, row.recipient, row.html_body) == ("line", LINE_USER, "")
    Provider.answers = [500]  # LINE fails once: retried later, same retry key
    _send(api.db)
    [call] = Provider.seen
    assert call["path"] == "/v2/bot/message/push"
    assert call["headers"]["Authorization"] == "Bearer line-token"
    assert call["headers"]["X-Line-Retry-Key"] == channels.retry_key(row.message_id)
    sent = json.loads(call["body"])
    assert sent["messages"][0]["type"] == "text"
    assert f"訂單 {order['number']} 已成立" in sent["messages"][0]["text"]
    assert "/track/" in sent["messages"][0]["text"]
    [row] = api.db.read(lambda c: list(c.execute(select(Message).where(Message.id == row.id))))
    assert row.status == "pending" and row.attempts == 1 and "LINE 500" in row.last_error


def test_a_customer_on_sms_gets_twilios_exact_request(
    api: Any, stocked: Any, provider: str
) -> None:
    _set_up(api, provider)
    first = post_order(api)
    worker.drain(api.db)  # its confirmation went by email
    _choose(api, first, {"channel": "sms"})
    order = post_order(api)
    worker.drain(api.db)
    assert _send(api.db).sent >= 1
    calls = [c for c in Provider.seen if c["path"].endswith("/Messages.json")]
    sms = [parse_qs(c["body"].decode()) for c in calls]
    mine = [s for s in sms if order["number"] in s["Body"][0]]
    assert len(mine) == 1
    call = calls[sms.index(mine[0])]
    assert call["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    expected = "Basic " + base64.b64encode(f"{SID}:twilio-secret".encode()).decode()
    assert call["headers"]["Authorization"] == expected
    assert call["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert mine[0]["To"] == ["+886912345678"] and mine[0]["From"] == ["+15005550006"]
    assert mine[0]["Body"][0].startswith(f"訂單 {order['number']} 已成立\n")
    assert "/track/" in mine[0]["Body"][0]


def test_a_bad_channel_choice_is_refused_and_a_refusal_by_the_provider_is_final(
    api: Any, stocked: Any, provider: str
) -> None:
    order = post_order(api)
    url = f"/api/v1/customers/{order['customer']['id']}/message-channel"
    r = api.request("PUT", url, json={"channel": "line", "line_user_id": "nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "line_user_id"
    assert api.request("PUT", url, json={"channel": "fax"}).status_code == 422
    assert api.get("/api/v1/customers/999999/message-channel").status_code == 404
    _set_up(api, provider)
    _choose(api, order, {"channel": "sms"})
    post_order(api)
    worker.drain(api.db)
    Provider.answers = [400, 400]  # Twilio: an invalid number is not worth retrying
    _send(api.db)
    rows = api.db.read(lambda c: list(c.execute(select(Message).where(Message.channel == "sms"))))
    assert rows and all(r.status == "dead" and "Twilio 400" in r.last_error for r in rows)
