"""Request bodies of returns, the return policy and disputes (shape only; the services check
the rules)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dingdan.web.api.shared.common_schemas import Amount as AmountOut
from dingdan.web.api.shared.common_schemas import Cursor, Timestamp, View
from dingdan.web.api.shared.schemas import StockLine, Strict

Amount = Field(default=None, max_length=30, description='decimal string, e.g. "350.00"')


class ReturnLineIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000)
    reason: str = Field(min_length=1, max_length=40, description="a reason code of the policy")


class ReturnIn(Strict):
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)
    note: str | None = Field(default=None, max_length=1000)
    override: bool = Field(default=False, description="break the policy (manager, admin)")
    override_reason: str | None = Field(default=None, min_length=1, max_length=500)


class RejectIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class ReceiveLineIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000)
    condition: Literal["resellable", "damaged"]


class ReceiveIn(Strict):
    location: str = Field(min_length=1, max_length=32)
    lines: list[ReceiveLineIn] = Field(min_length=1, max_length=500)


class ReturnRefundIn(Strict):
    amount: str | None = Amount
    to: Literal["original", "store_credit"] = "original"
    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="why; needed (from a manager or an admin) to refund more than the "
        "returned goods are worth: received units × unit price, tax as the order charged "
        "it, plus the shipping share of the return policy",
    )


class ExchangeIn(Strict):
    lines: list[StockLine] = Field(min_length=1, max_length=500)


class ReturnPolicyIn(Strict):
    window_days: int = Field(default=7, ge=0, le=3650)
    non_returnable_skus: list[str] = Field(default_factory=list, max_length=1000)
    non_returnable_categories: list[str] = Field(default_factory=list, max_length=1000)
    reasons: list[str] | None = Field(default=None, min_length=1, max_length=200)
    refund_shipping: Literal["proportional", "none"] = Field(
        default="proportional",
        description="the share of the order's shipping a return may refund: proportional to "
        "the returned goods' value, or none",
    )


class DisputeIn(Strict):
    type: Literal["damaged", "lost", "late", "quality", "wrong_item", "chargeback"]
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    due_date: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")
    summary: str | None = Field(default=None, min_length=1, max_length=1000)


class DisputeAssignIn(Strict):
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    due_date: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")


class MessageIn(Strict):
    direction: Literal["inbound", "outbound", "note"]
    body: str = Field(min_length=1, max_length=10000)


class DisputeTransitionIn(Strict):
    status: Literal["open", "investigating", "resolved", "closed"]
    resolution: Literal["refund", "reshipment", "reject"] | None = None
    amount: str | None = Amount
    lines: list[StockLine] | None = Field(default=None, min_length=1, max_length=500)
    note: str | None = Field(default=None, min_length=1, max_length=1000)


# Answers ---------------------------------------------------------------------------------


class ReturnLineOut(View):
    sku: str
    quantity: int
    reason: str
    unit_price: AmountOut
    received: int = Field(description="resellable + damaged")
    resellable: int
    damaged: int


class Override(View):
    rules: list[str] = Field(description="the policy rules broken")
    reason: str | None
    by: str | None


class ReturnRefundOut(View):
    amount: AmountOut
    to: str | None = Field(description="original or store_credit")


class Return(View):
    id: str
    order: str = Field(description="the order's number")
    status: str = Field(description="requested, approved, rejected, received, refunded, exchanged")
    lines: list[ReturnLineOut]
    currency: str
    note: str | None
    requested_by: str | None
    override: Override | None
    reject_reason: str | None
    location: str | None = Field(description="where it was received")
    refund: ReturnRefundOut | None
    replacement_order: str | None = Field(description="an exchange's new order number")
    received_at: Timestamp | None
    refunded_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class ReturnPage(View):
    items: list[Return]
    next_cursor: Cursor


class ReturnPolicy(View):
    window_days: int
    non_returnable_skus: list[str]
    non_returnable_categories: list[str]
    reasons: list[str]
    refund_shipping: str


class Photo(View):
    id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str | None
    created_at: Timestamp


class PhotoList(View):
    items: list[Photo]
    next_cursor: None = None


class CreditBalance(View):
    currency: str
    balance: AmountOut


class CreditEntry(View):
    id: str
    kind: str = Field(description="earn, spend")
    amount: AmountOut
    currency: str
    reference: str | None
    actor: str | None
    created_at: Timestamp


class StoreCredit(View):
    customer: str = Field(description="the customer's id")
    balances: list[CreditBalance]
    entries: list[CreditEntry] = Field(description="the latest 50, newest first")
