"""Planning (預測): the SKUs that will run out before the next delivery could arrive, the
orders at risk of missing their stage's limit, and a forecast page per SKU (its demand
history and forecast as an inline SVG chart, the model's accuracy against the naive
forecast, its ABC/XYZ class and its stock-out days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from dingdan.domain.shared.errors import DomainError
from dingdan.services.purchasing import abc, forecasts, planning
from dingdan.services.purchasing.shapes import BacktestView
from dingdan.services.reports import at_risk
from dingdan.services.reports.export_files import CSV_TYPE, csv_chunks
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared.core import PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)
HISTORY_DAYS = 91
HORIZONS = (7, 28, 91)


@router.get("/planning")
def planning_page(request: Request, page: User) -> Response:
    db = request.app.state.db
    sku = (request.query_params.get("sku") or "").strip()[:64]
    if sku:
        return page.redirect(f"/planning/forecasts/{quote(sku, safe='')}")
    return page.render(
        "purchasing/forecast_planning.html",
        running_out=planning.running_out(db)[:100],
        risk=at_risk.orders_at_risk(db),
        lead_time=db.read(planning.lead_time_days),
    )


@router.get("/planning/abc.csv")
def abc_file(request: Request, page: User) -> Response:
    """The ABC/XYZ report of the last 365 days as CSV, for the signed-in back office (the
    API's ``/api/v1/reports/abc?format=csv`` takes a token)."""
    db = request.app.state.db
    end = forecasts.seller_today() - timedelta(days=1)
    currency = (request.query_params.get("currency") or "").strip()[:3] or None
    try:
        found = abc.report(db, end - timedelta(days=364), end, currency)
    except DomainError as exc:
        return page.render(
            "purchasing/forecast.html",
            status=status_of(exc),
            error=page.error(exc),
            sku="",
            data=None,
        )
    return StreamingResponse(
        csv_chunks(abc.HEADER, abc.rows(found)),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": 'attachment; filename="abc.csv"'},
    )


@dataclass(frozen=True)
class Chart:
    """An inline SVG line chart: history (solid) then forecast (dashed)."""

    width: int
    height: int
    history: str
    forecast: str
    top: float
    split_x: float
    first: date
    split: date
    last: date


def chart(first: date, past: list[float], ahead: list[float], w: int = 720, h: int = 220) -> Chart:
    values = past + ahead
    top = max([*values, 1.0])
    n = max(len(values) - 1, 1)
    pad = 8

    def point(i: int, v: float) -> str:
        x = pad + (w - 2 * pad) * i / n
        y = h - pad - (h - 2 * pad) * v / top
        return f"{x:.1f},{y:.1f}"

    hist = " ".join(point(i, v) for i, v in enumerate(past))
    start = max(len(past) - 1, 0)
    joined = ([past[-1]] if past else []) + ahead
    fut = " ".join(point(start + i, v) for i, v in enumerate(joined))
    split_x = pad + (w - 2 * pad) * start / n
    return Chart(
        w,
        h,
        hist,
        fut,
        top,
        split_x,
        first,
        first + timedelta(days=len(past)),
        first + timedelta(days=len(values) - 1),
    )


@router.get("/planning/forecasts/{sku}")
def forecast_page(request: Request, sku: str, page: User) -> Response:
    db = request.app.state.db
    location = (request.query_params.get("location") or "").strip()[:32] or None
    try:
        horizon = int(request.query_params.get("horizon") or 28)
    except ValueError:
        horizon = 28
    horizon = horizon if horizon in HORIZONS else 28
    try:
        found = forecasts.forecast(db, sku, horizon, location)
        past = forecasts.history(db, sku, location, HISTORY_DAYS)
    except DomainError as exc:
        return page.render(
            "purchasing/forecast.html",
            status=status_of(exc),
            error=page.error(exc),
            sku=sku,
            data=None,
        )
    ahead = [float(Decimal(d["quantity"])) for d in found["daily"]]
    first = min(past) if past else forecasts.seller_today()
    picture = chart(first, list(past.values()), ahead)
    return page.render(
        "purchasing/forecast.html",
        error=None,
        sku=sku,
        data=found,
        chart=picture,
        horizon=horizon,
        horizons=HORIZONS,
        location=location or "",
        total=sum(ahead),
        classes=abc.classes(db, sku),
        stockouts=planning.stockouts(db, sku=sku),
        accuracy=_accuracy(found["backtest"]),
    )


def _accuracy(backtest: BacktestView) -> str | None:
    """better | worse | None: the model against the naive forecast on the holdout."""
    mase, naive = backtest.get("mase"), backtest.get("naive_mase")
    if mase is None or naive is None:
        return None
    return "better" if mase < naive else "worse"
