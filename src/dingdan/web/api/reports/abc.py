"""The ABC report (shared/CONTRACT.md, "Reports"), with each SKU's XYZ class beside it."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.purchasing import abc
from dingdan.services.reports.export_files import (
    CSV_TYPE,
    MEDIA_TYPES,
    XLSX_TYPE,
    csv_chunks,
    xlsx_chunks,
)
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.common_schemas import Amount, View
from dingdan.web.api.shared.deps import can, reports_db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["reports"])


class AbcItem(View):
    sku: str
    revenue: Amount = Field(description="Line amounts of the SKU in the range")
    share: float = Field(description="Its share of the revenue, 0 to 1")
    cumulative_share: float = Field(description="The share of the SKUs up to it, 0 to 1")
    class_: str = Field(alias="class", description="A, B or C")
    xyz: str = Field(description="X, Y or Z: the variability of its weekly demand")
    cv: float | None = Field(description="Coefficient of variation of its weekly units")


class AbcReport(View):
    currency: str | None = Field(description="The currency of the revenues")
    items: list[AbcItem]


FILES = {
    200: {
        "description": "The report; with format=csv|xlsx, the file",
        "content": {
            CSV_TYPE: {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get(
    "/reports/abc",
    response_model=AbcReport,
    response_model_by_alias=True,
    responses=responses("forbidden") | FILES,  # type: ignore[operator]
)
async def abc_report(
    request: Request,
    date_from: date | None = Query(None, alias="from", description="First day (YYYY-MM-DD)"),
    date_to: date | None = Query(None, alias="to", description="Last day, included"),
    currency: str | None = Query(None, description="Required when several currencies"),
    format: str | None = Query(None, description="csv or xlsx for a file; JSON otherwise"),
    actor: Actor = can(Action.READ),
) -> Any:
    """SKUs by revenue, largest first (ties by SKU): ``A`` when the SKUs before it hold under
    80% of revenue, ``B`` under 95%, else ``C`` (thresholds in settings, ``abc_thresholds``);
    ``xyz`` by the coefficient of variation of its weekly units (X under 0.5, Y under 1)."""
    if format not in (None, "csv", "xlsx"):
        raise ValidationFailed.on("format", "invalid", reason="csv or xlsx")
    found = await run_in_threadpool(
        abc.report, reports_db_of(request), date_from, date_to, currency
    )
    if format is None:
        return found
    data = abc.rows(found)
    chunks = (
        csv_chunks(abc.HEADER, data) if format == "csv" else xlsx_chunks(abc.HEADER, data, "ABC")
    )
    headers = {"Content-Disposition": f'attachment; filename="abc.{format}"'}
    return StreamingResponse(chunks, media_type=MEDIA_TYPES[format], headers=headers)
