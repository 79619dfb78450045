"""Customers' consent to marketing messages (issue 26, part 5): one row per change, never
updated or deleted, so the history of who granted or withdrew it, when and how is kept; a
customer's consent now is their latest row (none: not given)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class CustomerConsent(Base):
    __tablename__ = "customer_consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    # What it is consent to: "marketing" (messages that are not about an order).
    purpose: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    # How it was given or withdrawn: "back_office", "api", "checkout", "unsubscribe link",
    # "phone call", ... (the seller's words, kept as given).
    source: Mapped[str] = mapped_column(String(100))
    # Who recorded it: "user:<email>" or "token:<name>" (staff, never the customer's data).
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_customer_consents_customer", "customer_id", "purpose", "id"),)
