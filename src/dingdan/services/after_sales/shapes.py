"""The shapes of the after-sales context's views (returns, disputes, evidence, the return
policy) and of the lines its commands name, as TypedDicts: plain dicts at run time, checked
by mypy where they are built and read. ``web/api/after_sales/schemas.py`` and
``dispute_schemas.py`` describe the same views for clients."""

from __future__ import annotations

from typing import NotRequired

from typing_extensions import TypedDict


class SkuQuantity(TypedDict):
    """A line of a reshipment or a replacement order."""

    sku: str
    quantity: int


class ReturnLineView(TypedDict):
    sku: str
    quantity: int
    reason: str
    unit_price: str
    received: int  # resellable + damaged
    resellable: int
    damaged: int


class ReturnOverride(TypedDict):
    rules: list[str]  # the policy rules broken
    reason: str | None
    by: str | None


class ReturnRefund(TypedDict):
    amount: str
    to: str | None  # original or store_credit


class ReturnView(TypedDict):
    id: str
    order: str
    status: str
    lines: list[ReturnLineView]
    currency: str
    note: str | None
    requested_by: str
    override: ReturnOverride | None
    reject_reason: str | None
    location: str | None
    refund: ReturnRefund | None
    replacement_order: str | None
    received_at: str | None
    refunded_at: str | None
    created_at: str | None
    updated_at: str | None


class PhotoView(TypedDict):
    id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    created_at: str | None


class CustomerReturnView(ReturnView):
    """A customer's own request, with the photos they sent."""

    photos: list[PhotoView]


class CustomerReturnLine(TypedDict):
    sku: str
    quantity: int
    reason: str


class CustomerReturnSummary(TypedDict):
    id: str
    status: str
    created_at: str | None
    lines: list[CustomerReturnLine]
    refund: str | None  # the amount refunded
    currency: str


class CustomerReturns(TypedDict):
    """What the tracking page shows of an order's returns and its return window."""

    returns: list[CustomerReturnSummary]
    window_days: int
    window_closes: str | None


class PolicyView(TypedDict):
    window_days: int
    non_returnable_skus: list[str]
    non_returnable_categories: list[str]
    reasons: list[str]
    refund_shipping: str


class DisputeMessageView(TypedDict):
    id: str
    author: str
    direction: str  # inbound, outbound, note
    body: str
    created_at: str | None


class EvidenceView(TypedDict):
    id: str
    filename: str
    content_type: str
    size: int  # bytes
    sha256: str
    note: str | None
    uploaded_by: str
    created_at: str | None


class DisputeView(TypedDict):
    id: str
    order: str
    type: str
    status: str
    owner: str | None
    due_date: str | None  # YYYY-MM-DD
    overdue: bool
    summary: str | None
    opened_by: str
    resolution: str | None  # refund, reshipment, reject
    amount: str | None
    replacement_order: str | None
    created_at: str | None
    updated_at: str | None
    resolved_at: str | None
    closed_at: str | None
    # Only in the full view (one dispute), not in the queue's rows.
    messages: NotRequired[list[DisputeMessageView]]
    evidence: NotRequired[list[EvidenceView]]


# Commands: what a caller hands over. The service checks every field and refuses a bad one
# with its code (a page passes on what a form held, None for a blank field).


class ReturnLineIn(TypedDict):
    sku: str
    quantity: int
    reason: str | None  # a reason code of the policy


class ReturnRequest(TypedDict, total=False):
    lines: list[ReturnLineIn] | None
    note: str | None
    override: bool  # break the policy (manager, admin)
    override_reason: str | None


class ReceiptLineIn(TypedDict):
    sku: str
    quantity: int
    condition: str  # resellable or damaged


class ReturnReceipt(TypedDict, total=False):
    location: str | None
    lines: list[ReceiptLineIn]


class RefundRequest(TypedDict, total=False):
    amount: str | None  # decimal; left out: what the received goods are worth
    to: str  # original or store_credit
    reason: str | None


class ExchangeLineIn(TypedDict):
    sku: str
    quantity: int | None


class ExchangeRequest(TypedDict):
    lines: list[ExchangeLineIn]


class PolicyRequest(TypedDict, total=False):
    """A return policy; the fields left out take their defaults."""

    window_days: int
    non_returnable_skus: list[str]
    non_returnable_categories: list[str]
    reasons: list[str]
    refund_shipping: str


class DisputeRequest(TypedDict, total=False):
    type: str | None
    owner: str | None  # left out: the one who opens it
    due_date: str | None  # YYYY-MM-DD; left out: a week from today
    summary: str | None


class DisputeAssignment(TypedDict, total=False):
    owner: str | None
    due_date: str | None


class DisputeMessageIn(TypedDict, total=False):
    direction: str | None  # inbound, outbound, note
    body: str | None


class DisputeTransitionRequest(TypedDict, total=False):
    status: str | None
    resolution: str | None  # refund, reshipment, reject (when resolving)
    amount: str | None  # a refund's
    lines: list[SkuQuantity] | None  # a reshipment's; left out: all that may be reshipped
    note: str | None
