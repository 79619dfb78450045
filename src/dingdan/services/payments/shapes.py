"""The shapes of the payments context's views (payments, intents, COD payouts and
remittances, the pay page, LINE Pay's channel) and of its commands, as TypedDicts: plain
dicts at run time, checked by mypy where they are built and read. The API's response and
request models (``web/api/orders/view_schemas.py`` and ``schemas.py`` for payments,
``web/api/payments/``) describe the same fields for clients."""

from __future__ import annotations

from typing_extensions import TypedDict

from dingdan.services.shared.view_types import OrderView


class PaymentCardView(TypedDict):
    """The card a payment was made with, as its provider told it."""

    last4: str | None
    country: str | None
    fingerprint: str | None


class PaymentView(TypedDict):
    """A payment, refund or authorization."""

    id: str
    kind: str  # payment, refund, authorization
    status: str
    provider: str | None
    amount: str
    currency: str
    method: str | None
    reference: str | None
    reason: str | None
    actor: str | None
    created_at: str | None
    card: PaymentCardView | None


class PaymentWithOrderView(PaymentView):
    order: OrderView  # the order afterwards


class IntentView(TypedDict):
    """A payment intent as staff see it."""

    id: str
    order: str  # the order's number
    kind: str
    purpose: str
    status: str
    amount: str
    currency: str
    provider: str
    provider_reference: str | None
    reference: str | None
    error: str | None
    actor: str
    created_at: str | None
    updated_at: str | None


class RemittedOrder(TypedDict):
    number: str
    amount: str


class RemittanceView(TypedDict):
    carrier: str
    reference: str
    orders: list[RemittedOrder]


class PayoutLineView(TypedDict):
    """A row of an imported COD payout report and what became of it."""

    row: int
    order: str | None
    trade_no: str | None
    amount: str
    outcome: str


class PayoutReportView(TypedDict):
    reference: str
    matched: int
    differences: int
    lines: list[PayoutLineView]


class PayoutDifferenceView(TypedDict):
    report: str
    row: int
    order: str | None
    trade_no: str | None
    logistics_id: str | None
    amount: str
    expected: str | None
    payout_date: str | None
    outcome: str
    at: str | None


class PayoutDifferences(TypedDict):
    items: list[PayoutDifferenceView]
    next_cursor: str | None


class CurrencyAmount(TypedDict):
    currency: str
    amount: str


class RefundDueOrder(TypedDict):
    number: str
    status: str
    currency: str
    refund_due: str


class RefundDueQueue(TypedDict):
    """The orders that owe money back (the dashboard's block)."""

    count: int
    totals: list[CurrencyAmount]  # per currency
    orders: list[RefundDueOrder]  # the oldest first


class EcpayTradeView(TypedDict):
    """An attempt at paying through ECPay (the ATM account or CVS code given)."""

    merchant_trade_no: str
    choice: str
    status: str
    amount: str
    currency: str
    bank_code: str | None
    v_account: str | None
    payment_no: str | None
    expires_at: str | None
    created_at: str | None


class PayView(TypedDict):
    """What the customer's pay page shows."""

    number: str
    status: str
    financial_status: str
    currency: str
    total: str
    due: str
    paid: bool
    payable: bool
    waiting: EcpayTradeView | None
    ecpay: bool  # ECPay can take the payment


class CheckoutForm(TypedDict):
    """The signed form the customer's browser posts to ECPay."""

    action: str
    fields: dict[str, str]
    merchant_trade_no: str


class CreditBalanceView(TypedDict):
    currency: str
    balance: str  # decimal


class CreditEntryView(TypedDict):
    id: str
    kind: str  # earn, spend
    amount: str  # decimal
    currency: str
    reference: str | None
    actor: str | None
    created_at: str | None


class StoreCreditView(TypedDict):
    """A customer's store credit: balances per currency, the latest 50 entries, newest
    first."""

    customer: str  # the customer's id
    balances: list[CreditBalanceView]
    entries: list[CreditEntryView]


class LinePaySettingsView(TypedDict):
    channel_id: str
    channel_secret: str  # "••••" once set
    api_base: str
    configured: bool


# Commands: what a caller hands over. The service checks every field and refuses a bad one
# with its code (a page passes on what a form held, None for a blank field).


class PaymentCommand(TypedDict, total=False):
    """A payment recorded on an order (``transactions.record_payment``)."""

    amount: str | None  # decimal
    reference: str | None
    method: str | None
    provider: str | None
    card_fingerprint: str | None
    card_country: str | None


class RefundCommand(TypedDict, total=False):
    """A refund of an order (``transactions.refund``)."""

    amount: str | None  # decimal
    reason: str | None
    reference: str | None


class AuthorizeCommand(TypedDict, total=False):
    amount: str | None  # decimal
    provider: str | None
    reference: str | None


class CaptureCommand(TypedDict, total=False):
    amount: str | None  # decimal; left out: all that was authorized


class RemittedOrderIn(TypedDict):
    number: str
    amount: str  # decimal


class RemittanceCommand(TypedDict):
    """A carrier's COD remittance: one payment per order it lists."""

    carrier: str
    reference: str
    orders: list[RemittedOrderIn]


class CloseIntentCommand(TypedDict):
    note: str | None


class LinePaySettingsCommand(TypedDict, total=False):
    """LINE Pay's channel; a secret left out or sent back as "••••" is kept."""

    channel_id: str | None
    channel_secret: str | None
    api_base: str | None
