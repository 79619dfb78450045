"""Purchasing (issue 23): suppliers, what each supplies, purchase orders, their receipts.

Money is integer minor units of the PO's (the supplier's) currency, as everywhere. A PO
line's ``received`` only grows, by one conditional statement per receipt
(``received + q <= quantity``), and the CHECK below holds it against any race.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId, Timestamps
from dingdan.db.types import utcnow

PO_STATUSES = ("draft", "sent", "partially_received", "received", "closed", "cancelled")
ON_ORDER_STATUSES = ("sent", "partially_received")


class Supplier(Timestamps, Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    contact: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    lead_time_days: Mapped[int] = mapped_column(Integer)
    # The smallest order the supplier takes: an amount (minor units) and a number of units.
    minimum_order_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    minimum_order_quantity: Mapped[int] = mapped_column(Integer, default=0)
    pack_size: Mapped[int] = mapped_column(Integer, default=1)
    payment_terms: Mapped[str | None] = mapped_column(String(100))
    # The language its purchase orders and e-mails are written in: en, zh-Hant, zh-Hans.
    language: Mapped[str] = mapped_column(String(10), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
        CheckConstraint("pack_size >= 1", name="pack_size_positive"),
        CheckConstraint("minimum_order_minor >= 0", name="minimum_amount_not_negative"),
        CheckConstraint("minimum_order_quantity >= 0", name="minimum_quantity_not_negative"),
    )


class SupplierProduct(Base):
    """A product one supplier supplies, under its own SKU and at its cost. Which supplier
    is preferred is the product's ``preferred_supplier_id``: one place, never two."""

    __tablename__ = "supplier_products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    supplier_sku: Mapped[str | None] = mapped_column(String(64))
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("supplier_id", "product_id", name="uq_supplier_products_pair"),
        Index("ix_supplier_products_product_id", "product_id"),
    )


class LocationReorderPoint(Base):
    """A location's own reorder point for a product (issue 23: "per location where a
    location sets its own"); it wins over the product's ``reorder_point`` there."""

    __tablename__ = "location_reorder_points"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    reorder_point: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("reorder_point >= 0", name="location_reorder_point_not_negative"),
    )


class PurchaseOrder(Timestamps, Base):
    __tablename__ = "purchase_orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # PO-2026-0001: gapless per year (a counter row taken in the creating transaction).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    expected_date: Mapped[date | None] = mapped_column(Date)
    # Landed cost: spread over the lines by value when goods are received.
    freight_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    duty_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    notes: Mapped[str | None] = mapped_column(String(2000))
    created_by: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'sent', 'partially_received', 'received', 'closed', 'cancelled')",
            name="status_known",
        ),
        CheckConstraint("freight_minor >= 0 AND duty_minor >= 0", name="landed_not_negative"),
        Index("ix_purchase_orders_status", "status", "id"),
        Index("ix_purchase_orders_supplier_id", "supplier_id"),
    )


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"))
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)
    unit_cost_minor: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("received >= 0 AND received <= quantity", name="received_within"),
        CheckConstraint("unit_cost_minor >= 0", name="cost_not_negative"),
        UniqueConstraint("purchase_order_id", "product_id", name="uq_purchase_order_lines_sku"),
        Index("ix_purchase_order_lines_product_id", "product_id"),
    )


class PurchaseReceipt(Base):
    __tablename__ = "purchase_receipts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"))
    received_by: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_purchase_receipts_purchase_order_id", "purchase_order_id"),)


class PurchaseReceiptLine(Base):
    __tablename__ = "purchase_receipt_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("purchase_receipts.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("purchase_order_lines.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # Unit cost with its share of freight and duty, in millionths of the currency's unit.
    landed_unit_cost_micros: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        Index("ix_purchase_receipt_lines_receipt_id", "receipt_id"),
    )


def on_order(
    conn: Connection, product_ids: list[int], location_id: int | None = None
) -> dict[int, int]:
    """Units on sent and partially received POs not yet received, per product (at one
    location, or all): what inventory shows as ``on_order``. A closed PO's missing units
    are no longer on order. A query of the db layer, so the inventory context (below
    purchasing) reads it without importing purchasing's services."""
    if not product_ids:
        return {}
    stmt = (
        select(
            PurchaseOrderLine.product_id,
            func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.received),
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .where(
            PurchaseOrderLine.product_id.in_(product_ids),
            PurchaseOrder.status.in_(ON_ORDER_STATUSES),
        )
        .group_by(PurchaseOrderLine.product_id)
    )
    if location_id is not None:
        stmt = stmt.where(PurchaseOrder.location_id == location_id)
    return {int(p): int(q or 0) for p, q in conn.execute(stmt)}
