"""The shapes of the orders context's views (the timeline, notes, customers, consent, the
customer's data export and erasure, risk, tracking, orders that could leave together) and of
its commands, as TypedDicts: plain dicts at run time, checked by mypy where they are built
and read. The order itself is ``services/shared/view_types.OrderView``; the API's models
(``web/api/orders/*schemas.py``, ``customers.py``, ``customer_privacy.py``, ``risk.py``)
describe the same views for clients.

What is open JSON by nature (an event's data, an order's customer and address snapshots, a
risk assessment's reasons) is a ``Mapping[str, object]``, read only after a check."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NotRequired

from typing_extensions import TypedDict

# ---- the order's timeline and notes --------------------------------------------------------


class OrderEventView(TypedDict):
    id: str
    kind: str
    actor: str | None
    message: str | None
    data: Mapping[str, object] | None  # what the event changed, by kind
    created_at: str | None


class NoteView(TypedDict):
    kind: str  # customer_note or note
    by_customer: bool
    actor: str | None
    text: str
    created_at: str | None


class OrderState(TypedDict):
    """The audited fields of an order (services/orders/audit.py)."""

    status: str
    financial_status: str
    fulfillment_status: str
    total: str
    paid: str
    refunded: str
    shipping_address: Mapping[str, object] | None


class ReplayLine(TypedDict):
    sku: str
    order: int  # units not cancelled
    sent: int


class ReplayPrice(TypedDict):
    sku: str
    order: str
    sent: str


class ReplayField(TypedDict):
    field: str
    order: NotRequired[str]  # only for what is not personal data
    sent: NotRequired[str]


class ReplayDifferences(TypedDict, total=False):
    """What a replayed body differs in from the order; empty when nothing does."""

    lines: list[ReplayLine]
    prices: list[ReplayPrice]
    fields: list[ReplayField]


# ---- orders that could leave together -------------------------------------------------------


class ShipTogether(TypedDict):
    location: str
    orders: list[str]  # numbers


class ShipGroup(TypedDict):
    orders: list[str]  # numbers, oldest first
    name: object  # as the first order's address has it
    city: object


# ---- customers ------------------------------------------------------------------------------


class LifetimeValueView(TypedDict):
    currency: str
    amount: str


class CustomerStats(TypedDict):
    orders: int
    lifetime_value: list[LifetimeValueView]


class CustomerView(TypedDict):
    id: str
    name: str | None
    email: str | None
    phone: str | None
    addresses: list[Mapping[str, object]]
    created_at: str | None
    orders: int
    lifetime_value: list[LifetimeValueView]


class CustomerOrderRow(TypedDict):
    number: str
    channel: str
    status: str
    financial_status: str
    fulfillment_status: str
    currency: str
    total: str
    paid: str
    created_at: str | None


class CustomerDetail(CustomerView):
    """One customer with every order, newest first."""

    order_list: list[CustomerOrderRow]


class ConsentEntryView(TypedDict):
    granted: bool
    at: str | None
    source: str
    actor: str


class ConsentView(TypedDict):
    customer: str
    marketing: bool
    since: str | None
    source: str | None
    history: list[ConsentEntryView]  # newest first


# ---- the customer's data: a copy, and erasure ----------------------------------------------


class ExportedCustomerView(TypedDict):
    id: str
    name: str | None
    email: str | None
    phone: str | None
    addresses: list[Mapping[str, object]]
    created_at: str | None


class ExportedChannelView(TypedDict):
    channel: str
    line_user_id: str | None


class ExportedLineView(TypedDict):
    sku: str
    name: str
    quantity: int
    unit_price: str


class ExportedCardView(TypedDict):
    first6: str | None
    last4: str | None
    country: str | None


class ExportedPaymentView(TypedDict):
    kind: str
    method: str
    status: str
    amount: str
    created_at: str | None
    card: ExportedCardView | None


class ExportedOrderView(TypedDict):
    number: str
    channel: str
    created_at: str | None
    status: str
    financial_status: str
    fulfillment_status: str
    currency: str
    customer: Mapping[str, object]
    shipping_address: Mapping[str, object]
    billing_address: Mapping[str, object] | None
    client_ip: str | None
    payment_method: str
    total: str
    paid: str
    refunded: str
    lines: list[ExportedLineView]
    payments: list[ExportedPaymentView]


class ExportedReturnView(TypedDict):
    id: str
    order: str
    status: str
    note: str | None
    created_at: str | None


class ExportedMessageView(TypedDict):
    order: str | None
    kind: str
    channel: str
    recipient: str
    subject: str
    status: str
    created_at: str | None


class ExportedRatingView(TypedDict):
    order: str
    rating: int
    comment: str | None
    created_at: str | None


class CustomerExportView(TypedDict):
    customer: ExportedCustomerView
    message_channel: ExportedChannelView
    orders: list[ExportedOrderView]
    returns: list[ExportedReturnView]
    messages: list[ExportedMessageView]
    ratings: list[ExportedRatingView]
    consents: list[ConsentEntryView]  # oldest first
    exported_at: str | None


class ErasedView(TypedDict):
    id: str
    erased: bool
    orders: int
    events: int
    messages: int
    webhook_deliveries: int


# ---- risk -----------------------------------------------------------------------------------


class BlockView(TypedDict):
    id: str
    kind: str
    value: str
    note: str | None
    created_by: str
    created_at: str | None


class RuleView(TypedDict):
    points: int
    limit: int | None
    enabled: bool


class RiskSettingsView(TypedDict):
    enabled: bool
    window_hours: int
    medium: int
    high: int
    rules: dict[str, RuleView]


class OrderBrief(TypedDict):
    number: str
    status: str
    financial_status: str
    fulfillment_status: str
    total: str
    currency: str
    created_at: str | None
    hold: str | None


class ReviewItem(OrderBrief):
    """An order held for review, with what the reviewer weighs."""

    risk: Mapping[str, object]  # {"score", "level", "reasons"}
    customer: Mapping[str, object]
    shipping_address: Mapping[str, object]
    payment_method: str
    similar: list[OrderBrief]  # other orders by the same email, phone or address


# ---- the customer's tracking page ------------------------------------------------------------


class TrackedItem(TypedDict):
    sku: str
    name: str
    quantity: int
    shipped: int
    cancelled: int


class CarrierEventView(TypedDict):
    status: str
    exception: str | None
    occurred_at: str | None
    location: str | None
    description: str | None


class TrackedShipment(TypedDict):
    carrier: str
    tracking_number: str | None
    status: str
    lines: list[Mapping[str, object]]  # [{"sku", "quantity"}]
    shipped_at: str | None
    delivered_at: str | None
    events: list[CarrierEventView]  # latest first


class Destination(TypedDict):
    city: object
    country: object


class RatingLink(TypedDict):
    path: str
    given: int | None  # the score given; None: not rated yet


class PickupPlace(TypedDict):
    name: str
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None


class PickupView(TypedDict):
    location: PickupPlace | None
    status: str  # preparing, ready, handed_over...
    code: str | None  # once ready
    handed_over_at: str | None


class WaitingPayment(TypedDict):
    bank_code: str | None
    v_account: str | None
    payment_no: str | None
    expires_at: str | None


class PayView(TypedDict):
    payable: bool
    due: str
    currency: str
    path: str
    waiting: WaitingPayment | None  # the ATM account or store code ECPay gave


class TrackingView(TypedDict):
    number: str
    status: str
    fulfillment_status: str
    created_at: str | None
    destination: Destination
    items: list[TrackedItem]
    shipments: list[TrackedShipment]
    rating: RatingLink | None
    pickup: PickupView | None
    pay: PayView


# ---- the invoice the customer asks for -------------------------------------------------------


class InvoiceRequestState(TypedDict):
    """The order's invoice request as stored (``{"type": "b2c"}``: a printed invoice) and
    whether it may still change."""

    request: dict[str, str]
    changeable: bool


class InvoiceChoice(InvoiceRequestState):
    taiwan: bool  # a Taiwan order in TWD: one that gets an e-invoice


# ---- commands ---------------------------------------------------------------------------------
# What a caller hands over. The service checks every field and refuses a bad one with its
# code (a page passes on what a form held, None for a blank field).


class OrderFilters(TypedDict, total=False):
    """The order list's filters (``queries.list_orders``), as a bulk selection names them."""

    status: str | None
    financial_status: str | None
    fulfillment_status: str | None
    channel: str | None
    q: str | None
    created_from: datetime | None
    created_to: datetime | None
    refund_due: bool | None


class EditLine(TypedDict, total=False):
    sku: str
    # The new quantity; 0 removes the unshipped units (None: a page could not read it).
    quantity: int | None
    unit_price: str | None


class OrderEdit(TypedDict, total=False):
    lines: list[EditLine] | None
    shipping_address: Mapping[str, object] | None  # checked as at capture
    shipping_price: str | None
    invoice: Mapping[str, object] | None  # checked as at capture


class LineCancel(TypedDict, total=False):
    reason: str | None
    quantity: int | None  # left out: every unshipped unit


class MoveLine(TypedDict):
    sku: str
    quantity: int


# "from" is a keyword: the functional form.
AllocationMove = TypedDict(
    "AllocationMove", {"from": str, "to": str, "lines": NotRequired[list[MoveLine]]}
)


class ConsentCommand(TypedDict, total=False):
    granted: bool
    source: str  # how the customer gave or withdrew it; "api" when left out


class BlockCommand(TypedDict, total=False):
    kind: str | None  # email, phone, address
    value: str | None
    note: str | None


# A number as the settings page read it: text when it is not a whole number, for the service
# to refuse beside its field.
class RuleCommand(TypedDict, total=False):
    points: int | str | None
    limit: int | str | None
    enabled: bool | None


class RiskSettingsCommand(TypedDict, total=False):
    """The risk settings; the fields left out take their defaults."""

    enabled: bool | None
    window_hours: int | str | None
    medium: int | str | None
    high: int | str | None
    rules: dict[str, RuleCommand] | None
