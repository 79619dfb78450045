"""The shapes of the messaging context's views and of the message rows it writes, as
TypedDicts: plain dicts at run time, checked by mypy where they are built and read.
``web/api/messaging/schemas.py`` describes the same views for clients.

A message's template variables are ``MessageContext`` (the documented variables of
``templating.VARIABLES``); an event's payload stays an open mapping (each event type's
fields: ``outbox_events.EVENT_TYPES``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from typing_extensions import TypedDict


class MessageView(TypedDict):
    id: str
    order: str | None
    kind: str
    channel: str
    locale: str
    recipient: str
    subject: str
    status: str  # pending, sent, dead or not_configured
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    created_at: str | None
    sent_at: str | None


class ShopContext(TypedDict):
    name: str
    email: str
    phone: str
    line_id: str
    address: str
    return_policy: str
    return_address: str
    logo_url: str


class BankContext(TypedDict):
    bank_name: str
    bank_code: str
    account_name: str
    account_number: str


class OrderLineContext(TypedDict):
    sku: str
    name: str
    quantity: int
    unit_price: str
    amount: str


class OrderContext(TypedDict):
    number: str
    created_at: str
    customer_name: str
    currency: str
    subtotal: str
    shipping: str
    tax: str
    total: str
    paid: str
    payment_method: str
    is_bank_transfer: bool
    lines: list[OrderLineContext]
    city: str
    country: str


class ShipmentContext(TypedDict):
    carrier: str
    tracking_number: str
    carrier_tracking_url: str
    exception: str | None


class RmaContext(TypedDict):
    id: str
    status: str


class RefundContext(TypedDict):
    amount: str
    reason: str


class CreditContext(TypedDict):
    amount: str
    currency: str


class CancelContext(TypedDict):
    reason: str
    deadline: str


class PickupContext(TypedDict):
    code: str
    location: str
    address: str
    phone: str


class MessageContext(TypedDict):
    """Every variable a message template may use (``templating.VARIABLES``); one that does
    not apply to the message is empty."""

    shop: ShopContext
    bank: BankContext
    order: OrderContext
    tracking_url: str
    pay_url: str  # the customer's pay page while something is due, else empty
    rating_url: str
    shipment: ShipmentContext
    rma: RmaContext
    refund: RefundContext
    credit: CreditContext
    cancel: CancelContext
    pickup: PickupContext


class ContextChanges(TypedDict, total=False):
    """Variables a caller sets instead of what the order and the event say."""

    cancel: CancelContext


class ComposedMessage(TypedDict):
    """A message's subject, text (with the shop's signature) and HTML (in the shop's
    layout), as ``outbound.compose`` makes it."""

    subject: str
    text: str
    html: str


class MessageValues(TypedDict):
    """A message row to insert (``outbound.message_values``)."""

    source: str
    order_number: str | None
    kind: str
    channel: str
    locale: str
    recipient: str
    subject: str
    text_body: str
    html_body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    message_id: str
    created_at: datetime


class TemplateView(TypedDict):
    kind: str
    locale: str
    subject: str
    text: str
    html: str
    is_default: bool
    updated_by: str | None
    updated_at: str | None
    variables: list[str]


class TemplateSummary(TypedDict):
    kind: str
    locale: str
    is_default: bool


class TemplateList(TypedDict):
    items: list[TemplateSummary]
    next_cursor: None


class PreviewView(TypedDict):
    kind: str
    locale: str
    order: str
    subject: str
    text: str
    html: str


class LineProviderView(TypedDict):
    channel_access_token: str  # shown as •••• once set
    api_base: str
    configured: bool


class SmsProviderView(TypedDict):
    account_sid: str
    auth_token: str  # shown as •••• once set
    from_number: str
    api_base: str
    configured: bool


class ProvidersView(TypedDict):
    line: LineProviderView
    sms: SmsProviderView


class CustomerChannelView(TypedDict):
    customer: str
    channel: str  # email, line or sms
    line_user_id: str | None


class NotificationView(TypedDict):
    """A staff notification as the user's list shows it, rendered in their language."""

    id: int
    kind: str
    title: str
    text: str
    params: dict[str, Any]  # the stored JSON the title and text were rendered from
    link: str
    created_at: datetime
    read: bool
    read_at: datetime | None


class PreferenceView(TypedDict):
    kind: str
    in_app: bool
    email: bool
    chosen: bool  # False: the role's default


class RatingView(TypedDict):
    rating: int
    comment: str | None
    created_at: str | None


class RatingLink(TypedDict):
    """What the rating page shows: the order's number, language and any rating given."""

    number: str
    locale: str
    rated: RatingView | None


# Commands: what a caller hands over; the service checks every field (a page passes a blank
# form field on as None, and the service refuses it with its code).


class TemplateFields(TypedDict):
    subject: str
    text: str
    html: str


class PreviewCommand(TypedDict, total=False):
    """The order to fill the template with, and a draft (not saved) or none."""

    order: str | None
    subject: str | None
    text: str | None
    html: str | None


class TestSendCommand(TypedDict, total=False):
    to: str | None
    order: str | None  # None: the newest order


class LineProviderFields(TypedDict, total=False):
    channel_access_token: str | None  # None or "••••...": the stored one is kept
    api_base: str | None


class SmsProviderFields(TypedDict, total=False):
    account_sid: str | None
    auth_token: str | None  # None or "••••...": the stored one is kept
    from_number: str | None
    api_base: str | None


class ProvidersCommand(TypedDict, total=False):
    line: LineProviderFields | None
    sms: SmsProviderFields | None


class CustomerChannelCommand(TypedDict, total=False):
    channel: str | None
    line_user_id: str | None


class RatingCommand(TypedDict, total=False):
    rating: int | None
    comment: str | None
