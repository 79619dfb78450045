"""Cycle counts (issue 23): a count sheet per location listing the SKUs due for counting,
each line's counted quantity with the on-hand recorded when it was counted, and the date
each product was last counted at each location."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class CycleCount(Base):
    __tablename__ = "cycle_counts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    # open | posted
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_by: Mapped[str | None] = mapped_column(String(200))
    posted_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        CheckConstraint("status IN ('open', 'posted')", name="cycle_count_status"),
        Index("ix_cycle_counts_location_id", "location_id", "id"),
    )


class CycleCountLine(Base):
    __tablename__ = "cycle_count_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("cycle_counts.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    position: Mapped[int] = mapped_column(Integer)
    # The SKU's ABC (and XYZ) class when the sheet was made, and when it had last been counted.
    abc_class: Mapped[str] = mapped_column(String(1))
    xyz_class: Mapped[str | None] = mapped_column(String(1))
    last_counted_at: Mapped[datetime | None] = mapped_column()
    counted: Mapped[int | None] = mapped_column(Integer)
    # The level's on_hand when the quantity was entered: posting adds counted minus this,
    # so stock that moved between the count and the posting is not undone.
    on_hand_at_count: Mapped[int | None] = mapped_column(Integer)
    counted_by: Mapped[str | None] = mapped_column(String(200))
    counted_at: Mapped[datetime | None] = mapped_column()
    posted_delta: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("count_id", "product_id", name="uq_cycle_count_lines_product"),
        CheckConstraint("counted IS NULL OR counted >= 0", name="counted_not_negative"),
    )


class StockCountDate(Base):
    """When a product was last counted (a posted cycle count's line) at a location."""

    __tablename__ = "stock_count_dates"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    last_counted_at: Mapped[datetime] = mapped_column()
    count_id: Mapped[int | None] = mapped_column(ForeignKey("cycle_counts.id"))
