"""Answers of the dispute endpoints."""

from __future__ import annotations

from pydantic import Field

from dingdan.web.api.shared.common_schemas import Amount, Cursor, Timestamp, View


class DisputeSummary(View):
    id: str
    order: str = Field(description="the order's number")
    type: str
    status: str = Field(description="open, investigating, resolved, closed")
    owner: str | None
    due_date: str | None = Field(description="YYYY-MM-DD")
    overdue: bool
    summary: str | None
    opened_by: str | None
    resolution: str | None = Field(description="refund, reshipment, reject")
    amount: Amount | None
    replacement_order: str | None
    created_at: Timestamp
    updated_at: Timestamp
    resolved_at: Timestamp | None
    closed_at: Timestamp | None


class DisputeMessage(View):
    id: str
    author: str | None
    direction: str = Field(description="inbound, outbound, note")
    body: str
    created_at: Timestamp


class Evidence(View):
    id: str
    filename: str
    content_type: str
    size: int = Field(description="bytes")
    sha256: str
    note: str | None
    uploaded_by: str | None
    created_at: Timestamp


class Dispute(DisputeSummary):
    messages: list[DisputeMessage]
    evidence: list[Evidence]


class DisputePage(View):
    items: list[DisputeSummary]
    next_cursor: Cursor
