"""RFM segments per customer (shared/CONTRACT.md, "Reports": ``reports/customers``) and
products bought together."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.personal_data import mask_email, mask_phone, sees_masked
from dingdan.domain.access.roles import Action
from dingdan.services.reports import recommendations, rfm
from dingdan.services.shared.common import Actor
from dingdan.web.api.reports.clv import Money
from dingdan.web.api.reports.report_files import FILES, file_answer
from dingdan.web.api.shared.common_schemas import Cursor, Timestamp, View
from dingdan.web.api.shared.deps import can, db_of, reports_db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["reports"])

SegmentName = Literal["champions", "loyal", "new", "at_risk", "hibernating", "lost"]


class RfmCustomer(View):
    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    orders: int = Field(description="Orders not cancelled")
    last_order_at: Timestamp
    recency_days: int = Field(description="Days from the last order to today")
    monetary: Money | None = Field(
        description="Orders' totals less refunds in the shop's main currency"
    )
    r: int = Field(ge=1, le=5)
    f: int = Field(ge=1, le=5)
    m: int = Field(ge=1, le=5)
    segment: SegmentName


class RfmPage(View):
    items: list[RfmCustomer]
    next_cursor: Cursor


class BoughtWith(View):
    sku: str
    name: str | None
    because_of: str = Field(description="The SKU asked about that leads to this one")
    together: int = Field(description="Orders holding both")
    support: float
    confidence: float
    lift: float


class BoughtWithList(View):
    items: list[BoughtWith]


RULES = (
    "Scores 1-5 are quintiles among the shop's customers (1 + ⌊5 × (customers worse + equal/2) "
    "/ all⌋). Segments, the first rule that holds: champions R≥4 and F≥4; loyal R≥3 and F≥3; "
    "new R≥3 and F≤2; at_risk R≤2 and F≥3; hibernating R=2; lost R=1."
)


@router.get(
    "/reports/customers",
    response_model=RfmPage,
    responses={**responses("forbidden"), **FILES},
)
async def rfm_customers(
    request: Request,
    segment: SegmentName | None = Query(None, description=RULES),
    sort: Literal["value", "orders", "last_order", "segment", "name"] = "value",
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    format: Literal["json", "csv", "xlsx"] = "json",
    actor: Actor = can(Action.READ),
) -> Any:
    """Recency, frequency and monetary scores and the RFM segment of every customer with an
    order (cancelled orders left out). Warehouse and viewer see contacts masked. With
    ``format=csv|xlsx``, every customer of the segment as one file (``limit`` and ``cursor``
    are for the JSON pages)."""
    if format != "json":
        masked = sees_masked(actor.role)
        rows = await run_in_threadpool(
            lambda: rfm.every_customer(
                reports_db_of(request), segment=segment, sort=sort, masked=masked
            )
        )
        return file_answer("customers-rfm", format, rfm.FILE_HEADER, rows)
    page = await run_in_threadpool(
        lambda: rfm.customers(
            reports_db_of(request), segment=segment, sort=sort, limit=limit, cursor=cursor
        )
    )
    masked = sees_masked(actor.role)
    items = []
    for c in page.items:
        item = {k: v for k, v in c.items() if k != "monetary_minor"}
        if masked:
            item["email"], item["phone"] = mask_email(c["email"]), mask_phone(c["phone"])
        items.append(item)
    return {"items": items, "next_cursor": page.next_cursor}


@router.get(
    "/reports/bought-together", response_model=BoughtWithList, responses=responses("forbidden")
)
async def bought_together(
    request: Request,
    sku: list[str] = Query(default_factory=list, max_length=50),
    limit: int = Query(5, ge=1, le=50),
    actor: Actor = can(Action.READ),
) -> Any:
    """Products often bought with any of ``sku`` (repeatable) and not among them, best lift
    first (association rules over the last year's orders, computed daily by the worker)."""
    items = await run_in_threadpool(recommendations.bought_with, db_of(request), sku, limit)
    return {"items": items}
