"""Reports: the return rate by reason, SKU and carrier, for orders placed in a date range."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.reports import return_rates as reports
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.common_schemas import View
from dingdan.web.api.shared.deps import can, reports_db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["reports"])


class RateRow(View):
    key: str = Field(description="The reason code, SKU or carrier code ('' if unknown)")
    returned: int = Field(description="Units received back on returns")
    shipped: int = Field(description="Units shipped")
    rate: str | None = Field(description="returned / shipped in percent, one decimal")


class ReturnRates(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    date_from: date | None = Field(alias="from", description="First day of order placement")
    date_to: date | None = Field(alias="to", description="Last day of order placement")
    shipped: int
    returned: int
    rate: str | None
    by_reason: list[RateRow]
    by_sku: list[RateRow]
    by_carrier: list[RateRow]


@router.get("/reports/returns", response_model=ReturnRates, responses=responses("forbidden"))
async def return_rates(
    request: Request,
    date_from: date | None = Query(
        None, alias="from", description="Orders placed on or after this day (YYYY-MM-DD)"
    ),
    date_to: date | None = Query(
        None, alias="to", description="Orders placed on or before this day (YYYY-MM-DD)"
    ),
    actor: Actor = can(Action.READ),
) -> Any:
    """The return rate: units received back on returns over units shipped, of the orders
    placed from ``from`` to ``to`` (days in the business time zone, both included)."""
    return await run_in_threadpool(reports.return_rates, reports_db_of(request), date_from, date_to)
