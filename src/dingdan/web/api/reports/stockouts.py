"""GET /api/v1/reports/stockouts: the SKUs with the most stock-out days, and the revenue
backordered and lost to them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from dingdan.domain.access.roles import Action
from dingdan.services.reports import stockouts as reports
from dingdan.services.shared.common import Actor
from dingdan.web.api.reports.report_common import (
    ANSWERS,
    CURRENCY,
    FORMAT,
    FROM,
    TO,
    Ranged,
    answer,
)
from dingdan.web.api.shared.common_schemas import Amount
from dingdan.web.api.shared.deps import can, reports_db_of
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["reports"])


class StockoutRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str
    name: str
    stockout_days: int
    backordered_units: int
    backordered_revenue: Amount
    lost_units: int
    lost_revenue: Amount


class Stockouts(Ranged):
    items: list[StockoutRow]


@router.get("/reports/stockouts", response_model=Stockouts, responses=ANSWERS)
async def stockouts(
    request: Request,
    date_from: str | None = FROM,
    date_to: str | None = TO,
    currency: str | None = CURRENCY,
    limit: int = limit_query(100, most=10_000),
    format: str | None = FORMAT,
    actor: Actor = can(Action.READ),
) -> Any:
    """SKUs by stock-out days (days an order of it was placed with units backordered), then
    by revenue lost (backordered units later cancelled)."""
    db = reports_db_of(request)
    return await answer(
        "stockouts",
        format,
        lambda: reports.stockouts(db, date_from, date_to, currency, limit),
    )
