"""Stock for channels: each channel's buffer and SKU subset (admin, manager: "webhooks and
channels" in the contract's role table), and what each channel may sell per SKU, with a
strong ETag (``If-None-Match`` answers ``304``) so that a connector polls cheaply."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.catalog import channel_stock
from dingdan.services.catalog.shapes import StockRuleCommand, StockRuleView
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.common_schemas import Cursor, Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query
from dingdan.web.api.shared.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["settings"])


class ChannelStockRuleIn(Strict):
    buffer_kind: Literal["units", "percent"] = "units"
    buffer: int = Field(
        default=0, ge=0, le=1_000_000, description="units kept back, or a percent (0-100)"
    )
    skus: list[str] | None = Field(
        default=None, max_length=1000, description="the SKUs the channel sells; null: all"
    )
    locations: list[str] | None = Field(
        default=None, max_length=1000, description="the locations it sells from; null: all"
    )


class ChannelStockRule(View):
    channel: str
    buffer_kind: str
    buffer: int
    skus: list[str] | None
    locations: list[str] | None
    updated_at: Timestamp | None


class ChannelStockItem(View):
    sku: str
    available: int = Field(description="on hand less reserved across the channel's locations")
    may_sell: int = Field(description="available less the buffer, never below 0")


class ChannelStock(View):
    channel: str
    buffer_kind: str
    buffer: int
    items: list[ChannelStockItem]
    next_cursor: Cursor


@router.get(
    "/channels/{code}/stock-rule",
    response_model=ChannelStockRule,
    responses=responses("forbidden", "not_found"),
)
async def get_stock_rule(
    request: Request, code: str, actor: Actor = can(Action.READ)
) -> StockRuleView:
    return await run_in_threadpool(channel_stock.get_rule, db_of(request), code)


@router.put(
    "/channels/{code}/stock-rule",
    response_model=ChannelStockRule,
    responses=responses("forbidden", "not_found"),
)
async def set_stock_rule(
    request: Request,
    code: str,
    body: ChannelStockRuleIn,
    actor: Actor = can(Action.MANAGE_SETTINGS),
) -> StockRuleView:
    """The channel's buffer (units, or a percent of what is available, rounding what may be
    sold down) and the SKUs and locations it sells (null: all)."""
    return await run_in_threadpool(
        channel_stock.set_rule,
        db_of(request),
        actor,
        code,
        command(StockRuleCommand, body),
    )


@router.get(
    "/channels/{code}/stock",
    response_model=ChannelStock,
    responses={
        **responses("forbidden", "not_found"),
        304: {"description": "Not modified: the numbers are those of the If-None-Match tag"},
    },
)
async def get_channel_stock(
    request: Request,
    code: str,
    limit: int = limit_query(200),
    cursor: str | None = None,
    if_none_match: str | None = Header(default=None),
    actor: Actor = can(Action.READ),
) -> Response:
    """What the channel may sell of each SKU it sells, by SKU: available across its
    locations less its buffer, never below 0. ``ETag`` is made from the numbers."""
    page = await run_in_threadpool(
        lambda: channel_stock.channel_stock(db_of(request), code, limit=limit, cursor=cursor)
    )
    etag = page["etag"]
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    # If-None-Match compares weakly (RFC 9110): a W/ prefix matches the same tag.
    wanted = {t.strip().removeprefix("W/") for t in (if_none_match or "").split(",")}
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    body = {k: v for k, v in page.items() if k != "etag"}
    return JSONResponse(ChannelStock.model_validate(body).model_dump(), headers=headers)
