"""Moving an order's allocation to another location before picking (a manager's routing
decision: services/orders/allocation_move.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.orders import allocation_move
from dingdan.services.orders.shapes import AllocationMove
from dingdan.services.shared.common import Actor
from dingdan.services.shared.view_types import OrderView
from dingdan.web.api.orders.view_schemas import Order
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["orders"])


class MoveLineIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000)


class AllocationMoveIn(Strict):
    from_: str = Field(alias="from", min_length=1, max_length=32, description="location code")
    to: str = Field(min_length=1, max_length=32, description="location code")
    lines: list[MoveLineIn] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="the units to move; left out: everything allocated at `from`",
    )


@router.post(
    "/orders/{number}/allocation/move",
    response_model=Order,
    responses=responses("forbidden", "not_found", "invalid_transition", "insufficient_stock"),
)
async def move_allocation(
    request: Request,
    number: str,
    body: AllocationMoveIn,
    actor: Actor = can(Action.MOVE_ALLOCATIONS),
) -> OrderView:
    """Release the units at `from` and reserve them at `to` in one transaction (409
    `insufficient_stock` when `to` has not enough; 409 `invalid_transition` once picking
    began at `from` or when the order is not open)."""
    data: AllocationMove = {"from": body.from_, "to": body.to}
    if body.lines is not None:
        data["lines"] = [{"sku": ln.sku, "quantity": ln.quantity} for ln in body.lines]
    return await run_in_threadpool(
        allocation_move.move_allocation, db_of(request), actor, number, data
    )
