"""LINE and SMS beside email, behind the same Notifier (sending.py): the providers the
seller set up (``settings`` key ``message_providers``), each customer's agreed channel
(``customer_message_channels``), and the two senders.

- LINE: the Messaging API's push message through ``line-bot-sdk``, with the message's own
  ``X-Line-Retry-Key`` (a UUID derived from its Message-ID), so a resend after a crash is
  recognised by LINE and not delivered twice.
- SMS: Twilio's documented REST call (``POST /2010-04-01/Accounts/{sid}/Messages.json``,
  HTTP basic auth with the account SID and auth token, form fields To, From, Body).

Each provider's ``api_base`` may be changed (a test plays the provider on a local port).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib import error, parse, request

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.message_tables import CustomerMessageChannel
from dingdan.db.order_tables import Customer
from dingdan.db.secrets import seal, shown_secret, unseal_or_none
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import FieldErrors, NotFound
from dingdan.domain.shared.numbers import row_id
from dingdan.services.messaging.sending import Notifier, Outcome
from dingdan.services.messaging.shapes import (
    CustomerChannelCommand,
    CustomerChannelView,
    ProvidersCommand,
    ProvidersView,
)
from dingdan.services.shared.common import Actor, audit

KEY = "message_providers"
CHANNELS = ("email", "line", "sms")
LINE_API = "https://api.line.me"
TWILIO_API = "https://api.twilio.com"
TIMEOUT = 20.0
# Provider → its fields; the secret ones are never shown back.
PROVIDER_FIELDS: dict[str, tuple[str, ...]] = {
    "line": ("channel_access_token", "api_base"),
    "sms": ("account_sid", "auth_token", "from_number", "api_base"),
}
SECRETS = {"channel_access_token", "auth_token"}
LINE_TEXT_MAX = 5000


def load(conn: Connection) -> dict[str, dict[str, str]]:
    value = conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar() or {}
    return {
        p: {f: _opened(f, str((value.get(p) or {}).get(f) or "")) for f in fs}
        for p, fs in PROVIDER_FIELDS.items()
    }


def _kept(value: Any) -> bool:
    """A secret left out or sent back as shown ("••••" and its last characters)."""
    return value is None or (isinstance(value, str) and value.startswith("••••"))


def _opened(field: str, value: str) -> str:
    return (unseal_or_none(value) or "") if field in SECRETS else value


def _stored(providers: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The providers as stored: the secret fields encrypted (db/secrets.py)."""
    return {
        p: {f: ((seal(v) or "") if f in SECRETS else v) for f, v in fields.items()}
        for p, fields in providers.items()
    }


def _secret(value: str) -> str:
    return shown_secret(value) if value else value


def _shown(providers: dict[str, dict[str, str]]) -> ProvidersView:
    line, sms = providers["line"], providers["sms"]
    return {
        "line": {
            "channel_access_token": _secret(line["channel_access_token"]),
            "api_base": line["api_base"],
            "configured": _ready("line", line),
        },
        "sms": {
            "account_sid": sms["account_sid"],
            "auth_token": _secret(sms["auth_token"]),
            "from_number": sms["from_number"],
            "api_base": sms["api_base"],
            "configured": _ready("sms", sms),
        },
    }


def _ready(provider: str, fields: dict[str, str]) -> bool:
    need = [f for f in PROVIDER_FIELDS[provider] if f != "api_base"]
    return all(fields.get(f) for f in need)


def _sent(body: Mapping[str, object], provider: str) -> dict[str, object]:
    """The fields sent for ``provider`` (none: it was left out)."""
    given = body.get(provider) or {}
    return given if isinstance(given, dict) else {}


def get_providers(db: Database) -> ProvidersView:
    return db.read(lambda conn: _shown(load(conn)))


def put_providers(db: Database, actor: Actor, body: ProvidersCommand) -> ProvidersView:
    """Replace the providers' settings; a secret sent as "••••" or left out is kept."""
    errors = FieldErrors()
    raw: Mapping[str, object] = body  # checked field by field below
    for p, fields in PROVIDER_FIELDS.items():
        given = raw.get(p) or {}
        if not isinstance(given, dict):
            errors.add(p, "not_an_object")
            continue
        for f in fields:
            v = given.get(f)
            if v is not None and (not isinstance(v, str) or len(v) > 500):
                errors.add(f"{p}.{f}", "too_long", max=500)
        base = given.get("api_base")
        if isinstance(base, str) and base and not base.startswith(("https://", "http://")):
            errors.add(f"{p}.api_base", "invalid", reason="an http(s) address")
    errors.raise_if_any()

    def work(conn: Connection) -> ProvidersView:
        before = load(conn)
        after = {
            p: {
                f: (
                    before[p][f]
                    if f in SECRETS and _kept(_sent(raw, p).get(f))
                    else str(_sent(raw, p).get(f) or "").strip()
                )
                for f in fs
            }
            for p, fs in PROVIDER_FIELDS.items()
        }
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stored = _stored(after)
        stmt = dialect.insert(Setting).values(key=KEY, value=stored, updated_at=utcnow())
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": stored, "updated_at": utcnow()}
            )
        )
        audit(conn, actor, "update", "setting", KEY)
        return _shown(after)

    return db.write(work)


# ---- each customer's agreed channel ------------------------------------------------------


def channel_of(conn: Connection, customer_id: int) -> tuple[str, str | None]:
    row = conn.execute(
        select(CustomerMessageChannel).where(CustomerMessageChannel.customer_id == customer_id)
    ).first()
    return (row.channel, row.line_user_id) if row is not None else ("email", None)


def _channel_view(customer_id: int, channel: str, line_user_id: str | None) -> CustomerChannelView:
    return {"customer": str(customer_id), "channel": channel, "line_user_id": line_user_id}


def get_customer_channel(db: Database, customer: str) -> CustomerChannelView:
    cid = row_id(customer)

    def work(conn: Connection) -> CustomerChannelView:
        if conn.execute(select(Customer.id).where(Customer.id == cid)).first() is None:
            raise NotFound(detail=f"No customer with id {customer!r}.")
        return _channel_view(cid, *channel_of(conn, cid))

    return db.read(work)


def put_customer_channel(
    db: Database, actor: Actor, customer: str, body: CustomerChannelCommand
) -> CustomerChannelView:
    """The channel the customer agreed to: email, line (with their LINE user id) or sms
    (to the phone of each order)."""
    cid = row_id(customer)
    errors = FieldErrors()
    channel = body.get("channel")
    if channel not in CHANNELS:
        errors.add("channel", "not_one_of", choices=", ".join(CHANNELS))
    user = body.get("line_user_id")
    if channel == "line":
        ok = isinstance(user, str) and len(user) == 33 and user.startswith("U")
        if not ok or not all(c in "0123456789abcdef" for c in str(user)[1:]):
            errors.add("line_user_id", "invalid", reason="a LINE user id, U and 32 hex digits")
    errors.raise_if_any()

    def work(conn: Connection) -> CustomerChannelView:
        if conn.execute(select(Customer.id).where(Customer.id == cid)).first() is None:
            raise NotFound(detail=f"No customer with id {customer!r}.")
        line_user = str(user) if channel == "line" else None
        values = {
            "channel": channel,
            "line_user_id": line_user,
            "updated_by": actor.name,
            "updated_at": utcnow(),
        }
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(CustomerMessageChannel).values(customer_id=cid, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["customer_id"], set_=values))
        audit(conn, actor, "update", "customer", str(cid), None, {"message_channel": channel})
        return _channel_view(cid, str(channel), line_user)

    return db.write(work)


# ---- the senders -----------------------------------------------------------------------


def retry_key(message_id: str) -> str:
    """The message's X-Line-Retry-Key: a UUID fixed by its Message-ID."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dingdan:{message_id}"))


class LineNotifier:
    channel = "line"

    def __init__(self, access_token: str, api_base: str = "") -> None:
        self.token, self.base = access_token, (api_base or LINE_API).rstrip("/")

    def send(self, message: Any) -> Outcome:
        from linebot.v3.messaging import (
            ApiClient,
            Configuration,
            MessagingApi,
            PushMessageRequest,
            TextMessage,
        )
        from linebot.v3.messaging.exceptions import ApiException

        config = Configuration(host=self.base, access_token=self.token)
        text = message.text_body[:LINE_TEXT_MAX]
        push = PushMessageRequest(to=message.recipient, messages=[TextMessage(text=text)])
        try:
            with ApiClient(config) as client:
                MessagingApi(client).push_message(
                    push, x_line_retry_key=retry_key(message.message_id), _request_timeout=TIMEOUT
                )
        except ApiException as exc:
            status = int(exc.status or 0)
            if status == 409:  # this retry key was accepted before: it was delivered
                return Outcome()
            final = 400 <= status < 500 and status != 429
            return Outcome(f"LINE {status}: {str(exc.body or exc.reason)[:500]}", final)
        except Exception as exc:  # noqa: BLE001 - the network, a timeout: try again later
            return Outcome(f"LINE: {type(exc).__name__}: {exc}")
        return Outcome()


class TwilioSmsNotifier:
    channel = "sms"

    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_base: str = ""):
        self.sid, self.token, self.sender = account_sid, auth_token, from_number
        self.base = (api_base or TWILIO_API).rstrip("/")

    def send(self, message: Any) -> Outcome:
        url = f"{self.base}/2010-04-01/Accounts/{parse.quote(self.sid)}/Messages.json"
        form = parse.urlencode(
            {"To": message.recipient, "From": self.sender, "Body": message.text_body}
        ).encode()
        auth = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        req = request.Request(
            url,
            data=form,
            method="POST",
            headers={
                "Authorization": f"Basic {auth}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with request.urlopen(req, timeout=TIMEOUT) as answer:  # noqa: S310 - https or a test's http
                json.loads(answer.read() or b"{}")
        except error.HTTPError as exc:
            body = exc.read()[:500].decode("utf-8", "replace")
            final = 400 <= exc.code < 500 and exc.code != 429
            return Outcome(f"Twilio {exc.code}: {body}", final)
        except (OSError, ValueError) as exc:
            return Outcome(f"Twilio: {type(exc).__name__}: {exc}")
        return Outcome()


def notifiers(conn: Connection) -> dict[str, Notifier]:
    """The LINE and SMS senders the seller has set up."""
    providers = load(conn)
    found: dict[str, Notifier] = {}
    line = providers["line"]
    if _ready("line", line):
        found["line"] = LineNotifier(line["channel_access_token"], line["api_base"])
    sms = providers["sms"]
    if _ready("sms", sms):
        found["sms"] = TwilioSmsNotifier(
            sms["account_sid"], sms["auth_token"], sms["from_number"], sms["api_base"]
        )
    return found
