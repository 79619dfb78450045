"""The list pages' Export buttons: ``/exports/{kind}.csv`` and ``.xlsx`` with the page's own
filters, streamed as the API's ``GET /api/v1/exports/{kind}`` streams them."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from dingdan.services.reports import exports
from dingdan.web import i18n
from dingdan.web.pages.shared.core import PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _params(request: Request) -> dict[str, str]:
    """The list page's query as the export's filters: ``placed=today`` (the dashboard's
    "Orders today") is ``from`` today; a page's cursor is not a filter."""
    params = {k: v for k, v in request.query_params.items() if k not in ("cursor", "placed")}
    if request.query_params.get("placed") == "today":
        params["from"] = datetime.now(i18n.TIMEZONE).date().isoformat()
    return params


@router.get("/exports/{kind}.{fmt}")
async def export_file(request: Request, kind: str, fmt: str, page: User) -> StreamingResponse:
    started = await run_in_threadpool(
        exports.start, request.app.state.reports_db, page.actor, kind, fmt, _params(request)
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{started.filename}"',
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(started.chunks, media_type=started.media_type, headers=headers)
