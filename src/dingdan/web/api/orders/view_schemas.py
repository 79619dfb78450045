"""Answers of the order endpoints: the order (the contract's view), its events, payments and
shipments. ``POST /orders`` and the order reads answer with prebuilt JSON (``JSONAnswer``),
which FastAPI does not validate: these models document it, and the schemathesis run checks
every answer against them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from dingdan.web.api.shared.common_schemas import (
    Amount,
    Cursor,
    OpenView,
    StockLineOut,
    Timestamp,
    View,
)


class Customer(OpenView):
    id: str | None = Field(default=None, description="the customer's id (GET /customers)")
    email: str | None = None
    name: str | None = None
    phone: str | None = None


class Address(OpenView):
    name: str
    line1: str | None = Field(default=None, description="absent only for a pickup")
    line2: str | None = None
    city: str | None = Field(default=None, description="absent only for a pickup")
    region: str | None = None
    postal_code: str | None = None
    country: str
    phone: str | None = None


class Delivery(View):
    type: str = Field(description="cvs_pickup or store_pickup")
    brand: str | None = Field(default=None, description="7-ELEVEN, FamilyMart, Hi-Life or OK")
    store_id: str | None = None
    store_name: str | None = None
    address: str | None = None
    location: str | None = Field(default=None, description="store_pickup: the location")


class RiskReason(View):
    code: str = Field(description="the rule, e.g. velocity_email, blocklist")
    points: int
    detail: str | None = None


class Risk(View):
    score: int = Field(description="0-100")
    level: str = Field(description="low, medium or high")
    reasons: list[RiskReason]


class OrderLine(View):
    sku: str
    name: str
    quantity: int
    unit_price: Amount
    tax: Amount
    allocated: int
    backordered: int = Field(description="ordered and not yet allocated")
    shipped: int
    returned: int
    cancelled: int


class Allocation(View):
    location: str
    sku: str
    quantity: int = Field(description="reserved there and not yet shipped")


class Order(View):
    number: str
    channel: str
    external_id: str | None
    status: str = Field(description="open, completed, cancelled")
    financial_status: str = Field(
        description="pending, partially_paid, paid, partially_refunded, refunded"
    )
    fulfillment_status: str = Field(description="unfulfilled, partially_fulfilled, fulfilled")
    currency: str
    customer: Customer
    shipping_address: Address
    payment_method: str
    note: str | None = Field(description="the customer's note sent with the order")
    locale: str = Field(description="zh-Hant, zh-Hans or en: the language of its messages")
    lines: list[OrderLine]
    allocations: list[Allocation]
    subtotal: Amount
    shipping_total: Amount
    tax_total: Amount
    total: Amount
    paid: Amount
    refunded: Amount
    balance_due: Amount = Field(description="total - paid, at least 0")
    refund_due: Amount = Field(
        description="paid - refunded - what the order is owed (its total; nothing once "
        "cancelled), at least 0: money to give back"
    )
    prices_include_tax: bool
    cancel_reason: str | None
    tracking_token: str | None = Field(description="the customer's tracking page key")
    delivery: Delivery | None = Field(
        description="pickup instead of delivery to the address; null: shipped"
    )
    risk: Risk | None = Field(description="the capture's risk assessment; null: not assessed")
    hold: str | None = Field(
        description="why it is not picked, packed or shipped (risk_review); null: free"
    )
    created_at: Timestamp
    updated_at: Timestamp


class OrderPage(View):
    items: list[Order]
    next_cursor: Cursor


class OrderEvent(View):
    id: str
    kind: str
    actor: str | None
    message: str | None
    data: dict[str, Any] | None = Field(description="what the event changed, by kind")
    created_at: Timestamp


class OrderEvents(View):
    items: list[OrderEvent]
    next_cursor: None = None


class PaymentCard(View):
    """The card a payment was made with, as its provider told it."""

    last4: str | None = Field(description="the card's last four digits")
    country: str | None = Field(description="the issuing country (ISO 3166-1), when told")
    fingerprint: str | None = Field(
        description="the same card gives the same value (a keyed hash, never the digits)"
    )


class Payment(View):
    """A payment, refund or authorization."""

    id: str
    kind: str = Field(description="payment, refund, authorization")
    status: str
    provider: str | None
    amount: Amount
    currency: str
    method: str | None
    reference: str | None
    reason: str | None
    actor: str | None
    created_at: Timestamp
    card: PaymentCard | None = None


class PaymentWithOrder(Payment):
    order: Order = Field(description="the order afterwards")


class PaymentList(View):
    items: list[Payment]
    next_cursor: None = None


class Shipment(View):
    id: str
    order: str = Field(description="the order's number")
    location: str
    carrier: str
    tracking_number: str | None
    status: str = Field(description="shipped, in_transit, out_for_delivery, delivered, exception")
    lines: list[StockLineOut]
    exception: str | None
    created_at: Timestamp
    delivered_at: Timestamp | None


class ShipmentList(View):
    items: list[Shipment]
    next_cursor: None = None


class RemittedOrder(View):
    number: str
    amount: Amount


class Remittance(View):
    carrier: str
    reference: str
    orders: list[RemittedOrder]
