"""Every exchange with an e-invoice value-added centre (ECPay, Amego), kept.

A row is written before the request goes out (``outcome`` ``pending``: the intent, with the
exact bytes about to be sent), in its own short transaction, and completed after the answer
in another: the HTTP status, the exact bytes received, the answer opened (ECPay's decrypted
``Data``), the centre's code and what it meant (``ok``, ``refused``, or ``retry`` for a centre
that was down, timed out or answered a transient error). A row left ``pending`` is a request
whose answer was never recorded (the process died): the next attempt of the same document
asks the centre again, which is idempotent by document number. Neither write is ever inside a
transaction that may be retried, so a request is never recorded twice or lost with a rollback.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class EinvoiceExchange(Base):
    __tablename__ = "einvoice_exchanges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    centre: Mapped[str] = mapped_column(String(20))  # ecpay, amego, ezpay
    # issue, void, allowance, void_allowance, get_issue, query, check_barcode, check_love_code
    operation: Mapped[str] = mapped_column(String(30))
    # The invoice's or allowance's number (our key at the centre); the code looked up for a
    # check.
    document_number: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(500))
    request_body: Mapped[str] = mapped_column(Text)
    # pending (sent, no answer recorded yet), ok, refused, retry
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    http_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    # The answer opened (ECPay's decrypted Data, Amego's JSON), for people and for lookups
    # such as ECPay's allowance number.
    answer: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(40))  # RtnCode / TransCode / Amego code
    error: Mapped[str | None] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_einvoice_exchanges_document", "document_number", "operation", "id"),
        Index("ix_einvoice_exchanges_at", "at"),
        CheckConstraint(
            "outcome IN ('pending', 'ok', 'refused', 'retry')",
            name="einvoice_exchange_outcome_known",
        ),
    )
