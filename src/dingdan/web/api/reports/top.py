"""GET /api/v1/reports/top (shared/CONTRACT.md, "Reports")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from dingdan.domain.access.roles import Action
from dingdan.services.reports import top as reports
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
from dingdan.web.api.shared.deps import can, reports_db_of
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["reports"])


class TopItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    label: str
    value: str | int


class Top(Ranged):
    dimension: str
    metric: str
    items: list[TopItem]


@router.get("/reports/top", response_model=Top, responses=ANSWERS)
async def top(
    request: Request,
    dimension: str = Query(
        "products",
        description="products, customers, countries, regions, categories, brands, channels, "
        "days, weekdays or hours",
    ),
    metric: str = Query("revenue", description="revenue (a decimal string), units or orders"),
    limit: int = limit_query(10, most=1000),
    date_from: str | None = FROM,
    date_to: str | None = TO,
    currency: str | None = CURRENCY,
    format: str | None = FORMAT,
    actor: Actor = can(Action.READ),
) -> Any:
    """The largest keys of a dimension by a metric, largest first (ties by key)."""
    db = reports_db_of(request)
    return await answer(
        "top",
        format,
        lambda: reports.top(db, dimension, metric, limit, date_from, date_to, currency),
    )
