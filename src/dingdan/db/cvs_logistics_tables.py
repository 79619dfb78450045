"""Convenience-store pickup through ECPay logistics: the parcels made there, every exchange
with ECPay (both ways), and the COD payout reports imported.

``ecpay_parcels``: one row per parcel asked of ECPay, written before the request goes out
(``state`` ``pending``, its ``MerchantTradeNo`` fixed), completed from the answer
(``created`` with ECPay's ``AllPayLogisticsID`` and shipment numbers, or ``refused``), then
linked to the shipment recorded for it. A row left ``pending`` is a request whose answer was
never recorded: the next attempt sends the same ``MerchantTradeNo`` again.

``ecpay_logistics_exchanges``: every request sent to ECPay and its answer (``direction``
``out``), and every notice ECPay posted to us with what we answered (``in``), refused ones
included.

``cod_payout_lines``: the lines of the COD payout reports imported, each with what it was
matched to and how it came out; ``settled_key`` (the parcel's trade number, set only on a
line that paid its order) is unique, so a parcel is paid once however often it is reported.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId, Timestamps
from dingdan.db.types import utcnow


class EcpayParcel(Timestamps, Base):
    __tablename__ = "ecpay_parcels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    trade_no: Mapped[str] = mapped_column(String(20), unique=True)  # MerchantTradeNo
    subtype: Mapped[str] = mapped_column(String(20))  # LogisticsSubType
    brand: Mapped[str] = mapped_column(String(20))
    store_id: Mapped[str] = mapped_column(String(20))
    goods_amount: Mapped[int] = mapped_column(Integer)  # NT$
    collection_amount: Mapped[int] = mapped_column(Integer)  # NT$, 0: not collected
    location: Mapped[str | None] = mapped_column(String(50))  # where it ships from
    # pending (sent, no answer recorded), created, refused
    state: Mapped[str] = mapped_column(String(10), default="pending")
    logistics_id: Mapped[str | None] = mapped_column(String(20), unique=True)  # AllPayLogisticsID
    payment_no: Mapped[str | None] = mapped_column(String(20))  # CVSPaymentNo
    validation_no: Mapped[str | None] = mapped_column(String(10))  # CVSValidationNo
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    last_code: Mapped[str | None] = mapped_column(String(10))  # the latest RtnCode
    last_message: Mapped[str | None] = mapped_column(String(200))
    # When ECPay said the pickup store closed, until the customer chose another.
    store_closed_at: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint("state IN ('pending', 'created', 'refused')", name="state_known"),
        CheckConstraint(
            "collection_amount >= 0 AND goods_amount >= 0", name="amounts_not_negative"
        ),
    )


class EcpayLogisticsExchange(Base):
    __tablename__ = "ecpay_logistics_exchanges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # out (we asked), in (ECPay posted)
    # create, print; status (a status notice), store_change (C2C store notice)
    operation: Mapped[str] = mapped_column(String(20))
    trade_no: Mapped[str | None] = mapped_column(String(20), index=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    url: Mapped[str] = mapped_column(String(500))
    request_body: Mapped[str] = mapped_column(Text)
    # pending (sent, no answer yet), ok, refused, retry (no answer or a transient one)
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    http_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(20))  # RtnCode
    error: Mapped[str | None] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_ecpay_logistics_exchanges_at", "at"),
        CheckConstraint(
            "outcome IN ('pending', 'ok', 'refused', 'retry')",
            name="outcome_known",
        ),
        CheckConstraint("direction IN ('in', 'out')", name="direction_known"),
    )


class CodPayoutLine(Base):
    __tablename__ = "cod_payout_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report: Mapped[str] = mapped_column(String(200), index=True)  # the import's reference
    row: Mapped[int] = mapped_column(Integer)  # the file's row number
    trade_no: Mapped[str | None] = mapped_column(String(20))
    logistics_id: Mapped[str | None] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # what ECPay paid out
    expected_minor: Mapped[int | None] = mapped_column(BigInteger)  # what the parcel collects
    payout_date: Mapped[str | None] = mapped_column(String(20))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    # matched (paid its order), amount_differs, unknown_parcel, not_collected, already_settled,
    # not_cod, over_balance
    outcome: Mapped[str] = mapped_column(String(20))
    settled_key: Mapped[str | None] = mapped_column(String(20), unique=True)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_cod_payout_lines_outcome", "outcome", "id"),)
