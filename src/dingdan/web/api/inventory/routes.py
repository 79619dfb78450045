"""Stock: receipts, adjustments, transfers, levels, the ledger."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.inventory import stock
from dingdan.services.inventory.shapes import (
    AdjustmentCommand,
    AdjustmentView,
    ReceiptCommand,
    ReceiptView,
    TransferCommand,
    TransferView,
)
from dingdan.services.shared.common import Actor
from dingdan.services.shared.view_types import StockView
from dingdan.web.api.catalog.schemas import (
    Adjustment,
    LevelPage,
    MovementPage,
    Receipt,
    Stock,
    Transfer,
)
from dingdan.web.api.inventory.schemas import AdjustmentIn, ReceiptIn, TransferIn
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"])


@router.post("/receipts", response_model=Receipt, status_code=201, responses=responses("forbidden"))
async def receive(
    request: Request, body: ReceiptIn, actor: Actor = can(Action.MANAGE_STOCK)
) -> ReceiptView:
    cmd = command(ReceiptCommand, body)
    return await run_in_threadpool(stock.receive, db_of(request), actor, cmd)


@router.post(
    "/adjustments",
    response_model=Adjustment,
    status_code=201,
    responses=responses("forbidden", "insufficient_stock"),
)
async def adjust(
    request: Request, body: AdjustmentIn, actor: Actor = can(Action.MANAGE_STOCK)
) -> AdjustmentView:
    cmd = command(AdjustmentCommand, body)
    return await run_in_threadpool(stock.adjust, db_of(request), actor, cmd)


@router.post(
    "/transfers",
    response_model=Transfer,
    status_code=201,
    responses=responses("forbidden", "insufficient_stock"),
)
async def transfer(
    request: Request, body: TransferIn, actor: Actor = can(Action.MANAGE_STOCK)
) -> TransferView:
    cmd = command(TransferCommand, body)
    return await run_in_threadpool(stock.transfer, db_of(request), actor, cmd)


@router.get("", response_model=LevelPage, responses=responses("forbidden"))
async def levels(
    request: Request,
    location: str | None = Query(None, max_length=32),
    low_stock: bool = False,
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: stock.levels(
            db_of(request), location=location, low_stock=low_stock, limit=limit, cursor=cursor
        )
    )
    return page.as_dict()


@router.get("/{sku}", response_model=Stock, responses=responses("forbidden", "not_found"))
async def stock_of(request: Request, sku: str, actor: Actor = can(Action.READ)) -> StockView:
    return await run_in_threadpool(stock.stock_of, db_of(request), sku)


@router.get(
    "/{sku}/movements", response_model=MovementPage, responses=responses("forbidden", "not_found")
)
async def movements(
    request: Request,
    sku: str,
    location: str | None = Query(None, max_length=32),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: stock.movements(db_of(request), sku, location=location, limit=limit, cursor=cursor)
    )
    return page.as_dict()
