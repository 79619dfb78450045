"""Inbound channel deliveries (issue 21): every webhook a channel sent, with its raw body
(kept 30 days), and the aliases mapping a channel's SKU to a Dingdan SKU.

``inbound_deliveries`` is unique per (channel, delivery_id): a delivery sent twice, even
twice at once, is stored once and makes one order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class InboundDelivery(Base):
    __tablename__ = "inbound_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    order_number: Mapped[str | None] = mapped_column(String(40))
    raw_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The shipping address staff typed for a delivery whose own was bad (used on retry).
    address_override: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("channel", "delivery_id", name="uq_inbound_deliveries_channel_delivery"),
        Index("ix_inbound_deliveries_status", "status", "id"),
        Index("ix_inbound_deliveries_received_at", "received_at"),
    )


class ChannelSkuAlias(Base):
    __tablename__ = "channel_sku_aliases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_sku: Mapped[str] = mapped_column(String(100))
    sku: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("channel", "channel_sku", name="uq_channel_sku_aliases_channel_sku"),
    )
