"""Bodies and answers of carrier tracking events (shape only; services check the rules)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from dingdan.domain.fulfilment.tracking import EXCEPTION_KINDS, STATUSES
from dingdan.web.api.shared.common_schemas import Timestamp, View
from dingdan.web.api.shared.schemas import Strict

Status = Literal[STATUSES]  # type: ignore[valid-type]
ExceptionKind = Literal[EXCEPTION_KINDS]  # type: ignore[valid-type]


class TrackingEventIn(Strict):
    carrier: str = Field(min_length=1, max_length=50, description="a carrier's code or name")
    tracking_number: str = Field(min_length=1, max_length=60)
    status: Status
    occurred_at: str = Field(
        min_length=1,
        max_length=40,
        description="ISO 8601; without an offset, in the seller's time zone (Asia/Taipei)",
    )
    exception: ExceptionKind | None = Field(
        default=None, description="what went wrong, for status exception (default other)"
    )
    location: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=200)
    id: str | None = Field(
        default=None, max_length=100, description="the carrier's own id of the event"
    )


class WebhookSecretIn(Strict):
    secret: str | None = Field(
        default=None,
        max_length=100,
        description="a whsec_ secret the carrier issued; left out: a new random one",
    )


class WebhookSecret(View):
    code: str
    secret: str = Field(description="whsec_...; shown only in this answer")


class TrackingEvent(View):
    id: str
    carrier: str
    tracking_number: str
    shipment_id: str | None = Field(description="null: no shipment has this number (unmatched)")
    order: str | None
    status: Status
    exception: str | None
    occurred_at: Timestamp
    location: str | None
    description: str | None
    source: Literal["webhook", "csv", "api"]
    applied: bool = Field(description="whether the event moved its shipment")
    received_at: Timestamp


class TrackingEventList(View):
    items: list[TrackingEvent]
    next_cursor: str | None


class EventOutcome(View):
    id: str | None
    tracking_number: str
    status: str
    matched: bool
    outcome: Literal["applied", "stored", "duplicate", "unmatched"]


class RowProblem(View):
    row: int
    field: str
    code: str
    message: str


class TrackingResult(View):
    applied: int = Field(description="stored and moved their shipment")
    stored: int = Field(description="stored and shown; the shipment was already further on")
    duplicates: int = Field(description="received before: nothing new")
    unmatched: int = Field(description="stored; no shipment has this carrier and number")
    skipped: int = Field(description="bad rows left out (skip_bad)")
    events: list[EventOutcome]
    errors: list[RowProblem] = Field(
        description="bad rows of a file; nothing stored unless skip_bad"
    )


class CarrierHookResult(View):
    """A carrier's delivery taken (the counts of ``TrackingResult``), or one seen before."""

    replayed: bool = Field(False, description="a webhook-id seen before: nothing new")
    applied: int | None = None
    stored: int | None = None
    duplicates: int | None = None
    unmatched: int | None = None
    skipped: int | None = None
    events: list[EventOutcome] | None = None
    errors: list[RowProblem] | None = None


def result_view(outcome: Any) -> dict[str, Any]:
    return outcome.view()  # type: ignore[no-any-return]
