"""Store pickup: hand an order over at the counter against the code the customer shows."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.fulfilment import pickup_handover
from dingdan.services.fulfilment.shapes import PickupView
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.common_schemas import Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["fulfilment"])


class PickupIn(Strict):
    code: str = Field(min_length=1, max_length=40, description="as scanned or typed")


class PickupPlace(View):
    code: str
    name: str
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None


class Pickup(View):
    order: str
    shipment_id: str = Field(description="the hand-over's shipment (carrier store_pickup)")
    code: str
    status: str = Field(description="handed_over")
    location: PickupPlace
    ready_at: Timestamp
    handed_over_at: Timestamp | None


@router.post(
    "/orders/{number}/pickup",
    response_model=Pickup,
    responses=responses("forbidden", "not_found", "invalid_transition"),
)
async def hand_over(
    request: Request, number: str, body: PickupIn, actor: Actor = can(Action.FULFIL)
) -> PickupView:
    """The order handed over at its store to whoever showed its pickup code: what the store
    holds is shipped and delivered at once. A wrong code is 422 on ``code`` and changes
    nothing; an order not ready yet, or already handed over, is 409."""
    return await run_in_threadpool(
        pickup_handover.hand_over, db_of(request), actor, number, body.code
    )
