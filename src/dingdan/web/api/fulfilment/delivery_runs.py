"""Own delivery: a day's run per driver, its stops, proof of delivery and the day's cash.

Planning (create, add and remove orders, assign an area) needs ``fulfil``; delivering a
stop, recording a failed one and handing in the cash need ``deliver_runs`` (a driver: only
on their own runs, which are the only ones a driver sees); closing the run, which records
the COD payments, needs ``manage_payments``."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.fulfilment import delivery_run_queries as queries
from dingdan.services.fulfilment import delivery_runs
from dingdan.services.fulfilment.shapes import PlanningView, RunCommand, RunView
from dingdan.services.payments import transactions
from dingdan.services.shared import uploads
from dingdan.services.shared.common import Actor
from dingdan.web.api.fulfilment.delivery_run_schemas import (
    AreaIn,
    CashIn,
    CloseIn,
    FailIn,
    OrdersIn,
    Planning,
    Run,
    RunIn,
    RunPage,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["delivery runs"])
STEP = ("forbidden", "not_found", "invalid_transition")
BINARY = {"type": "string", "format": "binary"}


@router.post(
    "/delivery-runs",
    response_model=Run,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def create_run(request: Request, body: RunIn, actor: Actor = can(Action.FULFIL)) -> RunView:
    """A driver's run for a day (one per driver and day: 409), with orders on it if given."""
    return await run_in_threadpool(
        delivery_runs.create_run,
        db_of(request),
        actor,
        command(RunCommand, body, exclude_none=True),
    )


@router.get("/delivery-runs", response_model=RunPage, responses=responses("forbidden"))
async def list_runs(
    request: Request,
    date: str | None = Query(None, max_length=10, description="YYYY-MM-DD"),
    status: Literal["open", "closed"] | None = None,
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    """Newest day first. A driver sees only their own runs."""
    page = await run_in_threadpool(
        lambda: queries.list_runs(
            db_of(request), actor, on=date, status=status, limit=limit, cursor=cursor
        )
    )
    return page.as_dict()


@router.get("/delivery-planning", response_model=Planning, responses=responses("forbidden"))
async def planning(
    request: Request,
    date: str = Query(..., max_length=10, description="YYYY-MM-DD"),
    actor: Actor = can(Action.FULFIL),
) -> PlanningView:
    """Own-delivery shipments waiting for a run, by area (postal code), each with the run
    of that day suggested for it."""
    return await run_in_threadpool(queries.planning, db_of(request), date)


@router.get("/delivery-runs/{run_id}", response_model=Run, responses=responses(*STEP))
async def get_run(request: Request, run_id: str, actor: Actor = can(Action.READ)) -> RunView:
    """The run with its stops in address order (postal code, then street) and its cash."""
    return await run_in_threadpool(queries.get_run, db_of(request), actor, run_id)


@router.post("/delivery-runs/{run_id}/orders", response_model=Run, responses=responses(*STEP))
async def add_orders(
    request: Request, run_id: str, body: OrdersIn, actor: Actor = can(Action.FULFIL)
) -> RunView:
    """Each order's own-delivery shipments on the road become stops of the run."""
    return await run_in_threadpool(
        delivery_runs.add_orders, db_of(request), actor, run_id, body.orders
    )


@router.post("/delivery-runs/{run_id}/areas", response_model=Run, responses=responses(*STEP))
async def assign_area(
    request: Request, run_id: str, body: AreaIn, actor: Actor = can(Action.FULFIL)
) -> RunView:
    """Every shipment waiting in the area onto the run."""
    return await run_in_threadpool(
        delivery_runs.assign_area, db_of(request), actor, run_id, body.area
    )


@router.delete(
    "/delivery-runs/{run_id}/orders/{number}", response_model=Run, responses=responses(*STEP)
)
async def remove_order(
    request: Request, run_id: str, number: str, actor: Actor = can(Action.FULFIL)
) -> RunView:
    return await run_in_threadpool(
        delivery_runs.remove_order, db_of(request), actor, run_id, number
    )


@router.post(
    "/delivery-runs/{run_id}/stops/{stop_id}/deliver",
    response_model=Run,
    responses=responses(*STEP),
)
async def deliver_stop(
    request: Request,
    run_id: str,
    stop_id: str,
    photo: UploadFile | None = File(None, description="JPEG, PNG or WebP"),
    signature: UploadFile | None = File(None, description="PNG"),
    cod_collected: str | None = Form(None, max_length=20, description="the whole due unless given"),
    note: str | None = Form(None, max_length=500),
    actor: Actor = can(Action.DELIVER_RUNS),
) -> RunView:
    """Delivered, with a photo and/or a signature (at least one): the shipment is delivered
    as any delivery is, the files kept as evidence."""
    limit = uploads.max_upload_bytes()
    shot = (photo.filename, await photo.read(limit + 1)) if photo is not None else None
    sig = await signature.read(limit + 1) if signature is not None else None
    return await run_in_threadpool(
        lambda: delivery_runs.deliver_stop(
            db_of(request),
            actor,
            run_id,
            stop_id,
            photo=shot,
            signature=sig,
            cod_collected=cod_collected,
            note=note,
        )
    )


@router.post(
    "/delivery-runs/{run_id}/stops/{stop_id}/fail", response_model=Run, responses=responses(*STEP)
)
async def fail_stop(
    request: Request,
    run_id: str,
    stop_id: str,
    body: FailIn,
    actor: Actor = can(Action.DELIVER_RUNS),
) -> RunView:
    return await run_in_threadpool(
        delivery_runs.fail_stop, db_of(request), actor, run_id, stop_id, body.reason, body.note
    )


@router.get(
    "/delivery-runs/{run_id}/stops/{stop_id}/{which}",
    responses={
        **responses("forbidden", "not_found", "conflict"),
        200: {"description": "The file", "content": {"image/png": {"schema": BINARY}}},
    },
    response_class=Response,
)
async def proof_file(
    request: Request,
    run_id: str,
    stop_id: str,
    which: Literal["photo", "signature"],
    actor: Actor = can(Action.READ),
) -> Response:
    """The stop's photo or signature."""
    data, kind, name = await run_in_threadpool(
        delivery_runs.proof_file, db_of(request), actor, run_id, stop_id, which
    )
    headers = {
        "Content-Disposition": f'inline; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(content=data, media_type=kind, headers=headers)


@router.post("/delivery-runs/{run_id}/cash", response_model=Run, responses=responses(*STEP))
async def hand_in_cash(
    request: Request, run_id: str, body: CashIn, actor: Actor = can(Action.DELIVER_RUNS)
) -> RunView:
    """The cash the driver hands in at the day's end."""
    return await run_in_threadpool(
        delivery_runs.hand_in_cash, db_of(request), actor, run_id, body.amount
    )


@router.post("/delivery-runs/{run_id}/close", response_model=Run, responses=responses(*STEP))
async def close_run(
    request: Request, run_id: str, body: CloseIn, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> RunView:
    """Every stop visited and the cash handed in: one COD payment per order collected."""
    return await run_in_threadpool(
        delivery_runs.close_run, db_of(request), actor, run_id, body.note, transactions.settle_cod
    )
