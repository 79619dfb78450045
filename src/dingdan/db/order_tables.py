"""Tables of the order lifecycle: channels, customers, orders, lines, allocations, payments,
shipments, events, idempotency keys and counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.secrets import EncryptedText
from dingdan.db.tables import Base, BigId, Timestamps
from dingdan.db.types import utcnow

# An order owes money back when what it kept (paid less refunded) exceeds what it is owed:
# its total, or nothing once cancelled. One text for the partial index and the queries that
# must match it (SQLite uses a partial index only for a WHERE term of the same shape, with
# no bound parameters).
REFUND_DUE_SQL = (
    "paid_minor - refunded_minor > CASE WHEN status = 'cancelled' THEN 0 ELSE total_minor END"
)


class Channel(Timestamps, Base):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How orders arrive (issue 21): "manual", or by webhook "shopify" | "woocommerce" |
    # "standard", whose deliveries are signed with webhook_secret.
    kind: Mapped[str] = mapped_column(String(20), default="manual", server_default="manual")
    webhook_secret: Mapped[str | None] = mapped_column(EncryptedText)
    # Where the channel's orders come in the pick queue, lowest first (issue 25); None: the
    # default of services/fulfilment/picking.py (store and pos first).
    pick_priority: Mapped[int | None] = mapped_column(Integer)


class Customer(Timestamps, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    addresses: Mapped[list[dict[str, Any]] | None] = mapped_column(default=list)


class Order(Timestamps, Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(100))
    # Cached results of dingdan.domain.orders.status.derive(); written only by services.orders.
    status: Mapped[str] = mapped_column(String(20), default="open")
    financial_status: Mapped[str] = mapped_column(String(20), default="pending")
    fulfillment_status: Mapped[str] = mapped_column(String(20), default="unfulfilled")
    currency: Mapped[str] = mapped_column(String(3))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    customer: Mapped[dict[str, Any]]
    shipping_address: Mapped[dict[str, Any]]
    payment_method: Mapped[str] = mapped_column(String(20))
    # The language of the customer's messages: zh-Hant, zh-Hans or en (the capture's
    # "locale", by default from the shipping country).
    locale: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=True)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # "number email name phone" after NFKC and case folding, for the list's substring search.
    search_text: Mapped[str] = mapped_column(String(800))
    tracking_token: Mapped[str] = mapped_column(String(64), unique=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # Pickup instead of delivery to the address (shared/CONTRACT.md, "Pickup"): {"type":
    # "cvs_pickup", "brand", "store_id", "store_name"[, "address"]} or {"type":
    # "store_pickup", "location"}; null: shipped to shipping_address.
    delivery: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The capture's risk assessment {"score", "level", "reasons"} (null: not assessed, e.g.
    # an imported historical order).
    risk: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Why the order may not be picked, packed or shipped (e.g. "risk_review"); null: free.
    hold: Mapped[str | None] = mapped_column(String(32))
    # Where the order came from and whom it bills, when the channel tells (risk rules).
    client_ip: Mapped[str | None] = mapped_column(String(45))
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_orders_channel_external_id"),
        # Only the held orders (few): the review queue reads them here.
        Index(
            "ix_orders_held",
            "id",
            sqlite_where=text("hold IS NOT NULL"),
            postgresql_where=text("hold IS NOT NULL"),
        ),
        CheckConstraint("paid_minor >= 0 AND refunded_minor >= 0", name="money_not_negative"),
        CheckConstraint("refunded_minor <= paid_minor", name="refunded_within_paid"),
        Index("ix_orders_created_at_id", "created_at", "id"),
        # Lists are newest first by id (keyset): each filter walks its index backwards.
        Index("ix_orders_status_id", "status", "id"),
        Index("ix_orders_financial_status_id", "financial_status", "id"),
        Index("ix_orders_fulfillment_status_id", "fulfillment_status", "id"),
        Index("ix_orders_channel_id", "channel", "id"),
        # Only the orders that owe money back (few): the dashboard's queue and the list's
        # filter read them here instead of scanning every order.
        Index(
            "ix_orders_refund_due",
            "id",
            sqlite_where=text(REFUND_DUE_SQL),
            postgresql_where=text(REFUND_DUE_SQL),
        ),
    )


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Units reserved at some location and not yet shipped (sum of this line's allocations).
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    # Units ordered that no location holds yet; allocated oldest order first as stock arrives.
    backordered: Mapped[int] = mapped_column(Integer, default=0)
    shipped: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint(
            "allocated >= 0 AND backordered >= 0 AND shipped >= 0 AND cancelled >= 0"
            " AND allocated + backordered + shipped + cancelled = quantity",
            name="quantities_add_up",
        ),
        CheckConstraint("returned >= 0 AND returned <= shipped", name="returned_within_shipped"),
        Index("ix_order_lines_backorders", "product_id", "backordered", "order_id"),
        # Only the lines still waiting: small, and what the dashboard and allocator scan.
        Index(
            "ix_order_lines_waiting",
            "product_id",
            "order_id",
            sqlite_where=text("backordered > 0"),
            postgresql_where=text("backordered > 0"),
        ),
    )


class Allocation(Base):
    """Units of one line reserved at one location and not yet shipped."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("line_id", "location_id", name="uq_allocations_line_location"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )


class Payment(Base):
    """A payment, a refund, or an authorization (money held, not yet taken: it counts in
    ``paid`` only once captured). Amounts are never edited after the fact."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # succeeded (payments, refunds); authorized -> captured | voided (authorizations)
    status: Mapped[str] = mapped_column(String(20), default="succeeded")
    provider: Mapped[str] = mapped_column(String(30), default="manual")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The card a payment was made with, as its provider reports it (migration 0044): the
    # first six and last four digits (ECPay's card6no, card4no), the fingerprint the card
    # velocity rule matches (services/orders/risk.py: a keyed hash, never the digits), and
    # the country that issued the card when the provider tells it.
    card_bin: Mapped[str | None] = mapped_column(String(6))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_fingerprint: Mapped[str | None] = mapped_column(String(64))
    card_country: Mapped[str | None] = mapped_column(String(2))

    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        # The dashboard's money received today: the day's payments and refunds.
        Index("ix_payments_created_at", "created_at"),
        # The card velocity rule: payments with the same card in the window.
        Index(
            "ix_payments_card_fingerprint",
            "card_fingerprint",
            "created_at",
            sqlite_where=text("card_fingerprint IS NOT NULL"),
            postgresql_where=text("card_fingerprint IS NOT NULL"),
        ),
    )


class Shipment(Timestamps, Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    carrier: Mapped[str] = mapped_column(String(50))
    tracking_number: Mapped[str | None] = mapped_column(String(60), index=True)
    status: Mapped[str] = mapped_column(String(20), default="shipped")
    lines: Mapped[list[dict[str, Any]]]
    exception: Mapped[str | None] = mapped_column(String(30))
    delivered_at: Mapped[datetime | None]


class OrderEvent(Base):
    """The order's timeline: what happened, who did it, when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(String(1000))
    data: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_order_events_order_id_id", "order_id", "id"),
        Index("ix_order_events_kind_order_id", "kind", "order_id"),
    )


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Counter(Base):
    """Named counters (order numbers on SQLite; PostgreSQL uses a sequence)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class CarrierRow(Timestamps, Base):
    """Carriers the seller ships with; defaults come from dingdan.domain.fulfilment.carriers."""

    __tablename__ = "carriers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # Key of a known tracking-number format (see domain.carriers) or None for the generic check.
    tracking_format: Mapped[str | None] = mapped_column(String(50))
    tracking_url: Mapped[str | None] = mapped_column(String(300))
    store_pickup: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The whsec_ secret the carrier signs its tracking webhooks with (None: none accepted).
    webhook_secret: Mapped[str | None] = mapped_column(EncryptedText)


class TaxRate(Timestamps, Base):
    """The seller's own tax rate for a country and tax class (overrides the defaults)."""

    __tablename__ = "tax_rates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    tax_class: Mapped[str] = mapped_column(String(50))
    rate_ppm: Mapped[int] = mapped_column(Integer)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        UniqueConstraint("country", "tax_class", name="uq_tax_rates_country_class"),
        CheckConstraint("rate_ppm >= 0 AND rate_ppm <= 1000000", name="rate_in_range"),
    )


class PackRecord(Base):
    """A verified pack: what the packer scanned for an order at a location."""

    __tablename__ = "pack_records"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    lines: Mapped[list[dict[str, Any]]]
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a shipment takes the packed goods.
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
