"""Messages to customers (email now; LINE and SMS later): the table is its own queue.

A consumer of the outbox writes one ``messages`` row per message, already rendered, keyed by
what caused it (``source``: the outbox event's id, or the reminder's order) so that a second
run of the consumer adds nothing; the sender leases due rows, sends outside any transaction
and records the outcome. ``message_templates`` holds the seller's own wording per message
kind and language (the defaults ship with the code); ``order_ratings`` the customer's one
satisfaction rating of a delivered order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # What caused it: "event:<outbox id>", "reminder:<order number>", "test:<uuid>".
    source: Mapped[str] = mapped_column(String(80))
    order_number: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10), default="email")
    locale: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # pending → sent, or dead after its last attempt; not_configured: no mail server was
    # set when it came due (kept, never claimed as sent; retried once one is set).
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    # The Message-ID header, fixed when the row is written: a resend after a crash carries
    # the same one, so the receiving side can tell it is the same message.
    message_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("source", "kind", "channel", "recipient", name="uq_messages_source"),
        Index("ix_messages_due", "status", "next_attempt_at"),
        Index("ix_messages_order_number_id", "order_number", "id"),
        CheckConstraint(
            "status IN ('pending', 'sent', 'dead', 'not_configured')", name="status_known"
        ),
    )


class MessageAttachment(Base):
    """A file sent with an email: a reference to a stored document (documents, rendered by
    the worker and kept under the upload directory), never its bytes. A message with an
    attachment not rendered yet waits; one whose document failed is dead."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("message_id", "document_id", name="uq_message_attachments_document"),
        Index("ix_message_attachments_document_id", "document_id"),
    )


class MessageTemplate(Base):
    """The seller's wording of one message kind in one language (Jinja, sandboxed)."""

    __tablename__ = "message_templates"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    locale: Mapped[str] = mapped_column(String(10), primary_key=True)
    subject: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderRating(Base):
    """The customer's satisfaction with a delivered order (1 to 5, and a word), given once
    from the link of the delivered message: the CSAT figure's source."""

    __tablename__ = "order_ratings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)


class CustomerMessageChannel(Base):
    """How a customer agreed to hear from the shop: email (the default, no row needed),
    LINE (to their LINE user id) or SMS (to their phone)."""

    __tablename__ = "customer_message_channels"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    line_user_id: Mapped[str | None] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("channel IN ('email', 'line', 'sms')", name="channel_known"),
        CheckConstraint("channel <> 'line' OR line_user_id IS NOT NULL", name="line_has_user"),
    )
