"""What the seller tells planning: the shop's promotions (peaks the forecasts lift demand on),
the ABC/XYZ thresholds, and the reorder points a location sets for itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.numbers import MAX_INT
from dingdan.services.purchasing import planning_settings, reorder_points
from dingdan.services.purchasing.shapes import (
    PromotionCommand,
    PromotionView,
    ReorderPointCommand,
    ReorderPointsView,
    ThresholdsCommand,
)
from dingdan.services.purchasing.shapes import Promotions as PromotionsView
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.common_schemas import Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["planning"])
BUY = Action.MANAGE_PURCHASING


class PromotionIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    starts_on: str = Field(max_length=10, description="YYYY-MM-DD, the first day")
    ends_on: str = Field(max_length=10, description="YYYY-MM-DD, the last day (included)")
    expected_uplift: float | None = Field(
        default=None,
        description="What the promotion is expected to multiply demand by (above 0, at most "
        "10; 1.5 is half as much again); null: learned from the shop's past promotions",
    )


class Promotion(View):
    id: str
    name: str
    starts_on: str
    ends_on: str
    expected_uplift: float | None
    created_by: str | None
    created_at: Timestamp


class Promotions(View):
    items: list[Promotion]


class Thresholds(View):
    a: float = Field(description="A: the SKUs before it hold under this share of revenue")
    b: float = Field(description="B: under this share (else C)")
    x: float = Field(description="X: weekly demand's coefficient of variation under this")
    y: float = Field(description="Y: under this (else Z)")


class ThresholdsIn(Strict):
    a: float
    b: float
    x: float
    y: float


class LocationPoint(View):
    location: str
    reorder_point: int


class ReorderPoints(View):
    sku: str
    reorder_point: int | None = Field(description="The product's own (null: computed)")
    locations: list[LocationPoint] = Field(description="Locations with a point of their own")


class ReorderPointIn(Strict):
    reorder_point: int | None = Field(
        ge=0, le=MAX_INT, description="Units; null: the product's point applies here again"
    )


@router.get("/promotions", response_model=Promotions, responses=responses("forbidden"))
async def list_promotions(request: Request, actor: Actor = can(Action.READ)) -> PromotionsView:
    return await run_in_threadpool(planning_settings.list_promotions, db_of(request))


@router.post(
    "/promotions", response_model=Promotion, status_code=201, responses=responses("forbidden")
)
async def create_promotion(
    request: Request, body: PromotionIn, actor: Actor = can(BUY)
) -> PromotionView:
    """A promotion of the shop's own, a known peak for the forecasts (from their next run)."""
    cmd = command(PromotionCommand, body)
    return await run_in_threadpool(planning_settings.create_promotion, db_of(request), actor, cmd)


@router.delete(
    "/promotions/{promotion_id}",
    status_code=204,
    response_class=Response,
    responses=responses("forbidden", "not_found"),
)
async def delete_promotion(
    request: Request, promotion_id: str, actor: Actor = can(BUY)
) -> Response:
    await run_in_threadpool(planning_settings.delete_promotion, db_of(request), actor, promotion_id)
    return Response(status_code=204)


@router.get("/settings/abc-thresholds", response_model=Thresholds, responses=responses("forbidden"))
async def get_thresholds(request: Request, actor: Actor = can(Action.READ)) -> dict[str, Any]:
    return await run_in_threadpool(planning_settings.get_abc_thresholds, db_of(request))


@router.put("/settings/abc-thresholds", response_model=Thresholds, responses=responses("forbidden"))
async def put_thresholds(
    request: Request, body: ThresholdsIn, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> dict[str, Any]:
    """All four: 0 < a <= b <= 1 (shares of revenue), 0 < x <= y <= 100."""
    cmd = command(ThresholdsCommand, body)
    return await run_in_threadpool(planning_settings.put_abc_thresholds, db_of(request), actor, cmd)


@router.get(
    "/products/{sku}/reorder-points",
    response_model=ReorderPoints,
    responses=responses("forbidden", "not_found"),
)
async def get_reorder_points(
    request: Request, sku: str, actor: Actor = can(Action.READ)
) -> ReorderPointsView:
    return await run_in_threadpool(reorder_points.get, db_of(request), sku)


@router.put(
    "/products/{sku}/reorder-points/{location}",
    response_model=ReorderPoints,
    responses=responses("forbidden", "not_found"),
)
async def put_reorder_point(
    request: Request, sku: str, location: str, body: ReorderPointIn, actor: Actor = can(BUY)
) -> ReorderPointsView:
    """The location's own reorder point for the product: it wins over the product's there
    (in replenishment's suggestions and the staff's alerts)."""
    cmd = command(ReorderPointCommand, body)
    return await run_in_threadpool(reorder_points.put, db_of(request), actor, sku, location, cmd)
