"""Carrier labels and store pickups (issue 25, parts 3 and 5).

``label_ranges``: the tracking numbers a carrier assigned the seller in advance (T-cat, HCT),
as serials ``start_no``..``end_no`` and ``next_no`` the next to take (``end_no + 1``: used
up); ``services/fulfilment/labels.py`` takes them gaplessly with one ``UPDATE ... RETURNING``.

``shipment_labels``: the label of a shipment numbered from a range: the sender and recipient
as printed (kept, so a reprint shows what the parcel carries), and the amount to collect.

``store_pickups``: an order ready to collect at a store location, with its pickup code.
``open_code`` holds the code while the pickup is open and is emptied at hand-over, so the
unique constraint makes a code unique among open pickups only (NULLs never collide).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class LabelRange(Base):
    __tablename__ = "label_ranges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    carrier: Mapped[str] = mapped_column(String(50))
    start_no: Mapped[int] = mapped_column(BigInteger)
    end_no: Mapped[int] = mapped_column(BigInteger)
    next_no: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)  # digits of a printed number
    check_digit: Mapped[str] = mapped_column(String(10))  # "mod7" | "none"
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "start_no <= end_no AND next_no >= start_no AND next_no <= end_no + 1",
            name="next_within_range",
        ),
        Index("ix_label_ranges_carrier", "carrier", "id"),
    )


class ShipmentLabel(Base):
    __tablename__ = "shipment_labels"

    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(50))
    number: Mapped[str] = mapped_column(String(60))
    range_id: Mapped[int] = mapped_column(ForeignKey("label_ranges.id"))
    sender: Mapped[dict[str, Any]]
    recipient: Mapped[dict[str, Any]]
    cod_minor: Mapped[int | None] = mapped_column(BigInteger)  # None: nothing to collect
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("carrier", "number", name="uq_shipment_labels_number"),)


class StorePickup(Base):
    __tablename__ = "store_pickups"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    code: Mapped[str] = mapped_column(String(12))
    open_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="ready")  # ready | handed_over
    ready_at: Mapped[datetime] = mapped_column(default=utcnow)
    handed_over_at: Mapped[datetime | None]
    handed_over_by: Mapped[str | None] = mapped_column(String(200))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))

    __table_args__ = (Index("ix_store_pickups_location_status", "location_id", "status"),)


__all__ = ["LabelRange", "ShipmentLabel", "StorePickup"]
