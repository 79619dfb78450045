"""Answers of the jobs endpoints: outbox messages waiting or dead."""

from __future__ import annotations

from pydantic import Field

from dingdan.web.api.shared.common_schemas import Cursor, Timestamp, View


class Job(View):
    id: str
    topic: str
    status: str = Field(description="pending or dead")
    attempts: int
    last_error: str | None
    available_at: Timestamp
    created_at: Timestamp


class JobPage(View):
    items: list[Job]
    next_cursor: Cursor
