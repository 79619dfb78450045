"""Invoices (issue 22): the seller's invoices and Taiwan e-invoices, their number ranges
(字軌) and allowances (折讓).

An invoice is written once when issued and never edited after (a void marks it ``void``
and keeps its number; a change is a new invoice or an allowance). ``live_order_id`` is the
order's id while the invoice is pending or issued and NULL once void: the unique index
on it is what makes the worker's "issue the order's invoice" idempotent under races (two
runs of one event, two workers). ``einvoice_tracks.next_no`` is taken with one conditional
``UPDATE ... RETURNING`` inside the issuing transaction, so numbers are gapless and never
repeated (services/invoicing/numbers.py). ``invoice_series`` numbers the invoices without
e-invoice (``INV-2026-000001``) and the allowances, per series and year.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class EInvoiceTrack(Base):
    """One number range of a two-month period (字軌 and its numbers), as the tax platform
    assigned it; ``next_no`` is the next to use (``end_no + 1``: used up)."""

    __tablename__ = "einvoice_tracks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period: Mapped[str] = mapped_column(String(7))  # first month: "2026-11"
    prefix: Mapped[str] = mapped_column(String(2))
    start_no: Mapped[int] = mapped_column(Integer)
    end_no: Mapped[int] = mapped_column(Integer)
    next_no: Mapped[int] = mapped_column(Integer)
    low_alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("period", "prefix", "start_no", name="uq_einvoice_tracks_range"),
        CheckConstraint(
            "start_no <= end_no AND next_no >= start_no AND next_no <= end_no + 1",
            name="next_within_range",
        ),
        Index("ix_einvoice_tracks_period_prefix", "period", "prefix", "start_no"),
    )


class InvoiceSeries(Base):
    """The last number given per series and year (``INV:2026`` → 41)."""

    __tablename__ = "invoice_series"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    live_order_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)  # None while pending
    einvoice: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(10))  # pending | issued | void
    type: Mapped[str] = mapped_column(String(3))  # b2c | b2b
    period: Mapped[str | None] = mapped_column(String(7))
    random_code: Mapped[str | None] = mapped_column(String(4))
    carrier_type: Mapped[str | None] = mapped_column(String(20))
    carrier_id: Mapped[str | None] = mapped_column(String(64))
    donation_code: Mapped[str | None] = mapped_column(String(7))
    buyer_ubn: Mapped[str | None] = mapped_column(String(8))
    buyer_name: Mapped[str | None] = mapped_column(String(200))
    seller_ubn: Mapped[str | None] = mapped_column(String(8))
    seller_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)  # tax included
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    # not_required (no centre) | pending | uploaded | failed
    upload_status: Mapped[str] = mapped_column(String(20))
    upload_error: Mapped[str | None] = mapped_column(String(1000))
    mig_xml: Mapped[str | None] = mapped_column(Text)  # F0401 as issued
    void_xml: Mapped[str | None] = mapped_column(Text)  # F0501
    void_reason: Mapped[str | None] = mapped_column(String(200))
    replaced_by: Mapped[int | None] = mapped_column(BigId)  # the reissued invoice's id
    # A value-added centre that assigns the number itself (ECPay): its name, and our key of
    # the invoice there (ECPay's RelateNumber) while the number is awaited and after.
    centre: Mapped[str | None] = mapped_column(String(20))
    centre_key: Mapped[str | None] = mapped_column(String(30), unique=True)
    # A supplementary invoice (an order raised after its invoice's void window): the
    # invoice it adds to. Its live_order_id is NULL (the order's live invoice is that one).
    supplement_of: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("total_minor >= 0 AND tax_minor >= 0", name="amounts_not_negative"),
        Index("ix_invoices_order_id", "order_id", "id"),
        Index("ix_invoices_status_id", "status", "id"),
        Index("ix_invoices_upload_status", "upload_status", "id"),
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)  # tax included
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # tax included

    __table_args__ = (UniqueConstraint("invoice_id", "sequence", name="uq_invoice_lines_seq"),)


class Allowance(Base):
    """An allowance (折讓, G0401) against an issued invoice; its number is the seller's own
    (``AL-2026-000001``). ``source`` keys it by what caused it (a refund's payment id, an
    edit's event, ``manual:`` one given by hand), so a second run of the consumer adds
    nothing. A void (G0501) marks it ``void`` with why and keeps its row, number and source;
    it then no longer counts against the invoice (services/invoicing/allowances.py)."""

    __tablename__ = "allowances"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    number: Mapped[str] = mapped_column(String(20), unique=True)
    source: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # issued | void
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # tax included
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(500))
    # not_required (no e-invoice) | pending | pending_void (taken, its void is left) |
    # uploaded | failed (refused: upload_error says why)
    upload_status: Mapped[str] = mapped_column(String(20))
    upload_error: Mapped[str | None] = mapped_column(String(1000))
    mig_xml: Mapped[str | None] = mapped_column(Text)  # G0401
    void_xml: Mapped[str | None] = mapped_column(Text)  # G0501
    void_reason: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    voided_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("amount_minor > 0 AND tax_minor >= 0", name="amount_positive"),
        Index("ix_allowances_invoice_id", "invoice_id", "id"),
    )


class AllowanceLine(Base):
    __tablename__ = "allowance_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    allowance_id: Mapped[int] = mapped_column(ForeignKey("allowances.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("allowance_id", "sequence", name="uq_allowance_lines_seq"),)
