"""Exports of the lists as CSV or XLSX, streamed (shared/CONTRACT.md, "Order import and
export")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.reports import exports
from dingdan.services.reports.export_files import CSV_TYPE, XLSX_TYPE
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.deps import can, reports_db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["reports"])

FILES = {
    200: {
        "description": "The file, streamed",
        "content": {
            CSV_TYPE: {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def streamed(export: exports.Export) -> StreamingResponse:
    """The export's bytes as they are made, as an attachment named by kind and day."""
    headers = {
        "Content-Disposition": f'attachment; filename="{export.filename}"',
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(export.chunks, media_type=export.media_type, headers=headers)


@router.get(
    "/exports/{kind}",
    response_class=StreamingResponse,
    responses=responses("forbidden", "not_found") | FILES,  # type: ignore[operator]
)
async def export(
    request: Request,
    kind: str,
    format: str = Query("csv", description="csv (UTF-8 with a BOM) or xlsx"),
    date_from: str | None = Query(
        None, alias="from", description="From this day (YYYY-MM-DD, the seller's time zone)"
    ),
    date_to: str | None = Query(None, alias="to", description="To this day, included (YYYY-MM-DD)"),
    actor: Actor = can(Action.READ),
) -> Any:
    """The list ``kind`` (orders, order-lines, customers, products, inventory, movements,
    returns, payments) with the list's own filters as query parameters: orders and order-lines take
    ``status``, ``financial_status``, ``fulfillment_status``, ``channel``, ``q``,
    ``refund_due``; customers ``q``; products ``q``, ``active``, ``category``; inventory
    ``q``, ``location``, ``low_stock``; movements ``sku``, ``location``; returns ``status``,
    ``order``; payments ``type`` (payment, refund, authorization), ``provider``,
    ``method``. ``from`` and ``to`` pick orders, movements and payments by day. A text a spreadsheet
    would run as a formula is written with a leading apostrophe; times are in the seller's
    time zone; money is a decimal string. The customers export is refused to the roles that
    see emails masked."""
    params = dict(request.query_params)
    started = await run_in_threadpool(
        exports.start, reports_db_of(request), actor, kind, format, params
    )
    return streamed(started)
