"""Tables of after-sales: returns and their lines, quarantined units, store credit, disputes
with their messages and evidence.

Damaged returned units never enter ``on_hand``: the stock ledger only records changes of
levels (a movement with no delta would be dropped), so they are kept in ``quarantine``, one
row per return line and location, and written to the order's timeline.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId, Timestamps
from dingdan.db.types import utcnow


class Return(Timestamps, Base):
    """A return of shipped units: requested → approved → received → refunded | exchanged,
    or rejected (see dingdan.domain.after_sales.returns)."""

    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="requested")
    note: Mapped[str | None] = mapped_column(String(1000))
    requested_by: Mapped[str] = mapped_column(String(200))
    # Policy rules broken and overridden by a manager, with why (None: no override).
    override_rules: Mapped[str | None] = mapped_column(String(200))
    override_reason: Mapped[str | None] = mapped_column(String(500))
    overridden_by: Mapped[str | None] = mapped_column(String(200))
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    received_at: Mapped[datetime | None]
    # What was refunded and where to ("original" payment method or "store_credit").
    refund_minor: Mapped[int | None] = mapped_column(BigInteger)
    refund_to: Mapped[str | None] = mapped_column(String(20))
    refunded_at: Mapped[datetime | None]
    replacement_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))

    __table_args__ = (
        Index("ix_returns_status_id", "status", "id"),
        CheckConstraint("refund_minor IS NULL OR refund_minor >= 0", name="refund_not_negative"),
    )


class ReturnLine(Base):
    __tablename__ = "return_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    # A reason code from the return policy, kept as a code for reporting.
    reason: Mapped[str] = mapped_column(String(40), index=True)
    resellable: Mapped[int] = mapped_column(Integer, default=0)
    damaged: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("return_id", "order_line_id", name="uq_return_lines_return_line"),
        CheckConstraint(
            "quantity > 0 AND resellable >= 0 AND damaged >= 0"
            " AND resellable + damaged <= quantity",
            name="received_within_requested",
        ),
    )


class QuarantinedUnit(Base):
    """Damaged returned units held apart from stock at a location (never in on_hand)."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_quarantine_product_location", "product_id", "location_id"),
    )


class StoreCreditBalance(Base):
    """A customer's store credit in one currency; changed by one conditional statement."""

    __tablename__ = "store_credit_balances"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (CheckConstraint("balance_minor >= 0", name="balance_not_negative"),)


class StoreCreditEntry(Base):
    """The store credit ledger: every earn and spend; balances equal its sums."""

    __tablename__ = "store_credit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(10))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("kind IN ('earn', 'spend')", name="kind_known"),
        Index("ix_store_credit_customer_id_id", "customer_id", "id"),
    )


class Dispute(Timestamps, Base):
    """A complaint about an order: open → investigating → resolved → closed."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    owner: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str | None] = mapped_column(String(1000))
    opened_by: Mapped[str] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolution_minor: Mapped[int | None] = mapped_column(BigInteger)
    replacement_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_disputes_status_id", "status", "id"),)


class DisputeMessage(Base):
    __tablename__ = "dispute_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    # inbound (from the customer), outbound (to the customer) or an internal note.
    direction: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DisputeEvidence(Base):
    """An uploaded file, stored outside the database under its SHA-256."""

    __tablename__ = "dispute_evidence"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Relative to the upload directory.
    path: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(1000))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReturnPhoto(Base):
    """A photo a customer (or staff) attached to a return request; the file lives under the
    upload directory, named by its SHA-256, and is served to staff only."""

    __tablename__ = "return_photos"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(300))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
