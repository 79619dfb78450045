"""What the open back-office screens are told changed (docs/architecture.md, "Live pages"):
one row per live name (orders, warehouse, returns, ...) whose ``seq`` grows by one each time
something under that name changes. The app processes compare the numbers with the ones they
saw last; no row holds what changed, only that it did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base
from dingdan.db.types import utcnow


class LiveChange(Base):
    __tablename__ = "live_changes"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
