"""Documents rendered in the background (packing slips as PDF): the table is its own queue.

A request writes a ``pending`` row holding the HTML to render, in its own transaction; the
worker claims the row, renders the PDF outside any transaction (WeasyPrint takes a while and
SQLite has one writer), stores the file outside the database under the upload directory,
named by its SHA-256, and marks the row ``ready``. The HTML is dropped once rendered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # What it is ("packing_slip" of an order, "packing_slips" of a location's pick list) and
    # of what (an order number, "number@location", or a location code).
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(100))
    # The orders it shows (a person's name and address): serving it is audited as their view.
    order_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # pending → ready, or failed after the last attempt.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    html: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_path: Mapped[str | None] = mapped_column(String(300))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    # Set by the worker that took the row; a claim older than a few minutes is taken again.
    claimed_at: Mapped[datetime | None]
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rendered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_documents_kind_subject", "kind", "subject", "id"),
        Index("ix_documents_status_id", "status", "id"),
        CheckConstraint("status IN ('pending', 'ready', 'failed')", name="status_known"),
        CheckConstraint(
            "status <> 'ready' OR (sha256 IS NOT NULL AND storage_path IS NOT NULL)",
            name="ready_has_file",
        ),
    )
