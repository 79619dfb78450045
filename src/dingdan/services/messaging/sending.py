"""Sending customer email: lease due messages, send each with no transaction open, record
the outcome.

At least once, never lost, never twice what was acknowledged: a row is ``pending`` until the
mail server accepted it (then ``sent``, and never claimed again); a worker that dies after
the server accepted and before the record lets its lease run out, and the message goes
again with the same Message-ID (the one case of a second copy, as with any at-least-once
sender). One order's messages go in the order they were written: a message waits while an
earlier one of its order is still to be sent. A failure is retried on the webhooks'
schedule (domain/shared/retries.py), then the message is ``dead`` (listed, retryable by
hand); a permanent refusal (5xx) is dead at once. Without a mail server configured, due
messages become ``not_configured``: kept, never claimed as sent, sent once one is set.
A message carrying a document (``message_attachments``: a purchase order's PDF) waits until
the worker has rendered it, and reads the stored file when it sends; one whose document
failed, or whose file is gone, is dead with the reason.
"""

from __future__ import annotations

import logging
import random
import smtplib
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import Connection, and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from dingdan.config import get_settings
from dingdan.db.document_tables import Document
from dingdan.db.engine import Database
from dingdan.db.message_tables import Message, MessageAttachment
from dingdan.db.tables import table_of
from dingdan.db.types import utcnow
from dingdan.domain.shared.retries import retry_delay
from dingdan.services.messaging import shop as shop_settings
from dingdan.services.shared.leases import lease
from dingdan.services.shared.view_types import StoredFile

log = logging.getLogger("dingdan.messaging")
LEASE = timedelta(minutes=2)  # far longer than one SMTP conversation (TIMEOUT each step)
TIMEOUT = 20.0
_M = table_of(Message)
_A = table_of(MessageAttachment)
_D = table_of(Document)
WAITING = ("pending", "not_configured")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    user: str | None
    password: str | None
    tls: bool  # smtps: TLS from the first byte
    starttls: bool
    mail_from: str

    @classmethod
    def parse(cls, url: str, mail_from: str) -> SmtpConfig:
        """``smtp://user:pass@host:port``, ``smtp://host:port?starttls=true``,
        ``smtps://user:pass@host:port``; ValueError when it is none of these."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("DINGDAN_SMTP_URL must be smtp://host:port or smtps://host:port")
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
            starttls=query.get("starttls") in ("true", "1", "yes"),
            mail_from=mail_from,
        )


def configured() -> SmtpConfig | None:
    s = get_settings()
    if not s.smtp_url or not s.mail_from:
        return None
    return SmtpConfig.parse(s.smtp_url, s.mail_from)


def build(
    row: Any, shop_name: str, mail_from: str, files: Sequence[tuple[str, bytes]] = ()
) -> EmailMessage:
    """The MIME message: multipart/alternative, text then HTML, inside multipart/mixed with
    the ``files`` (name, PDF bytes) when there are any; headers that are not ASCII are
    encoded (RFC 2047) by the email package's policy."""
    msg = EmailMessage()
    name, addr = parseaddr(mail_from)
    msg["From"] = Address(display_name=name or shop_name, addr_spec=addr)
    msg["To"] = row.recipient
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = row.message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.text_body)
    msg.add_alternative(row.html_body, subtype="html")
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return msg


class AttachmentUnavailable(Exception):
    """An attached document failed to render, or its stored file is gone or altered."""


def attachments(db: Database, message_id: int) -> list[tuple[str, bytes]]:
    """The files a message carries, read from where the documents are stored (outside any
    transaction); AttachmentUnavailable when one cannot be had."""
    from dingdan.domain.shared.errors import DomainError
    from dingdan.services.shared import documents, uploads

    def work(conn: Connection) -> list[StoredFile]:
        ids = conn.execute(
            select(_A.c.document_id)
            .where(_A.c.message_id == message_id)
            .order_by(_A.c.position, _A.c.id)
        ).scalars()
        return documents.stored_files(conn, [int(i) for i in ids])

    out = []
    for f in db.read(work):
        if f["status"] != "ready":
            raise AttachmentUnavailable(f"{f['filename']} could not be made ({f['status']})")
        path, sha256 = f["storage_path"], f["sha256"]
        if path is None or sha256 is None:  # a ready document always has both
            raise AttachmentUnavailable(f"{f['filename']}: the stored file is missing.")
        try:
            out.append((f["filename"], uploads.read(path, sha256)))
        except DomainError as exc:
            raise AttachmentUnavailable(f"{f['filename']}: {exc.detail}") from None
    return out


def deliver(config: SmtpConfig, msg: EmailMessage) -> None:
    """One SMTP conversation; raises what smtplib raises."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config.tls:
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT)
    with smtp:
        if config.starttls:
            smtp.starttls(context=context)
        if config.user:
            smtp.login(config.user, config.password or "")
        smtp.send_message(msg)


def _rendering() -> Any:
    """The message carries a document the worker has not rendered yet: it waits."""
    return exists().where(
        _A.c.message_id == _M.c.id,
        _D.c.id == _A.c.document_id,
        _D.c.status == "pending",
    )


def _due(now: Any, batch: int, channels: Sequence[str]) -> Any:
    earlier = aliased(_M)
    blocked = exists().where(
        earlier.c.order_number == _M.c.order_number,
        earlier.c.id < _M.c.id,
        earlier.c.status.in_(WAITING),
    )
    return (
        select(_M.c.id)
        .where(
            _M.c.status.in_(WAITING),
            _M.c.channel.in_(list(channels)),
            _M.c.next_attempt_at <= now,
            or_(_M.c.claimed_until.is_(None), _M.c.claimed_until <= now),
            or_(_M.c.order_number.is_(None), ~blocked),
            ~_rendering(),
        )
        .order_by(_M.c.id)
        .limit(batch)
    )


def claim(
    conn: Connection, me: str, batch: int, channels: Sequence[str], lease_for: timedelta = LEASE
) -> list[Any]:
    now = utcnow()
    ready = _due(now, batch, channels)
    claimed = {"claimed_by": me, "claimed_until": now + lease_for}
    taken = lease(conn, _M, ready, claimed, [_M.c.id])
    ids = [r.id for r in taken]
    return list(conn.execute(select(_M).where(_M.c.id.in_(ids)).order_by(_M.c.id)).all())


def _anything_due(conn: Connection, channels: Sequence[str]) -> bool:
    """A message to mark not_configured, or one a set-up channel may send now."""
    now = utcnow()
    pending = select(_M.c.id).where(
        _M.c.status == "pending", _M.c.next_attempt_at <= now, ~_rendering()
    )
    if conn.execute(pending.limit(1)).first() is not None:
        return True
    kept = select(_M.c.id).where(_M.c.status == "not_configured", _M.c.channel.in_(list(channels)))
    return bool(channels) and conn.execute(kept.limit(1)).first() is not None


def _mark_not_configured(conn: Connection, channels: Sequence[str]) -> int:
    """Due messages of a channel with no sender set up: kept, and said to be."""
    now = utcnow()
    return conn.execute(
        update(_M)
        .where(
            _M.c.status == "pending",
            _M.c.next_attempt_at <= now,
            _M.c.channel.not_in(list(channels)),
        )
        .values(status="not_configured", last_error="No sender is set up for this channel.")
    ).rowcount


def _record(conn: Connection, row: Any, me: str, error: str | None, permanent: bool) -> None:
    attempts = row.attempts + 1
    mine = and_(_M.c.id == row.id, _M.c.claimed_by == me)
    done: dict[str, Any] = {"attempts": attempts, "claimed_by": None, "claimed_until": None}
    if error is None:
        done |= {"status": "sent", "sent_at": utcnow(), "last_error": None}
    else:
        delay = None if permanent else retry_delay(attempts, random.random())
        later = {"status": "pending", "next_attempt_at": utcnow() + delay} if delay else {}
        done |= {"last_error": error[:1000], **(later or {"status": "dead"})}
    conn.execute(update(_M).where(mine).values(**done))


@dataclass
class Sent:
    sent: int = 0
    failed: int = 0
    not_configured: int = 0


@dataclass(frozen=True)
class Outcome:
    """What a sender said: nothing wrong (sent), or the error and whether a retry is
    pointless (a permanent refusal)."""

    error: str | None = None
    permanent: bool = False


class Notifier(Protocol):
    """A way to a customer: email here; LINE or SMS fit the same shape (a channel name and
    one call per message, outside any transaction, answering an Outcome)."""

    channel: str

    def send(self, message: Any) -> Outcome: ...


class EmailNotifier:
    channel = "email"

    def __init__(self, config: SmtpConfig, shop_name: str, db: Database | None = None) -> None:
        self.config, self.shop_name, self.db = config, shop_name, db

    def send(self, message: Any) -> Outcome:
        try:
            files = attachments(self.db, message.id) if self.db is not None else []
        except AttachmentUnavailable as exc:
            return Outcome(f"attachment: {exc}", permanent=True)
        try:
            deliver(self.config, build(message, self.shop_name, self.config.mail_from, files))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            return Outcome(f"refused: {exc.recipients}", all(c >= 500 for c in codes))
        except smtplib.SMTPResponseException as exc:
            raw = exc.smtp_error
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            # 5xx is final, but 530 (authentication required) is our configuration.
            final = 500 <= exc.smtp_code < 600 and exc.smtp_code != 530
            return Outcome(f"{exc.smtp_code} {text}", final)
        except (OSError, smtplib.SMTPException) as exc:
            return Outcome(f"{type(exc).__name__}: {exc}")
        return Outcome()


def notifiers(db: Database) -> dict[str, Notifier]:
    """The channels set up now, by name: email from the environment, LINE and SMS from the
    back office's providers (channels.py)."""
    from dingdan.services.messaging import channels  # it builds on this module's Outcome

    found: dict[str, Notifier] = db.read(channels.notifiers)
    config = configured()
    if config is not None:
        found["email"] = EmailNotifier(config, db.read(shop_settings.load)["name"], db)
    return found


def send_due(
    db: Database,
    me: str,
    batch: int = 50,
    budget: float = 5.0,
    senders: dict[str, Notifier] | None = None,
) -> Sent:
    """The worker's job: send what is due, batch after batch within ``budget`` seconds."""
    tally = Sent()
    senders = notifiers(db) if senders is None else senders
    channels = sorted(senders)
    if not db.read(lambda conn: _anything_due(conn, channels)):
        return tally  # the usual case each second: one indexed read, no write transaction
    tally.not_configured = db.write(lambda conn: _mark_not_configured(conn, channels))
    deadline = time.monotonic() + budget
    while channels and time.monotonic() < deadline:
        rows = db.write(lambda conn: claim(conn, me, batch, channels))
        if not rows:
            break
        for row in rows:
            outcome = senders[row.channel].send(row)
            if outcome.error is None:
                tally.sent += 1
                log.info("sent message %s (%s) by %s", row.id, row.kind, row.channel)
            else:
                tally.failed += 1
            _settle(db, row, me, outcome.error, outcome.permanent)
        # Not "fewer than a batch: done": a claim takes one message per order (the next
        # waits for it), so an order's second message is due only in the next round.
    return tally


def _settle(db: Database, row: Any, me: str, error: str | None, permanent: bool) -> None:
    db.write(lambda conn: _record(conn, row, me, error, permanent))
