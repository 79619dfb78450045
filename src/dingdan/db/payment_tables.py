"""Payment intents: what Dingdan asked (or is about to ask) a payment provider to do.

An intent is written before the provider is called and settled after it answered, each in
its own short transaction, so no provider call runs inside a transaction that the engine
may retry. Its ``idempotency_key`` goes with every call for it: asking again after a crash
(the worker does) cannot move the money twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId, Timestamps


class PaymentAttempt(Timestamps, Base):
    __tablename__ = "payment_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(20))  # payment, refund
    # What the answer is recorded as: "order" (a payment or refund of the order), "return"
    # (a return's refund; ``reference`` is ``return:<id>``).
    purpose: Mapped[str] = mapped_column(String(20), default="order")
    # pending (the provider's answer is not recorded yet), succeeded, failed, attention (the
    # provider moved the money and Dingdan could not record it: staff decide, see intents.py),
    # resolved (an attention intent staff settled by hand)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str] = mapped_column(String(30))
    method: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    # What staff typed (a payment's reference, a refund's reason), kept so that the worker
    # records an intent recovered after a crash exactly as the request would have.
    reference: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))
    # The payment being refunded, as the provider knows it (refunds).
    original_reference: Mapped[str | None] = mapped_column(String(200))
    provider_reference: Mapped[str | None] = mapped_column(String(200))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    error: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(30))
    settled_at: Mapped[datetime | None]
    # What the record needs beyond the money (migration 0013): a dispute's note and the
    # status it is resolved from; the authorization a capture or a void is for.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_payment_attempts_order_id_status", "order_id", "status"),
        Index("ix_payment_attempts_status_created_at", "status", "created_at"),
    )
