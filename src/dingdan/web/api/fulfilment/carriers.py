"""Carriers: everyone may read them; changing them needs ``manage_settings``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.fulfilment import carriers, shapes
from dingdan.services.shared.common import Actor
from dingdan.web.api.fulfilment.schemas import (
    Carrier,
    CarrierIn,
    CarrierList,
    CarrierPatch,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["settings"])
WRITE = ("forbidden", "not_found", "conflict")


@router.get("/carriers", response_model=CarrierList, responses=responses("forbidden"))
async def list_carriers(
    request: Request, active: bool | None = None, actor: Actor = can(Action.READ)
) -> shapes.CarrierList:
    return await run_in_threadpool(lambda: carriers.list_carriers(db_of(request), active=active))


@router.get(
    "/carriers/{code}", response_model=Carrier, responses=responses("forbidden", "not_found")
)
async def get_carrier(
    request: Request, code: str, actor: Actor = can(Action.READ)
) -> shapes.CarrierView:
    return await run_in_threadpool(carriers.get_carrier, db_of(request), code)


@router.post(
    "/carriers",
    response_model=Carrier,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def create_carrier(
    request: Request, body: CarrierIn, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> shapes.CarrierView:
    return await run_in_threadpool(
        carriers.create_carrier, db_of(request), actor, command(shapes.CarrierCommand, body)
    )


@router.patch("/carriers/{code}", response_model=Carrier, responses=responses(*WRITE))
async def update_carrier(
    request: Request, code: str, body: CarrierPatch, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> shapes.CarrierView:
    """Default carriers may be changed or deactivated too; their first change stores a row."""
    return await run_in_threadpool(
        carriers.update_carrier,
        db_of(request),
        actor,
        code,
        command(shapes.CarrierChanges, body, exclude_unset=True),
    )
