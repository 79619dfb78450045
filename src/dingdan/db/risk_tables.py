"""The risk block list: emails, phones and addresses whose orders are held for review."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId, Timestamps


class RiskBlock(Timestamps, Base):
    __tablename__ = "risk_blocks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # email, phone, address
    # As typed, and the key it is matched by (domain/orders/risk.py: block_key).
    value: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("kind", "key", name="uq_risk_blocks_kind_key"),)
