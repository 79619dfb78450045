"""The Reports section (報表): an index, and sales, top-N, KPIs, the weekday × hour heat map,
carriers and stock-outs, each with a date range (presets or custom), the period before it
for comparison, a chart (plotly's own bundled JS, served from the package: no CDN), a table
and CSV/XLSX downloads. Every figure comes from the services the API uses."""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from dingdan.domain.shared.errors import DomainError, ValidationFailed
from dingdan.services.reports import carrier_reports, kpis, report_files, sales, stockouts, top
from dingdan.services.reports.labels import weekday
from dingdan.services.reports.rollup_reads import today
from dingdan.services.reports.shapes import (
    HeatmapCell,
    RangeView,
    ReportView,
    SalesItem,
    SalesView,
    TopView,
)
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared.core import Page, PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PRESETS = ("today", "7d", "30d", "90d", "this_month", "last_month", "this_year", "custom")
REPORTS = ("sales", "top", "kpis", "heatmap", "carriers", "stockouts")
T = TypeVar("T")


class _SalesPage(SalesView, total=False):
    previous_items: list[SalesItem]  # the period before's, by time only


class _TopPage(TopView):
    previous: dict[str, str | int]  # key -> value in the period before


def preset_range(preset: str, now: date) -> tuple[date, date] | None:
    """The days a preset names, ending today (None: custom)."""
    if preset == "today":
        return now, now
    if preset in ("7d", "30d", "90d"):
        return now - timedelta(days=int(preset[:-1]) - 1), now
    if preset == "this_month":
        return now.replace(day=1), now
    if preset == "last_month":
        last = now.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last.replace(day=calendar.monthrange(last.year, last.month)[1])
    if preset == "this_year":
        return now.replace(month=1, day=1), now
    return None


def _filters(request: Request, *extra: str) -> dict[str, str]:
    q = request.query_params
    f = {k: (q.get(k) or "").strip()[:30] for k in ("range", "from", "to", "currency", *extra)}
    if f["range"] not in PRESETS:
        f["range"] = "custom" if f["from"] or f["to"] else "30d"
    days = preset_range(f["range"], today())
    if days is not None:
        f["from"], f["to"] = days[0].isoformat(), days[1].isoformat()
    return f


def _query(f: dict[str, str], **over: str) -> str:
    return urlencode({k: v for k, v in {**f, **over}.items() if v})


def _run(page: Page, make: Callable[[], T]) -> tuple[T | None, Any, int]:
    try:
        return make(), None, 200
    except DomainError as exc:
        return None, page.error(exc), status_of(exc)


def _chart(spec: dict[str, Any]) -> Markup:
    """The chart's data for static/reports.js, as JSON no HTML parser can break out of."""
    text = json.dumps(spec, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text.replace("&", "\\u0026"))  # noqa: S704 - escaped just above


def _page(page: Page, name: str, f: dict[str, str], data: Any, error: Any, status: int,
          chart: dict[str, Any] | None = None, **values: Any) -> Response:  # fmt: skip
    return page.render(
        f"reports/{name}.html", status=status, f=f, data=data, error=error, presets=PRESETS,
        query=_query(f), report=name, chart=_chart(chart) if chart else None, **values,
    )  # fmt: skip


@router.get("/reports")
def index(request: Request, page: User) -> Response:
    return page.render("reports/index.html", reports=REPORTS)


@router.get("/reports/sales")
def sales_page(request: Request, page: User) -> Response:
    db = request.app.state.reports_db
    f = _filters(request, "group_by", "cursor")
    group = f["group_by"] if f["group_by"] in sales.GROUPS else "day"
    f["group_by"] = group

    def make() -> _SalesPage:
        now = sales.sales(db, group, f["from"], f["to"], f["currency"], locale=page.language,
                          cursor=f["cursor"] or None)  # fmt: skip
        if group in sales.TIME and now["currency"]:
            before = sales.sales(db, group, *_previous(now), now["currency"], locale=page.language)
            return {**now, "previous_items": before["items"]}
        return {**now}

    data, error, status = _run(page, make)
    chart = _sales_chart(page, data, group) if data else None
    return _page(page, "sales", f, data, error, status, chart, groups=sales.GROUPS)


def _previous(report: RangeView) -> tuple[str, str]:
    start, end = report["from"], report["to"]
    days = (end - start).days + 1
    return (start - timedelta(days=days)).isoformat(), (start - timedelta(days=1)).isoformat()


def _sales_chart(page: Page, data: _SalesPage, group: str) -> dict[str, Any]:
    items = data["items"] if group in sales.TIME else data["items"][:50]
    x = [i["label"] or "—" for i in items]
    traces = [{"type": "bar" if group not in sales.TIME else "scatter", "name": page.gettext(
        "This period"), "x": x, "y": [float(i["revenue"]) for i in items]}]  # fmt: skip
    if data.get("previous_items"):
        prev = data["previous_items"][: len(items)]
        ys = [float(i["revenue"]) for i in prev]
        traces.append({"type": "scatter", "name": page.gettext("Previous period"), "x": x,
                       "y": ys, "line": {"dash": "dot"}})  # fmt: skip
    return {"traces": traces, "title": page.gettext("Revenue")}


@router.get("/reports/top")
def top_page(request: Request, page: User) -> Response:
    db = request.app.state.reports_db
    f = _filters(request, "dimension", "metric", "limit")
    f["dimension"] = f["dimension"] if f["dimension"] in top.ALL else "products"
    f["metric"] = f["metric"] if f["metric"] in top.METRICS else "revenue"
    digits = re.fullmatch(r"[0-9]{1,3}", f["limit"])
    limit = int(f["limit"]) if digits and 1 <= int(f["limit"]) <= 100 else 10
    f["limit"] = str(limit)

    def make() -> _TopPage:
        now = top.top(db, f["dimension"], f["metric"], limit, f["from"], f["to"], f["currency"],
                      locale=page.language)  # fmt: skip
        previous: dict[str, str | int] = {}
        if now["currency"]:
            before = top.top(db, f["dimension"], f["metric"], 1000, *_previous(now),
                             now["currency"], locale=page.language)  # fmt: skip
            previous = {i["key"]: i["value"] for i in before["items"]}
        return {**now, "previous": previous}

    data, error, status = _run(page, make)
    chart = None
    if data:
        items = list(reversed(data["items"]))
        xs = [float(i["value"]) for i in items]
        chart = {"traces": [{"type": "bar", "orientation": "h", "x": xs,
                 "y": [i["label"] or "—" for i in items]}], "title": ""}  # fmt: skip
    return _page(page, "top", f, data, error, status, chart, dimensions=top.ALL,
                 metrics=tuple(top.METRICS))  # fmt: skip


@router.get("/reports/kpis")
def kpis_page(request: Request, page: User) -> Response:
    db = request.app.state.reports_db
    f = _filters(request)
    data, error, status = _run(page, lambda: kpis.kpis(db, f["from"], f["to"], f["currency"]))
    chart = None
    if data:
        names = ("fill_rate", "on_time_ship_rate", "perfect_order_rate", "cancel_rate",
                 "return_rate", "backorder_rate")  # fmt: skip
        now: Mapping[str, object] = data  # read by the rates' names
        before: Mapping[str, object] = data["previous"]
        chart = {"traces": [
            {"type": "bar", "name": page.gettext("This period"), "x": list(names),
             "y": [now[n] for n in names]},
            {"type": "bar", "name": page.gettext("Previous period"), "x": list(names),
             "y": [before[n] for n in names]},
        ], "title": ""}  # fmt: skip
    return _page(page, "kpis", f, data, error, status, chart, definitions=kpis.DEFINITIONS)


@router.get("/reports/heatmap")
def heatmap_page(request: Request, page: User) -> Response:
    db = request.app.state.reports_db
    f = _filters(request, "metric")
    f["metric"] = f["metric"] if f["metric"] in ("orders", "units", "revenue") else "orders"
    data, error, status = _run(page, lambda: sales.heatmap(db, f["from"], f["to"], f["currency"]))
    days = [weekday(w, page.language) for w in range(1, 8)]
    chart = None
    if data:
        grid = [[0.0] * 24 for _ in range(7)]
        for c in data["cells"]:
            grid[c["weekday"] - 1][c["hour"]] = _measure(c, f["metric"])
        chart = {"traces": [{"type": "heatmap", "z": grid, "x": list(range(24)), "y": days,
                 "colorscale": "Blues", "reversescale": True}], "title": ""}  # fmt: skip
    return _page(page, "heatmap", f, data, error, status, chart, days=days)


def _measure(cell: HeatmapCell, metric: str) -> float:
    """The cell's orders, units or revenue."""
    if metric == "units":
        return float(cell["units"])
    if metric == "revenue":
        return float(cell["revenue"])
    return float(cell["orders"])


@router.get("/reports/carriers")
def carriers_page(request: Request, page: User) -> Response:
    db = request.app.state.reports_db
    f = _filters(request)
    data, error, status = _run(
        page, lambda: carrier_reports.carriers(db, f["from"], f["to"], f["currency"])
    )
    chart = None
    if data:
        chart = {"traces": [{"type": "bar", "name": page.carrier_name(i["carrier"]) or i["carrier"],
                 "x": [t["days"] for t in i["transit_days"]],
                 "y": [t["shipments"] for t in i["transit_days"]]} for i in data["items"]],
                 "title": page.gettext("Days in transit")}  # fmt: skip
    return _page(page, "carriers", f, data, error, status, chart,
                 promises=carrier_reports.list_promises(request.app.state.db))  # fmt: skip


@router.get("/reports/stockouts")
def stockouts_page(request: Request, page: User) -> Response:
    db = request.app.state.reports_db
    f = _filters(request)
    data, error, status = _run(
        page, lambda: stockouts.stockouts(db, f["from"], f["to"], f["currency"], 50)
    )
    chart = None
    if data:
        items = list(reversed(data["items"][:20]))
        chart = {"traces": [{"type": "bar", "orientation": "h", "y": [i["sku"] for i in items],
                 "x": [i["stockout_days"] for i in items]}],
                 "title": page.gettext("Stock-out days")}  # fmt: skip
    return _page(page, "stockouts", f, data, error, status, chart)


MAKERS: dict[str, Callable[[Any, dict[str, str], str], ReportView]] = {
    "sales": lambda db, f, lang: sales.sales(db, f.get("group_by") or "day", f["from"], f["to"],
                                             f["currency"], locale=lang, limit=200),
    "top": lambda db, f, lang: top.top(db, f.get("dimension") or "products",
                                       f.get("metric") or "revenue", 100, f["from"], f["to"],
                                       f["currency"], locale=lang),
    "kpis": lambda db, f, lang: kpis.kpis(db, f["from"], f["to"], f["currency"]),
    "heatmap": lambda db, f, lang: sales.heatmap(db, f["from"], f["to"], f["currency"]),
    "carriers": lambda db, f, lang: carrier_reports.carriers(db, f["from"], f["to"],
                                                             f["currency"]),
    "stockouts": lambda db, f, lang: stockouts.stockouts(db, f["from"], f["to"], f["currency"]),
}  # fmt: skip


@router.get("/reports/{name}/download.{fmt}")
async def download(request: Request, name: str, fmt: str, page: User) -> Response:
    """The report on the page as a file, with the page's range and choices."""
    if name not in MAKERS or fmt not in ("csv", "xlsx"):
        return Response("Not found", status_code=404, media_type="text/plain")
    f = _filters(request, "group_by", "dimension", "metric")
    db = request.app.state.reports_db
    try:
        report = await run_in_threadpool(MAKERS[name], db, f, page.language)
    except ValidationFailed as exc:
        return Response(exc.detail, status_code=422, media_type="text/plain")
    made = report_files.report_file(name, fmt, report)
    headers = {"Content-Disposition": f'attachment; filename="{made.filename}"',
               "Cache-Control": "private, no-store"}  # fmt: skip
    return StreamingResponse(made.chunks, media_type=made.media_type, headers=headers)
