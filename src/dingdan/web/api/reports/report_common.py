"""What the reports' routes share: the range and currency parameters, the answer as JSON or
as a file (``format=csv|xlsx``), and the models every report is made of."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from dingdan.services.reports import report_files
from dingdan.services.reports.export_files import CSV_TYPE, XLSX_TYPE
from dingdan.services.reports.shapes import ReportView
from dingdan.web.api.shared.common_schemas import Amount
from dingdan.web.api.shared.errors import responses

FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report as JSON, or as a file with format=csv|xlsx",
        "content": {
            CSV_TYPE: {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
ANSWERS = responses("forbidden") | FILES  # type: ignore[operator]

FROM = Query(
    None,
    alias="from",
    description="First day, included (YYYY-MM-DD, seller's time zone); default 29 days before `to`",
)  # noqa: E501
TO = Query(None, alias="to", description="Last day, included (YYYY-MM-DD); default today")
CURRENCY = Query(None, description="ISO 4217; required when orders in several fall in the range")
FORMAT = Query(None, description="csv or xlsx for a file; JSON otherwise")
Rate = float | None


class Ranged(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    date_from: date = Field(alias="from", description="First day, included")
    date_to: date = Field(alias="to", description="Last day, included")
    currency: str | None = Field(description="The currency of every amount (null: no orders)")


class Totals(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: int
    units: int
    revenue: Amount
    average_order_value: Amount | None


async def answer(kind: str, fmt: str | None, make: Callable[[], ReportView]) -> Any:
    """The report ``make`` computes, as JSON, or streamed as the file ``fmt`` asks for."""
    wanted = report_files.check_format(fmt)
    report = await run_in_threadpool(make)
    if wanted is None:
        return report
    made = report_files.report_file(kind, wanted, report)
    headers = {
        "Content-Disposition": f'attachment; filename="{made.filename}"',
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(made.chunks, media_type=made.media_type, headers=headers)
