"""ECPay payments: each attempt at paying an order through ECPay's checkout, and every
exchange with a payment service kept as it was sent and received.

``ecpay_trades``: one row per ``MerchantTradeNo`` (an attempt: the customer chose card, ATM
or a convenience-store code and was sent to ECPay). The virtual account or payment code
that ECPay's PaymentInfoURL gives is kept on it, with its deadline (``expires_at``, which
the worker's cancel of unpaid orders reads); the paid result links the payment recorded.

``payment_exchanges``: every request to a payment service (the checkout form we signed, a
refund) and every callback it sent us, with our answer: ``outcome`` ``pending`` (sent, no
answer recorded yet), ``ok``, ``refused`` (a refusal, or a callback we refused: wrong
CheckMacValue, an amount that differs, a replay that differs), ``retry`` (no answer).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId, Timestamps
from dingdan.db.types import utcnow


class EcpayTrade(Timestamps, Base):
    __tablename__ = "ecpay_trades"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    merchant_trade_no: Mapped[str] = mapped_column(String(20), unique=True)
    choice: Mapped[str] = mapped_column(String(10))  # card, atm, cvs
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # started (sent to ECPay), waiting (an account or code was given), paid, failed
    status: Mapped[str] = mapped_column(String(10), default="started")
    trade_no: Mapped[str | None] = mapped_column(String(20))  # ECPay's TradeNo
    bank_code: Mapped[str | None] = mapped_column(String(10))
    v_account: Mapped[str | None] = mapped_column(String(32))
    payment_no: Mapped[str | None] = mapped_column(String(32))
    # The account's or code's deadline (ExpireDate): the order's payment deadline.
    expires_at: Mapped[datetime | None]
    rtn_code: Mapped[str | None] = mapped_column(String(20))
    rtn_msg: Mapped[str | None] = mapped_column(String(200))
    # The result callback's form (without CheckMacValue) that recorded the payment: a replay
    # must say the same.
    paid_form: Mapped[str | None] = mapped_column(Text)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))

    __table_args__ = (
        Index("ix_ecpay_trades_order_id", "order_id", "id"),
        Index("ix_ecpay_trades_trade_no", "trade_no"),
        CheckConstraint(
            "status IN ('started', 'waiting', 'paid', 'failed')", name="ecpay_trade_status_known"
        ),
    )


class PaymentExchange(Base):
    __tablename__ = "payment_exchanges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))  # ecpay
    # checkout, refund (ours); result, payment_info, order_result (theirs)
    operation: Mapped[str] = mapped_column(String(30))
    direction: Mapped[str] = mapped_column(String(3))  # out (we asked), in (they called)
    reference: Mapped[str] = mapped_column(String(40))  # MerchantTradeNo
    url: Mapped[str] = mapped_column(String(500))
    request_body: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    http_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(40))  # RtnCode
    error: Mapped[str | None] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_payment_exchanges_reference", "reference", "id"),
        Index("ix_payment_exchanges_at", "at"),
        CheckConstraint(
            "outcome IN ('pending', 'ok', 'refused', 'retry')",
            name="payment_exchange_outcome_known",
        ),
    )
