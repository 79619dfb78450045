"""Demand forecasts (shared/CONTRACT.md, "Forecasts")."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.purchasing import forecasts
from dingdan.services.purchasing.shapes import ForecastView
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.common_schemas import Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["forecasts"])


class Backtest(View):
    mase: float | None = Field(
        description="MASE of the model on the last `horizon` days held out (its mean absolute "
        "error over the in-sample one-step naive forecast's); null where undefined"
    )
    naive_mase: float | None = Field(description="The same measure for the naive forecast")


class Day(View):
    date: str = Field(description="YYYY-MM-DD, the seller's time zone", examples=["2026-12-08"])
    quantity: str = Field(description="Units expected, two decimals, >= 0", examples=["3.25"])


class ForecastOut(View):
    sku: str
    model: str = Field(description="The model the backtest chose (Zero: no history)")
    history_days: int = Field(description="Days of demand history the model was fitted on")
    backtest: Backtest
    daily: list[Day]
    demand_class: str = Field(description="smooth, erratic, intermittent, lumpy or none")
    computed_at: Timestamp | None = Field(description="When the worker computed it")


@router.get(
    "/forecasts/{sku}",
    response_model=ForecastOut,
    responses=responses("forbidden", "not_found"),
)
async def get_forecast(
    request: Request,
    sku: str,
    horizon: int = Query(28, description="Days from tomorrow, 1 to 365"),
    location: str | None = Query(None, description="A location's code (default: all)"),
    actor: Actor = can(Action.READ),
) -> ForecastView:
    """Demand per day (units ordered; cancelled orders left out, backorders included) for
    ``horizon`` days from tomorrow, from the worker's latest computation (computed now for a
    SKU never computed), with the backtest of its model on the last ``horizon`` days held
    out. A SKU with no history forecasts zeros."""
    return await run_in_threadpool(
        forecasts.forecast, db_of(request), sku, horizon, location or None
    )
