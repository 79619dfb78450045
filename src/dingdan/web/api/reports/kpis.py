"""GET /api/v1/reports/kpis (shared/CONTRACT.md, "Reports")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from dingdan.domain.access.roles import Action
from dingdan.services.reports import kpis as reports
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
from dingdan.web.api.shared.common_schemas import Amount
from dingdan.web.api.shared.deps import can, reports_db_of

router = APIRouter(prefix="/api/v1", tags=["reports"])


class Figures(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: int
    revenue: Amount
    average_order_value: Amount | None
    cancel_rate: Rate
    return_rate: Rate
    fill_rate: Rate
    backorder_rate: Rate
    on_time_ship_rate: Rate
    median_hours_to_ship: int | None
    p90_hours_to_ship: int | None
    perfect_order_rate: Rate
    inventory_turnover: float | None
    days_of_supply: float | None
    csat: Rate
    average_rating: float | None
    ratings: int


class Kpis(Ranged, Figures):
    ship_limit_hours: int
    previous: Figures


@router.get("/reports/kpis", response_model=Kpis, responses=ANSWERS)
async def kpis(
    request: Request,
    date_from: str | None = FROM,
    date_to: str | None = TO,
    currency: str | None = CURRENCY,
    format: str | None = FORMAT,
    actor: Actor = can(Action.READ),
) -> Any:
    """The KPIs of the orders placed in the range, and of the period just before
    (``previous``). Definitions: the back office's KPI page, and services/reports/kpis.py."""
    db = reports_db_of(request)
    return await answer("kpis", format, lambda: reports.kpis(db, date_from, date_to, currency))
