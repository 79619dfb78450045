"""Outgoing webhooks (Standard Webhooks v1): the endpoints, one delivery per event and
endpoint, and the log of every attempt.

A delivery is written once, when the worker hands the event to the webhook consumer (the
unique (endpoint, event) pair makes a second hand-over add nothing), with the exact body it
will send: every attempt of it carries the same bytes and the same ``webhook_id``. The
sender leases due deliveries (``claimed_by``, ``claimed_until``) as the outbox does, posts
with no transaction open, then records the answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.secrets import EncryptedText
from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Event types it hears (outbox_events.EVENT_TYPES), or ["*"] for all.
    events: Mapped[list[Any]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500), default="")
    # active, or disabled (by hand, or by a 410 answer: ``disabled_reason`` says which).
    status: Mapped[str] = mapped_column(String(10), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    # "whsec_" + base64 of the key. After a rotation the previous secret still signs (a
    # second signature in the header) until ``previous_until``.
    secret: Mapped[str] = mapped_column(EncryptedText)
    previous_secret: Mapped[str | None] = mapped_column(EncryptedText)
    previous_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("status IN ('active', 'disabled')", name="webhook_status_known"),
    )


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    # The outbox event: its id and when it was recorded. Together they name it (on SQLite
    # an emptied outbox numbers its next rows from 1 again), and ``event_at`` (then the id)
    # is the order the first attempts of one order's deliveries go out in: one order's
    # events are recorded one after another, under the order's lock.
    event_id: Mapped[int] = mapped_column(BigId)
    event_at: Mapped[datetime]
    event_type: Mapped[str] = mapped_column(String(100))
    order_number: Mapped[str | None] = mapped_column(String(40))
    webhook_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    # pending → delivered, or dead after its last attempt (replay makes it pending again).
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Failures since it was written or last replayed: what the retry schedule counts.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", "event_at", name="uq_webhook_delivery_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "order_number", "event_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        CheckConstraint(
            "status IN ('pending', 'delivered', 'dead')", name="webhook_delivery_status_known"
        ),
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The HTTP status, or None with ``error`` (no answer: refused, timed out, ...).
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)
    # The start of the answer's body (at most 1,000 characters), for the back office.
    response_excerpt: Mapped[str | None] = mapped_column(String(1000))
