"""Stock for channels and order tags (issue 21, parts 6 and 7).

``channel_stock_rules`` holds, per channel code, what part of the stock a channel may sell:
a buffer kept back (units, or a percent of what is available) and, optionally, the SKUs and
locations it sells from. A channel without a row sells every SKU from every active
location with no buffer. Keyed by the code (not the ``channels`` row) because the built-in
channels have no row until renamed.

``order_tags`` are the words staff put on orders (bulk "add a tag"), one row per tag.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class ChannelStockRule(Base):
    __tablename__ = "channel_stock_rules"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "units" (kept back from what is available) or "percent" (of what is available).
    buffer_kind: Mapped[str] = mapped_column(String(10), default="units")
    buffer_value: Mapped[int] = mapped_column(Integer, default=0)
    # None: every SKU / every active location.
    skus: Mapped[list[str] | None] = mapped_column(JSON)
    locations: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OrderTag(Base):
    __tablename__ = "order_tags"

    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_order_tags_tag", "tag", "order_id"),)


__all__ = ["ChannelStockRule", "OrderTag"]
