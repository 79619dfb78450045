"""GET /api/v1/reports/sales and its weekday × hour heat map (shared/CONTRACT.md,
"Reports")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from dingdan.domain.access.roles import Action
from dingdan.services.reports import sales as reports
from dingdan.services.shared.common import Actor
from dingdan.web.api.reports.report_common import (
    ANSWERS,
    CURRENCY,
    FORMAT,
    FROM,
    TO,
    Ranged,
    Totals,
    answer,
)
from dingdan.web.api.shared.common_schemas import Amount, Cursor
from dingdan.web.api.shared.deps import can, reports_db_of
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["reports"])


class SalesItem(Totals):
    key: str
    label: str


class Sales(Ranged):
    group_by: str
    items: list[SalesItem]
    total: Totals
    previous: Totals
    next_cursor: Cursor


class Cell(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekday: int
    hour: int
    orders: int
    units: int
    revenue: Amount


class Heatmap(Ranged):
    cells: list[Cell]


@router.get("/reports/sales", response_model=Sales, responses=ANSWERS)
async def sales(
    request: Request,
    group_by: str = Query(
        "day",
        description="day, week, month, channel, country, region, product, style (the "
        "variants of a style rolled up; a SKU of no style on its own), category, brand or "
        "customer (paged)",
    ),
    date_from: str | None = FROM,
    date_to: str | None = TO,
    currency: str | None = CURRENCY,
    cursor: str | None = Query(None, description="group_by=customer: the next page"),
    limit: int = limit_query(description="group_by=customer: customers per page (1-200)"),
    format: str | None = FORMAT,
    actor: Actor = can(Action.READ),
) -> Any:
    """Orders, units and revenue net of refunds, grouped; ``previous`` is the total of as
    many days just before. Customers are paged by id (as text); every other grouping
    answers whole."""
    db = reports_db_of(request)
    return await answer(
        "sales",
        format,
        lambda: reports.sales(
            db, group_by, date_from, date_to, currency, cursor=cursor, limit=limit
        ),  # fmt: skip
    )


@router.get("/reports/sales/heatmap", response_model=Heatmap, responses=ANSWERS)
async def heatmap(
    request: Request,
    date_from: str | None = FROM,
    date_to: str | None = TO,
    currency: str | None = CURRENCY,
    format: str | None = FORMAT,
    actor: Actor = can(Action.READ),
) -> Any:
    """Orders, units and revenue by weekday (1 Monday) and hour, every cell present."""
    db = reports_db_of(request)
    return await answer(
        "heatmap", format, lambda: reports.heatmap(db, date_from, date_to, currency)
    )
