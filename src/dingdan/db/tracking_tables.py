"""Carrier tracking events and the webhook deliveries that brought them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class TrackingEventRow(Base):
    """One event a carrier reported (by webhook, file or API), stored once (``key``) whether
    or not it matched a shipment (``shipment_id`` NULL: unmatched) or moved it (``applied``)."""

    __tablename__ = "tracking_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # see domain TrackingEvent.key
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    carrier: Mapped[str] = mapped_column(String(50))
    tracking_number: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))
    exception: Mapped[str | None] = mapped_column(String(30))
    occurred_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))
    applied: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_tracking_events_shipment_id_occurred_at", "shipment_id", "occurred_at"),
        Index("ix_tracking_events_carrier_tracking_number", "carrier", "tracking_number"),
        Index("ix_tracking_events_received_at", "received_at"),
    )


class CarrierWebhookDelivery(Base):
    """A carrier's webhook delivery by its ``webhook-id``: a delivery sent again is
    acknowledged and changes nothing."""

    __tablename__ = "carrier_webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    carrier: Mapped[str] = mapped_column(String(50))
    webhook_id: Mapped[str] = mapped_column(String(200))
    events: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("carrier", "webhook_id", name="uq_carrier_webhook_deliveries_id"),
    )
