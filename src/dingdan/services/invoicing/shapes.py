"""The shapes of the invoicing context's views (invoices, allowances, number ranges, blank
numbers, the settings, a fapiao request, the exchanges with a value-added centre) and of its
commands, as TypedDicts: plain dicts at run time, checked by mypy where they are built and
read. ``web/api/invoicing/schemas.py`` describes the same views for clients."""

from __future__ import annotations

from typing_extensions import TypedDict


class InvoiceView(TypedDict):
    number: str | None  # None while pending
    random_code: str | None
    status: str  # pending, issued, void
    type: str  # b2c, b2b
    einvoice: bool
    period: str | None
    issued_at: str | None
    voided_at: str | None
    currency: str
    total: str
    tax: str
    carrier_type: str | None
    carrier_id: str | None
    donation_code: str | None
    buyer_ubn: str | None
    buyer_name: str | None
    seller_ubn: str | None
    seller_name: str
    upload_status: str
    void_reason: str | None
    centre: str | None  # the value-added centre that assigned the number
    document: str  # invoice, or receipt (收據)
    supplement_of: str | None  # the invoice this one adds to


class InvoiceList(TypedDict):
    items: list[InvoiceView]


class InvoiceLineView(TypedDict):
    sequence: int
    description: str
    quantity: int
    unit_price: str
    amount: str


class AllowanceView(TypedDict):
    number: str
    amount: str
    tax: str
    status: str  # issued, void
    reason: str | None
    issued_at: str | None
    upload_status: str
    upload_error: str | None
    voided_at: str | None
    void_reason: str | None


class AllowanceDetailView(AllowanceView):
    invoice_number: str


class AllowanceList(TypedDict):
    items: list[AllowanceView]


class InvoiceDetailView(InvoiceView):
    order_number: str
    lines: list[InvoiceLineView]
    allowances: list[AllowanceView]


class SettingsView(TypedDict):
    """The invoicing settings (``settings.read``), their defaults until saved."""

    seller_name: str
    seller_ubn: str | None
    seller_address: str | None
    seller_phone: str | None
    seller_email: str | None
    einvoice: bool
    issue_on: str  # payment, shipment
    void_closing_day: int
    configured: bool  # False until the settings are saved


class TrackView(TypedDict):
    """A range of e-invoice numbers (字軌)."""

    id: str
    period: str
    prefix: str
    start: str
    end: str
    next: str | None  # None: used up
    used: int
    remaining: int
    created_at: str | None


class TrackList(TypedDict):
    items: list[TrackView]


class BlankRun(TypedDict):
    prefix: str
    start: str
    end: str
    count: int


class BlankNumbers(TypedDict):
    period: str
    items: list[BlankRun]
    total: int
    numbered_by: str | None  # the centre that reports the period's blanks itself


class FapiaoView(TypedDict):
    buyer_type: str
    title: str
    tax_id: str | None
    email: str


class ExchangeView(TypedDict):
    """A request to a value-added centre and its answer, as kept (the invoice's page)."""

    id: str
    centre: str
    operation: str
    document_number: str
    url: str
    outcome: str  # pending, ok, refused, retry
    http_status: int | None
    code: str | None
    error: str | None
    request_body: str
    response_body: str | None
    answer: str | None
    at: str | None
    answered_at: str | None


# Commands: what a caller hands over. The service checks every field and refuses a bad one
# with its code (a page passes on what a form held, None for a blank field).


class SettingsCommand(TypedDict, total=False):
    seller_name: str | None
    seller_ubn: str | None
    seller_address: str | None
    seller_phone: str | None
    seller_email: str | None
    einvoice: bool
    issue_on: str | None  # payment, shipment; left out: payment
    # Left out: the default; a page passes one that is not a whole number on as typed.
    void_closing_day: int | str | None


class TrackCommand(TypedDict, total=False):
    period: str | None  # the period's first month, e.g. 2026-11
    prefix: str | None
    start: str | None
    end: str | None


class FapiaoCommand(TypedDict, total=False):
    buyer_type: str | None  # company, personal
    title: str | None
    tax_id: str | None
    email: str | None
