"""Every exchange with LINE Pay, kept (``linepay_exchanges``), and the refusals of returns.

A row is written before a call goes out (``outcome`` ``pending``, the exact body about to be
sent), in its own short transaction, and completed after the answer in another: the HTTP
status, the exact bytes received, LINE Pay's ``returnCode`` and what it meant (``ok``,
``refused``, or ``retry`` when LINE Pay did not answer or answered a transient error). A
customer's return to our confirm address that is refused before any call (an unknown or
tampered transaction, an amount that no longer fits the order) is kept as a ``return`` row,
``refused``, with the query it came with. Neither write is inside a transaction that may be
retried.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class LinePayExchange(Base):
    __tablename__ = "linepay_exchanges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # request, check, confirm, refund, details (Payment Details, asked about a refund sent
    # without an answer); return (the customer back at our confirm address, refused before
    # any call)
    operation: Mapped[str] = mapped_column(String(20))
    # The payment intent (payment_attempts.id) the call is for, and its idempotency key
    # (the orderId sent to LINE Pay for a request; a refund's own key).
    intent_id: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    transaction_id: Mapped[str | None] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(6))  # GET, POST
    url: Mapped[str] = mapped_column(String(1000))
    request_body: Mapped[str] = mapped_column(Text)
    # pending (sent, no answer recorded yet; a refund whose answer did not say), ok,
    # refused, retry
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    http_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    return_code: Mapped[str | None] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_linepay_exchanges_intent", "intent_id", "id"),
        Index("ix_linepay_exchanges_transaction", "transaction_id", "id"),
        Index("ix_linepay_exchanges_key", "idempotency_key", "operation"),
        Index("ix_linepay_exchanges_at", "at"),
        CheckConstraint(
            "outcome IN ('pending', 'ok', 'refused', 'retry')",
            name="linepay_exchange_outcome_known",
        ),
    )
