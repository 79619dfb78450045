"""Warehouse work: pick lists (JSON, CSV, printable page) and packing with scan checks.

Reading a pick list needs only ``read`` (it shows SKUs, quantities and order numbers, no
customer data, and changes nothing); recording picks and packing need ``fulfil``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.catalog import photos
from dingdan.services.fulfilment import packing, picking, shapes
from dingdan.services.shared.common import Actor
from dingdan.web.api.fulfilment.schemas import (
    PackCheck,
    PackIn,
    PackRecord,
    PackRecordList,
    PickIn,
    PickList,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["warehouse"])
PACK_ERRORS = ("forbidden", "not_found", "invalid_transition", "payment_required")
Orders = Query(
    None,
    max_length=200 * 41,
    description="comma-separated order numbers; without it, the oldest pickable orders",
)


def _numbers(orders: str | None) -> list[str] | None:
    return None if orders is None else [n for n in orders.split(",")]


def _csv_response(data: shapes.PickListView) -> Response:
    return Response(
        picking.pick_list_csv(data).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{picking.csv_filename(data)}"'},
    )


@router.get(
    "/locations/{code}/pick-list",
    response_model=PickList,
    responses=responses("forbidden", "not_found")
    | {200: {"content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}}},
)
async def pick_list(
    request: Request,
    code: str,
    orders: str | None = Orders,
    limit: int = limit_query(description="1 to 200; how many orders when none are named"),
    format: Literal["json", "csv"] = "json",
    actor: Actor = can(Action.READ),
) -> Any:
    data = await run_in_threadpool(picking.pick_list, db_of(request), code, _numbers(orders), limit)
    return _csv_response(data) if format == "csv" else data


@router.get(
    "/locations/{code}/pick-list.html",
    response_class=HTMLResponse,
    responses=responses("forbidden", "not_found"),
)
async def pick_list_page(
    request: Request,
    code: str,
    orders: str | None = Orders,
    limit: int = limit_query(description="1 to 200; how many orders when none are named"),
    actor: Actor = can(Action.READ),
) -> HTMLResponse:
    db = db_of(request)
    data = await run_in_threadpool(picking.pick_list, db, code, _numbers(orders), limit)
    # Each product's picture beside its line, inside the page (it fetches nothing).
    pictures = await run_in_threadpool(
        photos.thumbnail_data, db, [ln["sku"] for ln in data["lines"]]
    )
    return HTMLResponse(await run_in_threadpool(picking.pick_list_html, data, pictures))


@router.post(
    "/locations/{code}/pick-list",
    response_model=PickList,
    responses=responses("forbidden", "not_found"),
)
async def mark_picked(
    request: Request, code: str, body: PickIn, actor: Actor = can(Action.FULFIL)
) -> shapes.PickListView:
    """The pick list of these orders; records a "picked" event on each."""
    return await run_in_threadpool(picking.mark_picked, db_of(request), actor, code, body.orders)


@router.post(
    "/orders/{number}/pack",
    response_model=PackRecord,
    status_code=201,
    responses=responses(*PACK_ERRORS, "conflict"),
)
async def pack_order(
    request: Request, number: str, body: PackIn, actor: Actor = can(Action.FULFIL)
) -> shapes.PackRecordView:
    """Records a pack when the scans match the unshipped allocations there unit for unit;
    otherwise 422 listing each difference on ``scans``."""
    return await run_in_threadpool(
        packing.pack_order,
        db_of(request),
        actor,
        number,
        command(shapes.PackCommand, body, exclude_unset=True),
    )


@router.post(
    "/orders/{number}/pack/check", response_model=PackCheck, responses=responses(*PACK_ERRORS)
)
async def check_pack(
    request: Request, number: str, body: PackIn, actor: Actor = can(Action.FULFIL)
) -> shapes.PackCheckView:
    """Compares the scans so far without recording anything."""
    return await run_in_threadpool(
        packing.check_pack,
        db_of(request),
        number,
        command(shapes.PackCommand, body, exclude_unset=True),
    )


@router.get(
    "/orders/{number}/pack-records",
    response_model=PackRecordList,
    responses=responses("forbidden", "not_found"),
)
async def pack_records(
    request: Request, number: str, actor: Actor = can(Action.READ)
) -> shapes.PackRecordList:
    return await run_in_threadpool(packing.pack_records_of, db_of(request), number)
