"""Request bodies of the order endpoints (shape only; services check the rules)."""

from __future__ import annotations

from pydantic import Field

from dingdan.web.api.shared.schemas import StockLine, Strict

Text = Field(default=None, max_length=300)


class CustomerIn(Strict):
    email: str | None = Field(default=None, max_length=254)
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)


class AddressIn(Strict):
    """A postal address; line1 and city (and the postal code where the country has them)
    are required unless the order is picked up (``delivery``): the service says which."""

    name: str = Field(max_length=200)
    line1: str | None = Field(default=None, max_length=300)
    line2: str | None = Text
    city: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str = Field(max_length=2)
    phone: str | None = Field(default=None, max_length=40)


class OrderLineIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price: str | None = Field(default=None, max_length=30)


class InvoiceIn(Strict):
    """The invoice asked for: ``b2c`` with a carrier, a donation code or neither (printed),
    or ``b2b`` with the buyer's business number and name (the rules: domain/orders/
    invoice_request.py)."""

    type: str = Field(max_length=10, description="b2c or b2b")
    carrier_type: str | None = Field(
        default=None, max_length=20, description="mobile, certificate, member or null"
    )
    carrier_id: str | None = Field(default=None, max_length=64)
    donation_code: str | None = Field(default=None, max_length=20)
    buyer_ubn: str | None = Field(default=None, max_length=20)
    buyer_name: str | None = Field(default=None, max_length=200)


class DeliveryIn(Strict):
    """Pickup instead of delivery (the rules: domain/orders/delivery.py)."""

    type: str = Field(max_length=20, description="cvs_pickup or store_pickup")
    brand: str | None = Field(
        default=None, max_length=20, description="7-ELEVEN, FamilyMart, Hi-Life or OK"
    )
    store_id: str | None = Field(default=None, max_length=20)
    store_name: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=200, description="the store's")
    location: str | None = Field(
        default=None, max_length=32, description="store_pickup: the location's code"
    )


class OrderIn(Strict):
    channel: str = Field(max_length=32)
    external_id: str | None = Field(default=None, max_length=100)
    currency: str = Field(max_length=3)
    customer: CustomerIn
    shipping_address: AddressIn
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    shipping_price: str = Field(default="0", max_length=30)
    payment_method: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=1000)
    locale: str | None = Field(
        default=None,
        max_length=10,
        description="zh-Hant, zh-Hans or en: the language of the customer's messages "
        "(default from the shipping country: TW, HK, MO zh-Hant; CN, SG zh-Hans; else en)",
    )
    invoice: InvoiceIn | None = None
    delivery: DeliveryIn | None = Field(
        default=None, description="pickup at a convenience store or a store location"
    )
    client_ip: str | None = Field(
        default=None, max_length=45, description="the buyer's IP address, for the risk rules"
    )
    billing_address: AddressIn | None = None


class CancelIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class PaymentIn(Strict):
    amount: str = Field(max_length=30)
    reference: str | None = Field(default=None, max_length=200)
    method: str | None = Field(default=None, max_length=20)
    provider: str | None = Field(default=None, max_length=30)
    card_fingerprint: str | None = Field(
        default=None,
        max_length=64,
        description="an integrating gateway's own fingerprint of the card (8-64 letters, "
        "digits, - or _; never the card number): the card velocity risk rule",
    )
    card_country: str | None = Field(
        default=None,
        max_length=2,
        description="the country that issued the card (ISO 3166-1), as the gateway reports "
        "it: the country mismatch risk rule",
    )


class RefundIn(Strict):
    amount: str = Field(max_length=30)
    reason: str = Field(min_length=1, max_length=500)
    reference: str | None = Field(default=None, max_length=200)


class ShipmentIn(Strict):
    carrier: str = Field(min_length=1, max_length=50)
    tracking_number: str | None = Field(default=None, max_length=60)
    location: str | None = Field(default=None, max_length=32)
    lines: list[StockLine] | None = Field(default=None, min_length=1, max_length=500)


class ExceptionIn(Strict):
    kind: str = Field(max_length=30)
    note: str | None = Field(default=None, max_length=1000)


class NoteIn(Strict):
    note: str = Field(min_length=1, max_length=1000)


class EditLineIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=0, le=1_000_000, description="new quantity; 0 removes the line")
    unit_price: str | None = Field(default=None, max_length=30)


class OrderEditIn(Strict):
    lines: list[EditLineIn] | None = Field(default=None, min_length=1, max_length=500)
    shipping_address: AddressIn | None = None
    shipping_price: str | None = Field(default=None, max_length=30)
    invoice: InvoiceIn | None = Field(
        default=None,
        description="the invoice asked for, as at capture; 409 once the order is invoiced",
    )


class LineCancelIn(Strict):
    reason: str = Field(min_length=1, max_length=500)
    quantity: int | None = Field(default=None, ge=1, le=1_000_000)


class AuthorizeIn(Strict):
    amount: str = Field(max_length=30)
    provider: str | None = Field(default=None, max_length=30)
    reference: str | None = Field(default=None, max_length=200)


class CaptureIn(Strict):
    amount: str | None = Field(default=None, max_length=30)


class RemittanceOrderIn(Strict):
    number: str = Field(min_length=1, max_length=40)
    amount: str = Field(max_length=30)


class RemittanceIn(Strict):
    carrier: str = Field(min_length=1, max_length=50)
    reference: str = Field(min_length=1, max_length=200)
    orders: list[RemittanceOrderIn] = Field(min_length=1, max_length=2000)
