"""Payment intents as staff see them, and the body that closes one."""

from __future__ import annotations

from pydantic import Field

from dingdan.web.api.shared.common_schemas import Amount, Cursor, Timestamp, View
from dingdan.web.api.shared.schemas import Strict


class PaymentIntent(View):
    id: str
    order: str = Field(description="the order's number")
    kind: str = Field(description="payment, refund, authorization, capture, void")
    purpose: str = Field(description="order, return, dispute, exchange, authorization, ...")
    status: str = Field(
        description="pending, succeeded, failed, attention (the provider moved the money and "
        "it could not be recorded: staff decide), resolved (closed by staff)"
    )
    amount: Amount
    currency: str
    provider: str
    provider_reference: str | None
    reference: str | None
    error: str | None
    actor: str
    created_at: Timestamp
    updated_at: Timestamp


class PaymentIntentPage(View):
    items: list[PaymentIntent]
    next_cursor: Cursor


class CloseIntentIn(Strict):
    note: str = Field(min_length=1, max_length=500)
