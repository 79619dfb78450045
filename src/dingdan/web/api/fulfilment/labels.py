"""Carriers' pre-assigned number ranges (T-cat, HCT) and shipments' labels.

Ranges are settings (``manage_settings``); a label shows the recipient's address and phone,
so reading it needs ``fulfil`` (who prints and sticks it).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.fulfilment import labels, shapes
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.common_schemas import Cursor, Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["fulfilment"])

Digits = Field(min_length=1, max_length=20, description="as the carrier printed it")


class LabelRangeIn(Strict):
    carrier: Literal["tcat", "hct"]
    start: str = Digits
    end: str = Digits
    check_digit: Literal["mod7", "none"] | None = Field(
        default=None,
        description="mod7: the last digit is the rest modulo 7 (T-cat's default); none: HCT's",
    )


class LabelRange(View):
    id: str
    carrier: str
    start: str
    end: str
    check_digit: str
    next: str | None = Field(description="the next number to be taken; null: used up")
    used: int
    remaining: int
    created_by: str
    created_at: Timestamp


class LabelRangeList(View):
    items: list[LabelRange]
    next_cursor: Cursor


class LabelAddress(View):
    name: str
    phone: str
    postal_code: str
    region: str
    city: str
    line1: str
    line2: str
    country: str


class Label(View):
    shipment_id: str
    carrier: str
    number: str
    order: str
    location: str
    sender: LabelAddress
    recipient: LabelAddress
    cod: bool
    cod_amount: str | None
    currency: str
    pieces: int
    shipped_on: str
    width_mm: int
    height_mm: int


@router.post(
    "/label-ranges",
    response_model=LabelRange,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def add_label_range(
    request: Request, body: LabelRangeIn, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> shapes.LabelRangeView:
    """A range of tracking numbers the carrier assigned; a T-cat or HCT shipment created
    without a tracking number takes the next one, gapless."""
    return await run_in_threadpool(
        labels.add_range,
        db_of(request),
        actor,
        command(shapes.LabelRangeCommand, body, exclude_none=True),
    )


@router.get("/label-ranges", response_model=LabelRangeList, responses=responses("forbidden"))
async def list_label_ranges(
    request: Request,
    carrier: Literal["tcat", "hct"] | None = Query(None),
    actor: Actor = can(Action.READ),
) -> shapes.LabelRangeList:
    return await run_in_threadpool(labels.list_ranges, db_of(request), carrier)


@router.get(
    "/shipments/{shipment_id}/label",
    response_model=Label,
    responses=responses("forbidden", "not_found"),
)
async def shipment_label(
    request: Request, shipment_id: str, actor: Actor = can(Action.FULFIL)
) -> shapes.LabelView:
    """What the shipment's label prints (the printable page is /shipments/{id}/label)."""
    return await run_in_threadpool(labels.label_of, db_of(request), actor, shipment_id)
