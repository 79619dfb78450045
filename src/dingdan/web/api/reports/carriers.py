"""GET /api/v1/reports/carriers, and the days each carrier promises (a setting per carrier
and region)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.reports import carrier_reports as reports
from dingdan.services.reports.shapes import PromiseCommand
from dingdan.services.shared.common import Actor
from dingdan.web.api.reports.report_common import (
    ANSWERS,
    CURRENCY,
    FORMAT,
    FROM,
    TO,
    Ranged,
    Rate,
    answer,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of, reports_db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["reports"])


class Transit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int
    shipments: int


class CarrierRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: str
    shipments: int
    units: int
    delivered: int
    median_transit_days: int | None
    p90_transit_days: int | None
    transit_days: list[Transit]
    on_time_rate: Rate
    exception_rate: Rate
    loss_rate: Rate
    return_rate: Rate


class Carriers(Ranged):
    items: list[CarrierRow]


class Promise(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: str
    region: str
    days: int


class Promises(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_days: int
    items: list[Promise]


class PromiseIn(BaseModel):
    carrier: str
    region: str = ""
    days: int | None = None


@router.get("/reports/carriers", response_model=Carriers, responses=ANSWERS)
async def carriers(
    request: Request,
    date_from: str | None = FROM,
    date_to: str | None = TO,
    currency: str | None = CURRENCY,
    format: str | None = FORMAT,
    actor: Actor = can(Action.READ),
) -> Any:
    """Per carrier, of the orders placed in the range: shipments, transit days (the
    distribution, median and 90th percentile), the on-time rate against the promised days,
    and the exception, loss and return rates."""
    db = reports_db_of(request)
    return await answer(
        "carriers", format, lambda: reports.carriers(db, date_from, date_to, currency)
    )


@router.get("/reports/carriers/promises", response_model=Promises, responses=responses("forbidden"))
async def promises(request: Request, actor: Actor = can(Action.READ)) -> Any:
    """The transit days each carrier promises per region ("" for everywhere else)."""
    return await run_in_threadpool(reports.list_promises, db_of(request))


@router.put("/reports/carriers/promises", response_model=Promises, responses=responses("forbidden"))
async def set_promise(
    request: Request,
    body: PromiseIn = Body(...),
    actor: Actor = can(Action.MANAGE_SETTINGS),
) -> Any:
    """Set (or with ``days`` null, remove) the days ``carrier`` promises to ``region``."""
    cmd = command(PromiseCommand, body)
    return await run_in_threadpool(reports.set_promise, db_of(request), actor, cmd)
