"""Own delivery: a day's run per driver and its stops (migration 0037).

A stop is one own-delivery shipment on one run. A shipment is on at most one run at a
time that has not failed it: the partial unique index below holds that against two
managers assigning it at once. Money is integer minor units of the run's currency.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId, Timestamps

_LIVE_STOP = "status <> 'failed'"


class DeliveryRun(Timestamps, Base):
    __tablename__ = "delivery_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    run_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(200))
    # The cash the driver handed in at the day's end, and who recorded it.
    cash_handed_in_minor: Mapped[int | None] = mapped_column(BigInteger)
    cash_recorded_by: Mapped[str | None] = mapped_column(String(200))
    closed_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None]
    close_note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        # One run per driver and day.
        Index("uq_delivery_runs_driver_day", "driver_id", "run_date", unique=True),
        Index("ix_delivery_runs_date_id", "run_date", "id"),
        CheckConstraint("cash_handed_in_minor >= 0", name="cash_not_negative"),
    )


class DeliveryStop(Timestamps, Base):
    __tablename__ = "delivery_stops"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("delivery_runs.id"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    area: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    fail_reason: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(500))
    # COD: what the order was due when delivered, and what the driver says was collected.
    cod_due_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    cod_collected_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Proof of delivery: files under the upload directory, named by their SHA-256.
    photo_path: Mapped[str | None] = mapped_column(String(300))
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_type: Mapped[str | None] = mapped_column(String(50))
    signature_path: Mapped[str | None] = mapped_column(String(300))
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    done_by: Mapped[str | None] = mapped_column(String(200))
    done_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "uq_delivery_stops_live_shipment",
            "shipment_id",
            unique=True,
            sqlite_where=text(_LIVE_STOP),
            postgresql_where=text(_LIVE_STOP),
        ),
        CheckConstraint("cod_due_minor >= 0 AND cod_collected_minor >= 0", name="cod_not_negative"),
    )
