"""Bodies and answers of the outgoing webhook endpoints (shape only; services check rules)."""

from __future__ import annotations

from pydantic import Field

from dingdan.web.api.shared.common_schemas import Cursor, Timestamp, View
from dingdan.web.api.shared.schemas import Strict

EVENTS = Field(
    min_length=1,
    max_length=50,
    description='event types such as "order.created", or ["*"] for every event',
)


class WebhookIn(Strict):
    url: str = Field(min_length=1, max_length=2000, description="https://...")
    events: list[str] = EVENTS
    description: str | None = Field(default=None, max_length=500)


class WebhookPatch(Strict):
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    events: list[str] | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=500)
    status: str | None = Field(default=None, description="active (enable again) or disabled")


class Webhook(View):
    id: str
    url: str
    events: list[str]
    description: str
    status: str = Field(description="active or disabled")
    disabled_reason: str | None = Field(description="who disabled it, or the 410 answer")
    previous_secret_until: Timestamp | None = Field(
        description="after a rotation: until when the previous secret signs too"
    )
    created_at: Timestamp
    updated_at: Timestamp


class WebhookWithSecret(Webhook):
    secret: str = Field(description="whsec_...; shown in this answer only")


class WebhookList(View):
    items: list[Webhook]
    next_cursor: None = None


class Delivery(View):
    id: str
    event_type: str
    webhook_id: str = Field(description="the webhook-id header: the same on every attempt")
    status: str = Field(description="pending, delivered or dead")
    attempts: int
    last_status_code: int | None
    order: str | None = Field(description="the order's number, for an order's event")
    last_error: str | None = Field(description="the last attempt's error when it had no answer")
    next_attempt_at: Timestamp | None
    created_at: Timestamp
    delivered_at: Timestamp | None


class DeliveryPage(View):
    items: list[Delivery]
    next_cursor: Cursor


class Attempt(View):
    at: Timestamp
    status_code: int | None
    error: str | None
    duration_ms: int
    response_excerpt: str | None = Field(description="the start of the answer's body")


class DeliveryDetail(Delivery):
    body: str = Field(description="the exact body every attempt sends")
    attempt_log: list[Attempt]
