"""Cycle counts: count sheets of the SKUs due by ABC class, counted lines, posting."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.purchasing import cycle_counts
from dingdan.services.purchasing.shapes import (
    CountLineCommand,
    CycleCountCommand,
    CycleCountView,
)
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.common_schemas import Cursor, Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query
from dingdan.web.api.shared.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["cycle counts"])
COUNT = Action.MANAGE_STOCK
Status = Literal["open", "posted"]


class CycleCountIn(Strict):
    location: str = Field(min_length=1, max_length=32, description="A location's code")
    skus: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Count exactly these SKUs; without it, the SKUs due at the location",
    )


class CountLineIn(Strict):
    sku: str = Field(min_length=1, max_length=64, description="The SKU or its barcode")
    counted: int = Field(ge=0, le=1_000_000_000, description="Units found on the shelf")


class CycleCountLineOut(View):
    sku: str
    name: str
    barcode: str | None
    class_: str = Field(alias="class", description="ABC class when the sheet was made")
    xyz: str | None = Field(description="XYZ class when the sheet was made (null: no sales)")
    last_counted_at: Timestamp | None
    counted: int | None
    on_hand_at_count: int | None = Field(description="on_hand when the line was counted")
    difference: int | None = Field(description="counted - on_hand_at_count")
    counted_by: str | None
    counted_at: Timestamp | None
    posted_delta: int | None = Field(description="What posting changed on_hand by")


class CycleCountOut(View):
    id: str
    location: str
    status: Status
    created_by: str
    created_at: Timestamp
    posted_by: str | None
    posted_at: Timestamp | None
    lines: list[CycleCountLineOut]


class CycleCountItem(View):
    id: str
    location: str
    status: Status
    created_by: str
    created_at: Timestamp
    posted_at: Timestamp | None
    lines: int
    counted: int


class CycleCountPage(View):
    items: list[CycleCountItem]
    next_cursor: Cursor


@router.post(
    "/cycle-counts",
    response_model=CycleCountOut,
    response_model_by_alias=True,
    status_code=201,
    responses=responses("forbidden"),
)
async def create_cycle_count(
    request: Request, body: CycleCountIn, actor: Actor = can(COUNT)
) -> CycleCountView:
    """A count sheet for a location: the SKUs due for counting (A every 30 days, B every
    91, C every 365 by default; never counted first), or exactly ``skus``."""
    cmd = command(CycleCountCommand, body, exclude_unset=True)
    return await run_in_threadpool(cycle_counts.create, db_of(request), actor, cmd)


@router.get("/cycle-counts", response_model=CycleCountPage, responses=responses("forbidden"))
async def list_cycle_counts(
    request: Request,
    location: str | None = Query(None, max_length=32),
    status: Status | None = None,
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: cycle_counts.list_counts(
            db_of(request), location=location, status=status, limit=limit, cursor=cursor
        )
    )
    return page.as_dict()


@router.get(
    "/cycle-counts/{count_id}",
    response_model=CycleCountOut,
    response_model_by_alias=True,
    responses=responses("forbidden", "not_found"),
)
async def get_cycle_count(
    request: Request, count_id: str, actor: Actor = can(Action.READ)
) -> CycleCountView:
    return await run_in_threadpool(cycle_counts.get, db_of(request), count_id)


@router.post(
    "/cycle-counts/{count_id}/lines",
    response_model=CycleCountOut,
    response_model_by_alias=True,
    responses=responses("forbidden", "not_found", "conflict"),
)
async def count_line(
    request: Request, count_id: str, body: CountLineIn, actor: Actor = can(COUNT)
) -> CycleCountView:
    """Enter a line's counted quantity; the on_hand of this moment is kept beside it."""
    cmd = command(CountLineCommand, body)
    return await run_in_threadpool(cycle_counts.record, db_of(request), actor, count_id, cmd)


@router.post(
    "/cycle-counts/{count_id}/post",
    response_model=CycleCountOut,
    response_model_by_alias=True,
    responses=responses("forbidden", "not_found", "conflict"),
)
async def post_cycle_count(
    request: Request, count_id: str, actor: Actor = can(COUNT)
) -> CycleCountView:
    """Post counted - on_hand_at_count of every counted line as an adjustment (reason
    ``cycle_count``); refused whole (409) when it would leave less on hand than reserved."""
    return await run_in_threadpool(cycle_counts.post, db_of(request), actor, count_id)
